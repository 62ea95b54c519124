/*
 * api.c — the TMF621 troubleTicket routes. Handlers validate on the HTTP thread and hand
 * a command to the engine; the apply functions below run there, in order, inside the
 * batch transaction: they check the rules, write the ticket, its notes and moves, the
 * audit rows and the events, and schedule SLA timers.
 */
#include "tickets/tickets_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "/tmf-api/troubleTicket/v4/troubleTicket"

static const char *const visibility_names[] = {"internal", "customer", NULL};

static const json_field party_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 64, NULL},
    {"href", JT_STRING, 0, 200, NULL},
    {"name", JT_STRING, 0, 100, NULL},
    {"role", JT_STRING, 0, 32, NULL},
    {"@referredType", JT_STRING, 0, 32, NULL},
    {"@type", JT_STRING, 0, 32, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field channel_fields[] = {
    {"id", JT_STRING, 0, 64, NULL},    {"href", JT_STRING, 0, 200, NULL},
    {"name", JT_STRING, 0, 64, NULL},  {"@referredType", JT_STRING, 0, 32, NULL},
    {"@type", JT_STRING, 0, 32, NULL}, {NULL, 0, 0, 0, NULL},
};

static const json_field note_fields[] = {
    {"text", JT_STRING, JF_REQUIRED, 4000, NULL},
    {"visibility", JT_STRING, 0, 16, visibility_names},
    {"author", JT_STRING, 0, 64, NULL},
    {"@type", JT_STRING, 0, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"date", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

#define RO(n)                                                                                      \
    {                                                                                              \
        n, JT_ANY, JF_READONLY, 0, NULL                                                            \
    }

static const json_field create_fields[] = {
    {"name", JT_STRING, 0, 200, NULL},
    {"description", JT_STRING, JF_REQUIRED, 4000, NULL},
    {"ticketType", JT_STRING, JF_REQUIRED, 32, ticket_type_names},
    {"severity", JT_STRING, JF_REQUIRED, 16, ticket_severity_names},
    {"priority", JT_STRING, 0, 16, ticket_priority_names},
    {"channel", JT_OBJECT, 0, 0, NULL},
    {"relatedParty", JT_ARRAY, 0, 0, NULL},
    {"relatedEntity", JT_ARRAY, 0, 0, NULL},
    {"category", JT_STRING, 0, 64, NULL},
    {"area", JT_STRING, 0, 64, NULL},
    {"service", JT_STRING, 0, 64, NULL},
    {"customerLevel", JT_STRING, 0, 16, ticket_level_names},
    {"externalId", JT_STRING, 0, 128, NULL},
    {"requestedResolutionDate", JT_STRING, 0, 40, NULL},
    {"note", JT_ARRAY, 0, 0, NULL},
    {"@type", JT_STRING, 0, 64, NULL},
    {"@baseType", JT_STRING, 0, 64, NULL},
    {"@schemaLocation", JT_STRING, 0, 200, NULL},
    RO("id"),
    RO("href"),
    RO("status"),
    RO("stage"),
    RO("stageLabel"),
    RO("step"),
    RO("creationDate"),
    RO("lastUpdate"),
    RO("statusChange"),
    RO("statusChangeDate"),
    RO("statusChangeReason"),
    RO("expectedResolutionDate"),
    RO("resolutionDate"),
    RO("slaState"),
    RO("escalated"),
    RO("repeatOf"),
    RO("troubleTicketRelationship"),
    RO("assignedGroup"),
    RO("assignee"),
    RO("responseDueDate"),
    RO("respondedDate"),
    RO("slaPolicy"),
    RO("createdBy"),
    {NULL, 0, 0, 0, NULL},
};

static const json_field patch_fields[] = {
    {"name", JT_STRING, 0, 200, NULL},
    {"description", JT_STRING, 0, 4000, NULL},
    {"ticketType", JT_STRING, 0, 32, ticket_type_names},
    {"severity", JT_STRING, 0, 16, ticket_severity_names},
    {"priority", JT_STRING, 0, 16, ticket_priority_names},
    {"category", JT_STRING, JF_NULLABLE, 64, NULL},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"service", JT_STRING, JF_NULLABLE, 64, NULL},
    {"customerLevel", JT_STRING, 0, 16, ticket_level_names},
    {"assignee", JT_STRING, JF_NULLABLE, 64, NULL},
    {"assignedGroup", JT_STRING, 0, 32, NULL},
    {"requestedResolutionDate", JT_STRING, JF_NULLABLE, 40, NULL},
    {"stage", JT_STRING, 0, 32, ticket_stage_names},
    {"step", JT_STRING, 0, 16, ticket_step_names},
    {"status", JT_STRING, 0, 16, ticket_status_names},
    {"statusChangeReason", JT_STRING, 0, 400, NULL},
    {"note", JT_ARRAY, 0, 0, NULL},
    {"@type", JT_STRING, 0, 64, NULL},
    RO("id"),
    RO("href"),
    RO("creationDate"),
    RO("lastUpdate"),
    RO("statusChange"),
    RO("statusChangeDate"),
    RO("expectedResolutionDate"),
    RO("resolutionDate"),
    RO("slaState"),
    RO("escalated"),
    RO("repeatOf"),
    RO("troubleTicketRelationship"),
    RO("stageLabel"),
    RO("relatedParty"),
    RO("relatedEntity"),
    RO("channel"),
    RO("externalId"),
    RO("responseDueDate"),
    RO("respondedDate"),
    RO("slaPolicy"),
    RO("createdBy"),
    {NULL, 0, 0, 0, NULL},
};

/* check an array of objects against a field list, naming the element on error */
static err check_items(const json_t *arr, const char *name, const json_field *fields, size_t max,
                       problem *p)
{
    if (!arr)
        return ERR_OK;
    if (json_array_size(arr) > max)
        return problem_field(p, name, "at most %zu entries", max);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char path[48];
        snprintf(path, sizeof path, "%s[%zu]", name, i);
        err rc = json_check(v, fields, path, p);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static err check_time_field(const json_t *b, const char *name, int tz, problem *p)
{
    const char *s = jstr(b, name);
    int64_t ms;
    if (s && time_parse_iso(s, tz, &ms))
        return problem_field(p, name, "must be an ISO 8601 date-time");
    return ERR_OK;
}

static err check_text(const json_t *b, const char *name, problem *p)
{
    const char *s = jstr(b, name);
    if (!s)
        return ERR_OK;
    /* not empty and not only blanks */
    for (const char *q = s; *q; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
            return ERR_OK;
    return problem_field(p, name, "must not be empty");
}

static err check_area(const json_t *b, problem *p)
{
    const char *a = jstr(b, "area");
    if (a && !area_code_ok(a))
        return problem_field(p, "area",
                             "must be an area code: segments of letters, digits or '_' joined "
                             "by '.', like GD.SZ.NS");
    return ERR_OK;
}

static tickets_ctx *ctx_of(engine *e)
{
    return engine_ctx(e, ENGINE_CTX_TICKETS);
}

/* ---- shared apply helpers ---- */

err tickets_add_note(engine *e, int64_t ticket_id, const char *author, const char *text,
                     const char *visibility)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)ticket_id);
    err rc = store_exec(engine_store(e),
                        "INSERT INTO ticket_notes(id, ticket_id, time, author, text,"
                        " visibility) VALUES (?, ?, ?, ?, ?, ?)",
                        (store_val[]){SV_I(engine_next_id(e, "ticket_notes")), SV_I(ticket_id),
                                      SV_I(engine_now(e)), SV_S(author), SV_S(text),
                                      SV_S(visibility)},
                        6);
    if (!rc)
        rc = engine_emit(e, "ticket.noteAdded", "ticket", ids, author,
                         json_pack("{s:s}", "visibility", visibility));
    return rc;
}

static err add_notes(engine *e, cmd *c, int64_t ticket_id, const json_t *notes, int64_t now)
{
    (void)now;
    size_t i;
    json_t *n;
    json_array_foreach(notes, i, n)
    {
        const char *vis = jstr(n, "visibility") ? jstr(n, "visibility") : "internal";
        err rc = tickets_add_note(e, ticket_id, c->actor, jstr(n, "text"), vis);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static err add_move(engine *e, const char *actor, const ticket *t, const char *from, int64_t now)
{
    return store_exec(engine_store(e),
                      "INSERT INTO ticket_moves(id, ticket_id, time, actor, from_stage, to_stage,"
                      " status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      (store_val[]){SV_I(engine_next_id(e, "ticket_moves")), SV_I(t->id), SV_I(now),
                                    SV_S(actor), SV_S(from), SV_S(t->stage), SV_S(t->status),
                                    SV_S(t->status_change_reason)},
                      8);
}

static json_t *event_summary(const ticket *t)
{
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "ticketType",
                     t->ticket_type, "stage", t->stage, "status", t->status, "category",
                     t->category, "area", t->area, "service", t->service, "customer",
                     t->customer_id, "assignedGroup", t->assigned_group, "priority", t->priority);
}

/* runs on the HTTP thread after commit: the answer is the ticket as stored */
static json_t *render_out(cmd *c, store *reader, void *route_ctx)
{
    tickets_ctx *tc = route_ctx;
    ticket t;
    if (ticket_load(reader, c->out_id, &t))
        return NULL;
    json_t *o = ticket_render(reader, &t, tc->cfg.tz, true);
    ticket_free(&t);
    return o;
}

static void set_out(cmd *c, store *s, const ticket *t, int tz)
{
    (void)s;
    (void)tz;
    c->out_id = t->id;
    c->render = render_out;
}

/* ---- create ---- */

static err find_repeat(store *s, ticket *t, int days)
{
    if (!t->customer_id || !t->category || days <= 0)
        return ERR_OK;
    store_res *r;
    err rc = store_query(s,
                         "SELECT id FROM tickets WHERE customer_id = ? AND category = ?"
                         " AND created >= ? AND id <> ? ORDER BY created DESC LIMIT 1",
                         (store_val[]){SV_S(t->customer_id), SV_S(t->category),
                                       SV_I(t->created - (int64_t)days * 86400000), SV_I(t->id)},
                         4, &r);
    if (rc)
        return rc;
    if (store_rows(r) == 1) {
        t->repeat_of = store_int(r, 0, 0);
        json_t *rel = json_array();
        char *href = xasprintf(BASE "/%s", store_text(r, 0, 0));
        json_array_append_new(rel, json_pack("{s:s, s:s, s:s, s:s}", "id", store_text(r, 0, 0),
                                             "href", href, "relationshipType", "isRepeatOf",
                                             "@type", "TroubleTicketRelationship"));
        free(href);
        char *text = json_dump(rel);
        json_decref(rel);
        tset(&t->relationships, text);
        free(text);
    }
    store_res_free(r);
    return ERR_OK;
}

static const char *customer_of(const json_t *parties)
{
    size_t i;
    json_t *p;
    json_array_foreach(parties, i, p)
    {
        const char *role = jstr(p, "role");
        if (role && (strcmp(role, "customer") == 0 || strcmp(role, "Customer") == 0))
            return jstr(p, "id");
    }
    return NULL;
}

static char *doc_or_null(const json_t *v)
{
    return v ? json_dump(v) : NULL;
}

static void add_incident_relationship(ticket *t, const char *incident)
{
    json_t *rel = t->relationships ? json_load(t->relationships) : NULL;
    if (!json_is_array(rel)) {
        json_decref(rel);
        rel = json_array();
    }
    char *href = xasprintf("/tmf-api/serviceProblemManagement/v4/serviceProblem/%s", incident);
    json_array_append_new(rel, json_pack("{s:s, s:s, s:s, s:s}", "id", incident, "href", href,
                                         "relationshipType", "attachedToIncident", "@type",
                                         "TroubleTicketRelationship"));
    free(href);
    char *text = json_dump(rel);
    json_decref(rel);
    tset(&t->relationships, text);
    free(text);
}

static err apply_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_ctx *tc = ctx_of(e);
    int tz = tc->cfg.tz;
    int64_t now = engine_now(e);
    err rc;
    if (c->idem_key) {
        store_res *r;
        rc = store_query(s, "SELECT entity_id FROM idempotency WHERE key = ?",
                         (store_val[]){SV_S(c->idem_key)}, 1, &r);
        if (rc)
            return rc;
        if (store_rows(r) == 1) {
            ticket old;
            rc = ticket_load(s, store_int(r, 0, 0), &old);
            store_res_free(r);
            if (rc)
                return rc;
            set_out(c, s, &old, tz);
            snprintf(c->location, sizeof c->location, BASE "/%lld", (long long)old.id);
            c->status = 201;
            ticket_free(&old);
            return ERR_OK;
        }
        store_res_free(r);
    }
    const json_t *in = c->in;
    ticket t = {0};
    t.id = engine_next_id(e, "tickets");
    tset(&t.name, jstr(in, "name"));
    tset(&t.description, jstr(in, "description"));
    tset(&t.ticket_type, jstr(in, "ticketType"));
    tset(&t.severity, jstr(in, "severity"));
    tset(&t.priority, jstr(in, "priority") ? jstr(in, "priority") : "Medium");
    tset(&t.stage, "new");
    tset(&t.status, lifecycle_status("new"));
    tset(&t.status_change_reason, "created");
    t.status_change_date = t.created = t.updated = now;
    const char *rrd = jstr(in, "requestedResolutionDate");
    if (rrd)
        time_parse_iso(rrd, tz, &t.requested_resolution);
    tset(&t.external_id, jstr(in, "externalId"));
    t.channel = doc_or_null(json_object_get(in, "channel"));
    t.related_party = doc_or_null(json_object_get(in, "relatedParty"));
    t.related_entity = doc_or_null(json_object_get(in, "relatedEntity"));
    tset(&t.customer_id, customer_of(json_object_get(in, "relatedParty")));
    tset(&t.category, jstr(in, "category"));
    tset(&t.area, jstr(in, "area"));
    tset(&t.service, jstr(in, "service"));
    tset(&t.customer_level, jstr(in, "customerLevel") ? jstr(in, "customerLevel") : "normal");
    tset(&t.created_by, c->actor);
    rc = tickets_sla_init(tc, s, &t, now);
    if (!rc)
        rc = find_repeat(s, &t, tc->cfg.repeat_days);
    char incident[24] = "", inote[400] = "";
    if (!rc && tc->attach &&
        (strcmp(t.ticket_type, "complaint") == 0 || strcmp(t.ticket_type, "faultReport") == 0)) {
        ticket_attach_ask ask = {t.id, t.customer_id, t.ticket_type, t.service, t.area};
        rc = tc->attach(e, &ask, incident, sizeof incident, inote, sizeof inote);
        if (!rc && incident[0])
            add_incident_relationship(&t, incident);
    }
    if (!rc)
        rc = ticket_insert(s, &t);
    if (!rc)
        rc = add_move(e, c->actor, &t, NULL, now);
    if (!rc && json_object_get(in, "note"))
        rc = add_notes(e, c, t.id, json_object_get(in, "note"), now);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)t.id);
    json_t *after = NULL;
    if (!rc) {
        after = ticket_render(s, &t, tz, false);
        rc = engine_audit(e, c->actor, "create", "ticket", ids, NULL, after);
    }
    if (!rc)
        rc = engine_emit(e, "ticket.created", "ticket", ids, c->actor, event_summary(&t));
    if (!rc && t.repeat_of)
        rc = engine_emit(e, "ticket.repeatDetected", "ticket", ids, c->actor,
                         json_pack("{s:I, s:s?, s:s?}", "repeatOf", (json_int_t)t.repeat_of,
                                   "customer", t.customer_id, "category", t.category));
    if (!rc && c->idem_key)
        rc = store_exec(s,
                        "INSERT INTO idempotency(key, entity_type, entity_id, created)"
                        " VALUES (?, 'ticket', ?, ?)",
                        (store_val[]){SV_S(c->idem_key), SV_S(ids), SV_I(now)}, 3);
    json_decref(after);
    if (!rc && incident[0]) {
        /* the customer is told at once; the work order waits on the incident */
        json_t *notes = json_pack("[{s:s, s:s}]", "text", inote, "visibility", "customer");
        rc = add_notes(e, c, t.id, notes, now);
        json_decref(notes);
        char *why = xasprintf("attached to incident %s", incident);
        if (!rc)
            rc = tickets_system_move(e, t.id, "pending", NULL, why, &c->prob);
        free(why);
    } else if (!rc) {
        tickets_schedule(e, &t);
    }
    if (!rc) {
        set_out(c, s, &t, tz);
        snprintf(c->location, sizeof c->location, BASE "/%s", ids);
        c->status = 201;
    }
    ticket_free(&t);
    return rc;
}

