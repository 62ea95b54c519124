/*
 * notify.c — the outbox: what is queued when, the message texts (zh-CN first, English
 * second), the TMF621 event hub, the notification list and Kannel's delivery reports.
 */
#include "notify/notify_int.h"

#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool notify_msisdn_ok(const char *s)
{
    if (!s)
        return false;
    if (strncmp(s, "+86", 3) == 0)
        s += 3;
    else if (strncmp(s, "86", 2) == 0 && strlen(s) == 13)
        s += 2;
    if (strlen(s) != 11 || s[0] != '1')
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

#define ENQUEUE_ROWS 100 /* outbox rows per INSERT statement */

err notify_enqueue_rows(engine *e, notify_row *rows, int n)
{
    int64_t now = engine_now(e), seq = engine_last_seq(e);
    err rc = ERR_OK;
    for (int base = 0; !rc && base < n; base += ENQUEUE_ROWS) {
        int m = n - base < ENQUEUE_ROWS ? n - base : ENQUEUE_ROWS;
        char *sql = store_insert_rows_sql(
            engine_store(e),
            "outbox(id, created, channel, recipient, template, body, entity_type, entity_id,"
            " event_seq, hub_id, state, attempts, next_attempt, dlr_token, updated)",
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)", m);
        store_val *args = xcalloc((size_t)m * 13, sizeof *args);
        char(*tokens)[48] = xcalloc((size_t)m, sizeof *tokens);
        for (int k = 0; k < m; k++) {
            notify_row *x = &rows[base + k];
            if (x->id <= 0)
                x->id = engine_next_id(e, "outbox");
            rand_token(tokens[k], sizeof tokens[k], 16);
            store_val *v = &args[k * 13];
            v[0] = SV_I(x->id);
            v[1] = SV_I(now);
            v[2] = SV_S(x->channel);
            v[3] = SV_S(x->recipient);
            v[4] = SV_S(x->tmpl);
            v[5] = SV_S(x->body);
            v[6] = SV_S(x->entity_type);
            v[7] = SV_S(x->entity_id);
            v[8] = SV_I(seq);
            v[9] = SV_OI(x->hub_id > 0, x->hub_id);
            v[10] = SV_I(x->not_before > now ? x->not_before : now);
            v[11] = SV_S(tokens[k]);
            v[12] = SV_I(now);
        }
        rc = store_exec(engine_store(e), sql, args, m * 13);
        free(tokens);
        free(args);
        free(sql);
    }
    return rc;
}

static err enqueue(engine *e, const char *channel, const char *recipient, const char *tmpl,
                   const char *body, const char *entity_type, const char *entity_id,
                   int64_t hub_id, int64_t not_before, int64_t *out_id)
{
    notify_row row = {.id = out_id ? *out_id : 0, .channel = channel, .recipient = recipient,
                      .tmpl = tmpl, .body = body, .entity_type = entity_type,
                      .entity_id = entity_id, .hub_id = hub_id, .not_before = not_before};
    err rc = notify_enqueue_rows(e, &row, 1);
    if (!rc && out_id)
        *out_id = row.id;
    return rc;
}

err notify_enqueue(engine *e, const char *channel, const char *recipient, const char *tmpl,
                   const char *body, const char *entity_type, const char *entity_id, int64_t hub_id)
{
    return enqueue(e, channel, recipient, tmpl, body, entity_type, entity_id, hub_id, 0, NULL);
}

err notify_enqueue_at(engine *e, const char *channel, const char *recipient, const char *tmpl,
                      const char *body, const char *entity_type, const char *entity_id,
                      int64_t not_before, int64_t *id)
{
    return enqueue(e, channel, recipient, tmpl, body, entity_type, entity_id, 0, not_before, id);
}

/* ---- hubs, cached on the engine thread ---- */

void notify_hubs_changed(notify_ctx *n)
{
    for (int i = 0; i < n->nhubs; i++) {
        free(n->hubs[i].callback);
        free(n->hubs[i].query);
        free(n->hubs[i].secret);
    }
    free(n->hubs);
    n->hubs = NULL;
    n->nhubs = 0;
    n->hubs_loaded = false;
}

static err load_hubs(notify_ctx *n, store *s)
{
    store_res *r;
    err rc =
        store_query(s, "SELECT id, callback, query, secret FROM hubs ORDER BY id", NULL, 0, &r);
    if (rc)
        return rc;
    notify_hubs_changed(n);
    n->nhubs = store_rows(r);
    n->hubs = xcalloc((size_t)n->nhubs + 1, sizeof *n->hubs);
    for (int i = 0; i < n->nhubs; i++) {
        n->hubs[i].id = store_int(r, i, 0);
        n->hubs[i].callback = xstrdup(store_text(r, i, 1));
        n->hubs[i].query = store_text(r, i, 2) ? xstrdup(store_text(r, i, 2)) : NULL;
        n->hubs[i].secret = store_text(r, i, 3) ? xstrdup(store_text(r, i, 3)) : NULL;
    }
    store_res_free(r);
    n->hubs_loaded = true;
    return ERR_OK;
}

/* a hub's query "eventType=A,B" keeps those event types; no query keeps all */
static bool hub_wants(const hub_ent *h, const char *event_type)
{
    if (!h->query || !*h->query)
        return true;
    const char *q = strstr(h->query, "eventType=");
    if (!q)
        return true;
    q += strlen("eventType=");
    size_t n = strlen(event_type);
    while (*q && *q != '&') {
        const char *end = q + strcspn(q, ",&");
        if ((size_t)(end - q) == n && strncmp(q, event_type, n) == 0)
            return true;
        q = *end == ',' ? end + 1 : end;
    }
    return false;
}

/* ---- from domain events to messages ---- */

typedef struct {
    const char *event;     /* shouye event type */
    const char *tmf_event; /* TMF621 event type */
} tmf_map;

static const tmf_map tmf_events[] = {
    {"ticket.created", "TroubleTicketCreateEvent"},
    {"ticket.stageChanged", "TroubleTicketStatusChangeEvent"},
    {"ticket.updated", "TroubleTicketAttributeValueChangeEvent"},
    {"ticket.noteAdded", "TroubleTicketAttributeValueChangeEvent"},
    {"ticket.dispatched", "TroubleTicketAttributeValueChangeEvent"},
    {"ticket.escalated", "TroubleTicketAttributeValueChangeEvent"},
};

static char *tmf_envelope(const event_rec *ev, const char *tmf_type, int tz)
{
    char t[40], eid[32];
    time_iso(ev->time, tz, t, sizeof t);
    snprintf(eid, sizeof eid, "%lld", (long long)ev->seq);
    json_t *data = json_load(ev->data);
    json_t *tt = json_object();
    json_object_set_new(tt, "id", json_string(ev->entity_id));
    char *href = xasprintf("/tmf-api/troubleTicket/v4/troubleTicket/%s", ev->entity_id);
    json_object_set_new(tt, "href", json_string(href));
    free(href);
    if (json_is_object(data))
        json_object_update_missing(tt, data);
    json_object_set_new(tt, "@type", json_string("TroubleTicket"));
    json_t *env =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:o}}", "eventId", eid, "eventTime", t,
                  "eventType", tmf_type, "correlationId", ev->entity_id, "domain", "troubleTicket",
                  "title", ev->type, "timeOcurred", t, "event", "troubleTicket", tt);
    json_decref(data);
    char *s = json_dump(env);
    json_decref(env);
    return s;
}

