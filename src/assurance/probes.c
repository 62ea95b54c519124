/*
 * probes.c — dial-tests 拨测 (A1): HTTP(S) (status, content, latency), TCP connect and DNS
 * checks per service and location, run 7×24 on the engine's clock. The engine owns the
 * schedule (a timer per probe) and the verdicts; the checks themselves run on the prober
 * thread with libcurl's multi interface, all due checks at once, so a slow target never holds
 * up the writer. N consecutive failures are a finding for incidents at the probe's level; the
 * first success after that clears it (and restores the incident when nothing else fails).
 */
#include "assurance/assurance_int.h"

#include <curl/curl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BASE "/api/v1/probes"
#define BODY_MAX (256 * 1024)

static const char *const probe_kinds[] = {"http", "tcp", "dns", NULL};

typedef struct probe_job {
    int64_t id;
    char kind[8];
    char *target, *expect_body;
    int expect_status, max_latency_ms;
    /* results */
    bool ok;
    int status, latency_ms;
    char error[200];
    buf body;
    CURL *curl;
    struct probe_job *next;
} probe_job;

struct prober {
    engine *eng;
    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    probe_job *head;
};

static void job_free(probe_job *j)
{
    free(j->target);
    free(j->expect_body);
    buf_free(&j->body);
    free(j);
}

/* ---- the checks (prober thread) ---- */

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    buf_add(b, p, size * n); /* capped: the rest is not compared */
    return size * n;
}

static void tcp_target_url(const char *target, char *url, size_t n)
{
    snprintf(url, n, "http://%s/", target);
}

static CURL *prepare(probe_job *j)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    char url[600];
    if (strcmp(j->kind, "tcp") == 0) {
        tcp_target_url(j->target, url, sizeof url);
        curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    } else {
        snprintf(url, sizeof url, "%s", j->target);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &j->body);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "shouye-dialtest/1");
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    /* give a slow answer room to be measured as slow rather than cut */
    long timeout = (long)j->max_latency_ms * 3;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout < 1000 ? 1000L : timeout);
    curl_easy_setopt(c, CURLOPT_PRIVATE, j);
    return c;
}

static void judge(probe_job *j, CURLcode code)
{
    double total = 0;
    curl_easy_getinfo(j->curl, CURLINFO_TOTAL_TIME, &total);
    j->latency_ms = (int)(total * 1000.0 + 0.5);
    if (code != CURLE_OK) {
        snprintf(j->error, sizeof j->error, "%s", curl_easy_strerror(code));
        return;
    }
    if (strcmp(j->kind, "http") == 0) {
        long st = 0;
        curl_easy_getinfo(j->curl, CURLINFO_RESPONSE_CODE, &st);
        j->status = (int)st;
        bool status_ok = j->expect_status ? st == j->expect_status : st >= 200 && st < 400;
        if (!status_ok) {
            snprintf(j->error, sizeof j->error, "status %ld, expected %s", st,
                     j->expect_status ? "the configured one" : "2xx/3xx");
            return;
        }
        if (j->expect_body && j->expect_body[0]) {
            buf_add(&j->body, "", 1);
            if (!j->body.data || !strstr(j->body.data, j->expect_body)) {
                snprintf(j->error, sizeof j->error, "expected content not found");
                return;
            }
        }
    }
    if (j->latency_ms > j->max_latency_ms) {
        snprintf(j->error, sizeof j->error, "latency %d ms over %d ms", j->latency_ms,
                 j->max_latency_ms);
        return;
    }
    j->ok = true;
}

static void run_dns(probe_job *j)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(j->target, NULL, &hints, &res);
    clock_gettime(CLOCK_MONOTONIC, &b);
    j->latency_ms = (int)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
    if (rc != 0) {
        snprintf(j->error, sizeof j->error, "resolve: %s", gai_strerror(rc));
        return;
    }
    freeaddrinfo(res);
    if (j->latency_ms > j->max_latency_ms) {
        snprintf(j->error, sizeof j->error, "latency %d ms over %d ms", j->latency_ms,
                 j->max_latency_ms);
        return;
    }
    j->ok = true;
}

