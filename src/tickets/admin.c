/*
 * admin.c — the settings work orders run on: SLA policies, business-hours calendars,
 * dispatch rules; and each group's work queue (open work orders, earliest due first).
 * A policy or calendar change re-times every open work order that uses it.
 */
#include "tickets/tickets_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tickets_ctx *tctx(engine *e)
{
    return engine_ctx(e, ENGINE_CTX_TICKETS);
}

/* ---- SLA policies ---- */

static const char *const type_or_any[] = {
    "*",          "consultation", "inquiry", "serviceRequest", "faultReport", "complaint",
    "suggestion", "faultTicket",  NULL};
static const char *const prio_or_any[] = {"*", "Critical", "High", "Medium", "Low", NULL};
static const char *const level_or_any[] = {"*", "normal", "silver", "gold", "diamond", NULL};

static const json_field policy_fields[] = {
    {"ticketType", JT_STRING, JF_REQUIRED, 32, type_or_any},
    {"priority", JT_STRING, JF_REQUIRED, 16, prio_or_any},
    {"customerLevel", JT_STRING, JF_REQUIRED, 16, level_or_any},
    {"responseMinutes", JT_INT, JF_REQUIRED, 0, NULL},
    {"resolutionMinutes", JT_INT, JF_REQUIRED, 0, NULL},
    {"calendar", JT_STRING, JF_NULLABLE, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field policy_patch_fields[] = {
    {"responseMinutes", JT_INT, 0, 0, NULL},
    {"resolutionMinutes", JT_INT, 0, 0, NULL},
    {"calendar", JT_STRING, JF_NULLABLE, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"ticketType", JT_ANY, JF_READONLY, 0, NULL},
    {"priority", JT_ANY, JF_READONLY, 0, NULL},
    {"customerLevel", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_minutes(const json_t *b, problem *p)
{
    static const char *const names[] = {"responseMinutes", "resolutionMinutes"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(b, names[i]);
        if (v && (json_integer_value(v) < 1 || json_integer_value(v) > 525600))
            return problem_field(p, names[i], "must be 1 … 525600 minutes (one year)");
    }
    return ERR_OK;
}

static json_t *policy_load(store *s, int64_t id)
{
    store_res *r;
    if (store_query(s,
                    "SELECT id, ticket_type, priority, customer_level, response_min,"
                    " resolution_min, calendar_id FROM sla_policies WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r) == 1) {
        char *href = xasprintf("/api/v1/slaPolicies/%s", store_text(r, 0, 0));
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s?}", "id", store_text(r, 0, 0),
                      "href", href, "ticketType", store_text(r, 0, 1), "priority",
                      store_text(r, 0, 2), "customerLevel", store_text(r, 0, 3), "responseMinutes",
                      (json_int_t)store_int(r, 0, 4), "resolutionMinutes",
                      (json_int_t)store_int(r, 0, 5), "calendar", store_text(r, 0, 6));
        free(href);
    }
    store_res_free(r);
    return o;
}

static void finish_write(engine *e, cmd *c, err *rc, const char *action, const char *etype,
                         const char *id, json_t *before, json_t *after, int status)
{
    /* a cache loaded inside a command that may still roll back must not outlive it */
    tickets_policies_changed(tctx(e));
    if (*rc) {
        json_decref(before);
        json_decref(after);
        return;
    }
    const char *event = strcmp(action, "delete") == 0   ? "deleted"
                        : strcmp(action, "create") == 0 ? "created"
                                                        : "updated";
    *rc = engine_finish_change(e, c, action, event, etype, id, before, after, status);
}

static err apply_policy_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_policies_changed(tctx(e));
    err rc = engine_require_row(e, c, "calendars", "id", jstr(c->in, "calendar"), "calendar",
                                "calendar");
    if (rc)
        return rc;
    int64_t n = 0;
    rc = store_scalar(s,
                      "SELECT COUNT(*) FROM sla_policies WHERE ticket_type = ? AND priority = ?"
                      " AND customer_level = ?",
                      (store_val[]){SV_S(jstr(c->in, "ticketType")), SV_S(jstr(c->in, "priority")),
                                    SV_S(jstr(c->in, "customerLevel"))},
                      3, 0, &n);
    if (rc)
        return rc;
    if (n)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "ticketType",
                           "a policy for %s / %s / %s exists; PATCH it instead",
                           jstr(c->in, "ticketType"), jstr(c->in, "priority"),
                           jstr(c->in, "customerLevel"));
    int64_t id = engine_next_id(e, "sla_policies");
    int64_t now = engine_now(e);
    rc = store_exec(
        s,
        "INSERT INTO sla_policies(id, ticket_type, priority, customer_level,"
        " response_min, resolution_min, calendar_id, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (store_val[]){SV_I(id), SV_S(jstr(c->in, "ticketType")), SV_S(jstr(c->in, "priority")),
                      SV_S(jstr(c->in, "customerLevel")),
                      SV_I(json_integer_value(json_object_get(c->in, "responseMinutes"))),
                      SV_I(json_integer_value(json_object_get(c->in, "resolutionMinutes"))),
                      SV_S(jstr(c->in, "calendar")), SV_I(now), SV_I(now)},
        9);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(c->location, sizeof c->location, "/api/v1/slaPolicies/%s", ids);
    finish_write(e, c, &rc, "create", "slaPolicy", ids, NULL, rc ? NULL : policy_load(s, id), 201);
    return rc;
}

