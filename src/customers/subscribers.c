/*
 * subscribers.c — subscriber profiles: create, change, find, view (masked or, for the roles
 * that need it, in full and audited), and the service-password check.
 */
#include "customers/customers.h"

#include "customers/card.h"
#include "customers/directory.h"

#include "assurance/assurance.h"

#include "auth/auth.h"
#include "notify/notify.h"
#include "tickets/tickets.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERIFY_MAX_FAILS 5
#define VERIFY_WINDOW_MS (15 * 60 * 1000)

struct customers_ctx {
    int tz;
    directory *dir;
    engine *eng;
    assurance_ctx *assurance; /* for the incidents on the 360 view; may be NULL */
    limiter *verify;          /* wrong service passwords per number */
};

/* roles that see personal data in full (their full views are audited) */
#define FULL_VIEW (ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)

static const char *const levels[] = {"normal", "silver", "gold", "diamond", NULL};
static const char *const id_types[] = {"idCard",     "passport", "hkMacaoPass",
                                       "taiwanPass", "other",    NULL};
static const char *const statuses[] = {"active", "suspended", "closed", NULL};

void mask_phone(const char *s, char *out, size_t n)
{
    size_t len = s ? strlen(s) : 0;
    if (len >= 7)
        snprintf(out, n, "%.3s****%s", s, s + len - 4);
    else
        snprintf(out, n, "****");
}

void mask_id_number(const char *s, char *out, size_t n)
{
    size_t len = s ? strlen(s) : 0;
    if (len > 10)
        snprintf(out, n, "%.6s%.*s%s", s, (int)(len - 10), "********************", s + len - 4);
    else
        snprintf(out, n, "****");
}