static void create(req *r)
{
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, create_fields, "", &p) || check_text(b, "description", &p) ||
        (json_object_get(b, "channel") &&
         json_check(json_object_get(b, "channel"), channel_fields, "channel", &p)) ||
        check_items(json_object_get(b, "relatedParty"), "relatedParty", party_fields, 20, &p) ||
        check_items(json_object_get(b, "relatedEntity"), "relatedEntity", party_fields, 20, &p) ||
        check_items(json_object_get(b, "note"), "note", note_fields, 20, &p) ||
        check_time_field(b, "requestedResolutionDate", req_tz(r), &p) || check_area(b, &p)) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_incref(b);
    c->apply = apply_create;
    const char *key = req_header(r, "Idempotency-Key");
    if (key) {
        if (strlen(key) == 0 || strlen(key) > 128) {
            req_fail(r, 400, "invalidField", "Idempotency-Key",
                     "Idempotency-Key: 1–128 characters");
            return;
        }
        /* keys are per caller: one integrator's key never returns another's ticket */
        char *scoped = xasprintf("%s:%s", req_who(r)->username, key);
        json_object_set_new(c->in, "_idem", json_string(scoped));
        free(scoped);
        c->idem_key = jstr(c->in, "_idem");
    }
    req_submit(r);
}

/* ---- patch: field changes and lifecycle moves ---- */