static void run_all(probe_job *list)
{
    CURLM *m = curl_multi_init();
    int pending = 0;
    for (probe_job *j = list; j; j = j->next) {
        buf_init(&j->body, BODY_MAX);
        if (strcmp(j->kind, "dns") == 0) {
            run_dns(j);
            continue;
        }
        j->curl = prepare(j);
        if (!j->curl || !m) {
            snprintf(j->error, sizeof j->error, "cannot start the check");
            continue;
        }
        curl_multi_add_handle(m, j->curl);
        pending++;
    }
    while (pending > 0 && m) {
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            probe_job *j = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            judge(j, msg->data.result);
            curl_multi_remove_handle(m, msg->easy_handle);
            pending--;
        }
        if (pending > 0)
            curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    for (probe_job *j = list; j; j = j->next)
        if (j->curl) {
            curl_easy_cleanup(j->curl);
            j->curl = NULL;
        }
    if (m)
        curl_multi_cleanup(m);
}

/* ---- verdicts (engine thread) ---- */

static err apply_results(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e);
    size_t i;
    json_t *r;
    err rc = ERR_OK;
    json_array_foreach(json_object_get(c->in, "results"), i, r)
    {
        int64_t id = json_integer_value(json_object_get(r, "id"));
        bool ok = json_is_true(json_object_get(r, "ok"));
        store_res *q;
        rc = store_query(s,
                         "SELECT name, failures, fail_after, state, level, service, area,"
                         " element_id, interval_s FROM probes WHERE id = ?",
                         (store_val[]){SV_I(id)}, 1, &q);
        if (rc)
            break;
        if (!store_rows(q)) { /* deleted while it ran */
            store_res_free(q);
            continue;
        }
        char name[120], state[16], service[32], area[72], element[72];
        snprintf(name, sizeof name, "%s", store_text(q, 0, 0));
        int64_t failures = store_int(q, 0, 1), fail_after = store_int(q, 0, 2);
        snprintf(state, sizeof state, "%s", store_text(q, 0, 3));
        int level = (int)store_int(q, 0, 4);
        snprintf(service, sizeof service, "%s", store_text(q, 0, 5) ? store_text(q, 0, 5) : "");
        snprintf(area, sizeof area, "%s", store_text(q, 0, 6) ? store_text(q, 0, 6) : "");
        snprintf(element, sizeof element, "%s", store_text(q, 0, 7) ? store_text(q, 0, 7) : "");
        int64_t interval = store_int(q, 0, 8);
        store_res_free(q);
        json_t *st = json_object_get(r, "status");
        rc = store_exec(s,
                        "INSERT INTO probe_results(id, probe_id, time, ok, latency_ms, status,"
                        " error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (store_val[]){SV_I(engine_next_id(e, "probe_results")), SV_I(id),
                                      SV_I(now), SV_I(ok),
                                      SV_I(json_integer_value(json_object_get(r, "latencyMs"))),
                                      SV_OI(json_integer_value(st) > 0, json_integer_value(st)),
                                      SV_S(ok ? NULL : jstr(r, "error"))},
                        7);
        failures = ok ? 0 : failures + 1;
        const char *next = ok ? "up" : failures >= fail_after ? "down" : state;
        if (!rc)
            rc = store_exec(s,
                            "UPDATE probes SET failures = ?, state = ?, last_run = ? WHERE id = ?",
                            (store_val[]){SV_I(failures), SV_S(next), SV_I(now), SV_I(id)}, 4);
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        if (!rc && strcmp(next, "down") == 0 && strcmp(state, "down") != 0) {
            rc = engine_emit(e, "probe.failed", "probe", ids, "prober",
                             json_pack("{s:I, s:s?}", "failures", (json_int_t)failures, "error",
                                       jstr(r, "error")));
            char title[200], desc[400];
            snprintf(title, sizeof title, "拨测失败：%s", name);
            snprintf(desc, sizeof desc, "拨测「%s」连续%lld次失败：%s", name, (long long)failures,
                     jstr(r, "error") ? jstr(r, "error") : "");
            detect d = {.origin = "dialTest", .kind = "dialTest", .ref = ids, .level = level,
                        .service = service[0] ? service : NULL, .area = area[0] ? area : NULL,
                        .element = element[0] ? element : NULL, .name = title,
                        .description = desc, .actor = "prober",
                        .first_signal = now - (failures - 1) * interval * 1000};
            int64_t inc;
            problem p = {0};
            if (!rc && (element[0] || area[0]))
                rc = incident_detect(e, &d, &inc, &p);
        } else if (!rc && ok && strcmp(state, "down") == 0) {
            rc = engine_emit(e, "probe.recovered", "probe", ids, "prober", NULL);
            if (!rc)
                rc = incident_ref_cleared(e, "dialTest", ids, "prober");
        }
        if (rc)
            break;
    }
    return rc;
}

