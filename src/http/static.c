/*
 * static.c — the browser app (web/dist) served by the same server. Built assets under
 * /assets/ carry a content hash in their names and are cached for a year (immutable);
 * index.html is revalidated every time (no-cache + ETag), so a new build is picked up at
 * once. A path with no file and no extension is a route of the app (history mode): it gets
 * index.html. Nothing outside the web root is ever read (no "..", real path checked).
 */
#include "http/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX (16 * 1024 * 1024)

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < ARRAY_LEN(types); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

void http_set_web_root(http_server *s, const char *dir)
{
    free(s->web_root);
    s->web_root = NULL;
    char real[PATH_MAX];
    if (dir && realpath(dir, real))
        s->web_root = xstrdup(real);
}

/* read a regular file under the root; NULL when absent or not allowed */
static char *load(const char *root, const char *rel, size_t *len, struct stat *st)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path)
        return NULL;
    if (!realpath(path, real))
        return NULL;
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != 0))
        return NULL;
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_size > STATIC_MAX) {
        close(fd);
        return NULL;
    }
    char *data = xmalloc((size_t)st->st_size + 1);
    size_t got = 0;
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, data + got, (size_t)st->st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)st->st_size) {
        free(data);
        return NULL;
    }
    *len = got;
    return data;
}

bool http_static(req *r)
{
    http_server *s = req_server(r);
    const char *method = req_method(r);
    if (!s->web_root || (strcmp(method, "GET") && strcmp(method, "HEAD")))
        return false;
    const char *p = req_path(r);
    if (strncmp(p, "/api/", 5) == 0 || strncmp(p, "/tmf-api/", 9) == 0 || strstr(p, ".."))
        return false;
    const char *rel = p[0] == '/' ? p + 1 : p;
    if (!*rel)
        rel = "index.html";
    size_t len = 0;
    struct stat st;
    char *data = load(s->web_root, rel, &len, &st);
    const char *last = strrchr(p, '/');
    bool asset = strncmp(p, "/assets/", 8) == 0;
    if (!data && !asset && !strchr(last ? last : p, '.')) {
        rel = "index.html"; /* a route of the app */
        data = load(s->web_root, rel, &len, &st);
    }
    if (!data)
        return false;
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
             (unsigned long long)st.st_size);
    req_add_header(r, "ETag", etag);
    req_add_header(r, "Cache-Control", asset ? "public, max-age=31536000, immutable" : "no-cache");
    req_add_header(r, "X-Content-Type-Options", "nosniff");
    const char *inm = req_header(r, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        free(data);
        req_raw(r, 304, type_of(rel), NULL, 0);
    } else {
        req_raw(r, 200, type_of(rel), data, len);
    }
    return true;
}