static err apply_policy_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_policies_changed(tctx(e));
    int64_t id;
    json_t *before = parse_i64(c->id, 1, INT64_MAX, &id) ? NULL : policy_load(s, id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no SLA policy %s",
                           c->id);
    err rc = engine_require_row(e, c, "calendars", "id", jstr(c->in, "calendar"), "calendar",
                                "calendar");
    json_t *v;
    if (!rc && (v = json_object_get(c->in, "responseMinutes")))
        rc = store_exec(s, "UPDATE sla_policies SET response_min = ? WHERE id = ?",
                        (store_val[]){SV_I(json_integer_value(v)), SV_I(id)}, 2);
    if (!rc && (v = json_object_get(c->in, "resolutionMinutes")))
        rc = store_exec(s, "UPDATE sla_policies SET resolution_min = ? WHERE id = ?",
                        (store_val[]){SV_I(json_integer_value(v)), SV_I(id)}, 2);
    if (!rc && json_object_get(c->in, "calendar"))
        rc = store_exec(s, "UPDATE sla_policies SET calendar_id = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "calendar")), SV_I(id)}, 2);
    if (!rc)
        rc = store_exec(s, "UPDATE sla_policies SET updated = ? WHERE id = ?",
                        (store_val[]){SV_I(engine_now(e)), SV_I(id)}, 2);
    /* every open work order on this policy keeps its used time and gets the new target */
    if (!rc)
        rc = tickets_retarget_policy(e, id, tctx(e)->cfg.tz);
    finish_write(e, c, &rc, "update", "slaPolicy", c->id, before, rc ? NULL : policy_load(s, id),
                 200);
    return rc;
}

static err apply_policy_delete(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_policies_changed(tctx(e));
    int64_t id;
    json_t *before = parse_i64(c->id, 1, INT64_MAX, &id) ? NULL : policy_load(s, id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no SLA policy %s",
                           c->id);
    err rc = store_exec(s, "DELETE FROM sla_policies WHERE id = ?", (store_val[]){SV_I(id)}, 1);
    /* open work orders fall back to the next matching policy */
    if (!rc)
        rc = tickets_retarget_policy(e, id, tctx(e)->cfg.tz);
    finish_write(e, c, &rc, "delete", "slaPolicy", c->id, before, NULL, 204);
    return rc;
}

static void policies_create(req *r)
{
    req_submit_checked(r, policy_fields, check_minutes, apply_policy_create);
}

static void policies_patch(req *r)
{
    req_submit_checked(r, policy_patch_fields, check_minutes, apply_policy_patch);
}

static void policies_delete(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->id = req_param(r, "id");
    c->apply = apply_policy_delete;
    req_submit(r);
}