void mask_address(const char *s, char *out, size_t n)
{
    if (!s) {
        snprintf(out, n, "%s", "");
        return;
    }
    /* keep the first six characters (UTF-8 aware): district level, not the door */
    size_t bytes = 0, chars = 0;
    while (s[bytes] && chars < 6) {
        bytes++;
        while (((unsigned char)s[bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    snprintf(out, n, "%.*s****", (int)bytes, s);
}

static const char *normalize(const char *msisdn, char *out, size_t n)
{
    if (!notify_msisdn_ok(msisdn))
        return NULL;
    size_t len = strlen(msisdn);
    snprintf(out, n, "%s", msisdn + len - 11);
    return out;
}

/* ---- rendering ---- */

static void sub_write(jw *w, const char *key, const store_res *r, int i, bool full, int tz)
{
    char t[64], m[96];
    const char *msisdn = store_text(r, i, 0), *v;
    jw_obj(w, key);
    jw_str(w, "id", msisdn);
    snprintf(t, sizeof t, "/api/v1/subscribers/%s", msisdn);
    jw_str(w, "href", t);
    jw_str(w, "msisdn", msisdn);
    if ((v = store_text(r, i, 1)))
        jw_str(w, "accountId", v);
    jw_str(w, "name", store_text(r, i, 2));
    if ((v = store_text(r, i, 3)))
        jw_str(w, "idType", v);
    if ((v = store_text(r, i, 4))) {
        if (!full)
            mask_id_number(v, m, sizeof m);
        jw_str(w, "idNumber", full ? v : m);
    }
    if ((v = store_text(r, i, 5))) {
        if (!full)
            mask_address(v, m, sizeof m);
        jw_str(w, "address", full ? v : m);
    }
    json_t *contacts = json_load(store_text(r, i, 6));
    if (json_is_array(contacts) && !full) {
        size_t k;
        json_t *c;
        json_array_foreach(contacts, k, c)
        {
            mask_phone(jstr(c, "phone"), m, sizeof m);
            if (jstr(c, "phone"))
                json_object_set_new(c, "phone", json_string(m));
        }
    }
    if (json_is_array(contacts))
        jw_json(w, "contacts", contacts);
    else
        jw_raw(w, "contacts", NULL, "[]");
    json_decref(contacts);
    jw_str(w, "level", store_text(r, i, 7));
    jw_bool(w, "vip", store_int(r, i, 8));
    jw_int(w, "points", store_int(r, i, 9));
    if ((v = store_text(r, i, 10)))
        jw_str(w, "area", v);
    if ((v = store_text(r, i, 11)))
        jw_str(w, "attachment", v);
    jw_str(w, "status", store_text(r, i, 12));
    time_iso(store_int(r, i, 13), tz, t, sizeof t);
    jw_str(w, "createdAt", t);
    time_iso(store_int(r, i, 14), tz, t, sizeof t);
    jw_str(w, "updatedAt", t);
    jw_bool(w, "hasServicePassword", store_int(r, i, 15));
    jw_bool(w, "smsOptOut", store_int(r, i, 16));
    jw_bool(w, "masked", !full);
    jw_end_obj(w);
}

static json_t *sub_row(const store_res *r, int i, bool full, int tz)
{
    jw w;
    jw_init(&w);
    sub_write(&w, NULL, r, i, full, tz);
    return jw_parse(&w);
}

static json_t *sub_load(store *s, const char *msisdn, bool full, int tz)
{
    store_res *r = card_query(s, CARD_PROFILE, msisdn);
    json_t *o = store_rows(r) ? sub_row(r, 0, full, tz) : NULL;
    store_res_free(r);
    return o;
}

/* ---- writes ---- */

static const json_field contact_fields[] = {
    {"name", JT_STRING, 0, 64, NULL},
    {"phone", JT_STRING, JF_REQUIRED, 20, NULL},
    {"relation", JT_STRING, 0, 32, NULL},
    {NULL, 0, 0, 0, NULL},
};

#define RO(n)                                                                                      \
    {                                                                                              \
        n, JT_ANY, JF_READONLY, 0, NULL                                                            \
    }
static const json_field create_fields[] = {
    {"msisdn", JT_STRING, JF_REQUIRED, 16, NULL},
    {"name", JT_STRING, JF_REQUIRED, 64, NULL},
    {"accountId", JT_STRING, 0, 32, NULL},
    {"idType", JT_STRING, 0, 16, id_types},
    {"idNumber", JT_STRING, 0, 32, NULL},
    {"address", JT_STRING, 0, 200, NULL},
    {"contacts", JT_ARRAY, 0, 0, NULL},
    {"servicePassword", JT_STRING, 0, 6, NULL},
    {"level", JT_STRING, 0, 16, levels},
    {"vip", JT_BOOL, 0, 0, NULL},
    {"points", JT_INT, 0, 0, NULL},
    {"area", JT_STRING, 0, 64, NULL},
    {"attachment", JT_STRING, 0, 64, NULL},
    {"status", JT_STRING, 0, 16, statuses},
    {"smsOptOut", JT_BOOL, 0, 0, NULL},
    RO("id"),
    RO("href"),
    RO("createdAt"),
    RO("updatedAt"),
    RO("masked"),
    RO("hasServicePassword"),
    {NULL, 0, 0, 0, NULL},
};

static const json_field patch_fields[] = {
    {"name", JT_STRING, 0, 64, NULL},
    {"accountId", JT_STRING, JF_NULLABLE, 32, NULL},
    {"idType", JT_STRING, JF_NULLABLE, 16, id_types},
    {"idNumber", JT_STRING, JF_NULLABLE, 32, NULL},
    {"address", JT_STRING, JF_NULLABLE, 200, NULL},
    {"contacts", JT_ARRAY, 0, 0, NULL},
    {"servicePassword", JT_STRING, 0, 6, NULL},
    {"level", JT_STRING, 0, 16, levels},
    {"vip", JT_BOOL, 0, 0, NULL},
    {"points", JT_INT, 0, 0, NULL},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"attachment", JT_STRING, JF_NULLABLE, 64, NULL},
    {"status", JT_STRING, 0, 16, statuses},
    {"smsOptOut", JT_BOOL, 0, 0, NULL},
    RO("id"),
    RO("href"),
    RO("msisdn"),
    RO("createdAt"),
    RO("updatedAt"),
    RO("masked"),
    RO("hasServicePassword"),
    {NULL, 0, 0, 0, NULL},
};

static err check_subscriber(const json_t *b, problem *p)
{
    const char *v = jstr(b, "msisdn");
    if (v && !notify_msisdn_ok(v))
        return problem_field(p, "msisdn", "must be a mobile number of 11 digits starting with 1");
    if ((v = jstr(b, "name")) && utf8_chars(v) == 0)
        return problem_field(p, "name", "must not be empty");
    if ((v = jstr(b, "servicePassword"))) {
        bool ok = strlen(v) == 6;
        for (const char *q = v; ok && *q; q++)
            ok = *q >= '0' && *q <= '9';
        if (!ok)
            return problem_field(p, "servicePassword", "must be 6 digits");
    }
    if ((v = jstr(b, "area")) && !area_code_ok(v))
        return problem_field(p, "area", "must be an area code like GD.SZ.NS");
    json_t *pts = json_object_get(b, "points");
    if (pts && json_integer_value(pts) < 0)
        return problem_field(p, "points", "must be ≥ 0");
    json_t *contacts = json_object_get(b, "contacts");
    if (json_array_size(contacts) > 5)
        return problem_field(p, "contacts", "at most 5 contacts");
    size_t i;
    json_t *c;
    json_array_foreach(contacts, i, c)
    {
        char path[32];
        snprintf(path, sizeof path, "contacts[%zu]", i);
        err rc = json_check(c, contact_fields, path, p);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

/* The line hangs from a network element: keep its pre-order position for impact ranges. */
static err set_attachment(engine *e, cmd *c, const char *msisdn)
{
    const char *el = jstr(c->in, "attachment");
    err rc = engine_require_row(e, c, "elements", "id", el, "attachment", "network element");
    if (!rc)
        rc =
            store_exec(engine_store(e),
                       "UPDATE subscribers SET attach_pos = (SELECT pos FROM elements WHERE id = ?)"
                       " WHERE msisdn = ?",
                       (store_val[]){SV_S(el), SV_S(msisdn)}, 2);
    return rc;
}

/* Audit docs never carry the password hash; they carry the masked view. */
static err apply_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    customers_ctx *cc = engine_ctx(e, ENGINE_CTX_CUSTOMERS);
    char msisdn[16];
    normalize(jstr(c->in, "msisdn"), msisdn, sizeof msisdn);
    int64_t n = 0;
    err rc = store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ?",
                          (store_val[]){SV_S(msisdn)}, 1, 0, &n);
    if (rc)
        return rc;
    if (n)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "msisdn",
                           "msisdn: subscriber %s exists", msisdn);
    int64_t now = engine_now(e);
    json_t *contacts = json_object_get(c->in, "contacts");
    char *ctext = contacts ? json_dump(contacts) : NULL;
    json_t *vip = json_object_get(c->in, "vip");
    rc = store_exec(s,
                    "INSERT INTO subscribers(msisdn, account_id, name, id_type, id_number, address,"
                    " contacts, password_hash, level, vip, points, area, attachment, status,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (store_val[]){SV_S(msisdn), SV_S(jstr(c->in, "accountId")),
                                  SV_S(jstr(c->in, "name")), SV_S(jstr(c->in, "idType")),
                                  SV_S(jstr(c->in, "idNumber")), SV_S(jstr(c->in, "address")),
                                  SV_S(ctext), SV_S(jstr(c->in, "_hash")),
                                  SV_S(jstr(c->in, "level") ? jstr(c->in, "level") : "normal"),
                                  SV_I(vip ? json_is_true(vip) : 0),
                                  SV_I(json_integer_value(json_object_get(c->in, "points"))),
                                  SV_S(jstr(c->in, "area")), SV_S(jstr(c->in, "attachment")),
                                  SV_S(jstr(c->in, "status") ? jstr(c->in, "status") : "active"),
                                  SV_I(now), SV_I(now)},
                    16);
    free(ctext);
    if (!rc)
        rc = set_attachment(e, c, msisdn);
    if (!rc && json_is_true(json_object_get(c->in, "smsOptOut")))
        rc = store_exec(s, "UPDATE subscribers SET sms_opt_out = 1 WHERE msisdn = ?",
                        (store_val[]){SV_S(msisdn)}, 1);
    if (rc)
        return rc;
    snprintf(c->location, sizeof c->location, "/api/v1/subscribers/%s", msisdn);
    return engine_finish_change(e, c, "create", "created", "subscriber", msisdn, NULL,
                                sub_load(s, msisdn, false, cc->tz), 201);
}

static err apply_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    customers_ctx *cc = engine_ctx(e, ENGINE_CTX_CUSTOMERS);
    json_t *before = sub_load(s, c->id, false, cc->tz);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "msisdn", "no subscriber %s",
                           c->id);
    static const struct {
        const char *json, *col;
        int kind; /* 0 text, 1 int, 2 bool, 3 json */
    } cols[] = {{"name", "name", 0},
                {"accountId", "account_id", 0},
                {"idType", "id_type", 0},
                {"idNumber", "id_number", 0},
                {"address", "address", 0},
                {"contacts", "contacts", 3},
                {"_hash", "password_hash", 0},
                {"level", "level", 0},
                {"vip", "vip", 2},
                {"points", "points", 1},
                {"area", "area", 0},
                {"attachment", "attachment", 0},
                {"status", "status", 0},
                {"smsOptOut", "sms_opt_out", 2}};
    /* the directory forgets the line before the change: until the commit the store still says
       the old, so a lookup that misses is right either way */
    if (json_object_get(c->in, "area") || json_object_get(c->in, "attachment"))
        directory_forget(cc->dir, c->id);
    err rc = ERR_OK;
    for (size_t i = 0; !rc && i < ARRAY_LEN(cols); i++) {
        json_t *v = json_object_get(c->in, cols[i].json);
        if (!v)
            continue;
        char *sql = xasprintf("UPDATE subscribers SET %s = ? WHERE msisdn = ?", cols[i].col);
        char *text = cols[i].kind == 3 ? json_dump(v) : NULL;
        store_val val = cols[i].kind == 1   ? SV_I(json_integer_value(v))
                        : cols[i].kind == 2 ? SV_I(json_is_true(v))
                        : cols[i].kind == 3 ? SV_S(text)
                                            : SV_S(json_string_value(v));
        rc = store_exec(s, sql, (store_val[]){val, SV_S(c->id)}, 2);
        free(text);
        free(sql);
    }
    if (!rc && json_object_get(c->in, "attachment"))
        rc = set_attachment(e, c, c->id);
    if (!rc)
        rc = store_exec(s, "UPDATE subscribers SET updated = ? WHERE msisdn = ?",
                        (store_val[]){SV_I(engine_now(e)), SV_S(c->id)}, 2);
    if (rc) {
        json_decref(before);
        return rc;
    }
    return engine_finish_change(e, c, jstr(c->in, "_hash") ? "update+password" : "update",
                                "updated", "subscriber", c->id, before,
                                sub_load(s, c->id, false, cc->tz), 200);
}

