/*
 * builtin.c — routes every deployment has: health, readiness, Prometheus metrics, the
 * event log and the live stream.
 */
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

static void healthz(req *r)
{
    req_text(r, 200, "application/json", "{\"status\":\"ok\"}");
}

static void readyz(req *r)
{
    http_server *s = req_server(r);
    store *st = store_pool_get(s->readers);
    int64_t one = 0;
    bool store_ok = st && store_scalar(st, "SELECT 1", NULL, 0, 0, &one) == ERR_OK && one == 1;
    bool eng_ok = engine_running(s->eng);
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(store_ok && eng_ok ? "ready" : "unavailable"));
    json_object_set_new(o, "store", json_string(store_ok ? "ok" : "unreachable"));
    json_object_set_new(o, "engine", json_string(eng_ok ? "running" : "stopped"));
    req_json(r, store_ok && eng_ok ? 200 : 503, o);
}

static void metrics(req *r)
{
    http_server *s = req_server(r);
    engine_stats st;
    engine_get_stats(s->eng, &st);
    buf b;
    buf_init(&b, 0);
    buf_printf(&b,
               "# HELP shouye_engine_batches_total Group-commit batches.\n"
               "# TYPE shouye_engine_batches_total counter\n"
               "shouye_engine_batches_total %llu\n"
               "# HELP shouye_engine_commands_total Commands applied.\n"
               "# TYPE shouye_engine_commands_total counter\n"
               "shouye_engine_commands_total %llu\n"
               "# HELP shouye_engine_events_total Domain events published.\n"
               "# TYPE shouye_engine_events_total counter\n"
               "shouye_engine_events_total %llu\n"
               "# HELP shouye_engine_timers_fired_total Timers fired.\n"
               "# TYPE shouye_engine_timers_fired_total counter\n"
               "shouye_engine_timers_fired_total %llu\n"
               "# HELP shouye_engine_commit_failures_total Batches whose commit failed.\n"
               "# TYPE shouye_engine_commit_failures_total counter\n"
               "shouye_engine_commit_failures_total %llu\n"
               "# HELP shouye_engine_max_batch Largest batch so far.\n"
               "# TYPE shouye_engine_max_batch gauge\n"
               "shouye_engine_max_batch %llu\n"
               "# HELP shouye_engine_queue Commands waiting.\n"
               "# TYPE shouye_engine_queue gauge\n"
               "shouye_engine_queue %lld\n"
               "# HELP shouye_event_seq Last event sequence number.\n"
               "# TYPE shouye_event_seq gauge\n"
               "shouye_event_seq %lld\n"
               "# HELP shouye_http_responses_total Responses by status class.\n"
               "# TYPE shouye_http_responses_total counter\n",
               (unsigned long long)st.batches, (unsigned long long)st.commands,
               (unsigned long long)st.events, (unsigned long long)st.timers_fired,
               (unsigned long long)st.commit_failures, (unsigned long long)st.max_batch,
               (long long)st.queued, (long long)engine_last_seq(s->eng));
    for (int c = 1; c <= 5; c++)
        buf_printf(&b, "shouye_http_responses_total{class=\"%dxx\"} %llu\n", c,
                   (unsigned long long)s->status_counts[c]);
    if (s->metrics)
        s->metrics(s->metrics_ctx, &b);
    req_text(r, 200, "text/plain; version=0.0.4", b.data ? b.data : "");
    buf_free(&b);
}

static void events_list(req *r)
{
    int64_t after = 0, limit = 100;
    const char *a = req_query(r, "after"), *l = req_query(r, "limit");
    if (a && parse_i64(a, 0, INT64_MAX, &after)) {
        req_fail(r, 400, "invalidField", "after", "after: must be a sequence number ≥ 0");
        return;
    }
    if (l && parse_i64(l, 1, 1000, &limit)) {
        req_fail(r, 400, "invalidField", "limit", "limit: must be an integer from 1 to 1000");
        return;
    }
    store *st = req_store(r);
    if (!st)
        return;
    store_res *res;
    if (store_query(st,
                    "SELECT seq, time, type, entity_type, entity_id, actor, data FROM events"
                    " WHERE seq > ? ORDER BY seq LIMIT ?",
                    (store_val[]){SV_I(after), SV_I(limit)}, 2, &res)) {
        req_fail(r, 503, "unavailable", "", "the event log cannot be read");
        return;
    }
    json_t *arr = json_array();
    char t[40];
    for (int i = 0; i < store_rows(res); i++) {
        json_t *o = json_object();
        json_object_set_new(o, "seq", json_integer(store_int(res, i, 0)));
        time_iso(store_int(res, i, 1), req_tz(r), t, sizeof t);
        json_object_set_new(o, "time", json_string(t));
        json_object_set_new(o, "type", json_string(store_text(res, i, 2)));
        json_object_set_new(o, "entityType", json_string(store_text(res, i, 3)));
        json_object_set_new(o, "entityId", json_string(store_text(res, i, 4)));
        json_object_set_new(o, "actor",
                            json_string(store_text(res, i, 5) ? store_text(res, i, 5) : ""));
        json_t *d = json_load(store_text(res, i, 6));
        json_object_set_new(o, "data", d ? d : json_object());
        json_array_append_new(arr, o);
    }
    store_res_free(res);
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%lld", (long long)engine_last_seq(req_engine(r)));
    req_add_header(r, "X-Last-Seq", tmp);
    req_json(r, 200, arr);
}

static const route builtin_routes[] = {
    {"GET", "/healthz", ROUTE_PUBLIC, healthz},
    {"GET", "/readyz", ROUTE_PUBLIC, readyz},
    {"GET", "/metrics", ROUTE_PUBLIC, metrics},
    {NULL, NULL, 0, NULL},
};

/* the roles are the caller's (http knows no roles); one value per process */
static route event_routes[] = {
    {"GET", "/api/v1/events", 0, events_list},
    {"GET", "/api/v1/stream", 0, sse_handle},
    {NULL, NULL, 0, NULL},
};

void http_add_builtin_routes(http_server *s, unsigned event_readers)
{
    http_add_routes(s, builtin_routes, NULL);
    event_routes[0].roles = event_routes[1].roles = event_readers;
    http_add_routes(s, event_routes, NULL);
}