static void list_ids(req *r, const char *sql, json_t *(*load)(store *, const char *))
{
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, sql, NULL, 0, &res)) {
        req_fail(r, 503, "unavailable", "", "the store is not reachable");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *o = load(s, store_text(res, i, 0));
        if (o)
            json_array_append_new(arr, o);
    }
    int64_t n = store_rows(res);
    store_res_free(res);
    req_list(r, arr, n);
}

static json_t *policy_load_s(store *s, const char *id)
{
    int64_t n;
    return parse_i64(id, 1, INT64_MAX, &n) ? NULL : policy_load(s, n);
}

static void policies_list(req *r)
{
    list_ids(r, "SELECT id FROM sla_policies ORDER BY id", policy_load_s);
}

static void get_by(req *r, json_t *(*load)(store *, const char *), const char *what)
{
    store *s = req_store(r);
    if (!s)
        return;
    json_t *o = load(s, req_param(r, "id"));
    if (!o) {
        req_fail(r, 404, "notFound", "id", "no %s %s", what, req_param(r, "id"));
        return;
    }
    req_json(r, 200, o);
}

static void policies_get(req *r)
{
    get_by(r, policy_load_s, "SLA policy");
}

/* ---- calendars ---- */

static const json_field calendar_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 32, NULL},  {"name", JT_STRING, JF_REQUIRED, 64, NULL},
    {"hours", JT_ARRAY, JF_REQUIRED, 0, NULL}, {"holidays", JT_ARRAY, 0, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},    {NULL, 0, 0, 0, NULL},
};

static const json_field calendar_patch_fields[] = {
    {"name", JT_STRING, 0, 64, NULL},       {"hours", JT_ARRAY, 0, 0, NULL},
    {"holidays", JT_ARRAY, 0, 0, NULL},     {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL}, {NULL, 0, 0, 0, NULL},
};

static json_t *calendar_load(store *s, const char *id)
{
    store_res *r;
    if (store_query(s, "SELECT id, name, doc FROM calendars WHERE id = ?", (store_val[]){SV_S(id)},
                    1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r) == 1) {
        json_t *doc = json_load(store_text(r, 0, 2));
        char *href = xasprintf("/api/v1/calendars/%s", store_text(r, 0, 0));
        json_t *hours = json_object_get(doc, "hours"), *hol = json_object_get(doc, "holidays");
        o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", store_text(r, 0, 0), "href", href, "name",
                      store_text(r, 0, 1), "hours", hours ? json_incref(hours) : json_array(),
                      "holidays", hol ? json_incref(hol) : json_array());
        free(href);
        json_decref(doc);
    }
    store_res_free(r);
    return o;
}

static char *calendar_doc(const json_t *in)
{
    json_t *doc = json_object();
    json_t *hol = json_object_get(in, "holidays");
    json_object_set(doc, "hours", json_object_get(in, "hours"));
    json_object_set_new(doc, "holidays", hol ? json_incref(hol) : json_array());
    char *s = json_dump(doc);
    json_decref(doc);
    return s;
}

static err apply_calendar_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const char *id = jstr(c->in, "id");
    json_t *old = calendar_load(s, id);
    if (old) {
        json_decref(old);
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "id",
                           "id: calendar '%s' exists", id);
    }
    char *doc = calendar_doc(c->in);
    int64_t now = engine_now(e);
    err rc = store_exec(
        s,
        "INSERT INTO calendars(id, name, doc, created, updated)"
        " VALUES (?, ?, ?, ?, ?)",
        (store_val[]){SV_S(id), SV_S(jstr(c->in, "name")), SV_S(doc), SV_I(now), SV_I(now)}, 5);
    free(doc);
    snprintf(c->location, sizeof c->location, "/api/v1/calendars/%s", id);
    finish_write(e, c, &rc, "create", "calendar", id, NULL, rc ? NULL : calendar_load(s, id), 201);
    return rc;
}

