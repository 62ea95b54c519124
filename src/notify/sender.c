/*
 * sender.c — the sender thread. It claims due outbox rows in one engine command (state
 * pending → sending, durable before anything leaves), delivers them, and records the
 * results in another: sent; pending again with back-off; or failed after the last try.
 * A row found 'sending' at start-up was interrupted mid-delivery and is marked unknown,
 * never resent: a customer must not get the same SMS twice.
 * Due times use the engine's clock, so tests move back-off time like any other timer.
 */
#include "notify/notify_int.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100

#define PARALLEL 32 /* requests in flight to the gateway or the hubs */

typedef struct {
    int64_t id;
    char *channel, *recipient, *body, *token, *secret;
    int attempts;
    bool ok, permanent;
    char error[200];
    /* the request in flight */
    CURL *easy;
    char *url;
    struct curl_slist *headers;
    buf answer;
} job;

static void job_free(job *j)
{
    free(j->channel);
    free(j->recipient);
    free(j->body);
    free(j->token);
    free(j->secret);
    if (j->easy)
        curl_easy_cleanup(j->easy);
    free(j->url);
    curl_slist_free_all(j->headers);
    buf_free(&j->answer);
}

/* back-off after the n-th failed try: 10 s, 1 min, 5 min, 15 min, 1 h, … */
static int64_t backoff_ms(int attempts)
{
    static const int64_t steps[] = {10000, 60000, 300000, 900000, 3600000};
    int i = attempts - 1;
    if (i < 0)
        i = 0;
    if (i >= (int)ARRAY_LEN(steps))
        i = (int)ARRAY_LEN(steps) - 1;
    return steps[i];
}

/* ---- engine commands ---- */

static err apply_claim(engine *e, cmd *c)
{
    json_t *ids = json_object_get(c->in, "ids"), *claimed = json_array();
    size_t i;
    json_t *v;
    err rc = ERR_OK;
    json_array_foreach(ids, i, v)
    {
        rc = store_exec(engine_store(e),
                        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated = ?"
                        " WHERE id = ? AND state = 'pending'",
                        (store_val[]){SV_I(engine_now(e)), SV_I(json_integer_value(v))}, 2);
        if (rc)
            break;
        if (store_changes(engine_store(e)) == 1)
            json_array_append(claimed, v);
    }
    if (rc) {
        json_decref(claimed);
        return rc;
    }
    c->out = claimed;
    return ERR_OK;
}

static err apply_results(engine *e, cmd *c)
{
    notify_ctx *n = engine_ctx(e, ENGINE_CTX_NOTIFY);
    int64_t now = engine_now(e);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(c->in, "results"), i, r)
    {
        int64_t id = json_integer_value(json_object_get(r, "id"));
        int attempts = (int)json_integer_value(json_object_get(r, "attempts"));
        err rc;
        if (json_is_true(json_object_get(r, "ok"))) {
            rc = store_exec(engine_store(e),
                            "UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL,"
                            " updated = ? WHERE id = ?",
                            (store_val[]){SV_I(now), SV_I(now), SV_I(id)}, 3);
        } else {
            bool give_up =
                json_is_true(json_object_get(r, "permanent")) || attempts >= n->cfg.max_attempts;
            rc = store_exec(engine_store(e),
                            "UPDATE outbox SET state = ?, next_attempt = ?, last_error = ?,"
                            " updated = ? WHERE id = ?",
                            (store_val[]){SV_S(give_up ? "failed" : "pending"),
                                          SV_I(now + backoff_ms(attempts)), SV_S(jstr(r, "error")),
                                          SV_I(now), SV_I(id)},
                            5);
        }
        if (rc)
            return rc;
    }
    return ERR_OK;
}

/* ---- adapters ---- */

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    buf *b = ud;
    buf_add(b, p, size * n); /* capped: a long answer is cut, not an error */
    return size * n;
}

static void masked(const char *msisdn, char *out, size_t n)
{
    size_t len = strlen(msisdn);
    if (len >= 7)
        snprintf(out, n, "%.3s****%s", msisdn, msisdn + len - 4);
    else
        snprintf(out, n, "****");
}

static void send_log(notify_ctx *n, job *j)
{
    (void)n;
    char who[32];
    masked(j->recipient, who, sizeof who);
    LOGI("notify", "msg=\"sms (log adapter)\" id=%lld to=%s chars=%zu", (long long)j->id, who,
         utf8_chars(j->body));
    j->ok = true;
}