/* SMS to the customer at the moments a customer cares about, zh-CN then English */
static err customer_sms(engine *e, const event_rec *ev, const json_t *data)
{
    const char *who = jstr(data, "customer");
    if (!notify_msisdn_ok(who))
        return ERR_OK;
    const char *tmpl = NULL;
    char *text = NULL;
    if (strcmp(ev->type, "ticket.created") == 0) {
        tmpl = "ticket.accepted";
        text =
            xasprintf("【守夜】尊敬的客户，您反映的问题已受理，工单号%s，我们会尽快处理并与您联系。"
                      "Your request is registered as work order %s.",
                      ev->entity_id, ev->entity_id);
    } else if (strcmp(ev->type, "ticket.stageChanged") == 0 &&
               str_eq(jstr(data, "to"), "replied")) {
        tmpl = "ticket.resolved";
        text = xasprintf(
            "【守夜】尊敬的客户，您的工单%s已处理完毕，感谢您的耐心。如仍有问题请回复本短信。"
            "Work order %s is resolved; reply to this message if anything remains.",
            ev->entity_id, ev->entity_id);
    }
    if (!text)
        return ERR_OK;
    err rc = notify_enqueue(e, "sms", who, tmpl, text, ev->entity_type, ev->entity_id, 0);
    free(text);
    return rc;
}