static err apply_calendar_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_policies_changed(tctx(e));
    json_t *before = calendar_load(s, c->id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no calendar %s", c->id);
    json_t *merged = json_deep_copy(before);
    json_object_update(merged, c->in);
    char *doc = calendar_doc(merged);
    err rc = store_exec(
        s, "UPDATE calendars SET name = ?, doc = ?, updated = ? WHERE id = ?",
        (store_val[]){SV_S(jstr(merged, "name")), SV_S(doc), SV_I(engine_now(e)), SV_S(c->id)}, 4);
    free(doc);
    json_decref(merged);
    /* re-time open work orders on every policy using this calendar */
    store_res *r = NULL;
    if (!rc)
        rc = store_query(s, "SELECT id FROM sla_policies WHERE calendar_id = ?",
                         (store_val[]){SV_S(c->id)}, 1, &r);
    for (int i = 0; !rc && i < store_rows(r); i++)
        rc = tickets_retarget_policy(e, store_int(r, i, 0), tctx(e)->cfg.tz);
    store_res_free(r);
    finish_write(e, c, &rc, "update", "calendar", c->id, before,
                 rc ? NULL : calendar_load(s, c->id), 200);
    return rc;
}

/* check what is given; a PATCH without hours is checked with a stand-in window */
static err check_calendar(const json_t *b, problem *p)
{
    if (!json_object_get(b, "hours") && !json_object_get(b, "holidays"))
        return ERR_OK;
    json_t *hours = json_object_get(b, "hours"), *hol = json_object_get(b, "holidays");
    json_t *probe = json_pack(
        "{s:o, s:o}", "hours",
        hours ? json_incref(hours)
              : json_pack("[{s:i,s:s,s:s}]", "weekday", 1, "from", "09:00", "to", "18:00"),
        "holidays", hol ? json_incref(hol) : json_array());
    sla_calendar cal;
    err rc = sla_calendar_parse(probe, 480, &cal, p);
    json_decref(probe);
    return rc;
}

static void calendars_create(req *r)
{
    req_submit_checked(r, calendar_fields, check_calendar, apply_calendar_create);
}

static void calendars_patch(req *r)
{
    req_submit_checked(r, calendar_patch_fields, check_calendar, apply_calendar_patch);
}

static void calendars_list(req *r)
{
    list_ids(r, "SELECT id FROM calendars ORDER BY id", calendar_load);
}

static void calendars_get(req *r)
{
    get_by(r, calendar_load, "calendar");
}

/* ---- dispatch rules ---- */