/* Kannel's sendsms: the request for one message (NULL with j->error set when it cannot be) */
static CURL *prepare_kannel(notify_ctx *n, job *j)
{
    if (!n->cfg.kannel_url) {
        snprintf(j->error, sizeof j->error, "kannel_url is not configured");
        j->permanent = true;
        return NULL;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(j->error, sizeof j->error, "kannel: cannot start a request");
        return NULL;
    }
    char *text = curl_easy_escape(curl, j->body, 0);
    char *dlr_raw = xasprintf("%s/api/v1/notifications/%lld/dlr?token=%s&status=%%d",
                              n->cfg.public_url ? n->cfg.public_url : "http://127.0.0.1:8080",
                              (long long)j->id, j->token);
    char *dlr = curl_easy_escape(curl, dlr_raw, 0);
    char *user = curl_easy_escape(curl, n->cfg.kannel_user ? n->cfg.kannel_user : "", 0);
    char *pass = curl_easy_escape(curl, n->cfg.kannel_password ? n->cfg.kannel_password : "", 0);
    char *to = curl_easy_escape(curl, j->recipient, 0);
    char *from = curl_easy_escape(curl, n->cfg.sms_from ? n->cfg.sms_from : "10086", 0);
    /* Chinese needs both coding=2 (UCS-2) and charset=UTF-8 (what we hand over) */
    j->url = xasprintf("%s?username=%s&password=%s&from=%s&to=%s&coding=2&charset=UTF-8"
                       "&text=%s&dlr-mask=31&dlr-url=%s",
                       n->cfg.kannel_url, user, pass, from, to, text, dlr);
    free(dlr_raw);
    curl_free(text);
    curl_free(dlr);
    curl_free(user);
    curl_free(pass);
    curl_free(to);
    curl_free(from);
    curl_easy_setopt(curl, CURLOPT_URL, j->url);
    return curl;
}

static void finish_kannel(job *j, CURLcode cc, long status)
{
    if (cc != CURLE_OK) {
        snprintf(j->error, sizeof j->error, "kannel: %s", curl_easy_strerror(cc));
    } else if (status == 202 || status == 200) {
        j->ok = true;
    } else {
        snprintf(j->error, sizeof j->error, "kannel answered %ld: %.120s", status,
                 j->answer.data ? j->answer.data : "");
        j->permanent = status == 400 || status == 403; /* bad request or credentials */
    }
}

/* a TMF event hub: POST the event, signed when the hub gave a secret */
static CURL *prepare_webhook(job *j)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(j->error, sizeof j->error, "webhook: cannot start a request");
        return NULL;
    }
    j->headers = curl_slist_append(j->headers, "Content-Type: application/json");
    char line[160];
    snprintf(line, sizeof line, "X-Shouye-Delivery: %lld", (long long)j->id);
    j->headers = curl_slist_append(j->headers, line);
    if (j->secret) {
        /* the receiver checks HMAC-SHA256(secret, body) */
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)j->secret, strlen(j->secret));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)j->body, strlen(j->body));
        crypto_auth_hmacsha256_final(&st, mac);
        char hex[2 * sizeof mac + 1];
        sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
        snprintf(line, sizeof line, "X-Shouye-Signature: sha256=%s", hex);
        j->headers = curl_slist_append(j->headers, line);
    }
    curl_easy_setopt(curl, CURLOPT_URL, j->recipient);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, j->headers);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    return curl;
}

static void finish_webhook(job *j, CURLcode cc, long status)
{
    if (cc != CURLE_OK) {
        snprintf(j->error, sizeof j->error, "webhook: %s", curl_easy_strerror(cc));
    } else if (status >= 200 && status < 300) {
        j->ok = true;
    } else {
        snprintf(j->error, sizeof j->error, "webhook answered %ld", status);
        j->permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    }
}

/* Deliver the claimed jobs: up to PARALLEL requests in flight on one multi handle. */
static void deliver(notify_ctx *n, CURLM *m, job **todo, int count)
{
    int next = 0, running = 0;
    while (next < count || running > 0) {
        while (next < count && running < PARALLEL) {
            job *j = todo[next++];
            bool hook = strcmp(j->channel, "webhook") == 0;
            j->easy = hook ? prepare_webhook(j) : prepare_kannel(n, j);
            if (!j->easy)
                continue;
            buf_init(&j->answer, 4096);
            curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, 10000L);
            curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, sink);
            curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, &j->answer);
            curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
            curl_multi_add_handle(m, j->easy);
            running++;
        }
        int still = 0;
        curl_multi_perform(m, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            job *j = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (strcmp(j->channel, "webhook") == 0)
                finish_webhook(j, msg->data.result, status);
            else
                finish_kannel(j, msg->data.result, status);
            curl_multi_remove_handle(m, msg->easy_handle);
            running--;
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
}

/* ---- the loop ---- */