static err on_emit(engine *e, void *ctx, const event_rec *ev)
{
    notify_ctx *n = ctx;
    if (strncmp(ev->type, "ticket.", 7) != 0)
        return ERR_OK;
    err rc = ERR_OK;
    if (!n->hubs_loaded)
        rc = load_hubs(n, engine_store(e));
    const char *tmf = NULL;
    for (size_t i = 0; n->nhubs && i < ARRAY_LEN(tmf_events); i++)
        if (strcmp(tmf_events[i].event, ev->type) == 0)
            tmf = tmf_events[i].tmf_event;
    bool sms =
        strcmp(ev->type, "ticket.created") == 0 || strcmp(ev->type, "ticket.stageChanged") == 0;
    if (sms && !tmf) {
        /* only a mobile customer gets a text: look before parsing anything */
        const char *c = ev->data ? strstr(ev->data, "\"customer\":\"") : NULL;
        if (!c || c[12] < '0' || c[12] > '9')
            sms = false;
    }
    if (rc || (!tmf && !sms))
        return rc; /* the common case costs no JSON parsing on the engine thread */
    json_t *data = json_load(ev->data);
    if (tmf) {
        bool resolved = strcmp(ev->type, "ticket.stageChanged") == 0 &&
                        str_eq(jstr(data, "status"), "resolved");
        for (int i = 0; !rc && i < n->nhubs; i++) {
            const char *types[2] = {tmf, resolved ? "TroubleTicketResolvedEvent" : NULL};
            for (int k = 0; k < 2 && !rc; k++) {
                if (!types[k] || !hub_wants(&n->hubs[i], types[k]))
                    continue;
                char *body = tmf_envelope(ev, types[k], n->cfg.tz);
                rc = notify_enqueue(e, "webhook", n->hubs[i].callback, types[k], body,
                                    ev->entity_type, ev->entity_id, n->hubs[i].id);
                free(body);
            }
        }
    }
    if (!rc && sms)
        rc = customer_sms(e, ev, data);
    json_decref(data);
    return rc;
}

/* engine thread, after commit: something may be due, wake the sender */
static void on_committed(void *ctx, const event_rec *ev)
{
    (void)ev;
    notify_ctx *n = ctx;
    pthread_mutex_lock(&n->lock);
    for (size_t i = 0; i < ARRAY_LEN(n->senders); i++)
        n->senders[i].kick = true;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->lock);
}

/* a row left 'sending' by a crash may or may not have gone out: never send it twice */
static err on_start(engine *e)
{
    return store_exec(
        engine_store(e),
        "UPDATE outbox SET state = 'unknown', last_error = 'interrupted while sending;"
        " not resent so it is never sent twice', updated = ? WHERE state = 'sending'",
        (store_val[]){SV_I(engine_now(e))}, 1);
}

static void on_abort(engine *e)
{
    notify_hubs_changed(engine_ctx(e, ENGINE_CTX_NOTIFY));
}