static void *prober_main(void *arg)
{
    prober *pr = arg;
    pthread_setname_np(pthread_self(), "prober");
    pthread_mutex_lock(&pr->lock);
    while (!pr->stop) {
        if (!pr->head) {
            pthread_cond_wait(&pr->cv, &pr->lock);
            continue;
        }
        probe_job *list = pr->head;
        pr->head = NULL;
        pthread_mutex_unlock(&pr->lock);
        run_all(list);
        json_t *results = json_array();
        while (list) {
            probe_job *j = list;
            list = j->next;
            json_array_append_new(results,
                                  json_pack("{s:I, s:b, s:i, s:i, s:s}", "id", (json_int_t)j->id,
                                            "ok", j->ok, "latencyMs", j->latency_ms, "status",
                                            j->status, "error", j->error));
            job_free(j);
        }
        cmd c = {0};
        c.apply = apply_results;
        c.in = json_pack("{s:o}", "results", results);
        snprintf(c.actor, sizeof c.actor, "prober");
        if (engine_call(pr->eng, &c))
            LOGW("probes", "msg=\"cannot record dial-test results\" error=\"%s\"", c.prob.message);
        json_decref(c.in);
        json_decref(c.out);
        pthread_mutex_lock(&pr->lock);
    }
    while (pr->head) {
        probe_job *j = pr->head;
        pr->head = j->next;
        job_free(j);
    }
    pthread_mutex_unlock(&pr->lock);
    return NULL;
}

/* ---- the schedule (engine thread) ---- */

static err queue_probe(engine *e, int64_t id, bool rearm, int64_t at)
{
    assurance_ctx *a = actx(e);
    store_res *r;
    err rc = store_query(engine_store(e),
                         "SELECT kind, target, expect_status, expect_body, max_latency_ms,"
                         " interval_s, enabled FROM probes WHERE id = ?",
                         (store_val[]){SV_I(id)}, 1, &r);
    if (rc)
        return rc;
    if (!store_rows(r) || !store_int(r, 0, 6)) {
        store_res_free(r);
        return ERR_OK; /* deleted or disabled: the timer dies here */
    }
    probe_job *j = xcalloc(1, sizeof *j);
    j->id = id;
    snprintf(j->kind, sizeof j->kind, "%s", store_text(r, 0, 0));
    j->target = xstrdup(store_text(r, 0, 1));
    j->expect_status = store_isnull(r, 0, 2) ? 0 : (int)store_int(r, 0, 2);
    j->expect_body = store_text(r, 0, 3) ? xstrdup(store_text(r, 0, 3)) : NULL;
    j->max_latency_ms = (int)store_int(r, 0, 4);
    int64_t interval = store_int(r, 0, 5) * 1000;
    store_res_free(r);
    if (a->prober && a->prober->started) {
        pthread_mutex_lock(&a->prober->lock);
        j->next = a->prober->head;
        a->prober->head = j;
        pthread_cond_signal(&a->prober->cv);
        pthread_mutex_unlock(&a->prober->lock);
    } else {
        job_free(j);
    }
    if (!rearm)
        return ERR_OK;
    int64_t next = at + interval;
    if (next <= engine_now(e))
        next = engine_now(e) + interval; /* after a long stop: no burst of catch-up runs */
    engine_timer_add(e, next, AK_PROBE, id);
    return store_exec(engine_store(e), "UPDATE probes SET next_run = ? WHERE id = ?",
                      (store_val[]){SV_I(next), SV_I(id)}, 2);
}

static err on_probe_timer(engine *e, int64_t id, int64_t at)
{
    /* stale timers (an edited schedule) are dropped: only the stored next run counts */
    int64_t next = 0;
    err rc = store_scalar(engine_store(e), "SELECT next_run FROM probes WHERE id = ?",
                          (store_val[]){SV_I(id)}, 1, 0, &next);
    if (rc || next != at)
        return rc;
    return queue_probe(e, id, true, at);
}

static err probes_rebuild(engine *e)
{
    store_res *r;
    err rc = store_query(engine_store(e), "SELECT id, next_run FROM probes WHERE enabled = 1",
                         NULL, 0, &r);
    if (rc)
        return rc;
    for (int i = 0; i < store_rows(r); i++)
        engine_timer_add(e, store_isnull(r, i, 1) ? engine_now(e) : store_int(r, i, 1), AK_PROBE,
                         store_int(r, i, 0));
    store_res_free(r);
    return ERR_OK;
}