static int load_due(notify_ctx *n, const char *channel, job *jobs)
{
    store *s = store_pool_get(n->readers);
    if (!s)
        return 0;
    store_res *r;
    if (store_query(s,
                    "SELECT o.id, o.channel, o.recipient, o.body, o.attempts, o.dlr_token,"
                    " h.secret FROM outbox o LEFT JOIN hubs h ON h.id = o.hub_id"
                    " WHERE o.state = 'pending' AND o.channel = ? AND o.next_attempt <= ?"
                    " ORDER BY o.id LIMIT ?",
                    (store_val[]){SV_S(channel), SV_I(engine_now(n->eng)), SV_I(BATCH)}, 3, &r))
        return 0;
    int count = store_rows(r);
    for (int i = 0; i < count; i++) {
        job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->id = store_int(r, i, 0);
        j->channel = xstrdup(store_text(r, i, 1));
        j->recipient = xstrdup(store_text(r, i, 2));
        j->body = xstrdup(store_text(r, i, 3));
        j->attempts = (int)store_int(r, i, 4) + 1;
        j->token = xstrdup(store_text(r, i, 5) ? store_text(r, i, 5) : "");
        j->secret = store_text(r, i, 6) ? xstrdup(store_text(r, i, 6)) : NULL;
    }
    store_res_free(r);
    return count;
}

static bool run_once(notify_ctx *n, const char *channel, CURLM *multi)
{
    job jobs[BATCH];
    int count = load_due(n, channel, jobs);
    if (!count)
        return false;
    /* claim: durable before anything is sent */
    cmd c;
    memset(&c, 0, sizeof c);
    c.apply = apply_claim;
    c.in = json_object();
    json_t *ids = json_array();
    for (int i = 0; i < count; i++)
        json_array_append_new(ids, json_integer(jobs[i].id));
    json_object_set_new(c.in, "ids", ids);
    snprintf(c.actor, sizeof c.actor, "notifier");
    err rc = engine_call(n->eng, &c);
    json_t *claimed = rc ? NULL : c.out;
    json_decref(c.in);
    json_t *results = json_array();
    /* the claimed ones go out together; the log adapter needs no network */
    job *todo[BATCH];
    int ntodo = 0;
    bool mine[BATCH] = {false};
    for (int i = 0; i < count; i++) {
        size_t k;
        json_t *v;
        json_array_foreach(claimed, k, v) mine[i] |= json_integer_value(v) == jobs[i].id;
        if (!mine[i])
            continue;
        if (strcmp(jobs[i].channel, "webhook") == 0 || strcmp(n->cfg.sms, "kannel") == 0)
            todo[ntodo++] = &jobs[i];
        else
            send_log(n, &jobs[i]);
    }
    deliver(n, multi, todo, ntodo);
    for (int i = 0; i < count; i++) {
        job *j = &jobs[i];
        if (mine[i]) {
            json_array_append_new(results,
                                  json_pack("{s:I, s:i, s:b, s:b, s:s}", "id", (json_int_t)j->id,
                                            "attempts", j->attempts, "ok", j->ok, "permanent",
                                            j->permanent, "error", j->error));
            if (!j->ok)
                LOGW("notify", "msg=\"delivery failed\" id=%lld attempt=%d error=\"%s\"",
                     (long long)j->id, j->attempts, j->error);
        }
        job_free(j);
    }
    json_decref(claimed);
    if (json_array_size(results)) {
        memset(&c, 0, sizeof c);
        c.apply = apply_results;
        c.in = json_pack("{s:o}", "results", results);
        snprintf(c.actor, sizeof c.actor, "notifier");
        if (engine_call(n->eng, &c))
            LOGE("notify", "msg=\"cannot record delivery results\" error=\"%s\"", c.prob.message);
        json_decref(c.in);
        json_decref(c.out);
    } else {
        json_decref(results);
    }
    return count == BATCH;
}

void *notify_sender_main(void *arg)
{
    struct sender *me = arg;
    notify_ctx *n = me->n;
    pthread_setname_np(pthread_self(),
                       strcmp(me->channel, "sms") == 0 ? "notify-sms" : "notify-hook");
    CURLM *multi = curl_multi_init();
    pthread_mutex_lock(&n->lock);
    while (!n->stop) {
        if (!me->kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 500 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&n->cv, &n->lock, &ts);
        }
        me->kick = false;
        if (n->stop)
            break;
        pthread_mutex_unlock(&n->lock);
        bool more = multi && run_once(n, me->channel, multi);
        pthread_mutex_lock(&n->lock);
        if (more)
            me->kick = true;
    }
    pthread_mutex_unlock(&n->lock);
    curl_multi_cleanup(multi);
    return NULL;
}
