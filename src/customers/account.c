/*
 * account.c — the money and the line: balance split into free / frozen / deposit with a
 * credit limit and the allowances left (C3); payments and charges from the billing side, a
 * balance reminder 余额提醒 when the balance falls under 10 元, stop on arrears 欠费停机 when
 * it falls under the credit limit and reopen 复机 when a payment covers it (C6) — each a
 * command with its events, audit and SMS; and the line / terminal state fed by network and
 * terminal management (C5).
 */
#include "customers/customers.h"

#include "customers/card.h"

#include "auth/auth.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMINDER_FEN 1000 /* 10 元 */

static void yuan(int64_t fen, char *out, size_t n)
{
    snprintf(out, n, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long)llabs(fen) / 100,
             (long long)llabs(fen) % 100);
}

json_t *customers_balance(store *s, const char *msisdn)
{
    return card_section_json(s, CARD_BALANCE, msisdn, 480);
}

void customers_balance_write(jw *w, const char *key, const store_res *r, int tz)
{
    (void)tz;
    if (!store_rows(r)) {
        jw_null(w, key);
        return;
    }
    int64_t free_ = store_int(r, 0, 0), credit = store_int(r, 0, 3);
    char avail[32];
    yuan(free_ + credit, avail, sizeof avail);
    jw_obj(w, key);
    jw_int(w, "freeFen", free_);
    jw_int(w, "frozenFen", store_int(r, 0, 1));
    jw_int(w, "depositFen", store_int(r, 0, 2));
    jw_int(w, "creditLimitFen", credit);
    jw_int(w, "availableFen", free_ + credit);
    jw_str(w, "available", avail);
    jw_obj(w, "allowances");
    static const char *const keys[] = {"voiceMin", "dataMB", "sms"};
    for (int k = 0; k < 3; k++)
        if (!store_isnull(r, 0, 4 + k))
            jw_int(w, keys[k], store_int(r, 0, 4 + k));
    jw_end_obj(w);
    jw_end_obj(w);
}

json_t *customers_line(store *s, const char *msisdn, int tz)
{
    return card_section_json(s, CARD_LINE, msisdn, tz);
}

void customers_line_write(jw *w, const char *key, const store_res *r, int tz)
{
    if (!store_rows(r)) {
        jw_null(w, key);
        return;
    }
    jw_obj(w, key);
    jw_bool(w, "online", store_int(r, 0, 0));
    if (!store_isnull(r, 0, 1))
        jw_int(w, "signalDbm", store_int(r, 0, 1));
    if (store_text(r, 0, 2))
        jw_str(w, "terminal", store_text(r, 0, 2));
    if (!store_isnull(r, 0, 3)) {
        char t[40];
        time_iso(store_int(r, 0, 3), tz, t, sizeof t);
        jw_str(w, "lastSeen", t);
    }
    jw_end_obj(w);
}

static json_t *render_balance(cmd *c, store *reader, void *route_ctx)
{
    (void)route_ctx;
    json_t *b = customers_balance(reader, c->id);
    store_res *r;
    if (b && store_query(reader, "SELECT status FROM subscribers WHERE msisdn = ?",
                         (store_val[]){SV_S(c->id)}, 1, &r) == ERR_OK) {
        if (store_rows(r))
            json_object_set_new(b, "status", json_string(store_text(r, 0, 0)));
        store_res_free(r);
    }
    return b;
}