static bool hash_password_into(req *r, json_t *in)
{
    const char *pw = jstr(in, "servicePassword");
    if (!pw)
        return true;
    char hash[160];
    if (password_hash(pw, hash, sizeof hash)) {
        req_fail(r, 500, "internal", "", "cannot hash the service password");
        return false;
    }
    json_object_del(in, "servicePassword");
    json_object_set_new(in, "_hash", json_string(hash));
    return true;
}

static void sub_create(req *r)
{
    json_t *b = req_body(r);
    problem p = {0};
    if (!b)
        return;
    if (json_check(b, create_fields, "", &p) || check_subscriber(b, &p)) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    if (!hash_password_into(r, c->in))
        return;
    c->apply = apply_create;
    req_submit(r);
}

static void sub_patch(req *r)
{
    json_t *b = req_body(r);
    problem p = {0};
    if (!b)
        return;
    if (json_check(b, patch_fields, "", &p) || check_subscriber(b, &p)) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    if (!hash_password_into(r, c->in))
        return;
    c->id = req_param(r, "msisdn");
    c->apply = apply_patch;
    req_submit(r);
}

/* ---- reads ---- */

static err apply_view(engine *e, cmd *c)
{
    /* the full view is recorded before it is shown */
    c->status = 200;
    c->out_id = 0;
    return engine_audit(e, c->actor, "view", "subscriber", c->id, NULL, NULL);
}

