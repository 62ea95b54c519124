/*
 * server.c — libmicrohttpd glue: per-request context, body accumulation with a cap,
 * routing, authentication, suspend/resume around engine commands, rendering.
 *
 * A request goes through the access handler several times: first with headers only (we
 * allocate the context and return, so keep-alive survives), then with body chunks, then a
 * final call where we route and either answer or submit a command and suspend. The engine
 * resumes the connection after commit; the handler is called once more and renders.
 */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum { ST_NEW, ST_WAITING, ST_RESUMED, ST_ANSWERED };

struct req {
    http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char *path;
    buf body;
    bool too_large;
    int state;
    const route *rt;
    void *route_ctx;
    char *params[8][2];
    int nparams;
    principal who;
    bool authed;
    json_t *json;
    cmd c;
    /* response */
    int status;
    char *resp;
    size_t resp_len;
    const char *ctype;
    char *hdrs[8][2];
    int nhdrs;
    bool streaming; /* response already queued by the handler (SSE) */
    store *reading; /* the reader whose snapshot this request is in, or NULL */
    char addr[64];
};

typedef struct route_set {
    const route *table;
} route_set;

static void req_read_end(req *r);

static void req_free(req *r)
{
    req_read_end(r);
    buf_free(&r->body);
    free(r->path);
    for (int i = 0; i < r->nparams; i++) {
        free(r->params[i][0]);
        free(r->params[i][1]);
    }
    json_decref(r->json);
    json_decref(r->c.in);
    json_decref(r->c.out);
    if (r->c.prep_free)
        r->c.prep_free(r->c.prep);
    free(r->resp);
    for (int i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i][0]);
        free(r->hdrs[i][1]);
    }
    free(r);
}

/* ---- handler helpers ---- */

const char *req_param(req *r, const char *name)
{
    for (int i = 0; i < r->nparams; i++)
        if (strcmp(r->params[i][0], name) == 0)
            return r->params[i][1];
    return NULL;
}

const char *req_query(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

typedef struct {
    void (*fn)(void *, const char *, const char *);
    void *ctx;
} query_visit;

static enum MHD_Result visit_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    query_visit *q = cls;
    q->fn(q->ctx, k, v ? v : "");
    return MHD_YES;
}

void req_each_query(req *r, void (*fn)(void *ctx, const char *k, const char *v), void *ctx)
{
    query_visit q = {fn, ctx};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, visit_arg, &q);
}

const char *req_method(req *r)
{
    return r->method;
}

const char *req_path(req *r)
{
    return r->path;
}

const char *req_address(req *r)
{
    return r->addr;
}

const principal *req_who(req *r)
{
    return &r->who;
}

engine *req_engine(req *r)
{
    return r->srv->eng;
}

http_server *req_server(req *r)
{
    return r->srv;
}

int req_tz(req *r)
{
    return r->srv->cfg.tz_offset_min;
}

store *req_store(req *r)
{
    store *s = store_pool_get(r->srv->readers);
    if (!s)
        req_fail(r, 503, "unavailable", "", "the store is not reachable");
    else if (!r->reading && store_read_begin(s) == ERR_OK)
        r->reading = s;
    return s;
}

/* the request's reads are done (answered, or handed to the engine: what it renders after the
   commit must see the commit) */
static void req_read_end(req *r)
{
    if (r->reading) {
        store_read_end(r->reading);
        r->reading = NULL;
    }
}

void req_add_header(req *r, const char *name, const char *value)
{
    if (r->nhdrs < (int)ARRAY_LEN(r->hdrs)) {
        r->hdrs[r->nhdrs][0] = xstrdup(name);
        r->hdrs[r->nhdrs][1] = xstrdup(value);
        r->nhdrs++;
    }
}