static const json_field rule_fields[] = {
    {"position", JT_INT, JF_REQUIRED, 0, NULL},
    {"ticketType", JT_STRING, JF_NULLABLE, 32, ticket_type_names},
    {"category", JT_STRING, JF_NULLABLE, 64, NULL},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"service", JT_STRING, JF_NULLABLE, 64, NULL},
    {"group", JT_STRING, JF_REQUIRED, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field rule_patch_fields[] = {
    {"position", JT_INT, 0, 0, NULL},
    {"ticketType", JT_STRING, JF_NULLABLE, 32, ticket_type_names},
    {"category", JT_STRING, JF_NULLABLE, 64, NULL},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"service", JT_STRING, JF_NULLABLE, 64, NULL},
    {"group", JT_STRING, 0, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static json_t *rule_load(store *s, const char *id)
{
    store_res *r;
    if (store_query(s,
                    "SELECT id, position, ticket_type, category, area, service, group_id"
                    " FROM dispatch_rules WHERE id = ?",
                    (store_val[]){SV_S(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r) == 1) {
        char *href = xasprintf("/api/v1/dispatchRules/%s", store_text(r, 0, 0));
        o = json_pack("{s:s, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:s}", "id", store_text(r, 0, 0),
                      "href", href, "position", (json_int_t)store_int(r, 0, 1), "ticketType",
                      store_text(r, 0, 2), "category", store_text(r, 0, 3), "area",
                      store_text(r, 0, 4), "service", store_text(r, 0, 5), "group",
                      store_text(r, 0, 6));
        free(href);
    }
    store_res_free(r);
    return o;
}

static err apply_rule_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    err rc = engine_require_row(e, c, "work_groups", "id", jstr(c->in, "group"), "group", "group");
    if (rc)
        return rc;
    int64_t id = engine_next_id(e, "dispatch_rules");
    int64_t now = engine_now(e);
    rc = store_exec(s,
                    "INSERT INTO dispatch_rules(id, position, ticket_type, category, area, service,"
                    " group_id, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (store_val[]){SV_I(id),
                                  SV_I(json_integer_value(json_object_get(c->in, "position"))),
                                  SV_S(jstr(c->in, "ticketType")), SV_S(jstr(c->in, "category")),
                                  SV_S(jstr(c->in, "area")), SV_S(jstr(c->in, "service")),
                                  SV_S(jstr(c->in, "group")), SV_I(now), SV_I(now)},
                    9);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(c->location, sizeof c->location, "/api/v1/dispatchRules/%s", ids);
    finish_write(e, c, &rc, "create", "dispatchRule", ids, NULL, rc ? NULL : rule_load(s, ids),
                 201);
    return rc;
}

static err apply_rule_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    json_t *before = rule_load(s, c->id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no dispatch rule %s",
                           c->id);
    err rc = engine_require_row(e, c, "work_groups", "id", jstr(c->in, "group"), "group", "group");
    static const struct {
        const char *json, *col;
    } cols[] = {{"ticketType", "ticket_type"},
                {"category", "category"},
                {"area", "area"},
                {"service", "service"},
                {"group", "group_id"}};
    for (size_t i = 0; !rc && i < ARRAY_LEN(cols); i++) {
        if (!json_object_get(c->in, cols[i].json))
            continue;
        char *sql = xasprintf("UPDATE dispatch_rules SET %s = ? WHERE id = ?", cols[i].col);
        rc = store_exec(s, sql, (store_val[]){SV_S(jstr(c->in, cols[i].json)), SV_S(c->id)}, 2);
        free(sql);
    }
    json_t *pos = json_object_get(c->in, "position");
    if (!rc && pos)
        rc = store_exec(s, "UPDATE dispatch_rules SET position = ? WHERE id = ?",
                        (store_val[]){SV_I(json_integer_value(pos)), SV_S(c->id)}, 2);
    if (!rc)
        rc = store_exec(s, "UPDATE dispatch_rules SET updated = ? WHERE id = ?",
                        (store_val[]){SV_I(engine_now(e)), SV_S(c->id)}, 2);
    finish_write(e, c, &rc, "update", "dispatchRule", c->id, before,
                 rc ? NULL : rule_load(s, c->id), 200);
    return rc;
}

static err apply_rule_delete(engine *e, cmd *c)
{
    store *s = engine_store(e);
    json_t *before = rule_load(s, c->id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no dispatch rule %s",
                           c->id);
    err rc =
        store_exec(s, "DELETE FROM dispatch_rules WHERE id = ?", (store_val[]){SV_S(c->id)}, 1);
    finish_write(e, c, &rc, "delete", "dispatchRule", c->id, before, NULL, 204);
    return rc;
}

static err check_rule(const json_t *b, problem *p)
{
    if (jstr(b, "area") && !area_code_ok(jstr(b, "area")))
        return problem_field(p, "area", "must be an area code like GD.SZ");
    json_t *pos = json_object_get(b, "position");
    if (pos && (json_integer_value(pos) < 0 || json_integer_value(pos) > 1000000))
        return problem_field(p, "position", "must be 0 … 1000000");
    return ERR_OK;
}

static void rules_create(req *r)
{
    req_submit_checked(r, rule_fields, check_rule, apply_rule_create);
}

static void rules_patch(req *r)
{
    req_submit_checked(r, rule_patch_fields, check_rule, apply_rule_patch);
}

static void rules_delete(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->id = req_param(r, "id");
    c->apply = apply_rule_delete;
    req_submit(r);
}

static void rules_list(req *r)
{
    list_ids(r, "SELECT id FROM dispatch_rules ORDER BY position, id", rule_load);
}

static void rules_get(req *r)
{
    get_by(r, rule_load, "dispatch rule");
}

/* ---- group work queue ---- */

static void group_queue(req *r)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    const char *g = req_param(r, "id");
    int64_t n = 0;
    if (store_scalar(s, "SELECT COUNT(*) FROM work_groups WHERE id = ?", (store_val[]){SV_S(g)}, 1,
                     0, &n) ||
        !n) {
        req_fail(r, 404, "notFound", "id", "no group %s", g);
        return;
    }
    int64_t total = 0;
    store_res *res = NULL;
    store_val args[3] = {SV_S(g)};
    err rc =
        store_page(s, TICKET_COLS,
                   "tickets WHERE assigned_group = ? AND status IN"
                   " ('acknowledged', 'inProgress', 'pending')",
                   "resolution_due IS NULL, resolution_due, id", args, 1, lim, off, &total, &res);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "the queue cannot be read now");
        return;
    }
    tickets_ctx *tc = req_route_ctx(r);
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        ticket t;
        ticket_from_row(res, i, &t);
        json_array_append_new(arr, ticket_render(s, &t, tc->cfg.tz, false));
        ticket_free(&t);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

