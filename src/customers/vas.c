/*
 * vas.c — value-added services (C4): a catalogue tree (categories holding services), and a
 * subscriber's services with their parameters checked: family numbers 亲情号 (1–3 mobile
 * numbers, not the subscriber's own, no repeats) and call forwarding 呼转 (a number and a
 * condition). Subscribing twice is refused; unsubscribing ends the service.
 */
#include "customers/customers.h"

#include "customers/card.h"

#include "auth/auth.h"
#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const conditions[] = {"always", "busy", "noAnswer", "unreachable", NULL};

static json_t *catalog_tree(store *s)
{
    store_res *r;
    json_t *roots = json_array();
    if (store_query(s,
                    "SELECT id, parent_id, name, kind, params, monthly_fee FROM vas_catalog"
                    " ORDER BY position, id",
                    NULL, 0, &r))
        return roots;
    json_t *by_id = json_object();
    for (int i = 0; i < store_rows(r); i++) {
        json_t *p = json_load(store_text(r, i, 4));
        json_t *n =
            json_pack("{s:s, s:s, s:s, s:I, s:o, s:[]}", "id", store_text(r, i, 0), "name",
                      store_text(r, i, 2), "kind", store_text(r, i, 3), "monthlyFeeFen",
                      (json_int_t)store_int(r, i, 5), "params", p ? p : json_object(), "children");
        json_object_set_new(by_id, store_text(r, i, 0), n);
    }
    for (int i = 0; i < store_rows(r); i++) {
        json_t *n = json_object_get(by_id, store_text(r, i, 0));
        json_t *parent = store_text(r, i, 1) ? json_object_get(by_id, store_text(r, i, 1)) : NULL;
        json_array_append(parent ? json_object_get(parent, "children") : roots, n);
    }
    store_res_free(r);
    json_decref(by_id);
    return roots;
}

static void catalog(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    json_t *tree = catalog_tree(s);
    req_list(r, tree, (int64_t)json_array_size(tree));
}

json_t *customers_vas(store *s, const char *msisdn, int tz)
{
    return card_section_json(s, CARD_VAS, msisdn, tz);
}

void customers_vas_write(jw *w, const char *key, const store_res *r, int tz)
{
    jw_arr(w, key);
    for (int i = 0; i < store_rows(r); i++) {
        char t[40];
        time_iso(store_int(r, i, 4), tz, t, sizeof t);
        jw_obj(w, NULL);
        jw_str(w, "id", store_text(r, i, 0));
        jw_str(w, "vas", store_text(r, i, 1));
        jw_str(w, "name", store_text(r, i, 2));
        jw_raw(w, "params", store_text(r, i, 3), "{}");
        jw_str(w, "startDate", t);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static json_t *render_vas(cmd *c, store *reader, void *route_ctx)
{
    (void)route_ctx;
    return customers_vas(reader, c->id, 480);
}

/* check the parameters a service asks for; `kind` is the catalogue's params.type */
static err check_params(cmd *c, const char *type, const json_t *params)
{
    problem *p = &c->prob;
    if (str_eq(type, "familyNumbers")) {
        json_t *nums = json_object_get(params, "numbers");
        if (!json_is_array(nums) || json_array_size(nums) < 1 || json_array_size(nums) > 3)
            return problem_field(p, "params.numbers", "1 to 3 family numbers");
        size_t i, k;
        json_t *v, *w;
        json_array_foreach(nums, i, v)
        {
            char f[40];
            snprintf(f, sizeof f, "params.numbers[%zu]", i);
            if (!json_is_string(v) || !notify_msisdn_ok(json_string_value(v)))
                return problem_field(p, f, "must be a mobile number");
            if (str_eq(json_string_value(v), c->id))
                return problem_field(p, f, "cannot be the subscriber's own number");
            json_array_foreach(nums, k, w) if (k < i && json_equal(v, w)) return problem_field(
                p, f, "appears twice");
        }
        if (json_object_size(params) != 1)
            return problem_field(p, "params", "only numbers");
        return ERR_OK;
    }
    if (str_eq(type, "callForwarding")) {
        const char *to = jstr(params, "forwardTo"), *cond = jstr(params, "condition");
        if (!to || !notify_msisdn_ok(to))
            return problem_field(p, "params.forwardTo", "must be a mobile number");
        if (str_eq(to, c->id))
            return problem_field(p, "params.forwardTo", "cannot forward to the number itself");
        if (!cond || !str_in(cond, conditions))
            return problem_field(p, "params.condition",
                                 "must be always, busy, noAnswer or unreachable");
        if (json_object_size(params) != 2)
            return problem_field(p, "params", "only forwardTo and condition");
        return ERR_OK;
    }
    if (json_object_size(params) != 0)
        return problem_field(p, "params", "this service takes no parameters");
    return ERR_OK;
}

static err apply_subscribe(engine *e, cmd *c)
{
    store *s = engine_store(e);
    err rc = engine_require_row(e, c, "subscribers", "msisdn", c->id, "msisdn", "subscriber");
    if (rc)
        return rc;
    const char *vas = jstr(c->in, "vas");
    store_res *r;
    rc = store_query(s, "SELECT kind, params, name FROM vas_catalog WHERE id = ?",
                     (store_val[]){SV_S(vas)}, 1, &r);
    if (rc)
        return rc;
    if (!store_rows(r) || !str_eq(store_text(r, 0, 0), "service")) {
        store_res_free(r);
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", "vas",
                           "vas: no service '%s' in the catalogue", vas);
    }
    json_t *schema = json_load(store_text(r, 0, 1));
    store_res_free(r);
    json_t *params = json_object_get(c->in, "params");
    json_t *empty = json_object();
    rc = check_params(c, jstr(schema, "type"), params ? params : empty);
    json_decref(schema);
    json_decref(empty);
    if (rc)
        return rc;
    int64_t n = 0;
    rc = store_scalar(s,
                      "SELECT COUNT(*) FROM subscriber_vas WHERE msisdn = ? AND vas_id = ? AND"
                      " state = 'active'",
                      (store_val[]){SV_S(c->id), SV_S(vas)}, 2, 0, &n);
    if (rc)
        return rc;
    if (n)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "vas", "vas: %s already has %s",
                           c->id, vas);
    char *ptext = params ? json_dump(params) : NULL;
    rc = store_exec(s,
                    "INSERT INTO subscriber_vas(id, msisdn, vas_id, params, state, started, ended,"
                    " ordered_by) VALUES (?, ?, ?, ?, 'active', ?, NULL, ?)",
                    (store_val[]){SV_I(engine_next_id(e, "subscriber_vas")), SV_S(c->id), SV_S(vas),
                                  SV_S(ptext), SV_I(engine_now(e)), SV_S(c->actor)},
                    6);
    free(ptext);
    if (rc)
        return rc;
    json_t *after = json_pack("{s:s, s:O?}", "vas", vas, "params", params);
    rc = engine_audit(e, c->actor, "subscribeVas", "subscriber", c->id, NULL, after);
    if (!rc)
        rc = engine_emit(e, "subscriber.vasSubscribed", "subscriber", c->id, c->actor, after);
    else
        json_decref(after);
    c->render = render_vas;
    c->status = 201;
    return rc;
}

