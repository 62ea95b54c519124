/*
 * sse.c — the live stream (/api/v1/stream): Server-Sent Events fed by the engine.
 *
 * The engine hands each committed event to http_publish_event(), which keeps the newest
 * events in a ring and wakes waiting streams. A stream's content reader writes what it
 * has not sent yet — from the ring, or from the events table when it fell behind the ring
 * — and when there is nothing new it suspends its connection (MHD calls the reader again
 * after resume). A heartbeat thread resumes every stream each 15 s for a comment line, so
 * dead clients are noticed and proxies keep the connection open.
 */
#include "http/http_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 4096
#define HEARTBEAT_MS 15000

typedef struct sse_client sse_client;
struct sse_client {
    sse_hub *hub;
    struct MHD_Connection *conn;
    int64_t last; /* last seq sent */
    bool waiting; /* suspended, in the waiters list */
    bool ping;    /* send a heartbeat comment */
    bool closed;
    buf pending; /* formatted bytes not yet handed to MHD */
    size_t sent;
    sse_client *next; /* waiters list */
};

/* a committed event as the engine gave it; formatted only when a stream reads it */
typedef struct {
    int64_t seq, time;
    char *type, *etype, *eid, *actor, *data;
} ring_ent;

struct sse_hub {
    http_server *srv;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    ring_ent ring[RING];
    int64_t newest; /* seq of the newest in the ring (0: none) */
    sse_client *waiters;
    bool closing;
    pthread_t beat;
    bool beat_started;
};

static char *format_event(const event_rec *ev, int tz)
{
    char t[40];
    time_iso(ev->time, tz, t, sizeof t);
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(ev->seq));
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "type", json_string(ev->type));
    json_object_set_new(o, "entityType", json_string(ev->entity_type));
    json_object_set_new(o, "entityId", json_string(ev->entity_id));
    json_object_set_new(o, "actor", json_string(ev->actor ? ev->actor : ""));
    json_t *d = json_load(ev->data);
    json_object_set_new(o, "data", d ? d : json_object());
    char *js = json_dump(o);
    json_decref(o);
    char *rec = xasprintf("id: %lld\nevent: %s\ndata: %s\n\n", (long long)ev->seq, ev->type, js);
    free(js);
    return rec;
}

static void wake_all(sse_hub *h)
{
    sse_client *c = h->waiters;
    h->waiters = NULL;
    while (c) {
        sse_client *n = c->next;
        c->next = NULL;
        c->waiting = false;
        MHD_resume_connection(c->conn);
        c = n;
    }
}

static void ring_clear(ring_ent *e)
{
    free(e->type);
    free(e->etype);
    free(e->eid);
    free(e->actor);
    free(e->data);
    memset(e, 0, sizeof *e);
}

/* on the engine thread: keep a copy, wake the streams; no formatting here */
void http_publish_event(void *server, const event_rec *ev)
{
    http_server *s = server;
    sse_hub *h = s->hub;
    ring_ent n = {ev->seq,
                  ev->time,
                  xstrdup(ev->type),
                  xstrdup(ev->entity_type),
                  xstrdup(ev->entity_id),
                  xstrdup(ev->actor ? ev->actor : ""),
                  xstrdup(ev->data ? ev->data : "{}")};
    pthread_mutex_lock(&h->lock);
    ring_ent *e = &h->ring[ev->seq % RING];
    ring_ent old = *e;
    *e = n;
    h->newest = ev->seq;
    if (h->waiters)
        wake_all(h);
    pthread_mutex_unlock(&h->lock);
    ring_clear(&old);
}

/* fill c->pending with events after c->last; called with the hub lock held (it may be
 * released and taken again while reading the store) */