static json_t *render_full(cmd *c, store *reader, void *route_ctx)
{
    customers_ctx *cc = route_ctx;
    return sub_load(reader, c->id, true, cc->tz);
}

static void sub_get(req *r)
{
    customers_ctx *cc = req_route_ctx(r);
    store *s = req_store(r);
    if (!s)
        return;
    const char *msisdn = req_param(r, "msisdn");
    bool full = (req_who(r)->roles & FULL_VIEW) != 0 && !str_eq(req_query(r, "view"), "masked");
    json_t *o = sub_load(s, msisdn, false, cc->tz);
    if (!o) {
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", msisdn);
        return;
    }
    if (!full) {
        req_json(r, 200, o);
        return;
    }
    json_decref(o);
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->id = msisdn;
    c->apply = apply_view;
    c->render = render_full;
    req_submit(r);
}

static json_t *tmf629(const json_t *sub);

static void sub_list(req *r)
{
    customers_ctx *cc = req_route_ctx(r);
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    buf where;
    buf_init(&where, 0);
    buf_adds(&where, " WHERE 1=1");
    store_val args[12];
    int n = 0;
    char *owned[4] = {0};
    int nowned = 0;
    const char *v;
    if ((v = req_query(r, "number"))) {
        /* a whole number, or the first digits of one: the caller gives only part of it */
        bool digits = *v && strlen(v) <= 11;
        for (const char *q = v; digits && *q; q++)
            digits = *q >= '0' && *q <= '9';
        if (!digits) {
            buf_free(&where);
            req_fail(r, 400, "invalidField", "number", "number: 1 to 11 digits");
            return;
        }
        char *hi = xstrdup(v);
        hi[strlen(hi) - 1]++; /* '9' + 1 is ':' which sorts after every digit */
        owned[nowned++] = hi;
        buf_adds(&where, " AND msisdn >= ? AND msisdn < ?");
        args[n++] = SV_S(v);
        args[n++] = SV_S(hi);
    }
    if ((v = req_query(r, "name"))) {
        buf_adds(&where, " AND name = ?");
        args[n++] = SV_S(v);
    }
    if ((v = req_query(r, "level"))) {
        if (!str_in(v, levels)) {
            buf_free(&where);
            free(owned[0]);
            req_fail(r, 400, "invalidField", "level", "level: normal, silver, gold or diamond");
            return;
        }
        buf_adds(&where, " AND level = ?");
        args[n++] = SV_S(v);
    }
    if ((v = req_query(r, "area"))) {
        if (!area_code_ok(v)) {
            buf_free(&where);
            free(owned[0]);
            req_fail(r, 400, "invalidField", "area", "area: an area code like GD.SZ");
            return;
        }
        char *hi = xasprintf("%s/", v);
        owned[nowned++] = hi;
        buf_adds(&where, " AND area >= ? AND area < ?");
        args[n++] = SV_S(v);
        args[n++] = SV_S(hi);
    }
    if ((v = req_query(r, "segment"))) {
        static const char *const segs[] = {"complaintHeavy", "highValue", "churnRisk", NULL};
        if (!str_in(v, segs)) {
            buf_free(&where);
            for (int i = 0; i < nowned; i++)
                free(owned[i]);
            req_fail(r, 400, "invalidField", "segment",
                     "segment: complaintHeavy, highValue or churnRisk");
            return;
        }
        buf_adds(&where,
                 " AND msisdn IN (SELECT msisdn FROM subscriber_segments WHERE segment = ?)");
        args[n++] = SV_S(v);
    }
    if ((v = req_query(r, "attachment"))) {
        buf_adds(&where, " AND attachment = ?");
        args[n++] = SV_S(v);
    }
    char *from = xasprintf("subscribers%s", where.data);
    buf_free(&where);
    int64_t total = 0;
    store_res *res = NULL;
    err rc = store_page(s, SUB_COLS, from, "msisdn", args, n, lim, off, &total, &res);
    free(from);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "subscribers cannot be read now");
        return;
    }
    bool tmf = strncmp(req_path(r), "/tmf-api/", 9) == 0;
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *row = sub_row(res, i, false, cc->tz); /* lists are always masked */
        if (tmf) {
            json_t *t = tmf629(row);
            json_decref(row);
            row = t;
        }
        json_array_append_new(arr, row);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