void notify_attach_engine(notify_ctx *n, engine *e, store_pool *readers)
{
    n->eng = e;
    n->readers = readers;
    engine_set_ctx(e, ENGINE_CTX_NOTIFY, n);
    engine_on_emit(e, on_emit, n);
    engine_subscribe(e, on_committed, n);
    engine_on_start(e, on_start);
    engine_on_abort(e, on_abort);
}

/* ---- the TMF621 hub ---- */

static const json_field hub_fields[] = {
    {"callback", JT_STRING, JF_REQUIRED, 500, NULL},
    {"query", JT_STRING, JF_NULLABLE, 500, NULL},
    {"secret", JT_STRING, 0, 200, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_hub(const json_t *b, problem *p)
{
    const char *cb = jstr(b, "callback");
    if (strncmp(cb, "http://", 7) != 0 && strncmp(cb, "https://", 8) != 0)
        return problem_field(p, "callback", "must be an http:// or https:// URL");
    for (const char *c = cb; *c; c++)
        if ((unsigned char)*c <= ' ')
            return problem_field(p, "callback", "must not contain spaces or control characters");
    const char *secret = jstr(b, "secret");
    if (secret && strlen(secret) < 16)
        return problem_field(p, "secret", "at least 16 characters");
    return ERR_OK;
}

static json_t *hub_json(int64_t id, const char *callback, const char *query)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    return json_pack("{s:s, s:s, s:s?}", "id", ids, "callback", callback, "query", query);
}

static err apply_hub_create(engine *e, cmd *c)
{
    notify_ctx *n = engine_ctx(e, ENGINE_CTX_NOTIFY);
    notify_hubs_changed(n);
    int64_t id = engine_next_id(e, "hubs");
    err rc = store_exec(engine_store(e),
                        "INSERT INTO hubs(id, callback, query, secret, created, created_by)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (store_val[]){SV_I(id), SV_S(jstr(c->in, "callback")),
                                      SV_S(jstr(c->in, "query")), SV_S(jstr(c->in, "secret")),
                                      SV_I(engine_now(e)), SV_S(c->actor)},
                        6);
    if (rc)
        return rc;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(c->location, sizeof c->location, "/tmf-api/troubleTicket/v4/hub/%s", ids);
    /* the secret is never shown again, not even in the audit */
    return engine_finish_change(e, c, "create", "created", "hub", ids, NULL,
                                hub_json(id, jstr(c->in, "callback"), jstr(c->in, "query")), 201);
}

static err apply_hub_delete(engine *e, cmd *c)
{
    notify_ctx *n = engine_ctx(e, ENGINE_CTX_NOTIFY);
    notify_hubs_changed(n);
    int64_t id;
    store_res *r = NULL;
    err rc = parse_i64(c->id, 1, INT64_MAX, &id)
                 ? ERR_NOTFOUND
                 : store_query(engine_store(e), "SELECT callback, query FROM hubs WHERE id = ?",
                               (store_val[]){SV_I(id)}, 1, &r);
    if (!rc && store_rows(r) == 0)
        rc = ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND) {
        store_res_free(r);
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no hub %s", c->id);
    }
    if (rc)
        return rc;
    json_t *before = hub_json(id, store_text(r, 0, 0), store_text(r, 0, 1));
    store_res_free(r);
    rc = store_exec(engine_store(e), "DELETE FROM hubs WHERE id = ?", (store_val[]){SV_I(id)}, 1);
    /* what was queued for it is not sent any more */
    if (!rc)
        rc = store_exec(engine_store(e),
                        "UPDATE outbox SET state = 'cancelled', updated = ? WHERE hub_id = ?"
                        " AND state = 'pending'",
                        (store_val[]){SV_I(engine_now(e)), SV_I(id)}, 2);
    if (rc) {
        json_decref(before);
        return rc;
    }
    return engine_finish_change(e, c, "delete", "deleted", "hub", c->id, before, NULL, 204);
}

static void hub_create(req *r)
{
    req_submit_checked(r, hub_fields, check_hub, apply_hub_create);
}