/* move money (positive: payment, negative: charge), then apply the arrears rules */
static err apply_money(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t amount = json_integer_value(json_object_get(c->in, "amountFen"));
    bool payment = json_is_true(json_object_get(c->in, "payment"));
    store_res *r;
    err rc = store_query(s, "SELECT status FROM subscribers WHERE msisdn = ?",
                         (store_val[]){SV_S(c->id)}, 1, &r);
    if (rc)
        return rc;
    if (!store_rows(r)) {
        store_res_free(r);
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "msisdn", "no subscriber %s",
                           c->id);
    }
    char status[16];
    snprintf(status, sizeof status, "%s", store_text(r, 0, 0));
    store_res_free(r);
    if (strcmp(status, "closed") == 0)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "msisdn",
                           "subscriber %s is closed", c->id);
    int64_t now = engine_now(e);
    json_t *before = customers_balance(s, c->id);
    int64_t avail_before = before ? json_integer_value(json_object_get(before, "availableFen")) : 0;
    rc = store_exec(s,
                    "INSERT INTO balances(msisdn, free_fen, updated) VALUES (?, ?, ?)"
                    " ON CONFLICT (msisdn) DO UPDATE SET free_fen = balances.free_fen + ?,"
                    " updated = ?",
                    (store_val[]){SV_S(c->id), SV_I(payment ? amount : -amount), SV_I(now),
                                  SV_I(payment ? amount : -amount), SV_I(now)},
                    5);
    if (rc) {
        json_decref(before);
        return rc;
    }
    json_t *after = customers_balance(s, c->id);
    int64_t avail = json_integer_value(json_object_get(after, "availableFen"));
    rc = engine_audit(e, c->actor, payment ? "payment" : "charge", "subscriber", c->id, before,
                      after);
    json_decref(before);
    char money[32], left[32];
    yuan(amount, money, sizeof money);
    yuan(avail, left, sizeof left);
    if (!rc)
        rc = engine_emit(e, payment ? "subscriber.paid" : "subscriber.charged", "subscriber", c->id,
                         c->actor,
                         json_pack("{s:I, s:I, s:s?}", "amountFen", (json_int_t)amount,
                                   "availableFen", (json_int_t)avail, "item", jstr(c->in, "item")));
    /* 欠费停机: below the credit limit, the line stops */
    if (!rc && !payment && avail < 0 && strcmp(status, "active") == 0) {
        rc = store_exec(s,
                        "UPDATE subscribers SET status = 'suspended', updated = ? WHERE msisdn = ?",
                        (store_val[]){SV_I(now), SV_S(c->id)}, 2);
        if (!rc)
            rc = engine_audit(e, c->actor, "stopForArrears", "subscriber", c->id, NULL, after);
        if (!rc)
            rc = engine_emit(e, "subscriber.stoppedForArrears", "subscriber", c->id, c->actor,
                             json_pack("{s:I}", "availableFen", (json_int_t)avail));
        char *text =
            xasprintf("【守夜】尊敬的客户，您的账户已欠费%s元，号码已停机。缴清欠费后将自动复机。"
                      "Your number is suspended for arrears of %s yuan; it reopens once paid.",
                      left + 1, left + 1);
        if (!rc)
            rc =
                notify_enqueue(e, "sms", c->id, "subscriber.stopped", text, "subscriber", c->id, 0);
        free(text);
    } else if (!rc && !payment && avail >= 0 && avail < REMINDER_FEN &&
               avail_before >= REMINDER_FEN) {
        /* 余额提醒: once, when the balance falls under the threshold */
        char *text = xasprintf("【守夜】尊敬的客户，您的可用余额为%s元，为避免停机请及时充值。"
                               "Your balance is %s yuan; please top up to keep your line.",
                               left, left);
        rc = notify_enqueue(e, "sms", c->id, "subscriber.lowBalance", text, "subscriber", c->id, 0);
        free(text);
    }
    /* 复机: a payment that covers the arrears reopens the line */
    if (!rc && payment && avail >= 0 && strcmp(status, "suspended") == 0) {
        rc = store_exec(s, "UPDATE subscribers SET status = 'active', updated = ? WHERE msisdn = ?",
                        (store_val[]){SV_I(now), SV_S(c->id)}, 2);
        if (!rc)
            rc = engine_audit(e, c->actor, "reopen", "subscriber", c->id, NULL, after);
        if (!rc)
            rc = engine_emit(e, "subscriber.reopened", "subscriber", c->id, c->actor,
                             json_pack("{s:I}", "availableFen", (json_int_t)avail));
        char *text = xasprintf("【守夜】尊敬的客户，您已成功缴费%s元，号码已恢复使用。"
                               "Payment of %s yuan received; your number is back in service.",
                               money, money);
        if (!rc)
            rc = notify_enqueue(e, "sms", c->id, "subscriber.reopened", text, "subscriber", c->id,
                                0);
        free(text);
    }
    json_decref(after);
    if (rc)
        return rc;
    c->render = render_balance;
    c->status = 200;
    return ERR_OK;
}

static err check_amount(const json_t *b, problem *p)
{
    int64_t a = json_integer_value(json_object_get(b, "amountFen"));
    if (a <= 0 || a > 100000000)
        return problem_field(p, "amountFen", "must be 1 … 100000000 fen");
    return ERR_OK;
}

