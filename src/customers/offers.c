/*
 * offers.c — tariffs (C2): the catalogue of base plans, add-on packs 叠加包 and marketing
 * activities 营销活动 with validity and mutual-exclusion rules 互斥规则, and what each
 * subscriber holds. A subscriber keeps exactly one base plan (ordering another changes it);
 * a pack needs a base plan; ordering something that excludes — or is excluded by — a current
 * product is refused with a message naming both.
 */
#include "customers/customers.h"

#include "customers/card.h"

#include "auth/auth.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {"basePlan", "pack", "activity", NULL};

static int tz_of(engine *e)
{
    (void)e;
    return 480;
}

static json_t *offer_row(const store_res *r, int i)
{
    char t[40];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(store_text(r, i, 0)));
    json_object_set_new(o, "kind", json_string(store_text(r, i, 1)));
    json_object_set_new(o, "name", json_string(store_text(r, i, 2)));
    if (store_text(r, i, 3))
        json_object_set_new(o, "service", json_string(store_text(r, i, 3)));
    json_object_set_new(o, "monthlyFeeFen", json_integer(store_int(r, i, 4)));
    json_t *a = json_load(store_text(r, i, 5));
    json_object_set_new(o, "allowance", a ? a : json_object());
    if (!store_isnull(r, i, 6)) {
        time_iso(store_int(r, i, 6), 480, t, sizeof t);
        json_object_set_new(o, "validFrom", json_string(t));
    }
    if (!store_isnull(r, i, 7)) {
        time_iso(store_int(r, i, 7), 480, t, sizeof t);
        json_object_set_new(o, "validTo", json_string(t));
    }
    json_t *x = json_load(store_text(r, i, 8));
    json_object_set_new(o, "excludes", x ? x : json_array());
    return o;
}

#define OFFER_COLS "id, kind, name, service, monthly_fee, allowance, valid_from, valid_to, excludes"

static json_t *offer_load(store *s, const char *id)
{
    store_res *r;
    if (store_query(s, "SELECT " OFFER_COLS " FROM offers WHERE id = ?", (store_val[]){SV_S(id)}, 1,
                    &r))
        return NULL;
    json_t *o = store_rows(r) ? offer_row(r, 0) : NULL;
    store_res_free(r);
    return o;
}

/* ---- catalogue ---- */

static const json_field offer_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 32, NULL},   {"kind", JT_STRING, JF_REQUIRED, 16, kinds},
    {"name", JT_STRING, JF_REQUIRED, 64, NULL}, {"service", JT_STRING, 0, 32, NULL},
    {"monthlyFeeFen", JT_INT, 0, 0, NULL},      {"allowance", JT_OBJECT, 0, 0, NULL},
    {"validFrom", JT_STRING, 0, 40, NULL},      {"validTo", JT_STRING, 0, 40, NULL},
    {"excludes", JT_ARRAY, 0, 0, NULL},         {NULL, 0, 0, 0, NULL},
};

static err check_offer(const json_t *b, problem *p)
{
    int64_t ms;
    static const char *const times[] = {"validFrom", "validTo"};
    for (int i = 0; i < 2; i++)
        if (jstr(b, times[i]) && time_parse_iso(jstr(b, times[i]), 480, &ms))
            return problem_field(p, times[i], "must be an ISO 8601 date-time");
    json_t *fee = json_object_get(b, "monthlyFeeFen");
    if (fee && json_integer_value(fee) < 0)
        return problem_field(p, "monthlyFeeFen", "must be ≥ 0");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(b, "excludes"), i, v)
    {
        if (!json_is_string(v)) {
            char f[32];
            snprintf(f, sizeof f, "excludes[%zu]", i);
            return problem_field(p, f, "must be an offer id");
        }
    }
    return ERR_OK;
}

static err apply_offer_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const char *id = jstr(c->in, "id");
    json_t *old = offer_load(s, id);
    if (old) {
        json_decref(old);
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "id", "id: offer %s exists",
                           id);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(c->in, "excludes"), i, v)
    {
        char f[32];
        snprintf(f, sizeof f, "excludes[%zu]", i);
        err rc = engine_require_row(e, c, "offers", "id", json_string_value(v), f, "offer");
        if (rc)
            return rc;
    }
    int64_t from = 0, to = 0, now = engine_now(e);
    if (jstr(c->in, "validFrom"))
        time_parse_iso(jstr(c->in, "validFrom"), 480, &from);
    if (jstr(c->in, "validTo"))
        time_parse_iso(jstr(c->in, "validTo"), 480, &to);
    char *allow =
        json_object_get(c->in, "allowance") ? json_dump(json_object_get(c->in, "allowance")) : NULL;
    char *excl =
        json_object_get(c->in, "excludes") ? json_dump(json_object_get(c->in, "excludes")) : NULL;
    err rc =
        store_exec(s,
                   "INSERT INTO offers(id, kind, name, service, monthly_fee, allowance,"
                   " valid_from, valid_to, excludes, created, updated)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (store_val[]){SV_S(id), SV_S(jstr(c->in, "kind")), SV_S(jstr(c->in, "name")),
                                 SV_S(jstr(c->in, "service")),
                                 SV_I(json_integer_value(json_object_get(c->in, "monthlyFeeFen"))),
                                 SV_S(allow), SV_OI(from != 0, from), SV_OI(to != 0, to),
                                 SV_S(excl), SV_I(now), SV_I(now)},
                   11);
    free(allow);
    free(excl);
    if (rc)
        return rc;
    snprintf(c->location, sizeof c->location, "/api/v1/offers/%s", id);
    return engine_finish_change(e, c, "create", "created", "offer", id, NULL, offer_load(s, id),
                                201);
}