/* ---- service password check (C1) ---- */

static void sub_verify(req *r)
{
    customers_ctx *cc = req_route_ctx(r);
    static const json_field fields[] = {{"servicePassword", JT_STRING, JF_REQUIRED, 32, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    json_t *b = req_body(r);
    problem p = {0};
    if (!b)
        return;
    if (json_check(b, fields, "", &p)) {
        req_problem(r, &p);
        return;
    }
    const char *msisdn = req_param(r, "msisdn");
    int64_t retry = 0;
    bool locked = limiter_left(cc->verify, msisdn, &retry) == 0;
    if (locked) {
        req_too_many(r, "servicePassword", "too many wrong tries for this number", retry);
        return;
    }
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, "SELECT password_hash, status FROM subscribers WHERE msisdn = ?",
                    (store_val[]){SV_S(msisdn)}, 1, &res)) {
        req_fail(r, 503, "unavailable", "", "subscribers cannot be read now");
        return;
    }
    if (store_rows(res) == 0) {
        store_res_free(res);
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", msisdn);
        return;
    }
    bool has = !store_isnull(res, 0, 0);
    bool ok = has && password_check(store_text(res, 0, 0), jstr(b, "servicePassword"));
    store_res_free(res);
    int left = limiter_record(cc->verify, msisdn, ok);
    char who[32];
    mask_phone(msisdn, who, sizeof who);
    LOGI("customers", "msg=\"service password check\" number=%s ok=%d by=%s", who, ok,
         req_who(r)->username);
    req_json(r, 200,
             json_pack("{s:b, s:s, s:i}", "verified", ok, "method", "servicePassword",
                       "remainingTries", ok ? VERIFY_MAX_FAILS : left));
}

/* ---- SMS verification codes (C1): 6 digits, 5 minutes, 5 tries, rate-limited per number ---- */

#define OTP_LIFE_MS (5 * 60 * 1000)
#define OTP_TRIES 5
#define OTP_GAP_MS (60 * 1000)         /* one code a minute per number */
#define OTP_WINDOW_MS (60 * 60 * 1000) /* and five an hour */
#define OTP_PER_WINDOW 5

static void code_hash(const char *msisdn, const char *code, char *out)
{
    char both[64];
    snprintf(both, sizeof both, "%s:%s", msisdn, code);
    token_hash(both, out);
}

static err apply_otp_send(engine *e, cmd *c)
{
    store *s = engine_store(e);
    customers_ctx *cc = engine_ctx(e, ENGINE_CTX_CUSTOMERS);
    int64_t now = engine_now(e), n = 0;
    err rc =
        store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ? AND status <> 'closed'",
                     (store_val[]){SV_S(c->id)}, 1, 0, &n);
    if (rc)
        return rc;
    if (!n)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "msisdn", "no subscriber %s",
                           c->id);
    store_res *r;
    rc = store_query(s,
                     "SELECT last_sent, window_start, sent_in_window FROM verification_codes"
                     " WHERE msisdn = ?",
                     (store_val[]){SV_S(c->id)}, 1, &r);
    if (rc)
        return rc;
    int64_t window_start = now, sent = 0;
    if (store_rows(r)) {
        int64_t last = store_int(r, 0, 0);
        window_start = store_int(r, 0, 1);
        sent = store_int(r, 0, 2);
        if (now - window_start > OTP_WINDOW_MS) {
            window_start = now;
            sent = 0;
        }
        if (now - last < OTP_GAP_MS || sent >= OTP_PER_WINDOW) {
            int64_t wait = now - last < OTP_GAP_MS ? last + OTP_GAP_MS - now
                                                   : window_start + OTP_WINDOW_MS - now;
            store_res_free(r);
            return problem_set(&c->prob, ERR_RATELIMIT, 429, "rateLimited", "msisdn",
                               "msisdn: a code was sent recently; try again in %lld s",
                               (long long)(wait / 1000 + 1));
        }
    }
    store_res_free(r);
    char code[8], hash[65];
    snprintf(code, sizeof code, "%06u", randombytes_uniform(1000000));
    code_hash(c->id, code, hash);
    rc = store_exec(s,
                    "INSERT INTO verification_codes(msisdn, code_hash, expires, tries_left,"
                    " last_sent, window_start, sent_in_window) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (msisdn) DO UPDATE SET code_hash = excluded.code_hash,"
                    " expires = excluded.expires, tries_left = excluded.tries_left,"
                    " last_sent = excluded.last_sent, window_start = excluded.window_start,"
                    " sent_in_window = excluded.sent_in_window",
                    (store_val[]){SV_S(c->id), SV_S(hash), SV_I(now + OTP_LIFE_MS), SV_I(OTP_TRIES),
                                  SV_I(now), SV_I(window_start), SV_I(sent + 1)},
                    7);
    if (rc)
        return rc;
    char *text = xasprintf("【守夜】您的验证码为%s，5分钟内有效，请勿告诉他人。"
                           "Your verification code is %s, valid for 5 minutes.",
                           code, code);
    rc = notify_enqueue(e, "sms", c->id, "subscriber.verificationCode", text, "subscriber", c->id,
                        0);
    free(text);
    if (rc)
        return rc;
    char t[40], who[32];
    time_iso(now + OTP_LIFE_MS, cc->tz, t, sizeof t);
    mask_phone(c->id, who, sizeof who);
    c->out = json_pack("{s:s, s:s, s:i}", "sentTo", who, "expiresAt", t, "tries", OTP_TRIES);
    c->status = 202;
    return engine_audit(e, c->actor, "sendCode", "subscriber", c->id, NULL, NULL);
}