static err dispatch_target(store *s, const ticket *t, const char **out, char **owned)
{
    *out = NULL;
    *owned = NULL;
    store_res *r;
    err rc = store_query(s,
                         "SELECT id, position, ticket_type, category, area, service, group_id"
                         " FROM dispatch_rules ORDER BY position, id",
                         NULL, 0, &r);
    if (rc)
        return rc;
    int n = store_rows(r);
    dispatch_rule *rules = xcalloc((size_t)n + 1, sizeof *rules);
    for (int i = 0; i < n; i++)
        rules[i] = (dispatch_rule){
            store_int(r, i, 0),  (int)store_int(r, i, 1), store_text(r, i, 2), store_text(r, i, 3),
            store_text(r, i, 4), store_text(r, i, 5),     store_text(r, i, 6)};
    ticket_keys k = {t->ticket_type, t->category, t->area, t->service};
    int hit = rules_match(rules, n, &k);
    if (hit >= 0) {
        *owned = xstrdup(rules[hit].group);
        *out = *owned;
    }
    free(rules);
    store_res_free(r);
    return ERR_OK;
}

typedef struct {
    const char *json, *col_desc;
    size_t off;
    bool policy; /* a change re-chooses the SLA policy */
} field_map;

static const field_map patchable[] = {
    {"name", "name", offsetof(ticket, name), false},
    {"description", "description", offsetof(ticket, description), false},
    {"ticketType", "ticketType", offsetof(ticket, ticket_type), true},
    {"severity", "severity", offsetof(ticket, severity), false},
    {"priority", "priority", offsetof(ticket, priority), true},
    {"category", "category", offsetof(ticket, category), false},
    {"area", "area", offsetof(ticket, area), false},
    {"service", "service", offsetof(ticket, service), false},
    {"customerLevel", "customerLevel", offsetof(ticket, customer_level), true},
};