void probes_attach_engine(engine *e)
{
    engine_on_timer(e, AK_PROBE, on_probe_timer);
    engine_on_start(e, probes_rebuild);
}

prober *prober_start(engine *e)
{
    prober *pr = xcalloc(1, sizeof *pr);
    pr->eng = e;
    pthread_mutex_init(&pr->lock, NULL);
    pthread_cond_init(&pr->cv, NULL);
    if (pthread_create(&pr->thread, NULL, prober_main, pr) == 0)
        pr->started = true;
    return pr;
}

void prober_stop(prober *pr)
{
    if (!pr)
        return;
    if (pr->started) {
        pthread_mutex_lock(&pr->lock);
        pr->stop = true;
        pthread_cond_signal(&pr->cv);
        pthread_mutex_unlock(&pr->lock);
        pthread_join(pr->thread, NULL);
    }
    pthread_mutex_destroy(&pr->lock);
    pthread_cond_destroy(&pr->cv);
    free(pr);
}

/* ---- HTTP ---- */

static const json_field probe_fields[] = {
    {"name", JT_STRING, JF_REQUIRED, 100, NULL},
    {"kind", JT_STRING, JF_REQUIRED, 8, probe_kinds},
    {"target", JT_STRING, JF_REQUIRED, 500, NULL},
    {"expectStatus", JT_INT, JF_NULLABLE, 0, NULL},
    {"expectBody", JT_STRING, JF_NULLABLE, 200, NULL},
    {"maxLatencyMs", JT_INT, 0, 0, NULL},
    {"intervalSeconds", JT_INT, 0, 0, NULL},
    {"failAfter", JT_INT, 0, 0, NULL},
    {"level", JT_INT, 0, 0, NULL},
    {"service", JT_STRING, JF_NULLABLE, 32, NULL},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"element", JT_STRING, JF_NULLABLE, 64, NULL},
    {"enabled", JT_BOOL, 0, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"state", JT_ANY, JF_READONLY, 0, NULL},
    {"consecutiveFailures", JT_ANY, JF_READONLY, 0, NULL},
    {"lastRun", JT_ANY, JF_READONLY, 0, NULL},
    {"nextRun", JT_ANY, JF_READONLY, 0, NULL},
    {"lastResult", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err range(const json_t *b, const char *name, int64_t lo, int64_t hi, problem *p)
{
    json_t *v = json_object_get(b, name);
    if (json_is_integer(v) && (json_integer_value(v) < lo || json_integer_value(v) > hi))
        return problem_field(p, name, "must be %lld … %lld", (long long)lo, (long long)hi);
    return ERR_OK;
}

static err check_probe(const json_t *b, problem *p)
{
    const char *kind = jstr(b, "kind"), *target = jstr(b, "target");
    if (strcmp(kind, "http") == 0) {
        if (strncmp(target, "http://", 7) && strncmp(target, "https://", 8))
            return problem_field(p, "target", "an http probe needs an http:// or https:// URL");
    } else if (strcmp(kind, "tcp") == 0) {
        const char *colon = strrchr(target, ':');
        int64_t port;
        if (!colon || colon == target || parse_i64(colon + 1, 1, 65535, &port))
            return problem_field(p, "target", "a tcp probe needs HOST:PORT");
    }
    for (const char *q = target; *q; q++)
        if ((unsigned char)*q <= ' ')
            return problem_field(p, "target", "must not contain spaces or control characters");
    err rc = range(b, "expectStatus", 100, 599, p);
    if (!rc)
        rc = range(b, "maxLatencyMs", 1, 60000, p);
    if (!rc)
        rc = range(b, "intervalSeconds", 10, 86400, p);
    if (!rc)
        rc = range(b, "failAfter", 1, 20, p);
    if (!rc)
        rc = range(b, "level", 1, 4, p);
    if (rc)
        return rc;
    const char *area = jstr(b, "area");
    if (area && !area_code_ok(area))
        return problem_field(p, "area", "must be an area code like GD.SZ.NS");
    return ERR_OK;
}

static json_t *probe_json(store *s, int64_t id, int tz)
{
    store_res *r;
    if (store_query(s,
                    "SELECT id, name, kind, target, expect_status, expect_body, max_latency_ms,"
                    " interval_s, fail_after, level, service, area, element_id, enabled, failures,"
                    " state, last_run, next_run FROM probes WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r)) {
        char *href = xasprintf(BASE "/%s", store_text(r, 0, 0));
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:s?, s:s?, s:s?, s:b,"
                      " s:I, s:s}",
                      "id", store_text(r, 0, 0), "href", href, "name", store_text(r, 0, 1),
                      "kind", store_text(r, 0, 2), "target", store_text(r, 0, 3), "maxLatencyMs",
                      (json_int_t)store_int(r, 0, 6), "intervalSeconds",
                      (json_int_t)store_int(r, 0, 7), "failAfter", (json_int_t)store_int(r, 0, 8),
                      "level", (int)store_int(r, 0, 9), "service", store_text(r, 0, 10), "area",
                      store_text(r, 0, 11), "element", store_text(r, 0, 12), "enabled",
                      store_int(r, 0, 13) != 0, "consecutiveFailures",
                      (json_int_t)store_int(r, 0, 14), "state", store_text(r, 0, 15));
        free(href);
        json_object_set_new(o, "expectStatus", store_isnull(r, 0, 4)
                                                   ? json_null()
                                                   : json_integer(store_int(r, 0, 4)));
        json_object_set_new(o, "expectBody", store_text(r, 0, 5)
                                                 ? json_string(store_text(r, 0, 5))
                                                 : json_null());
        char t[40];
        if (!store_isnull(r, 0, 16)) {
            time_iso(store_int(r, 0, 16), tz, t, sizeof t);
            json_object_set_new(o, "lastRun", json_string(t));
        }
        if (!store_isnull(r, 0, 17)) {
            time_iso(store_int(r, 0, 17), tz, t, sizeof t);
            json_object_set_new(o, "nextRun", json_string(t));
        }
    }
    store_res_free(r);
    if (!o)
        return NULL;
    if (store_query(s,
                    "SELECT time, ok, latency_ms, status, error FROM probe_results"
                    " WHERE probe_id = ? ORDER BY id DESC LIMIT 1",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        if (store_rows(r)) {
            char t[40];
            time_iso(store_int(r, 0, 0), tz, t, sizeof t);
            json_object_set_new(o, "lastResult",
                                json_pack("{s:s, s:b, s:I, s:s?}", "time", t, "ok",
                                          store_int(r, 0, 1) != 0, "latencyMs",
                                          (json_int_t)store_int(r, 0, 2), "error",
                                          store_text(r, 0, 4)));
        }
        store_res_free(r);
    }
    return o;
}

static err apply_write(engine *e, cmd *c)
{
    store *s = engine_store(e);
    settings_write w;
    err rc = settings_begin(e, c, "probes", probe_json, "probe", &w);
    if (rc)
        return rc;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)w.id);
    if (w.del) {
        rc = store_exec(s, "DELETE FROM probes WHERE id = ?", (store_val[]){SV_I(w.id)}, 1);
        if (!rc)
            rc = incident_ref_cleared(e, "dialTest", ids, c->actor);
        return settings_finish(e, c, &w, rc, BASE, "probe", probe_json);
    }
    const char *el = jstr(c->in, "element");
    rc = engine_require_row(e, c, "elements", "id", el, "element", "network element");
    if (!rc)
        rc = engine_require_row(e, c, "areas", "code", jstr(c->in, "area"), "area", "area");
    if (rc)
        return settings_finish(e, c, &w, rc, BASE, "probe", probe_json);
#define INT_OR(k, d)                                                                               \
    (json_is_integer(json_object_get(c->in, k)) ? json_integer_value(json_object_get(c->in, k)) : (d))
    json_t *es = json_object_get(c->in, "expectStatus");
    json_t *en = json_object_get(c->in, "enabled");
    bool enabled = en ? json_is_true(en) : true;
    int64_t next = w.now; /* a new or edited probe runs at once, then on its interval */
    rc = store_exec(
        s,
        w.create ? "INSERT INTO probes(name, kind, target, expect_status, expect_body,"
                   " max_latency_ms, interval_s, fail_after, level, service, area, element_id,"
                   " enabled, next_run, created, updated, state, failures, id)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', 0, ?)"
                 : "UPDATE probes SET name = ?, kind = ?, target = ?, expect_status = ?,"
                   " expect_body = ?, max_latency_ms = ?, interval_s = ?, fail_after = ?,"
                   " level = ?, service = ?, area = ?, element_id = ?, enabled = ?,"
                   " next_run = ?, created = COALESCE(?, created), updated = ? WHERE id = ?",
        (store_val[]){SV_S(jstr(c->in, "name")), SV_S(jstr(c->in, "kind")),
                      SV_S(jstr(c->in, "target")), SV_OI(json_is_integer(es), json_integer_value(es)),
                      SV_S(jstr(c->in, "expectBody")), SV_I(INT_OR("maxLatencyMs", 3000)),
                      SV_I(INT_OR("intervalSeconds", 60)), SV_I(INT_OR("failAfter", 3)),
                      SV_I(INT_OR("level", 3)), SV_S(jstr(c->in, "service")),
                      SV_S(jstr(c->in, "area")), SV_S(el), SV_I(enabled), SV_I(next),
                      SV_OI(w.create, w.now), SV_I(w.now), SV_I(w.id)},
        17);
#undef INT_OR
    if (!rc && enabled)
        engine_timer_add(e, next, AK_PROBE, w.id);
    return settings_finish(e, c, &w, rc, BASE, "probe", probe_json);
}

