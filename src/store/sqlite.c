/*
 * sqlite.c — the SQLite backend: WAL, synchronous=FULL, foreign keys, a busy timeout, and a
 * small cache of prepared statements keyed by SQL text (most statements are literals that
 * run thousands of times a second).
 */
#include "store/store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_SLOTS 256

typedef struct {
    char *sql;
    sqlite3_stmt *st;
} cached;

typedef struct {
    sqlite3 *db;
    cached cache[CACHE_SLOTS];
    int ncached;
} lite;

static void cache_clear(lite *l)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (l->cache[i].st) {
            sqlite3_finalize(l->cache[i].st);
            free(l->cache[i].sql);
            l->cache[i].st = NULL;
            l->cache[i].sql = NULL;
        }
    }
    l->ncached = 0;
}

static err prepare(store *s, lite *l, const char *sql, sqlite3_stmt **out)
{
    uint64_t h = fnv1a(sql) % CACHE_SLOTS;
    for (int probe = 0; probe < 8; probe++) {
        cached *c = &l->cache[(h + (uint64_t)probe) % CACHE_SLOTS];
        if (c->st && strcmp(c->sql, sql) == 0) {
            *out = c->st;
            return ERR_OK;
        }
        if (!c->st) {
            if (l->ncached > CACHE_SLOTS * 3 / 4)
                break;
            int rc = sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st, NULL);
            if (rc != SQLITE_OK) {
                snprintf(s->errbuf, sizeof s->errbuf, "%s", sqlite3_errmsg(l->db));
                c->st = NULL;
                return ERR_STORE;
            }
            c->sql = xstrdup(sql);
            l->ncached++;
            *out = c->st;
            return ERR_OK;
        }
    }
    /* table crowded: start over rather than grow without bound (dynamic SQL) */
    cache_clear(l);
    return prepare(s, l, sql, out);
}

/*
 * Memory statistics make SQLite take one global mutex on every allocation, which the
 * engine and every HTTP thread then fight over; we do not read them.
 */
static pthread_once_t lite_once = PTHREAD_ONCE_INIT;
static void lite_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

static err lite_open(store *s, const char *url, bool writer, problem *p)
{
    pthread_once(&lite_once, lite_global_init);
    lite *l = xcalloc(1, sizeof *l);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(url, &l->db, flags, NULL);
    if (rc != SQLITE_OK) {
        problem_set(p, ERR_STORE, 503, "unavailable", "db", "cannot open SQLite store %s: %s", url,
                    l->db ? sqlite3_errmsg(l->db) : "out of memory");
        sqlite3_close(l->db);
        free(l);
        return ERR_STORE;
    }
    sqlite3_busy_timeout(l->db, 10000);
    s->impl = l;
    const char *pragmas = writer ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                   "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
                                   "PRAGMA temp_store=MEMORY;"
                                 : "PRAGMA foreign_keys=ON; PRAGMA query_only=1;"
                                   /* readers map the file: no read() per page at 10M rows */
                                   "PRAGMA mmap_size=17179869184;"
                                   "PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    rc = sqlite3_exec(l->db, pragmas, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        problem_set(p, ERR_STORE, 503, "unavailable", "db", "cannot configure SQLite: %s",
                    msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(l->db);
        free(l);
        s->impl = NULL;
        return ERR_STORE;
    }
    return ERR_OK;
}

static void lite_close(store *s)
{
    lite *l = s->impl;
    if (!l)
        return;
    cache_clear(l);
    sqlite3_close(l->db);
    free(l);
}

static err lite_exec(store *s, const char *sql, const store_val *args, int n, store_res **out)
{
    lite *l = s->impl;
    sqlite3_stmt *st;
    err rc = prepare(s, l, sql, &st);
    if (rc)
        return rc;
    if (n != sqlite3_bind_parameter_count(st)) { /* a caller's mistake: loud, as on PostgreSQL */
        snprintf(s->errbuf, sizeof s->errbuf, "%d arguments for %d parameters", n,
                 sqlite3_bind_parameter_count(st));
        LOGE("store", "msg=\"%s\" sql=\"%.120s\"", s->errbuf, sql);
        return ERR_STORE;
    }
    for (int i = 0; i < n; i++) {
        switch (args[i].k) {
        case SV_NULL:
            sqlite3_bind_null(st, i + 1);
            break;
        case SV_INT:
            sqlite3_bind_int64(st, i + 1, args[i].i);
            break;
        case SV_TEXT:
            sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_STATIC);
            break;
        }
    }
    store_res *r = out ? res_new(sqlite3_column_count(st)) : NULL;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!r)
            continue;
        for (int c = 0; c < r->cols; c++) {
            if (sqlite3_column_type(st, c) == SQLITE_NULL) {
                res_cell(r, NULL, 0);
            } else {
                const unsigned char *t = sqlite3_column_text(st, c);
                res_cell(r, (const char *)t, (size_t)sqlite3_column_bytes(st, c));
            }
        }
        res_row_done(r);
    }
    if (step != SQLITE_DONE) {
        snprintf(s->errbuf, sizeof s->errbuf, "%s", sqlite3_errmsg(l->db));
        int code = sqlite3_extended_errcode(l->db);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        store_res_free(r);
        if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
            return ERR_BUSY;
        if ((code & 0xff) == SQLITE_CONSTRAINT)
            return ERR_CONFLICT;
        return ERR_STORE;
    }
    s->changes = sqlite3_changes64(l->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (out)
        *out = r;
    return ERR_OK;
}

static err lite_script(store *s, const char *sql)
{
    lite *l = s->impl;
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(s->errbuf, sizeof s->errbuf, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        return ERR_STORE;
    }
    cache_clear(l); /* DDL invalidates prepared statements anyway */
    return ERR_OK;
}

static const char *lite_errmsg(store *s)
{
    return s->errbuf;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = lite_open,
    .close = lite_close,
    .exec = lite_exec,
    .script = lite_script,
    .errmsg = lite_errmsg,
};