void req_json(req *r, int status, json_t *body)
{
    free(r->resp);
    r->status = status;
    r->ctype = "application/json; charset=utf-8";
    if (body) {
        r->resp = json_dump_len(body, &r->resp_len);
        json_decref(body);
    } else {
        r->resp = NULL;
        r->resp_len = 0;
    }
    r->state = ST_ANSWERED;
}

void req_json_text(req *r, int status, char *text, size_t len)
{
    free(r->resp);
    r->status = status;
    r->ctype = "application/json; charset=utf-8";
    r->resp = text;
    r->resp_len = len;
    r->state = ST_ANSWERED;
}

void req_text(req *r, int status, const char *content_type, const char *text)
{
    free(r->resp);
    r->status = status;
    r->ctype = content_type;
    r->resp = xstrdup(text);
    r->resp_len = strlen(text);
    r->state = ST_ANSWERED;
}

void req_raw(req *r, int status, const char *content_type, char *data, size_t len)
{
    free(r->resp);
    r->status = status;
    r->ctype = content_type;
    r->resp = data;
    r->resp_len = data ? len : 0;
    r->state = ST_ANSWERED;
}

void req_problem(req *r, const problem *p)
{
    int status = p->status ? p->status : 500;
    json_t *o = json_object();
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    json_object_set_new(o, "code", json_string(p->code ? p->code : "internal"));
    json_object_set_new(o, "reason", json_string(http_reason(status)));
    json_object_set_new(o, "message",
                        json_string(p->message[0] ? p->message : http_reason(status)));
    json_object_set_new(o, "status", json_string(st));
    if (p->field[0])
        json_object_set_new(o, "field", json_string(p->field));
    json_object_set_new(o, "@type", json_string("Error"));
    bool has_retry = false;
    for (int i = 0; i < r->nhdrs; i++)
        has_retry |= strcasecmp(r->hdrs[i][0], "Retry-After") == 0;
    if (status == 429 && !has_retry)
        req_add_header(r, "Retry-After", "60");
    if (status == 401)
        req_add_header(r, "WWW-Authenticate", "Bearer");
    req_json(r, status, o);
}

void req_fail(req *r, int status, const char *code, const char *field, const char *fmt, ...)
{
    problem p = {.status = status, .code = code};
    snprintf(p.field, sizeof p.field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p.message, sizeof p.message, fmt, ap);
    va_end(ap);
    req_problem(r, &p);
}

void req_too_many(req *r, const char *field, const char *why, int64_t retry_s)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%lld", (long long)retry_s);
    req_add_header(r, "Retry-After", tmp);
    req_fail(r, 429, "rateLimited", field, "%s: %s; try again in %lld s", field, why,
             (long long)retry_s);
}

json_t *req_body(req *r)
{
    if (r->json)
        return r->json;
    problem p = {0};
    if (r->too_large) {
        problem_set(&p, ERR_TOOLARGE, 413, "tooLarge", "", "body: larger than %d bytes", MAX_BODY);
        req_problem(r, &p);
        return NULL;
    }
    const char *ct = req_header(r, "Content-Type");
    if (ct && !strstr(ct, "json")) {
        req_fail(r, 415, "unsupportedMediaType", "Content-Type",
                 "Content-Type: expected application/json or application/merge-patch+json");
        return NULL;
    }
    if (json_parse_body(r->body.data, r->body.len, &r->json, &p)) {
        req_problem(r, &p);
        return NULL;
    }
    return r->json;
}

cmd *req_cmd(req *r)
{
    return &r->c;
}

static void cmd_done(cmd *c)
{
    req *r = c->ctx;
    r->state = ST_RESUMED;
    MHD_resume_connection(r->conn);
}