static void hub_delete(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->id = req_param(r, "id");
    c->apply = apply_hub_delete;
    req_submit(r);
}

/* ---- the notification list ---- */

static json_t *row_json(const store_res *r, int i, int tz)
{
    json_t *o = json_object();
    char t[40];
    static const char *const names[] = {"id",         "channel",   "recipient", "template",
                                        "entityType", "entityId",  "state",     "attempts",
                                        "lastError",  "dlrStatus", "body"};
    for (int k = 0; k < (int)ARRAY_LEN(names); k++) {
        const char *v = store_text(r, i, k);
        if (!v)
            continue;
        if (strcmp(names[k], "body") == 0 &&
            str_eq(store_text(r, i, 3), "subscriber.verificationCode")) {
            /* a verification code is for the phone only */
            char *copy = xstrdup(v);
            for (char *q = copy; *q; q++)
                if (*q >= '0' && *q <= '9')
                    *q = '*';
            json_object_set_new(o, names[k], json_string(copy));
            free(copy);
        } else if (strcmp(names[k], "attempts") == 0 || strcmp(names[k], "dlrStatus") == 0)
            json_object_set_new(o, names[k], json_integer(store_int(r, i, k)));
        else
            json_object_set_new(o, names[k], json_string(v));
    }
    static const char *const times[] = {"created", "nextAttempt", "sentAt", "deliveredAt"};
    for (int k = 0; k < 4; k++) {
        int col = (int)ARRAY_LEN(names) + k;
        if (store_isnull(r, i, col))
            continue;
        time_iso(store_int(r, i, col), tz, t, sizeof t);
        json_object_set_new(o, times[k], json_string(t));
    }
    return o;
}

static void notifications_list(req *r)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    static const struct {
        const char *q, *col;
    } eq[] = {{"state", "state"},         {"channel", "channel"},
              {"recipient", "recipient"}, {"entityType", "entity_type"},
              {"entityId", "entity_id"},  {"template", "template"}};
    buf where;
    buf_init(&where, 0);
    buf_adds(&where, " WHERE 1=1");
    store_val args[10];
    int n = 0;
    for (size_t i = 0; i < ARRAY_LEN(eq); i++) {
        const char *v = req_query(r, eq[i].q);
        if (v) {
            buf_printf(&where, " AND %s = ?", eq[i].col);
            args[n++] = SV_S(v);
        }
    }
    char *from = xasprintf("outbox%s", where.data);
    buf_free(&where);
    int64_t total = 0;
    store_res *res = NULL;
    err rc = store_page(s,
                        "id, channel, recipient, template, entity_type, entity_id, state, attempts,"
                        " last_error, dlr_status, body, created, next_attempt, sent_at,"
                        " delivered_at",
                        from, "id DESC", args, n, lim, off, &total, &res);
    free(from);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "notifications cannot be read now");
        return;
    }
    notify_ctx *nc = req_route_ctx(r);
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++)
        json_array_append_new(arr, row_json(res, i, nc->cfg.tz));
    store_res_free(res);
    req_list(r, arr, total);
}

/* ---- Kannel delivery reports ---- */

static err apply_dlr(engine *e, cmd *c)
{
    int64_t id, status;
    const char *token = jstr(c->in, "token");
    if (parse_i64(c->id, 1, INT64_MAX, &id) || parse_i64(jstr(c->in, "status"), 0, 1024, &status))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no such report");
    /* Kannel: 1 delivered, 2 failed, 4 buffered, 8 submitted to the SMSC, 16 rejected */
    const char *state = status == 1 ? "delivered" : (status == 2 || status == 16) ? "failed" : NULL;
    err rc = store_exec(
        engine_store(e),
        state ? "UPDATE outbox SET dlr_status = ?, state = ?, delivered_at = ?,"
                " updated = ? WHERE id = ? AND dlr_token = ? AND channel = 'sms'"
              : "UPDATE outbox SET dlr_status = ?, updated = ? WHERE id = ?"
                " AND dlr_token = ? AND channel = 'sms'",
        state ? (store_val[]){SV_I(status), SV_S(state), SV_OI(status == 1, engine_now(e)),
                              SV_I(engine_now(e)), SV_I(id), SV_S(token)}
              : (store_val[]){SV_I(status), SV_I(engine_now(e)), SV_I(id), SV_S(token)},
        state ? 6 : 4);
    if (rc)
        return rc;
    if (store_changes(engine_store(e)) == 0)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no such report");
    c->status = 204;
    return ERR_OK;
}