static void create(req *r)
{
    req_submit_checked(r, probe_fields, check_probe, apply_write);
}

static void del(req *r)
{
    settings_delete(r, apply_write);
}

static err apply_run(engine *e, cmd *c)
{
    int64_t id, n = 0;
    if (parse_i64(c->id, 1, INT64_MAX, &id) ||
        store_scalar(engine_store(e), "SELECT COUNT(*) FROM probes WHERE id = ?",
                     (store_val[]){SV_I(id)}, 1, 0, &n) ||
        !n)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no probe %s", c->id);
    c->out = json_pack("{s:s, s:b}", "id", c->id, "queued", 1);
    c->status = 202;
    return queue_probe(e, id, false, 0);
}

static void run_now(req *r)
{
    cmd *c = req_cmd(r);
    c->id = req_param(r, "id");
    c->apply = apply_run;
    req_submit(r);
}

static void get_one(req *r)
{
    settings_get(r, probe_json, "probe");
}

static void list(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store_res *res;
    int64_t total = 0;
    if (store_page(s, "id", "probes", "id", NULL, 0, lim, off, &total, &res)) {
        req_fail(r, 503, "unavailable", "", "probes cannot be read now");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *o = probe_json(s, store_int(res, i, 0), req_tz(r));
        if (o)
            json_array_append_new(arr, o);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

static void results(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    int64_t off, lim, id;
    if (!req_paging(r, &off, &lim))
        return;
    if (parse_i64(req_param(r, "id"), 1, INT64_MAX, &id)) {
        req_fail(r, 404, "notFound", "id", "no probe %s", req_param(r, "id"));
        return;
    }
    store_res *res;
    int64_t total = 0;
    if (store_page(s, "time, ok, latency_ms, status, error", "probe_results WHERE probe_id = ?",
                   "id DESC", (store_val[]){SV_I(id)}, 1, lim, off, &total, &res)) {
        req_fail(r, 503, "unavailable", "", "results cannot be read now");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        char t[40];
        time_iso(store_int(res, i, 0), req_tz(r), t, sizeof t);
        json_t *o = json_pack("{s:s, s:b, s:I, s:s?}", "time", t, "ok", store_int(res, i, 1) != 0,
                              "latencyMs", (json_int_t)store_int(res, i, 2), "error",
                              store_text(res, i, 4));
        if (!store_isnull(res, i, 3))
            json_object_set_new(o, "status", json_integer(store_int(res, i, 3)));
        json_array_append_new(arr, o);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

#define CONF (ROLE_SUPERVISOR | ROLE_ADMIN)

static const route routes[] = {
    {"GET", BASE, ROUTE_ANY, list},
    {"POST", BASE, CONF, create},
    {"GET", BASE "/{id}", ROUTE_ANY, get_one},
    {"PUT", BASE "/{id}", CONF, create},
    {"DELETE", BASE "/{id}", CONF, del},
    {"POST", BASE "/{id}/run", CONF | ROLE_SPECIALIST | ROLE_ENGINEER, run_now},
    {"GET", BASE "/{id}/results", ROUTE_ANY, results},
    {NULL, NULL, 0, NULL},
};

void probes_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