static err apply_otp_check(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e);
    store_res *r;
    err rc = store_query(s,
                         "SELECT code_hash, expires, tries_left FROM verification_codes"
                         " WHERE msisdn = ?",
                         (store_val[]){SV_S(c->id)}, 1, &r);
    if (rc)
        return rc;
    const char *why = NULL;
    bool ok = false;
    int left = 0;
    if (!store_rows(r) || store_isnull(r, 0, 0))
        why = "no code was sent";
    else if (store_int(r, 0, 1) <= now)
        why = "the code has expired";
    else if (store_int(r, 0, 2) <= 0)
        why = "no tries left; ask for a new code";
    else {
        char hash[65];
        code_hash(c->id, jstr(c->in, "code"), hash);
        ok = sodium_memcmp(hash, store_text(r, 0, 0), 64) == 0;
        left = (int)store_int(r, 0, 2) - 1;
        why = ok ? NULL : "wrong code";
    }
    store_res_free(r);
    if (ok)
        rc = store_exec(s, "UPDATE verification_codes SET code_hash = NULL WHERE msisdn = ?",
                        (store_val[]){SV_S(c->id)}, 1); /* a code works once */
    else if (why && strcmp(why, "wrong code") == 0)
        rc = store_exec(s,
                        "UPDATE verification_codes SET tries_left = tries_left - 1"
                        " WHERE msisdn = ?",
                        (store_val[]){SV_S(c->id)}, 1);
    if (rc)
        return rc;
    c->out = json_pack("{s:b, s:s, s:i, s:s?}", "verified", ok, "method", "smsCode",
                       "remainingTries", ok ? 0 : left, "reason", why);
    c->status = 200;
    return ERR_OK;
}