#define SETTERS (ROLE_ADMIN | ROLE_SUPERVISOR)

static const route admin_routes[] = {
    {"GET", "/api/v1/slaPolicies", ROUTE_ANY, policies_list},
    {"POST", "/api/v1/slaPolicies", SETTERS, policies_create},
    {"GET", "/api/v1/slaPolicies/{id}", ROUTE_ANY, policies_get},
    {"PATCH", "/api/v1/slaPolicies/{id}", SETTERS, policies_patch},
    {"DELETE", "/api/v1/slaPolicies/{id}", SETTERS, policies_delete},
    {"GET", "/api/v1/calendars", ROUTE_ANY, calendars_list},
    {"POST", "/api/v1/calendars", SETTERS, calendars_create},
    {"GET", "/api/v1/calendars/{id}", ROUTE_ANY, calendars_get},
    {"PATCH", "/api/v1/calendars/{id}", SETTERS, calendars_patch},
    {"GET", "/api/v1/dispatchRules", ROUTE_ANY, rules_list},
    {"POST", "/api/v1/dispatchRules", SETTERS, rules_create},
    {"GET", "/api/v1/dispatchRules/{id}", ROUTE_ANY, rules_get},
    {"PATCH", "/api/v1/dispatchRules/{id}", SETTERS, rules_patch},
    {"DELETE", "/api/v1/dispatchRules/{id}", SETTERS, rules_delete},
    {"GET", "/api/v1/groups/{id}/queue", ROUTE_ANY, group_queue},
    {NULL, NULL, 0, NULL},
};

void tickets_admin_register(tickets_ctx *t, http_server *s)
{
    http_add_routes(s, admin_routes, t);
}

/* ---- offline demo helpers ---- */

err tickets_demo_policy(store *s, int64_t id, const char *type, const char *priority,
                        const char *level, int response_min, int resolution_min)
{
    int64_t now = time_real_ms();
    return store_exec(s,
                      "INSERT INTO sla_policies(id, ticket_type, priority, customer_level,"
                      " response_min, resolution_min, calendar_id, created, updated)"
                      " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT DO NOTHING",
                      (store_val[]){SV_I(id), SV_S(type), SV_S(priority), SV_S(level),
                                    SV_I(response_min), SV_I(resolution_min), SV_I(now), SV_I(now)},
                      8);
}

err tickets_demo_rule(store *s, int64_t id, int position, const char *type, const char *category,
                      const char *area, const char *service, const char *group)
{
    int64_t now = time_real_ms();
    return store_exec(s,
                      "INSERT INTO dispatch_rules(id, position, ticket_type, category, area,"
                      " service, group_id, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT DO NOTHING",
                      (store_val[]){SV_I(id), SV_I(position), SV_S(type), SV_S(category),
                                    SV_S(area), SV_S(service), SV_S(group), SV_I(now), SV_I(now)},
                      9);
}