static err apply_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    tickets_ctx *tc = ctx_of(e);
    int tz = tc->cfg.tz;
    int64_t now = engine_now(e);
    int64_t id;
    if (parse_i64(c->id, 1, INT64_MAX, &id))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no work order %s",
                           c->id);
    ticket t;
    err rc = ticket_load(s, id, &t);
    if (rc == ERR_NOTFOUND)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no work order %s",
                           c->id);
    if (rc)
        return rc;
    const json_t *in = c->in;
    json_t *before = ticket_render(s, &t, tz, false);
    json_t *changed = json_array();
    bool repolicy = false;
    ticket orig;
    ticket_copy(&t, &orig);
    char *owned_group = NULL; /* a group chosen by the rules */
    char *from_copy = NULL;   /* the stage moved from */

    /* 1. plain fields */
    for (size_t i = 0; i < ARRAY_LEN(patchable); i++) {
        json_t *v = json_object_get(in, patchable[i].json);
        if (!v)
            continue;
        char **f = (char **)((char *)&t + patchable[i].off);
        const char *nv = json_is_string(v) ? json_string_value(v) : NULL;
        if (str_eq(*f, nv))
            continue;
        tset(f, nv);
        json_array_append_new(changed, json_string(patchable[i].json));
        repolicy |= patchable[i].policy;
    }
    json_t *asg = json_object_get(in, "assignee");
    /* work goes to people who exist and may sign in */
    rc = engine_require_row(e, c, "users", "active = 1 AND username", json_string_value(asg),
                            "assignee", "active user");
    if (rc)
        goto out;
    if (asg && !str_eq(t.assignee, json_string_value(asg))) {
        tset(&t.assignee, json_string_value(asg));
        json_array_append_new(changed, json_string("assignee"));
    }
    json_t *rrd = json_object_get(in, "requestedResolutionDate");
    if (rrd) {
        int64_t ms = 0;
        if (json_is_string(rrd))
            time_parse_iso(json_string_value(rrd), tz, &ms);
        t.requested_resolution = ms;
        json_array_append_new(changed, json_string("requestedResolutionDate"));
    }

    /* 2. the move, if any */
    const char *target = jstr(in, "stage");
    const char *status = jstr(in, "status");
    const char *group = jstr(in, "assignedGroup");
    const char *step = jstr(in, "step");
    if (!target && status) {
        target = lifecycle_stage_for_status(t.stage, status);
        if (!target) {
            rc =
                problem_set(&c->prob, ERR_CONFLICT, 409, "illegalTransition", "status",
                            "status: a work order in stage %s (status %s) cannot move to status %s",
                            t.stage, t.status, status);
            goto out;
        }
    }
    if (!target && group)
        target = "dispatched"; /* naming a group is a (re-)dispatch */
    if (!target && step) {
        if (strcmp(t.stage, "inProgress") != 0) {
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "illegalTransition", "step",
                             "step: only a work order in stage inProgress has a step (it is %s)",
                             t.stage);
            goto out;
        }
        target = "inProgress";
    }
    const char *from = NULL;
    if (target) {
        rc = lifecycle_check(t.stage, target, t.pending_from, c->roles, &c->prob);
        if (rc)
            goto out;
        from_copy = xstrdup(t.stage);
        from = from_copy;
        if (strcmp(target, "dispatched") == 0) {
            if (!group) {
                rc = dispatch_target(s, &t, &group, &owned_group);
                if (!rc && !group)
                    rc = problem_set(&c->prob, ERR_INVALID, 422, "invalidField", "assignedGroup",
                                     "assignedGroup: no dispatch rule matches this work order "
                                     "(type %s, category %s, area %s, service %s); name a group",
                                     t.ticket_type, t.category ? t.category : "-",
                                     t.area ? t.area : "-", t.service ? t.service : "-");
            } else {
                rc = engine_require_row(e, c, "work_groups", "id", group, "assignedGroup", "group");
            }
            if (rc)
                goto out;
            tset(&t.assigned_group, group);
            if (!asg)
                tset(&t.assignee, NULL);
        }
        if (strcmp(target, "pending") == 0)
            tset(&t.pending_from, t.stage);
        else
            tset(&t.pending_from, NULL);
        if (strcmp(target, "accepted") == 0 && !asg && !t.assignee)
            tset(&t.assignee, c->actor);
        if (strcmp(target, "inProgress") == 0)
            tset(&t.step, step ? step : (t.step ? t.step : "verify"));
        else if (strcmp(target, "pending") != 0) /* a pause keeps the step to come back to */
            tset(&t.step, NULL);
        bool was_resolved = lifecycle_sla_mode(t.stage) == SLA_STOPS;
        tset(&t.stage, target);
        tset(&t.status, lifecycle_status(target));
        tset(&t.status_change_reason, jstr(in, "statusChangeReason"));
        t.status_change_date = now;
        if ((strcmp(target, "accepted") == 0 || strcmp(target, "resolvedAtFirstLine") == 0) &&
            !t.responded)
            t.responded = now;
        if (strcmp(target, "reopened") == 0)
            t.resolution_date = 0;
        else if (lifecycle_sla_mode(target) == SLA_STOPS && strcmp(target, "cancelled") != 0 &&
                 (!was_resolved || !t.resolution_date))
            t.resolution_date = now;
        t.updated = now;
        rc = tickets_sla_after_move(s, &t, from, now, tz);
        if (!rc)
            rc = add_move(e, c->actor, &t, from, now);
    }
    t.updated = now;
    if (!rc && repolicy)
        rc = tickets_retarget_ticket(tc, s, &t);
    if (!rc)
        rc = ticket_update_changed(s, &orig, &t);
    if (!rc && json_object_get(in, "note"))
        rc = add_notes(e, c, t.id, json_object_get(in, "note"), now);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)t.id);
    json_t *after = NULL;
    if (!rc) {
        after = ticket_render(s, &t, tz, false);
        rc = engine_audit(e, c->actor, target ? "move" : "update", "ticket", ids, before, after);
    }
    if (!rc && json_array_size(changed))
        rc = engine_emit(e, "ticket.updated", "ticket", ids, c->actor,
                         json_pack("{s:O}", "fields", changed));
    if (!rc && target)
        rc = engine_emit(e, "ticket.stageChanged", "ticket", ids, c->actor,
                         json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "from", from, "to", t.stage,
                                   "status", t.status, "reason", t.status_change_reason,
                                   "assignedGroup", t.assigned_group, "customer", t.customer_id));
    if (!rc && target && strcmp(target, "dispatched") == 0)
        rc = engine_emit(
            e, "ticket.dispatched", "ticket", ids, c->actor,
            json_pack("{s:s, s:b}", "group", t.assigned_group, "byRule", owned_group != NULL));
    json_decref(after);
    if (!rc) {
        tickets_schedule(e, &t);
        set_out(c, s, &t, tz);
        c->status = 200;
    }