void req_submit(req *r)
{
    cmd *c = &r->c;
    c->ctx = r;
    c->done = cmd_done;
    if (!c->actor[0])
        snprintf(c->actor, sizeof c->actor, "%s",
                 r->who.username[0] ? r->who.username : "anonymous");
    c->roles = r->who.roles;
    if (!c->status)
        c->status = 200;
    req_read_end(r);
    r->state = ST_WAITING;
    /* suspend first: if the engine resumed before we suspended, the resume would be lost */
    MHD_suspend_connection(r->conn);
    if (engine_submit(r->srv->eng, c)) {
        c->rc = ERR_BUSY;
        problem_set(&c->prob, ERR_BUSY, 503, "unavailable", "", "the server is shutting down");
        r->state = ST_RESUMED;
        MHD_resume_connection(r->conn);
    }
}

void req_submit_checked(req *r, const json_field *fields,
                        err (*extra)(const json_t *body, problem *p),
                        err (*apply)(engine *e, cmd *c))
{
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, fields, "", &p) || (extra && extra(b, &p))) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_incref(b);
    c->id = r->nparams ? r->params[0][1] : NULL; /* the path's entity: {id}, {msisdn}, … */
    c->apply = apply;
    req_submit(r);
}

bool req_paging(req *r, int64_t *offset, int64_t *limit)
{
    *offset = 0;
    *limit = 20;
    const char *o = req_query(r, "offset"), *l = req_query(r, "limit");
    if (o && parse_i64(o, 0, INT32_MAX, offset)) {
        req_fail(r, 400, "invalidField", "offset", "offset: must be an integer ≥ 0");
        return false;
    }
    if (l && parse_i64(l, 1, 1000, limit)) {
        req_fail(r, 400, "invalidField", "limit", "limit: must be an integer from 1 to 1000");
        return false;
    }
    return true;
}

void req_list(req *r, json_t *items, int64_t total)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)total);
    req_add_header(r, "X-Total-Count", tmp);
    snprintf(tmp, sizeof tmp, "%zu", json_array_size(items));
    req_add_header(r, "X-Result-Count", tmp);
    req_json(r, 200, items);
}

/* ---- routing ---- */

void http_add_routes(http_server *s, const route *table, void *ctx)
{
    if (s->nsets >= (int)ARRAY_LEN(s->sets)) {
        /* a programming error: a route table must never be dropped in silence */
        LOGE("http", "msg=\"too many route tables\" max=%d", (int)ARRAY_LEN(s->sets));
        abort();
    }
    s->sets[s->nsets] = table;
    s->set_ctx[s->nsets] = ctx;
    s->nsets++;
}

void *req_route_ctx(req *r)
{
    return r->route_ctx;
}

void http_set_metrics(http_server *s, http_metrics_fn fn, void *ctx)
{
    s->metrics = fn;
    s->metrics_ctx = ctx;
}

void http_set_auth(http_server *s, http_auth_fn fn, void *ctx)
{
    s->auth = fn;
    s->auth_ctx = ctx;
}

void http_each_route(http_server *s, void (*fn)(void *ctx, const route *rt), void *ctx)
{
    for (int i = 0; i < s->nsets; i++)
        for (const route *rt = s->sets[i]; rt->method; rt++)
            fn(ctx, rt);
}

/* match `path` against `pattern`; captures go into r->params */
static bool match(req *r, const char *pattern, const char *path)
{
    const char *p = pattern, *u = path;
    int nparams = 0;
    char *caps[8][2];
    while (*p && *u) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *ue = strchr(u, '/');
            if (!ue)
                ue = u + strlen(u);
            if (!pe || ue == u || nparams == 8)
                goto fail;
            caps[nparams][0] = xstrndup(p + 1, (size_t)(pe - p - 1));
            caps[nparams][1] = xstrndup(u, (size_t)(ue - u));
            nparams++;
            p = pe + 1;
            u = ue;
            continue;
        }
        if (*p != *u)
            goto fail;
        p++;
        u++;
    }
    if (*p || (*u && strcmp(u, "/") != 0))
        goto fail;
    if (r) {
        for (int i = 0; i < nparams; i++) {
            r->params[r->nparams][0] = caps[i][0];
            r->params[r->nparams][1] = caps[i][1];
            r->nparams++;
        }
    } else {
        for (int i = 0; i < nparams; i++) {
            free(caps[i][0]);
            free(caps[i][1]);
        }
    }
    return true;
