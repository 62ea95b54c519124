/*
 * http — the HTTP front: libmicrohttpd with an epoll thread pool, a route table, request
 * bodies capped at 1 MiB, bearer-token authentication through a registered authenticator,
 * role checks per route, JSON answers and {code, reason, message, status} problems.
 * Writes become engine commands: the handler fills the request's command and calls
 * req_submit(); the connection is suspended until the engine has made the change durable,
 * then the answer is rendered from the command. Reads run right on the pool thread.
 */
#ifndef SHOUYE_HTTP_H
#define SHOUYE_HTTP_H

#include "base/base.h"
#include "engine/engine.h"
#include "store/store.h"

typedef struct http_server http_server;
typedef struct req req;

/* Who is calling. Role bits are defined by auth (ROLE_*). */
typedef struct principal {
    int64_t user_id;
    char username[64];
    unsigned roles;
} principal;

#define ROUTE_PUBLIC 0u       /* no authentication */
#define ROUTE_ANY 0xFFFFFFFFu /* any authenticated principal */

typedef void (*route_fn)(req *r);

typedef struct route {
    const char *method;
    const char *path; /* segments; "{name}" captures one segment */
    unsigned roles;   /* ROUTE_PUBLIC, ROUTE_ANY or a bit set of ROLE_* */
    route_fn fn;
} route;

/* Resolve a bearer token to a principal; ERR_UNAUTHORIZED when it is not valid. */
typedef err (*http_auth_fn)(void *ctx, const char *token, principal *out);

typedef struct http_config {
    const char *listen; /* "127.0.0.1:8080" */
    int threads;        /* pool size; 0 = number of cores */
    int tz_offset_min;
} http_config;

http_server *http_create(const http_config *cfg, engine *eng, store_pool *readers);
/*
 * Add a NULL-terminated route table (borrowed; must outlive the server). Its handlers get
 * `ctx` back from req_route_ctx().
 */
void http_add_routes(http_server *s, const route *table, void *ctx);
void http_set_auth(http_server *s, http_auth_fn fn, void *ctx);
err http_start(http_server *s, problem *p);
/* Stop accepting connections; requests in flight go on. */
void http_quiesce(http_server *s);
void http_stop(http_server *s);
void http_destroy(http_server *s);
/* Serve the built browser app from `dir` (web/dist) for GETs no route takes. */
void http_set_web_root(http_server *s, const char *dir);
/* Append the application's own Prometheus lines to GET /metrics. */
typedef void (*http_metrics_fn)(void *ctx, buf *out);
void http_set_metrics(http_server *s, http_metrics_fn fn, void *ctx);
/* health, readiness, metrics, events and the live stream */
/* health, readiness, metrics; the event log and stream for the roles in `event_readers` */
void http_add_builtin_routes(http_server *s, unsigned event_readers);
/* Every registered route, for `shouye routes` and the OpenAPI check. */
void http_each_route(http_server *s, void (*fn)(void *ctx, const route *rt), void *ctx);
/* Called by the engine's subscriber to feed the live stream. */
void http_publish_event(void *server, const event_rec *ev);

/* ---- for handlers ---- */
const char *req_param(req *r, const char *name);  /* path capture */
const char *req_query(req *r, const char *name);  /* query argument */
const char *req_header(req *r, const char *name); /* request header */
/* Visit every query argument. */
void req_each_query(req *r, void (*fn)(void *ctx, const char *k, const char *v), void *ctx);
const char *req_method(req *r);
const char *req_path(req *r);
/* the ctx given with the matched route's table */
void *req_route_ctx(req *r);
const char *req_address(req *r);
const principal *req_who(req *r);
engine *req_engine(req *r);
store *req_store(req *r); /* this thread's read connection (NULL: answer 503 done for you) */
int req_tz(req *r);
http_server *req_server(req *r);
/* The parsed JSON body (an object) or NULL after answering the problem. */
json_t *req_body(req *r);
/* Answer with JSON (steals `body`; NULL = empty). */
void req_json(req *r, int status, json_t *body);
/* Answer with JSON text already written (jw_take); takes `text`. */
void req_json_text(req *r, int status, char *text, size_t len);
/* Answer with plain text (copied). */
void req_text(req *r, int status, const char *content_type, const char *text);
/* Answer with a problem. */
void req_problem(req *r, const problem *p);
/* Shorthand: build a problem and answer. */
void req_fail(req *r, int status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Answer 429 with Retry-After: "<field>: <why>; try again in N s". */
void req_too_many(req *r, const char *field, const char *why, int64_t retry_s);
/* Add a response header (copied). */
void req_add_header(req *r, const char *name, const char *value);
/*
 * The request's command, to fill (apply, in, id) before req_submit(). The actor and roles
 * are set from the principal. After the engine completes, the answer is c->status with
 * c->out (and Location when c->location is set), or the problem.
 */
cmd *req_cmd(req *r);
void req_submit(req *r);
/*
 * The common write: parse the body, check it against `fields` and then `extra` (if not
 * NULL), and hand it to the engine as a command running `apply` on the path's entity
 * (its first template segment: {id}, {msisdn}, …).
 * Any problem is answered with the field it names.
 */
void req_submit_checked(req *r, const json_field *fields,
                        err (*extra)(const json_t *body, problem *p),
                        err (*apply)(engine *e, cmd *c));
/* Paging arguments: offset ≥ 0, 1 ≤ limit ≤ 1000 (default 20); false after answering 400. */
bool req_paging(req *r, int64_t *offset, int64_t *limit);
/*
 * A list's query-string filters, as data. Each present parameter appends its SQL condition
 * (" AND col = ?") to `where` with its value as the argument; QF_BOOL with `sql_false` picks
 * one of two conditions instead (no argument). req_filters() returns false after answering
 * 400 naming the parameter; `args` has room for `cap` values. The table ends with param NULL.
 */
typedef enum { QF_TEXT, QF_ENUM, QF_BOOL, QF_INT, QF_TIME } query_filter_kind; /* TIME: ISO 8601 */
typedef struct query_filter {
    const char *param;
    query_filter_kind kind;
    const char *sql;
    const char *sql_false;      /* QF_BOOL: the condition for false; NULL = sql with 1 / 0 */
    const char *const *allowed; /* QF_ENUM */
    int64_t min, max;           /* QF_INT */
} query_filter;
bool req_filters(req *r, const query_filter *f, buf *where, store_val *args, int *n, int cap);
/* Answer a list with X-Total-Count / X-Result-Count (steals `items`). */
void req_list(req *r, json_t *items, int64_t total);
/*
 * A list answered from one table: the request's paging and filters `f`, in `order`, one
 * query for the page, each row of `cols` rendered by `row` (NULL skips it); `what` names the
 * list in a 503.
 */
typedef json_t *(*req_row_fn)(const store_res *res, int row, int tz);
void req_list_rows(req *r, const char *table, const char *cols, const query_filter *f,
                   const char *order, req_row_fn row, const char *what);

#endif