/* GET /api/v1/notifications/{id}/dlr?token=…&status=%d — Kannel calls it; the per-message
 * token stands in for a login */
static void dlr(req *r)
{
    const char *token = req_query(r, "token"), *status = req_query(r, "status");
    if (!token || !status) {
        req_fail(r, 400, "missingField", token ? "status" : "token", "%s: is required",
                 token ? "status" : "token");
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:s, s:s}", "token", token, "status", status);
    c->id = req_param(r, "id");
    c->apply = apply_dlr;
    snprintf(c->actor, sizeof c->actor, "sms-gateway");
    req_submit(r);
}

static const route notify_routes[] = {
    {"GET", "/api/v1/notifications", ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION,
     notifications_list},
    {"GET", "/api/v1/notifications/{id}/dlr", ROUTE_PUBLIC, dlr},
    {"POST", "/tmf-api/troubleTicket/v4/hub", ROLE_INTEGRATION | ROLE_ADMIN, hub_create},
    {"DELETE", "/tmf-api/troubleTicket/v4/hub/{id}", ROLE_INTEGRATION | ROLE_ADMIN, hub_delete},
    {NULL, NULL, 0, NULL},
};

void notify_register(notify_ctx *n, http_server *s)
{
    http_add_routes(s, notify_routes, n);
}

notify_ctx *notify_create(const notify_config *cfg)
{
    notify_ctx *n = xcalloc(1, sizeof *n);
    n->cfg = *cfg;
    const char **fields[] = {&n->cfg.sms,         &n->cfg.kannel_url,
                             &n->cfg.kannel_user, &n->cfg.kannel_password,
                             &n->cfg.sms_from,    &n->cfg.public_url};
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        n->strings[i] = *fields[i] ? xstrdup(*fields[i]) : NULL;
        *fields[i] = n->strings[i];
    }
    if (!n->cfg.sms)
        n->cfg.sms = "log";
    if (n->cfg.max_attempts <= 0)
        n->cfg.max_attempts = 6;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cv, NULL);
    return n;
}

void notify_destroy(notify_ctx *n)
{
    if (!n)
        return;
    notify_stop(n);
    notify_hubs_changed(n);
    for (size_t i = 0; i < ARRAY_LEN(n->strings); i++)
        free(n->strings[i]);
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cv);
    free(n);
}

err notify_start(notify_ctx *n)
{
    if (n->started)
        return ERR_OK;
    n->stop = false;
    static const char *const channels[] = {"sms", "webhook"};
    for (size_t i = 0; i < ARRAY_LEN(n->senders); i++) {
        n->senders[i].n = n;
        n->senders[i].channel = channels[i];
        n->senders[i].kick = true;
        if (pthread_create(&n->senders[i].thread, NULL, notify_sender_main, &n->senders[i]) != 0) {
            pthread_mutex_lock(&n->lock);
            n->stop = true;
            pthread_cond_broadcast(&n->cv);
            pthread_mutex_unlock(&n->lock);
            for (size_t k = 0; k < i; k++)
                pthread_join(n->senders[k].thread, NULL);
            return ERR_INTERNAL;
        }
    }
    n->started = true;
    return ERR_OK;
}

void notify_stop(notify_ctx *n)
{
    if (!n->started)
        return;
    pthread_mutex_lock(&n->lock);
    n->stop = true;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->lock);
    for (size_t i = 0; i < ARRAY_LEN(n->senders); i++)
        pthread_join(n->senders[i].thread, NULL);
    n->started = false;
}