fail:
    for (int i = 0; i < nparams; i++) {
        free(caps[i][0]);
        free(caps[i][1]);
    }
    return false;
}

static void dispatch(req *r)
{
    http_server *s = r->srv;
    const route *found = NULL;
    bool path_known = false;
    for (int i = 0; i < s->nsets && !found; i++) {
        r->route_ctx = s->set_ctx[i];
        for (const route *rt = s->sets[i]; rt->method; rt++) {
            if (!match(NULL, rt->path, r->path))
                continue;
            path_known = true;
            if (strcmp(rt->method, r->method) == 0 ||
                (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
                found = rt;
                break;
            }
        }
    }
    if (!found && !path_known && http_static(r))
        return;
    if (!found) {
        if (path_known) {
            char allow[64] = "";
            for (int i = 0; i < s->nsets; i++)
                for (const route *rt = s->sets[i]; rt->method; rt++)
                    if (match(NULL, rt->path, r->path) && !strstr(allow, rt->method) &&
                        strlen(allow) + strlen(rt->method) + 3 < sizeof allow)
                        snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                                 allow[0] ? ", " : "", rt->method);
            req_add_header(r, "Allow", allow);
            req_fail(r, 405, "methodNotAllowed", "", "%s is not allowed on %s", r->method, r->path);
        } else
            req_fail(r, 404, "notFound", "", "no such resource: %s", r->path);
        return;
    }
    match(r, found->path, r->path);
    r->rt = found;
    if (found->roles != ROUTE_PUBLIC) {
        const char *h = req_header(r, "Authorization");
        const char *token = NULL;
        if (h && strncasecmp(h, "Bearer ", 7) == 0)
            token = h + 7;
        else if (!h)
            token = req_query(r, "access_token");
        if (!token || !*token || !s->auth || s->auth(s->auth_ctx, token, &r->who)) {
            req_fail(r, 401, "unauthorized", "Authorization",
                     "a valid bearer token is required (POST /api/v1/login)");
            return;
        }
        r->authed = true;
        if (found->roles != ROUTE_ANY && !(found->roles & r->who.roles)) {
            req_fail(r, 403, "forbidden", "", "your role may not %s %s", r->method, found->path);
            return;
        }
    }
    found->fn(r);
}

/* keep only the first-level attributes named in fields= (id, href always kept) */
static json_t *pick_fields(json_t *v, const char *fields)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *el;
        json_t *out = json_array();
        json_array_foreach(v, i, el) json_array_append_new(out, pick_fields(el, fields));
        return out;
    }
    if (!json_is_object(v))
        return json_incref(v);
    json_t *out = json_object();
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val)
    {
        bool keep = strcmp(k, "id") == 0 || strcmp(k, "href") == 0;
        size_t kl = strlen(k);
        for (const char *f = fields; !keep && *f;) {
            const char *e = strchr(f, ',');
            size_t fl = e ? (size_t)(e - f) : strlen(f);
            if (fl == kl && strncmp(f, k, kl) == 0)
                keep = true;
            f = e ? e + 1 : f + fl;
        }
        if (keep)
            json_object_set(out, k, val);
    }
    return out;
}