static void otp_send(req *r)
{
    char n[16];
    if (!normalize(req_param(r, "msisdn"), n, sizeof n)) {
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", req_param(r, "msisdn"));
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->id = req_param(r, "msisdn");
    c->apply = apply_otp_send;
    req_submit(r);
}

static err check_code(const json_t *b, problem *p)
{
    const char *code = jstr(b, "code");
    bool ok = code && strlen(code) == 6;
    for (const char *q = code; ok && *q; q++)
        ok = *q >= '0' && *q <= '9';
    return ok ? ERR_OK : problem_field(p, "code", "must be 6 digits");
}

static void otp_check(req *r)
{
    static const json_field fields[] = {{"code", JT_STRING, JF_REQUIRED, 6, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, check_code, apply_otp_check);
}

/* ---- the 360 view (grows with plans, balances, bills, line state in issue 3) ---- */

static void brief_write(jw *w, const store_res *r, int i, int tz)
{
    char t[80];
    const char *v;
    jw_obj(w, NULL);
    jw_str(w, "id", store_text(r, i, 0));
    snprintf(t, sizeof t, "/tmf-api/troubleTicket/v4/troubleTicket/%s", store_text(r, i, 0));
    jw_str(w, "href", t);
    static const char *const keys[] = {NULL, "ticketType", "category", "stage", "status"};
    for (int k = 1; k <= 4; k++)
        if ((v = store_text(r, i, k)))
            jw_str(w, keys[k], v);
    time_iso(store_int(r, i, 5), tz, t, sizeof t);
    jw_str(w, "creationDate", t);
    if ((v = store_text(r, i, 6)))
        jw_str(w, "assignedGroup", v);
    if ((v = store_text(r, i, 7)))
        jw_str(w, "slaState", v);
    if (!store_isnull(r, i, 8)) {
        time_iso(store_int(r, i, 8), tz, t, sizeof t);
        jw_str(w, "expectedResolutionDate", t);
    }
    jw_bool(w, "escalated", store_int(r, i, 9));
    if ((v = store_text(r, i, 10)))
        jw_str(w, "repeatOf", v);
    jw_end_obj(w);
}

static bool is_open(const char *status)
{
    return str_eq(status, "acknowledged") || str_eq(status, "inProgress") ||
           str_eq(status, "pending");
}

static bool is_complaint(const char *type)
{
    return str_eq(type, "complaint") || str_eq(type, "faultReport");
}

/*
 * The customer's work orders on the 360 view, from their latest (the card's section, at most
 * CARD_TICKETS_CAP): the open ones (20 at most), the last 10, and how many complaints and
 * fault reports in 90 days. When the section is full there may be more: the store is asked.
 */
static void work_orders(store *s, const store_res *r, const char *msisdn, int64_t now, int tz,
                        jw *w)
{
    int64_t since = now - 90LL * 86400000, complaints = 0;
    bool all = store_rows(r) < CARD_TICKETS_CAP;
    jw_arr(w, "openWorkOrders");
    store_res *q = NULL;
    if (!all && store_query(s,
                            "SELECT " BRIEF_COLS " FROM tickets WHERE customer_id = ? AND"
                            " status IN ('acknowledged', 'inProgress', 'pending')"
                            " ORDER BY created DESC, id DESC LIMIT 20",
                            (store_val[]){SV_S(msisdn)}, 1, &q) == ERR_OK) {
        for (int i = 0; i < store_rows(q); i++)
            brief_write(w, q, i, tz);
    }
    store_res_free(q);
    for (int i = 0, n = 0; all && i < store_rows(r) && n < 20; i++)
        if (is_open(store_text(r, i, 4))) {
            brief_write(w, r, i, tz);
            n++;
        }
    jw_end_arr(w);
    jw_arr(w, "recentWorkOrders");
    for (int i = 0; i < store_rows(r) && i < 10; i++)
        brief_write(w, r, i, tz);
    jw_end_arr(w);
    for (int i = 0; all && i < store_rows(r); i++)
        if (is_complaint(store_text(r, i, 1)) && store_int(r, i, 5) >= since)
            complaints++;
    if (!all)
        store_scalar(s,
                     "SELECT COUNT(*) FROM tickets WHERE customer_id = ? AND"
                     " ticket_type IN ('complaint', 'faultReport') AND created >= ?",
                     (store_val[]){SV_S(msisdn), SV_I(since)}, 2, 0, &complaints);
    jw_obj(w, "workOrderStats");
    jw_int(w, "complaintsAndFaults90d", complaints);
    jw_end_obj(w);
}

/* GET /api/v1/subscribers/{msisdn}/overview — masked; the agent's first screen */
static void sub_overview(req *r)
{
    customers_ctx *cc = req_route_ctx(r);
    store *s = req_store(r);
    if (!s)
        return;
    const char *msisdn = req_param(r, "msisdn");
    /* the subscriber's facts from the directory's card, or from the store (one snapshot:
       req_store); work orders and incidents from the store */
    store_res *sec[CARD_NSEC];
    if (!card_sections(s, cc->dir, msisdn, sec)) {
        req_fail(r, 503, "unavailable", "", "the subscriber cannot be read now");
        return;
    }
    if (!store_rows(sec[CARD_PROFILE])) {
        card_sections_free(sec);
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", msisdn);
        return;
    }
    const store_res *prof = sec[CARD_PROFILE];
    incident_where where = {!store_isnull(prof, 0, CARD_COL_POS), store_int(prof, 0, CARD_COL_POS),
                            store_text(prof, 0, CARD_COL_AREA)};
    /* A9: the known incidents affecting this customer, at once */
    json_t *incidents = assurance_incidents_for(cc->assurance, s, msisdn, &where, cc->tz);
    /* written, not built: this is the hottest read there is */
    jw w;
    jw_init(&w);
    jw_obj(&w, NULL);
    sub_write(&w, "profile", prof, 0, false, cc->tz);
    customers_segments_write(&w, "segments", sec[CARD_SEGMENTS], cc->tz);
    customers_products_write(&w, "products", sec[CARD_PRODUCTS], cc->tz);
    customers_vas_write(&w, "vas", sec[CARD_VAS], cc->tz);
    customers_balance_write(&w, "balance", sec[CARD_BALANCE], cc->tz);
    customers_line_write(&w, "line", sec[CARD_LINE], cc->tz);
    work_orders(s, sec[CARD_TICKETS], msisdn, engine_now(req_engine(r)), cc->tz, &w);
    card_sections_free(sec);
    jw_json(&w, "incidents", incidents);
    json_decref(incidents);
    jw_end_obj(&w);
    size_t len;
    char *text = jw_take(&w, &len);
    req_json_text(r, 200, text, len);
}

/* ---- TMF629 customer, for integrators ---- */

static json_t *tmf629(const json_t *sub)
{
    const char *msisdn = jstr(sub, "msisdn");
    char *href = xasprintf("/tmf-api/customerManagement/v4/customer/%s", msisdn);
    json_t *contact = json_array();
    json_array_append_new(contact,
                          json_pack("{s:s, s:b, s:{s:s}}", "mediumType", "mobile", "preferred", 1,
                                    "characteristic", "phoneNumber", msisdn));
    if (jstr(sub, "address"))
        json_array_append_new(contact, json_pack("{s:s, s:b, s:{s:s}}", "mediumType",
                                                 "postalAddress", "preferred", 0, "characteristic",
                                                 "street1", jstr(sub, "address")));
    json_t *chars = json_array();
    static const char *const keys[] = {"level", "area", "attachment", "accountId"};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++)
        if (jstr(sub, keys[i]))
            json_array_append_new(
                chars, json_pack("{s:s, s:s}", "name", keys[i], "value", jstr(sub, keys[i])));
    json_array_append_new(
        chars, json_pack("{s:s, s:O}", "name", "vip", "value", json_object_get(sub, "vip")));
    json_array_append_new(
        chars, json_pack("{s:s, s:O}", "name", "points", "value", json_object_get(sub, "points")));
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:s}", "id", msisdn, "href",
                  href, "name", jstr(sub, "name"), "status", jstr(sub, "status"), "engagedParty",
                  "id", msisdn, "name", jstr(sub, "name"), "@referredType", "Individual",
                  "contactMedium", contact, "characteristic", chars, "@type", "Customer");
    if (jstr(sub, "accountId"))
        json_object_set_new(o, "account",
                            json_pack("[{s:s, s:s}]", "id", jstr(sub, "accountId"), "@referredType",
                                      "CustomerAccount"));
    free(href);
    return o;
}

