/* http_int.h — shared by the files of http/ only. */
#ifndef SHOUYE_HTTP_INT_H
#define SHOUYE_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>
#include <stdatomic.h>

typedef struct sse_hub sse_hub;

struct http_server {
    http_config cfg;
    engine *eng;
    store_pool *readers;
    struct MHD_Daemon *daemon;
    bool quiesced;
    const route *sets[48];
    void *set_ctx[48];
    int nsets;
    http_auth_fn auth;
    void *auth_ctx;
    sse_hub *hub;
    _Atomic uint64_t status_counts[6];
    char *web_root; /* the built browser app, or NULL */
    http_metrics_fn metrics; /* more lines for GET /metrics, or NULL */
    void *metrics_ctx;
};

/* Answer with bytes (ownership of `data` passes; NULL for none). */
void req_raw(req *r, int status, const char *content_type, char *data, size_t len);
/* Serve the browser app for a GET that no route took; false when it is not one of its files. */
bool http_static(req *r);

void http_count(http_server *s, int status);
/* queue a streaming response for this request (the request is then owned by MHD) */
void req_stream(req *r, struct MHD_Response *resp);
struct MHD_Connection *req_connection(req *r);

sse_hub *sse_hub_create(http_server *s);
void sse_hub_start(sse_hub *h);
void sse_hub_close(sse_hub *h);
void sse_hub_destroy(sse_hub *h);

/* GET /api/v1/stream (sse.c) */
void sse_handle(req *r);
#endif