static void money(req *r, bool payment)
{
    static const json_field fields[] = {{"amountFen", JT_INT, JF_REQUIRED, 0, NULL},
                                        {"channel", JT_STRING, 0, 32, NULL},
                                        {"item", JT_STRING, 0, 64, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    json_t *b = req_body(r);
    problem p = {0};
    if (!b)
        return;
    if (json_check(b, fields, "", &p) || check_amount(b, &p)) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    json_object_set_new(c->in, "payment", json_boolean(payment));
    c->id = req_param(r, "msisdn");
    c->apply = apply_money;
    req_submit(r);
}

static void pay(req *r)
{
    money(r, true);
}

static void charge(req *r)
{
    money(r, false);
}

static void balance(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    cmd probe = {.id = req_param(r, "msisdn")};
    json_t *b = render_balance(&probe, s, NULL);
    if (!b) {
        req_fail(r, 404, "notFound", "msisdn", "no account for %s", probe.id);
        return;
    }
    req_json(r, 200, b);
}

/* ---- line state (C5), fed by terminal management / network collection ---- */

static const json_field line_fields[] = {
    {"online", JT_BOOL, JF_REQUIRED, 0, NULL},
    {"signalDbm", JT_INT, JF_NULLABLE, 0, NULL},
    {"terminal", JT_STRING, JF_NULLABLE, 64, NULL},
    {"lastSeen", JT_STRING, 0, 40, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_line(const json_t *b, problem *p)
{
    json_t *sig = json_object_get(b, "signalDbm");
    if (json_is_integer(sig) && (json_integer_value(sig) < -150 || json_integer_value(sig) > 0))
        return problem_field(p, "signalDbm", "must be -150 … 0 dBm");
    int64_t ms;
    if (jstr(b, "lastSeen") && time_parse_iso(jstr(b, "lastSeen"), 480, &ms))
        return problem_field(p, "lastSeen", "must be an ISO 8601 date-time");
    return ERR_OK;
}

static json_t *render_line(cmd *c, store *reader, void *route_ctx)
{
    (void)route_ctx;
    return customers_line(reader, c->id, 480);
}

static err apply_line(engine *e, cmd *c)
{
    store *s = engine_store(e);
    err rc = engine_require_row(e, c, "subscribers", "msisdn", c->id, "msisdn", "subscriber");
    if (rc)
        return rc;
    int64_t now = engine_now(e), seen = now;
    if (jstr(c->in, "lastSeen"))
        time_parse_iso(jstr(c->in, "lastSeen"), 480, &seen);
    json_t *sig = json_object_get(c->in, "signalDbm");
    rc = store_exec(
        s,
        "INSERT INTO line_state(msisdn, online, signal_dbm, terminal, last_seen, updated)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn) DO UPDATE SET"
        " online = excluded.online, signal_dbm = excluded.signal_dbm,"
        " terminal = COALESCE(excluded.terminal, line_state.terminal),"
        " last_seen = excluded.last_seen, updated = excluded.updated",
        (store_val[]){SV_S(c->id), SV_I(json_is_true(json_object_get(c->in, "online"))),
                      SV_OI(json_is_integer(sig), json_integer_value(sig)),
                      SV_S(jstr(c->in, "terminal")), SV_I(seen), SV_I(now)},
        6);
    if (rc)
        return rc;
    /* line state is telemetry: an event for screens, no audit row per reading */
    rc = engine_emit(e, "subscriber.lineState", "subscriber", c->id, c->actor,
                     json_pack("{s:b, s:O?}", "online",
                               json_is_true(json_object_get(c->in, "online")), "signalDbm", sig));
    c->render = render_line;
    c->status = 200;
    return rc;
}

static void line_put(req *r)
{
    req_submit_checked(r, line_fields, check_line, apply_line);
}

static const route routes[] = {
    {"GET", "/api/v1/subscribers/{msisdn}/balance", ROUTE_ANY, balance},
    {"POST", "/api/v1/subscribers/{msisdn}/payments",
     ROLE_AGENT | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION, pay},
    {"POST", "/api/v1/subscribers/{msisdn}/charges", ROLE_ADMIN | ROLE_INTEGRATION, charge},
    {"PUT", "/api/v1/subscribers/{msisdn}/line", ROLE_ADMIN | ROLE_INTEGRATION, line_put},
    {NULL, NULL, 0, NULL},
};

void customers_register_account(customers_ctx *c, http_server *s)
{
    http_add_routes(s, routes, c);
}
