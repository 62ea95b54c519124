/*
 * plans.c — emergency plans 应急预案 (A5): per level × service (service null = any), the group
 * that gets the fault ticket, the numbers of the staff on duty to page by SMS, whether the
 * affected customers are told, and the restore time promised (hours). incidents.c starts the
 * most specific plan when an incident opens.
 */
#include "assurance/assurance_int.h"

#include "notify/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "/api/v1/emergencyPlans"

static const json_field plan_fields[] = {
    {"level", JT_INT, JF_REQUIRED, 0, NULL},
    {"service", JT_STRING, JF_NULLABLE, 32, NULL},
    {"groupId", JT_STRING, JF_REQUIRED, 64, NULL},
    {"onDuty", JT_ARRAY, 0, 0, NULL},
    {"notifyCustomers", JT_BOOL, 0, 0, NULL},
    {"restoreHours", JT_INT, 0, 0, NULL},
    {"description", JT_STRING, JF_NULLABLE, 500, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_plan(const json_t *b, problem *p)
{
    json_int_t lv = json_integer_value(json_object_get(b, "level"));
    if (lv < 1 || lv > 4)
        return problem_field(p, "level", "must be 1 (highest) … 4");
    json_t *h = json_object_get(b, "restoreHours");
    if (h && (json_integer_value(h) < 1 || json_integer_value(h) > 720))
        return problem_field(p, "restoreHours", "must be 1 … 720");
    const json_t *duty = json_object_get(b, "onDuty");
    if (json_array_size(duty) > 20)
        return problem_field(p, "onDuty", "at most 20 numbers");
    size_t i;
    json_t *m;
    json_array_foreach(duty, i, m)
    {
        if (!json_is_string(m) || !notify_msisdn_ok(json_string_value(m)))
            return problem_field(p, "onDuty", "onDuty[%zu]: a mobile number of 11 digits", i);
    }
    return ERR_OK;
}

static json_t *plan_json(store *s, int64_t id, int tz)
{
    (void)tz;
    store_res *r;
    if (store_query(s,
                    "SELECT id, level, service, group_id, on_duty, notify_customers,"
                    " restore_hours, description FROM emergency_plans WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r)) {
        char *href = xasprintf(BASE "/%s", store_text(r, 0, 0));
        json_t *duty = json_load(store_text(r, 0, 4));
        o = json_pack("{s:s, s:s, s:i, s:s?, s:s, s:o, s:b, s:I, s:s?}", "id", store_text(r, 0, 0),
                      "href", href, "level", (int)store_int(r, 0, 1), "service",
                      store_text(r, 0, 2), "groupId", store_text(r, 0, 3), "onDuty",
                      json_is_array(duty) ? duty : json_array(), "notifyCustomers",
                      store_int(r, 0, 5) != 0, "restoreHours", (json_int_t)store_int(r, 0, 6),
                      "description", store_text(r, 0, 7));
        if (!json_is_array(duty))
            json_decref(duty);
        free(href);
    }
    store_res_free(r);
    return o;
}

static err apply_write(engine *e, cmd *c)
{
    store *s = engine_store(e);
    settings_write w;
    err rc = settings_begin(e, c, "emergency_plans", plan_json, "emergency plan", &w);
    if (rc)
        return rc;
    if (w.del) {
        rc = store_exec(s, "DELETE FROM emergency_plans WHERE id = ?", (store_val[]){SV_I(w.id)},
                        1);
    } else {
        rc = engine_require_row(e, c, "work_groups", "id", jstr(c->in, "groupId"), "groupId",
                                "group");
        const char *svc = jstr(c->in, "service");
        int64_t clash = 0;
        int lv = (int)json_integer_value(json_object_get(c->in, "level"));
        if (!rc)
            rc = store_scalar(s,
                              svc ? "SELECT COUNT(*) FROM emergency_plans WHERE level = ?"
                                    " AND id <> ? AND service = ?"
                                  : "SELECT COUNT(*) FROM emergency_plans WHERE level = ?"
                                    " AND id <> ? AND service IS NULL",
                              (store_val[]){SV_I(lv), SV_I(w.id), SV_S(svc)}, svc ? 3 : 2, 0,
                              &clash);
        if (!rc && clash)
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "level",
                             "level: a plan for level %d and service %s exists", lv,
                             svc ? svc : "(any)");
        json_t *duty = json_object_get(c->in, "onDuty");
        char *dtext = duty ? json_dump(duty) : NULL;
        json_t *nc = json_object_get(c->in, "notifyCustomers");
        json_t *rh = json_object_get(c->in, "restoreHours");
        if (!rc)
            rc = store_exec(
                s,
                w.create ? "INSERT INTO emergency_plans(level, service, group_id, on_duty,"
                           " notify_customers, restore_hours, description, created, updated, id)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                         : "UPDATE emergency_plans SET level = ?, service = ?, group_id = ?,"
                           " on_duty = ?, notify_customers = ?, restore_hours = ?,"
                           " description = ?, created = COALESCE(?, created), updated = ?"
                           " WHERE id = ?",
                (store_val[]){SV_I(lv), SV_S(svc), SV_S(jstr(c->in, "groupId")), SV_S(dtext),
                              SV_I(nc ? json_is_true(nc) : 1),
                              SV_I(rh ? json_integer_value(rh) : 4),
                              SV_S(jstr(c->in, "description")), SV_OI(w.create, w.now),
                              SV_I(w.now), SV_I(w.id)},
                10);
        free(dtext);
    }
    return settings_finish(e, c, &w, rc, BASE, "emergencyPlan", plan_json);
}

static void create(req *r)
{
    req_submit_checked(r, plan_fields, check_plan, apply_write);
}

static void del(req *r)
{
    settings_delete(r, apply_write);
}

static void list(req *r)
{
    settings_list(r, "SELECT id FROM emergency_plans ORDER BY level, service, id", plan_json,
                  "emergency plans");
}

#define CONF (ROLE_SUPERVISOR | ROLE_ADMIN)

static const route routes[] = {
    {"GET", BASE, ROUTE_ANY, list},
    {"POST", BASE, CONF, create},
    {"PUT", BASE "/{id}", CONF, create},
    {"DELETE", BASE "/{id}", CONF, del},
    {NULL, NULL, 0, NULL},
};

void plans_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