static void subscribe(req *r)
{
    static const json_field fields[] = {{"vas", JT_STRING, JF_REQUIRED, 32, NULL},
                                        {"params", JT_OBJECT, 0, 0, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, NULL, apply_subscribe);
}

static err apply_unsubscribe(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t id;
    if (parse_i64(jstr(c->in, "item"), 1, INT64_MAX, &id))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no such service");
    err rc = store_exec(s,
                        "UPDATE subscriber_vas SET state = 'ended', ended = ? WHERE id = ? AND"
                        " msisdn = ? AND state = 'active'",
                        (store_val[]){SV_I(engine_now(e)), SV_I(id), SV_S(c->id)}, 3);
    if (rc)
        return rc;
    if (store_changes(s) != 1)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id",
                           "no active service %lld for %s", (long long)id, c->id);
    json_t *before = json_pack("{s:I}", "item", (json_int_t)id);
    rc = engine_audit(e, c->actor, "unsubscribeVas", "subscriber", c->id, before, NULL);
    if (!rc)
        rc = engine_emit(e, "subscriber.vasUnsubscribed", "subscriber", c->id, c->actor, before);
    else
        json_decref(before);
    c->status = 204;
    return rc;
}

static void unsubscribe(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:s}", "item", req_param(r, "id"));
    c->id = req_param(r, "msisdn");
    c->apply = apply_unsubscribe;
    req_submit(r);
}

static void held(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    json_t *arr = customers_vas(s, req_param(r, "msisdn"), req_tz(r));
    req_list(r, arr, (int64_t)json_array_size(arr));
}

#define SELLERS (ROLE_AGENT | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)

static const route routes[] = {
    {"GET", "/api/v1/vas", ROUTE_ANY, catalog},
    {"GET", "/api/v1/subscribers/{msisdn}/vas", ROUTE_ANY, held},
    {"POST", "/api/v1/subscribers/{msisdn}/vas", SELLERS, subscribe},
    {"DELETE", "/api/v1/subscribers/{msisdn}/vas/{id}", SELLERS, unsubscribe},
    {NULL, NULL, 0, NULL},
};

void customers_register_vas(customers_ctx *c, http_server *s)
{
    http_add_routes(s, routes, c);
}