out:
    free(owned_group);
    free(from_copy);
    ticket_free(&orig);
    json_decref(before);
    json_decref(changed);
    ticket_free(&t);
    return rc;
}

static void patch(req *r)
{
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, patch_fields, "", &p) || check_text(b, "description", &p) ||
        check_items(json_object_get(b, "note"), "note", note_fields, 20, &p) ||
        check_time_field(b, "requestedResolutionDate", req_tz(r), &p) || check_area(b, &p)) {
        req_problem(r, &p);
        return;
    }
    if (jstr(b, "stage") && jstr(b, "status")) {
        req_fail(r, 400, "invalidField", "status", "status: give either stage or status, not both");
        return;
    }
    if (json_object_size(b) == 0) {
        req_fail(r, 400, "invalidField", "body", "body: nothing to change");
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_incref(b);
    c->id = req_param(r, "id");
    c->apply = apply_patch;
    req_submit(r);
}

/* ---- reads ---- */

static void get_one(req *r)
{
    int64_t id;
    store *s = req_store(r);
    if (!s)
        return;
    ticket t;
    if (parse_i64(req_param(r, "id"), 1, INT64_MAX, &id) || ticket_load(s, id, &t)) {
        req_fail(r, 404, "notFound", "id", "no work order %s", req_param(r, "id"));
        return;
    }
    tickets_ctx *tc = req_route_ctx(r);
    json_t *o = ticket_render(s, &t, tc->cfg.tz, true);
    req_json(r, 200, o);
    ticket_free(&t);
}