static void collect(sse_client *c)
{
    sse_hub *h = c->hub;
    if (c->last >= h->newest)
        return;
    /* the ring holds what was published since start, newest RING at most */
    ring_ent *next = &h->ring[(c->last + 1) % RING];
    if (next->type && next->seq == c->last + 1) {
        for (int64_t s = c->last + 1; s <= h->newest && c->pending.len < 256 * 1024; s++) {
            ring_ent *e = &h->ring[s % RING];
            if (e->seq != s || !e->type)
                break;
            event_rec ev = {e->seq, e->time, e->type, e->etype, e->eid, e->actor, e->data};
            char *rec = format_event(&ev, h->srv->cfg.tz_offset_min);
            buf_adds(&c->pending, rec);
            free(rec);
            c->last = s;
        }
        return;
    }
    /*
     * Fell behind the ring: read from the store. The hub lock is let go meanwhile, or the
     * engine (which publishes under it) would wait for this stream's query.
     */
    pthread_mutex_unlock(&h->lock);
    store *st = store_pool_get(h->srv->readers);
    store_res *r = NULL;
    err rc = st ? store_query(st,
                              "SELECT seq, time, type, entity_type, entity_id, actor, data"
                              " FROM events WHERE seq > ? ORDER BY seq LIMIT 500",
                              (store_val[]){SV_I(c->last)}, 1, &r)
                : ERR_BUSY;
    pthread_mutex_lock(&h->lock);
    if (rc)
        return;
    for (int i = 0; i < store_rows(r); i++) {
        event_rec ev = {store_int(r, i, 0),  store_int(r, i, 1),  store_text(r, i, 2),
                        store_text(r, i, 3), store_text(r, i, 4), store_text(r, i, 5),
                        store_text(r, i, 6)};
        char *rec = format_event(&ev, h->srv->cfg.tz_offset_min);
        buf_adds(&c->pending, rec);
        free(rec);
        c->last = ev.seq;
    }
    store_res_free(r);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    sse_client *c = cls;
    sse_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    if (c->sent >= c->pending.len) {
        c->pending.len = 0;
        c->sent = 0;
        if (h->closing) {
            pthread_mutex_unlock(&h->lock);
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        collect(c);
        if (c->pending.len == 0 && c->ping) {
            buf_adds(&c->pending, ": ping\n\n");
        }
        c->ping = false;
        if (c->pending.len == 0) {
            /* nothing to send: suspend until an event or the heartbeat resumes us */
            c->waiting = true;
            c->next = h->waiters;
            h->waiters = c;
            MHD_suspend_connection(c->conn);
            pthread_mutex_unlock(&h->lock);
            return 0;
        }
    }
    size_t n = c->pending.len - c->sent;
    if (n > max)
        n = max;
    memcpy(out, c->pending.data + c->sent, n);
    c->sent += n;
    pthread_mutex_unlock(&h->lock);
    return (ssize_t)n;
}

static void reader_free(void *cls)
{
    sse_client *c = cls;
    sse_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    for (sse_client **pp = &h->waiters; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    buf_free(&c->pending);
    free(c);
}

static void *heartbeat(void *arg)
{
    sse_hub *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += HEARTBEAT_MS / 1000;
        pthread_cond_timedwait(&h->cv, &h->lock, &ts);
        if (h->closing)
            break;
        for (sse_client *c = h->waiters; c; c = c->next)
            c->ping = true;
        wake_all(h);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* GET /api/v1/stream */
void sse_handle(req *r)
{
    http_server *s = req_server(r);
    sse_hub *h = s->hub;
    int64_t after = -1;
    const char *a = req_query(r, "after");
    const char *lei = req_header(r, "Last-Event-ID");
    if (a && parse_i64(a, 0, INT64_MAX, &after)) {
        req_fail(r, 400, "invalidField", "after", "after: must be a sequence number ≥ 0");
        return;
    }
    if (after < 0 && lei && parse_i64(lei, 0, INT64_MAX, &after))
        after = -1;
    sse_client *c = xcalloc(1, sizeof *c);
    c->hub = h;
    c->conn = req_connection(r);
    buf_init(&c->pending, 0);
    pthread_mutex_lock(&h->lock);
    c->last = after >= 0 ? after : h->newest;
    if (after < 0)
        c->last = engine_last_seq(s->eng);
    pthread_mutex_unlock(&h->lock);
    /* an opening comment so clients see the stream is live at once */
    buf_adds(&c->pending, ": shouye stream\nretry: 3000\n\n");
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, reader, c, reader_free);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    req_stream(r, resp);
}

sse_hub *sse_hub_create(http_server *s)
{
    sse_hub *h = xcalloc(1, sizeof *h);
    h->srv = s;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cv, NULL);
    return h;
}

void sse_hub_start(sse_hub *h)
{
    h->newest = engine_last_seq(h->srv->eng);
    if (pthread_create(&h->beat, NULL, heartbeat, h) == 0)
        h->beat_started = true;
}

void sse_hub_close(sse_hub *h)
{
    pthread_mutex_lock(&h->lock);
    h->closing = true;
    wake_all(h);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->lock);
    if (h->beat_started) {
        pthread_join(h->beat, NULL);
        h->beat_started = false;
    }
}

void sse_hub_destroy(sse_hub *h)
{
    if (!h)
        return;
    for (int i = 0; i < RING; i++)
        ring_clear(&h->ring[i]);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cv);
    free(h);
}