static enum MHD_Result send_answer(req *r)
{
    http_server *s = r->srv;
    const char *fields = strcmp(r->method, "GET") == 0 ? req_query(r, "fields") : NULL;
    if (fields && *fields && r->status == 200 && r->resp) {
        json_t *v = json_loads(r->resp, JSON_DECODE_ANY, NULL);
        if (v) {
            json_t *picked = pick_fields(v, fields);
            json_decref(v);
            free(r->resp);
            r->resp = json_dump_len(picked, &r->resp_len);
            json_decref(picked);
        }
    }
    struct MHD_Response *resp;
    if (r->resp) {
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
        r->resp = NULL;
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (r->ctype && r->resp_len)
        MHD_add_response_header(resp, "Content-Type", r->ctype);
    for (int i = 0; i < r->nhdrs; i++)
        MHD_add_response_header(resp, r->hdrs[i][0], r->hdrs[i][1]);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    http_count(s, r->status);
    return ret;
}

static void render_cmd(req *r)
{
    cmd *c = &r->c;
    if (c->rc) {
        req_problem(r, &c->prob);
        return;
    }
    if (c->location[0])
        req_add_header(r, "Location", c->location);
    json_t *out = c->out;
    c->out = NULL;
    if (!out && c->render) {
        store *s = req_store(r);
        if (!s)
            return;
        out = c->render(c, s, r->route_ctx);
        if (!out) {
            req_fail(r, 503, "unavailable", "", "the change was saved but cannot be read back now");
            return;
        }
    }
    req_json(r, c->status ? c->status : 200, out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    http_server *s = cls;
    req *r = *req_cls;
    if (!r) {
        r = xcalloc(1, sizeof *r);
        r->srv = s;
        r->conn = conn;
        r->method = method;
        r->path = xstrdup(url);
        buf_init(&r->body, MAX_BODY);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
            inet_ntop(AF_INET, &in->sin_addr, r->addr, sizeof r->addr);
        } else if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
            inet_ntop(AF_INET6, &in6->sin6_addr, r->addr, sizeof r->addr);
        }
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->too_large && buf_add(&r->body, upload_data, *upload_data_size))
            r->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->streaming)
        return MHD_YES;
    if (r->state == ST_WAITING)
        return MHD_YES; /* spurious call while suspended */
    if (r->state == ST_RESUMED) {
        render_cmd(r);
        req_read_end(r);
        return send_answer(r);
    }
    if (r->too_large && strcmp(method, "GET") != 0) {
        req_fail(r, 413, "tooLarge", "", "body: larger than %d bytes", MAX_BODY);
        return send_answer(r);
    }
    dispatch(r);
    req_read_end(r);
    if (r->streaming || r->state == ST_WAITING || r->state == ST_RESUMED)
        return MHD_YES;
    if (r->state != ST_ANSWERED)
        req_fail(r, 500, "internal", "", "the handler gave no answer");
    return send_answer(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req *r = *req_cls;
    if (r)
        req_free(r);
    *req_cls = NULL;
}

void req_stream(req *r, struct MHD_Response *resp)
{
    r->streaming = true;
    MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
}

struct MHD_Connection *req_connection(req *r)
{
    return r->conn;
}

/* ---- lifecycle ---- */

http_server *http_create(const http_config *cfg, engine *eng, store_pool *readers)
{
    http_server *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->cfg.listen = xstrdup(cfg->listen ? cfg->listen : "127.0.0.1:8080");
    s->eng = eng;
    s->readers = readers;
    s->hub = sse_hub_create(s);
    return s;
}

static err parse_listen(const char *listen, struct sockaddr_in *sa, problem *p)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return problem_set(p, ERR_INVALID, 400, "invalidField", "listen",
                           "listen: expected HOST:PORT, got '%s'", listen);
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return problem_field(p, "listen", "host too long");
    memcpy(host, listen, hl);
    host[hl] = 0;
    int64_t port;
    if (parse_i64(colon + 1, 0, 65535, &port))
        return problem_field(p, "listen", "bad port in '%s'", listen);
    if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &sa->sin_addr) != 1)
        return problem_field(p, "listen", "bad IPv4 address '%s'", host);
    sa->sin_port = htons((uint16_t)port);
    return ERR_OK;
}