typedef struct {
    const char *param, *column;
    const char *const *enums;
    bool multi; /* comma = OR */
} filter_def;

static const filter_def filters[] = {
    {"status", "status", ticket_status_names, true},
    {"stage", "stage", ticket_stage_names, true},
    {"ticketType", "ticket_type", ticket_type_names, true},
    {"severity", "severity", ticket_severity_names, true},
    {"priority", "priority", ticket_priority_names, true},
    {"category", "category", NULL, false},
    {"service", "service", NULL, false},
    {"assignedGroup", "assigned_group", NULL, false},
    {"assignee", "assignee", NULL, false},
    {"relatedParty.id", "customer_id", NULL, false},
    {"customerLevel", "customer_level", ticket_level_names, true},
    {"slaState", "sla_state", NULL, false},
    {"externalId", "external_id", NULL, false},
};

typedef struct {
    req *r;
    buf where;
    store_val args[48];
    char *owned[48];
    int n, nowned;
    bool failed;
} list_query;

static void lq_fail(list_query *q, const char *field, const char *msg)
{
    if (q->failed)
        return;
    q->failed = true;
    req_fail(q->r, 400, "invalidField", field, "%s: %s", field, msg);
}

static void lq_arg(list_query *q, store_val v)
{
    if (q->n < (int)ARRAY_LEN(q->args) - 2)
        q->args[q->n++] = v;
    else
        lq_fail(q, "query", "too many filter values");
}