static void offers_create(req *r)
{
    req_submit_checked(r, offer_fields, check_offer, apply_offer_create);
}

static void offers_list(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    const char *kind = req_query(r, "kind");
    if (kind && !str_in(kind, kinds)) {
        req_fail(r, 400, "invalidField", "kind", "kind: basePlan, pack or activity");
        return;
    }
    if (store_query(s,
                    kind ? "SELECT " OFFER_COLS " FROM offers WHERE kind = ? ORDER BY kind, id"
                         : "SELECT " OFFER_COLS " FROM offers ORDER BY kind, id",
                    (store_val[]){SV_S(kind)}, kind ? 1 : 0, &res)) {
        req_fail(r, 503, "unavailable", "", "offers cannot be read now");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++)
        json_array_append_new(arr, offer_row(res, i));
    int64_t n = store_rows(res);
    store_res_free(res);
    req_list(r, arr, n);
}

/* ---- what a subscriber holds ---- */

json_t *customers_products(store *s, const char *msisdn, int tz)
{
    return card_section_json(s, CARD_PRODUCTS, msisdn, tz);
}

void customers_products_write(jw *w, const char *key, const store_res *r, int tz)
{
    jw_arr(w, key);
    for (int i = 0; i < store_rows(r); i++) {
        char t[40];
        time_iso(store_int(r, i, 3), tz, t, sizeof t);
        jw_obj(w, NULL);
        jw_str(w, "id", store_text(r, i, 0));
        jw_str(w, "offer", store_text(r, i, 1));
        jw_str(w, "kind", store_text(r, i, 2));
        jw_str(w, "name", store_text(r, i, 4));
        jw_str(w, "startDate", t);
        jw_int(w, "monthlyFeeFen", store_int(r, i, 5));
        jw_raw(w, "allowance", store_text(r, i, 6), "{}");
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static json_t *render_products(cmd *c, store *reader, void *route_ctx)
{
    (void)route_ctx;
    return customers_products(reader, c->id, 480);
}

/* does offer `a` exclude `b` (either way round)? */
static bool excludes(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(a, "excludes"), i,
                       v) if (str_eq(json_string_value(v), jstr(b, "id"))) return true;
    json_array_foreach(json_object_get(b, "excludes"), i,
                       v) if (str_eq(json_string_value(v), jstr(a, "id"))) return true;
    return false;
}

static err apply_order(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e), n = 0;
    err rc =
        store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ? AND status = 'active'",
                     (store_val[]){SV_S(c->id)}, 1, 0, &n);
    if (rc)
        return rc;
    if (!n)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "msisdn",
                           "no active subscriber %s", c->id);
    const char *want = jstr(c->in, "offer");
    json_t *offer = offer_load(s, want);
    if (!offer)
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", "offer",
                           "offer: no offer '%s'", want);
    int64_t from = 0, to = 0;
    if (jstr(offer, "validFrom"))
        time_parse_iso(jstr(offer, "validFrom"), 480, &from);
    if (jstr(offer, "validTo"))
        time_parse_iso(jstr(offer, "validTo"), 480, &to);
    if ((from && now < from) || (to && now >= to)) {
        rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "offer",
                         "offer: %s (%s) is not on sale now", want, jstr(offer, "name"));
        json_decref(offer);
        return rc;
    }
    const char *kind = jstr(offer, "kind");
    store_res *r;
    rc = store_query(s,
                     "SELECT p.id, p.offer_id, p.kind FROM subscriber_offers p"
                     " WHERE p.msisdn = ? AND p.state = 'active'",
                     (store_val[]){SV_S(c->id)}, 1, &r);
    if (rc) {
        json_decref(offer);
        return rc;
    }
    int64_t old_plan = 0;
    for (int i = 0; i < store_rows(r) && !rc; i++) {
        const char *held = store_text(r, i, 1);
        if (str_eq(held, want)) {
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "offer",
                             "offer: %s already holds %s", c->id, want);
            break;
        }
        if (str_eq(store_text(r, i, 2), "basePlan"))
            old_plan = store_int(r, i, 0);
        json_t *h = offer_load(s, held);
        if (h && excludes(offer, h))
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "offer",
                             "offer: %s（%s）与当前的 %s（%s）互斥 — %s excludes %s", want,
                             jstr(offer, "name"), held, jstr(h, "name"), want, held);
        json_decref(h);
    }
    store_res_free(r);
    if (!rc && strcmp(kind, "pack") == 0 && !old_plan)
        rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "offer",
                         "offer: a pack needs a base plan; %s has none", c->id);
    /* exactly one base plan: a new one replaces the old */
    if (!rc && strcmp(kind, "basePlan") == 0 && old_plan)
        rc = store_exec(s, "UPDATE subscriber_offers SET state = 'ended', ended = ? WHERE id = ?",
                        (store_val[]){SV_I(now), SV_I(old_plan)}, 2);
    int64_t id = rc ? 0 : engine_next_id(e, "subscriber_offers");
    if (!rc)
        rc = store_exec(
            s,
            "INSERT INTO subscriber_offers(id, msisdn, offer_id, kind, started, ended,"
            " state, ordered_by) VALUES (?, ?, ?, ?, ?, NULL, 'active', ?)",
            (store_val[]){SV_I(id), SV_S(c->id), SV_S(want), SV_S(kind), SV_I(now), SV_S(c->actor)},
            6);
    if (rc) {
        json_decref(offer);
        return rc;
    }
    json_t *after = json_pack("{s:s, s:s, s:I}", "offer", want, "kind", kind, "replacedPlan",
                              (json_int_t)old_plan);
    json_decref(offer); /* `kind` pointed into it */
    c->render = render_products;
    rc = engine_audit(e, c->actor, "order", "subscriber", c->id, NULL, after);
    if (!rc)
        rc = engine_emit(e, "subscriber.productOrdered", "subscriber", c->id, c->actor, after);
    else
        json_decref(after);
    c->status = 201;
    return rc;
}