err http_start(http_server *s, problem *p)
{
    struct sockaddr_in sa;
    err rc = parse_listen(s->cfg.listen, &sa, p);
    if (rc)
        return rc;
    int threads = s->cfg.threads > 0 ? s->cfg.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    s->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        ntohs(sa.sin_port), NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 300u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon)
        return problem_set(p, ERR_BUSY, 503, "unavailable", "listen",
                           "cannot listen on %s (in use, or not a local address?)", s->cfg.listen);
    sse_hub_start(s->hub);
    LOGI("http", "msg=\"listening\" url=http://%s threads=%d", s->cfg.listen, threads);
    return ERR_OK;
}

void http_quiesce(http_server *s)
{
    if (s->daemon && !s->quiesced) {
        MHD_quiesce_daemon(s->daemon);
        s->quiesced = true;
    }
}

void http_stop(http_server *s)
{
    if (!s->daemon)
        return;
    http_quiesce(s);
    sse_hub_close(s->hub); /* resumes every waiting stream so it can end */
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}

void http_destroy(http_server *s)
{
    if (!s)
        return;
    http_stop(s);
    sse_hub_destroy(s->hub);
    free((char *)s->cfg.listen);
    free(s->web_root);
    free(s);
}

void http_count(http_server *s, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&s->status_counts[cls], 1);
}

void req_list_rows(req *r, const char *table, const char *cols, const query_filter *f,
                   const char *order, req_row_fn row, const char *what)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    buf where;
    buf_init(&where, 0);
    buf_printf(&where, "%s WHERE 1 = 1", table);
    store_val args[16];
    int n = 0;
    if (!req_filters(r, f, &where, args, &n, (int)ARRAY_LEN(args))) {
        buf_free(&where);
        return;
    }
    store_res *res;
    int64_t total = 0;
    err rc = store_page(s, cols, where.data, order, args, n, lim, off, &total, &res);
    buf_free(&where);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "%s cannot be read now", what);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *o = row(res, i, req_tz(r));
        if (o)
            json_array_append_new(arr, o);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

bool req_filters(req *r, const query_filter *f, buf *where, store_val *args, int *n, int cap)
{
    for (; f->param; f++) {
        const char *v = req_query(r, f->param);
        if (!v)
            continue;
        if (*n >= cap) {
            req_fail(r, 400, "invalidField", f->param, "%s: too many filters", f->param);
            return false;
        }
        switch (f->kind) {
        case QF_ENUM:
            if (!str_in(v, f->allowed)) {
                buf list;
                buf_init(&list, 0);
                for (const char *const *a = f->allowed; *a; a++)
                    buf_printf(&list, "%s%s", a == f->allowed ? "" : ", ", *a);
                req_fail(r, 400, "invalidField", f->param, "%s: one of %s", f->param, list.data);
                buf_free(&list);
                return false;
            }
            /* fall through */
        case QF_TEXT:
            buf_adds(where, f->sql);
            args[(*n)++] = SV_S(v);
            break;
        case QF_BOOL: {
            if (strcmp(v, "true") && strcmp(v, "false")) {
                req_fail(r, 400, "invalidField", f->param, "%s: true or false", f->param);
                return false;
            }
            bool yes = strcmp(v, "true") == 0;
            if (f->sql_false) {
                buf_adds(where, yes ? f->sql : f->sql_false);
            } else {
                buf_adds(where, f->sql);
                args[(*n)++] = SV_I(yes);
            }
            break;
        }
        case QF_INT: {
            int64_t x;
            if (parse_i64(v, f->min, f->max, &x)) {
                req_fail(r, 400, "invalidField", f->param, "%s: a number %lld … %lld", f->param,
                         (long long)f->min, (long long)f->max);
                return false;
            }
            buf_adds(where, f->sql);
            args[(*n)++] = SV_I(x);
            break;
        }
        case QF_TIME: {
            int64_t t;
            if (time_parse_iso(v, req_tz(r), &t)) {
                req_fail(r, 400, "invalidField", f->param, "%s: must be an ISO 8601 date-time",
                         f->param);
                return false;
            }
            buf_adds(where, f->sql);
            args[(*n)++] = SV_I(t);
            break;
        }
        }
    }
    return true;
}