static void on_param(void *ctx, const char *k, const char *v)
{
    list_query *q = ctx;
    if (q->failed)
        return;
    static const char *const ignored[] = {"offset", "limit", "fields", "access_token", NULL};
    if (str_in(k, ignored))
        return;
    for (size_t i = 0; i < ARRAY_LEN(filters); i++) {
        const filter_def *f = &filters[i];
        if (strcmp(k, f->param) != 0)
            continue;
        if (!*v || strlen(v) > 400) {
            lq_fail(q, k, "must be a non-empty value");
            return;
        }
        buf_printf(&q->where, " AND %s IN (", f->column);
        const char *p = v;
        int count = 0;
        while (*p) {
            const char *comma = f->multi ? strchr(p, ',') : NULL;
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char *one = xstrndup(p, len);
            if (f->enums && !str_in(one, f->enums)) {
                char msg[160];
                snprintf(msg, sizeof msg, "'%.60s' is not a known value", one);
                free(one);
                lq_fail(q, k, msg);
                return;
            }
            q->owned[q->nowned++ % 48] = one;
            buf_adds(&q->where, count ? ", ?" : "?");
            lq_arg(q, SV_S(one));
            count++;
            p = comma ? comma + 1 : p + len;
            if (q->nowned >= 40) {
                lq_fail(q, k, "too many values");
                return;
            }
        }
        buf_adds(&q->where, ")");
        if (strcmp(f->param, "stage") == 0) {
            /* every stage has one status: saying so lets the status index answer */
            buf_adds(&q->where, " AND status IN (");
            int first = q->n - count;
            for (int j = 0; j < count; j++) {
                buf_adds(&q->where, j ? ", ?" : "?");
                lq_arg(q, SV_S(lifecycle_status(q->args[first + j].s)));
            }
            buf_adds(&q->where, ")");
        }
        return;
    }
    if (strcmp(k, "area") == 0) {
        /*
         * The area itself or anything under it, as one index range: area codes are
         * [A-Za-z0-9_] segments joined by '.', and '/' is the byte after '.', so
         * [X, X + "/") holds exactly X and X.*.
         */
        if (!area_code_ok(v)) {
            lq_fail(q, k, "must be an area code like GD.SZ.NS");
            return;
        }
        char *hi = xasprintf("%s/", v);
        q->owned[q->nowned++ % 48] = hi;
        buf_adds(&q->where, " AND area >= ? AND area < ?");
        lq_arg(q, SV_S(v));
        lq_arg(q, SV_S(hi));
        return;
    }
    if (strcmp(k, "escalated") == 0) {
        if (strcmp(v, "true") && strcmp(v, "false")) {
            lq_fail(q, k, "must be true or false");
            return;
        }
        /* a literal, so the partial index on escalated work orders applies */
        buf_adds(&q->where, strcmp(v, "true") == 0 ? " AND escalated = 1" : " AND escalated = 0");
        return;
    }
    static const struct {
        const char *param, *op;
    } times[] = {{"createdAfter", ">="}, {"creationDate.gte", ">="}, {"creationDate.gt", ">"},
                 {"createdBefore", "<"}, {"creationDate.lt", "<"},   {"creationDate.lte", "<="}};
    for (size_t i = 0; i < ARRAY_LEN(times); i++) {
        if (strcmp(k, times[i].param) != 0)
            continue;
        int64_t ms;
        if (time_parse_iso(v, req_tz(q->r), &ms)) {
            lq_fail(q, k, "must be an ISO 8601 date-time");
            return;
        }
        buf_printf(&q->where, " AND created %s ?", times[i].op);
        lq_arg(q, SV_I(ms));
        return;
    }
    lq_fail(q, k, "unknown filter");
}