static void tmf_list(req *r)
{
    /* the same search, in the TMF629 shape */
    sub_list(r);
}

static void tmf_get(req *r)
{
    customers_ctx *cc = req_route_ctx(r);
    store *s = req_store(r);
    if (!s)
        return;
    json_t *sub = sub_load(s, req_param(r, "id"), false, cc->tz);
    if (!sub) {
        req_fail(r, 404, "notFound", "id", "no customer %s", req_param(r, "id"));
        return;
    }
    json_t *o = tmf629(sub);
    json_decref(sub);
    req_json(r, 200, o);
}

#define STAFF (ROLE_ALL & ~(unsigned)ROLE_QA)

static const route routes[] = {
    {"GET", "/api/v1/subscribers", ROUTE_ANY, sub_list},
    {"POST", "/api/v1/subscribers", ROLE_ADMIN | ROLE_INTEGRATION, sub_create},
    {"GET", "/api/v1/subscribers/{msisdn}", ROUTE_ANY, sub_get},
    {"PATCH", "/api/v1/subscribers/{msisdn}", ROLE_ADMIN | ROLE_INTEGRATION | ROLE_SUPERVISOR,
     sub_patch},
    {"GET", "/api/v1/subscribers/{msisdn}/overview", ROUTE_ANY, sub_overview},
    {"POST", "/api/v1/subscribers/{msisdn}/verify", STAFF, sub_verify},
    {"POST", "/api/v1/subscribers/{msisdn}/verificationCode", STAFF, otp_send},
    {"POST", "/api/v1/subscribers/{msisdn}/verificationCode/check", STAFF, otp_check},
    {"GET", "/tmf-api/customerManagement/v4/customer",
     ROLE_INTEGRATION | ROLE_ADMIN | ROLE_SUPERVISOR, tmf_list},
    {"GET", "/tmf-api/customerManagement/v4/customer/{id}",
     ROLE_INTEGRATION | ROLE_ADMIN | ROLE_SUPERVISOR, tmf_get},
    {NULL, NULL, 0, NULL},
};

void customers_on_event(void *ctx, const event_rec *ev)
{
    customers_ctx *c = ctx;
    if (!c->dir)
        return;
    if (strcmp(ev->entity_type, "subscriber") == 0) {
        /* every change of a subscriber's facts is an event on it: read it again */
        directory_refresh(c->dir, engine_store(c->eng), ev->entity_id);
    } else if (strcmp(ev->entity_type, "ticket") == 0 && directory_has_cards(c->dir)) {
        /* so is every change of a work order (whose customer never changes): its customer's */
        store *s = engine_store(c->eng);
        store_res *t;
        if (store_query(s, "SELECT customer_id FROM tickets WHERE id = ?",
                        (store_val[]){SV_I(strtoll(ev->entity_id, NULL, 10))}, 1, &t) == ERR_OK) {
            if (store_text(t, 0, 0))
                directory_refresh(c->dir, s, store_text(t, 0, 0));
            store_res_free(t);
        }
    } else if (strcmp(ev->entity_type, "slaPolicy") == 0) {
        directory_reset(c->dir); /* open work orders' due dates moved: build again */
    } else if (strcmp(ev->type, "segments.refreshed") == 0) {
        directory_reset(c->dir); /* every card's segments: build again */
    } else if (strcmp(ev->type, "topology.imported") == 0) {
        json_t *d = json_load(ev->data);
        if (json_integer_value(json_object_get(d, "renumbered")) > 0)
            directory_reset(c->dir); /* positions moved: build again (between batches) */
        json_decref(d);
    }
}

void customers_set_engine(customers_ctx *c, engine *e)
{
    c->eng = e;
}

void customers_set_assurance(customers_ctx *c, assurance_ctx *a)
{
    c->assurance = a;
}

customers_ctx *customers_create(int tz, directory *dir)
{
    customers_ctx *c = xcalloc(1, sizeof *c);
    c->tz = tz;
    c->dir = dir;
    c->verify = limiter_create(4096, VERIFY_MAX_FAILS, VERIFY_WINDOW_MS);
    return c;
}

void customers_destroy(customers_ctx *c)
{
    if (!c)
        return;
    limiter_destroy(c->verify);
    free(c);
}

void customers_register(customers_ctx *c, http_server *s)
{
    http_add_routes(s, routes, c);
    customers_register_offers(c, s);
    customers_register_account(c, s);
    customers_register_segments(c, s);
    customers_register_vas(c, s);
    customers_register_bills(c, s);
}