static void order(req *r)
{
    static const json_field fields[] = {{"offer", JT_STRING, JF_REQUIRED, 32, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, NULL, apply_order);
}

static err apply_end(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const char *pid = jstr(c->in, "product");
    int64_t id;
    store_res *r = NULL;
    err rc = parse_i64(pid, 1, INT64_MAX, &id)
                 ? ERR_NOTFOUND
                 : store_query(s,
                               "SELECT kind, offer_id FROM subscriber_offers WHERE id = ? AND"
                               " msisdn = ? AND state = 'active'",
                               (store_val[]){SV_I(id), SV_S(c->id)}, 2, &r);
    if (!rc && store_rows(r) == 0)
        rc = ERR_NOTFOUND;
    if (rc == ERR_NOTFOUND) {
        store_res_free(r);
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id",
                           "no active product %s for %s", pid, c->id);
    }
    if (rc)
        return rc;
    if (str_eq(store_text(r, 0, 0), "basePlan")) {
        store_res_free(r);
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "id",
                           "a subscriber keeps exactly one base plan: order another to change it");
    }
    json_t *before =
        json_pack("{s:s, s:s}", "offer", store_text(r, 0, 1), "kind", store_text(r, 0, 0));
    store_res_free(r);
    rc = store_exec(s, "UPDATE subscriber_offers SET state = 'ended', ended = ? WHERE id = ?",
                    (store_val[]){SV_I(engine_now(e)), SV_I(id)}, 2);
    if (!rc)
        rc = engine_audit(e, c->actor, "endProduct", "subscriber", c->id, before, NULL);
    if (!rc)
        rc = engine_emit(e, "subscriber.productEnded", "subscriber", c->id, c->actor, before);
    else
        json_decref(before);
    c->status = 204;
    return rc;
}

static void end_product(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:s}", "product", req_param(r, "id"));
    c->id = req_param(r, "msisdn");
    c->apply = apply_end;
    req_submit(r);
}

static void products(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    int64_t n = 0;
    store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ?",
                 (store_val[]){SV_S(req_param(r, "msisdn"))}, 1, 0, &n);
    if (!n) {
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", req_param(r, "msisdn"));
        return;
    }
    json_t *arr = customers_products(s, req_param(r, "msisdn"), req_tz(r));
    req_list(r, arr, (int64_t)json_array_size(arr));
}

#define SELLERS (ROLE_AGENT | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)

static const route routes[] = {
    {"GET", "/api/v1/offers", ROUTE_ANY, offers_list},
    {"POST", "/api/v1/offers", ROLE_ADMIN | ROLE_INTEGRATION, offers_create},
    {"GET", "/api/v1/subscribers/{msisdn}/products", ROUTE_ANY, products},
    {"POST", "/api/v1/subscribers/{msisdn}/products", SELLERS, order},
    {"DELETE", "/api/v1/subscribers/{msisdn}/products/{id}", SELLERS, end_product},
    {NULL, NULL, 0, NULL},
};

void customers_register_offers(customers_ctx *c, http_server *s)
{
    (void)tz_of;
    http_add_routes(s, routes, c);
}