static void list(req *r)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    list_query q = {.r = r};
    buf_init(&q.where, 0);
    buf_adds(&q.where, " WHERE 1=1");
    req_each_query(r, on_param, &q);
    if (!q.failed) {
        /*
         * Ids first, rows after: sorting matches by id needs only index entries (the id is
         * in every index), so the page costs `limit` row reads however many rows match.
         */
        char *from = xasprintf("tickets%s", q.where.data);
        int64_t total = 0;
        store_res *res = NULL;
        err rc = store_page(s, "id", from, "id DESC", q.args, q.n, lim, off, &total, &res);
        free(from);
        tickets_ctx *tc = req_route_ctx(r);
        json_t *arr = json_array();
        for (int i = 0; !rc && i < store_rows(res); i++) {
            ticket t;
            err lr = ticket_load(s, store_int(res, i, 0), &t);
            if (lr == ERR_NOTFOUND)
                continue;
            rc = lr;
            if (!rc) {
                json_array_append_new(arr, ticket_render(s, &t, tc->cfg.tz, true));
                ticket_free(&t);
            }
        }
        store_res_free(res);
        if (rc) {
            json_decref(arr);
            req_fail(r, 503, "unavailable", "", "work orders cannot be read now");
        } else {
            req_list(r, arr, total);
        }
    }
    for (int i = 0; i < q.nowned && i < 48; i++)
        free(q.owned[i]);
    buf_free(&q.where);
}

static const route ticket_routes[] = {
    {"GET", BASE, ROUTE_ANY, list},
    {"POST", BASE, ROLE_AGENT | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION, create},
    {"GET", BASE "/{id}", ROUTE_ANY, get_one},
    {"PATCH", BASE "/{id}", ROLE_ALL & ~(unsigned)ROLE_QA, patch},
    {NULL, NULL, 0, NULL},
};

/* ---- work orders made and moved by the system (incidents, emergency plans) ---- */

static err run_as_system(engine *e, err (*apply)(engine *, cmd *), const char *id, json_t *in,
                         int64_t *out_id, problem *p)
{
    cmd c = {0};
    c.in = in;
    c.id = id;
    snprintf(c.actor, sizeof c.actor, "system");
    c.roles = ROLE_ALL;
    err rc = apply(e, &c);
    if (out_id)
        *out_id = c.out_id;
    json_decref(c.out);
    if (rc && p)
        *p = c.prob;
    return rc;
}

err tickets_system_create(engine *e, json_t *in, int64_t *id, problem *p)
{
    return run_as_system(e, apply_create, NULL, in, id, p);
}

err tickets_system_move(engine *e, int64_t id, const char *stage, const char *group,
                        const char *reason, problem *p)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    json_t *in = json_pack("{s:s, s:s?}", "stage", stage, "statusChangeReason", reason);
    if (group)
        json_object_set_new(in, "assignedGroup", json_string(group));
    err rc = run_as_system(e, apply_patch, ids, in, NULL, p);
    json_decref(in);
    return rc;
}

void tickets_set_attach_hook(tickets_ctx *t, ticket_attach_fn fn)
{
    if (t)
        t->attach = fn;
}

tickets_ctx *tickets_create(const tickets_config *cfg, engine *e)
{
    tickets_ctx *t = xcalloc(1, sizeof *t);
    t->cfg = *cfg;
    if (t->cfg.repeat_days <= 0)
        t->cfg.repeat_days = 30;
    tickets_attach_engine(t, e);
    return t;
}

void tickets_destroy(tickets_ctx *t)
{
    if (!t)
        return;
    free(t->policies);
    free(t);
}

void tickets_register(tickets_ctx *t, http_server *s)
{
    http_add_routes(s, ticket_routes, t);
    tickets_admin_register(t, s);
}
