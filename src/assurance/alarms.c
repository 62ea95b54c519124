/*
 * alarms.c — network alarms (A2; TMF642 shapes, ITU-T X.733 severities). One active alarm per
 * source + object + type: a repeat updates it (repeats counted) instead of adding a row.
 * Every change is kept in alarm_history (Alertmanager keeps none). Correlation on the element
 * tree: an alarm under an element that already has an active alarm is a symptom of it
 * (parentAlarm, isRootCause false) and opens nothing; an alarm above active ones becomes their
 * root. A root alarm of severity critical or major on a known element is a finding for
 * incidents (level 2 and 3); clearing it tells the incident, which is restored when nothing
 * behind it is still failing.
 */
#include "assurance/assurance_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const severities[] = {"critical", "major",         "minor",  "warning",
                                         "indeterminate", "cleared",  NULL};
static const char *const alarm_types[] = {
    "communicationsAlarm", "processingErrorAlarm", "environmentalAlarm", "qualityOfServiceAlarm",
    "equipmentAlarm",      "integrityViolation",   "operationalViolation", "physicalViolation",
    "securityService",     "mechanismViolation",   "timeDomainViolation",  NULL};
static const char *const alarm_states[] = {"raised", "updated", "cleared", NULL};
static const char *const ack_states[] = {"acknowledged", "unacknowledged", NULL};

static const json_field object_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 64, NULL},    {"href", JT_STRING, 0, 300, NULL},
    {"@referredType", JT_STRING, 0, 64, NULL},   {"@type", JT_STRING, 0, 64, NULL},
    {"name", JT_STRING, 0, 200, NULL},           {NULL, 0, 0, 0, NULL},
};

#define RO(n)                                                                                      \
    {                                                                                              \
        n, JT_ANY, JF_READONLY, 0, NULL                                                            \
    }
const json_field alarm_fields[] = {
    {"alarmType", JT_STRING, JF_REQUIRED, 32, alarm_types},
    {"perceivedSeverity", JT_STRING, JF_REQUIRED, 16, severities},
    {"probableCause", JT_STRING, JF_REQUIRED, 100, NULL},
    {"alarmedObject", JT_OBJECT, JF_REQUIRED, 0, NULL},
    {"sourceSystemId", JT_STRING, JF_REQUIRED, 64, NULL},
    {"state", JT_STRING, JF_REQUIRED, 16, alarm_states},
    {"alarmRaisedTime", JT_STRING, JF_REQUIRED, 40, NULL},
    {"externalAlarmId", JT_STRING, 0, 100, NULL},
    {"specificProblem", JT_STRING, 0, 200, NULL},
    {"alarmDetails", JT_STRING, 0, 2000, NULL},
    {"alarmedObjectType", JT_STRING, 0, 64, NULL},
    {"serviceAffecting", JT_BOOL, 0, 0, NULL},
    {"affectedService", JT_ARRAY, 0, 0, NULL},
    {"alarmReportingTime", JT_STRING, 0, 40, NULL},
    {"reportingSystemId", JT_STRING, 0, 64, NULL},
    {"crossedThresholdInformation", JT_OBJECT, 0, 0, NULL},
    {"@type", JT_STRING, 0, 64, NULL},
    RO("id"),
    RO("href"),
    RO("ackState"),
    RO("isRootCause"),
    RO("parentAlarm"),
    RO("correlatedAlarm"),
    {NULL, 0, 0, 0, NULL},
};

err alarms_check(const json_t *b, problem *p)
{
    err rc = json_check(json_object_get(b, "alarmedObject"), object_fields, "alarmedObject", p);
    if (rc)
        return rc;
    int64_t ms;
    static const char *const times[] = {"alarmRaisedTime", "alarmReportingTime"};
    for (int i = 0; i < 2; i++)
        if (jstr(b, times[i]) && time_parse_iso(jstr(b, times[i]), 480, &ms))
            return problem_field(p, times[i], "must be an ISO 8601 date-time");
    const json_t *svc = json_object_get(b, "affectedService");
    if (json_array_size(svc) > 8)
        return problem_field(p, "affectedService", "at most 8 services");
    size_t i;
    json_t *v;
    json_array_foreach(svc, i, v)
    {
        if (!jstr(v, "id") || strlen(jstr(v, "id")) > 32)
            return problem_field(p, "affectedService", "each item needs an id (≤ 32 characters)");
    }
    if (strcmp(jstr(b, "state"), "cleared") != 0 &&
        strcmp(jstr(b, "perceivedSeverity"), "cleared") == 0)
        return problem_field(p, "perceivedSeverity",
                             "cleared is final: send state cleared to clear an alarm");
    return ERR_OK;
}

/* ---- rendering ---- */

#define AL_COLS                                                                                    \
    "id, external_id, source_system, object_id, object_type, alarm_type, probable_cause,"         \
    " specific_problem, severity, state, ack_state, ack_user, ack_system, ack_time, clear_user,"  \
    " clear_system, raised, reported, changed, cleared, service_affecting, is_root_cause,"       \
    " parent_alarm, incident_id, service, details, threshold, repeats"

static void opt_s(json_t *o, const char *k, const store_res *r, int i, int col)
{
    if (store_text(r, i, col))
        json_object_set_new(o, k, json_string(store_text(r, i, col)));
}

static void opt_t(json_t *o, const char *k, const store_res *r, int i, int col, int tz)
{
    if (store_isnull(r, i, col))
        return;
    char t[40];
    time_iso(store_int(r, i, col), tz, t, sizeof t);
    json_object_set_new(o, k, json_string(t));
}

static json_t *alarm_row(const store_res *r, int i, int tz)
{
    json_t *o = json_object();
    const char *id = store_text(r, i, 0);
    json_object_set_new(o, "id", json_string(id));
    char *href = xasprintf(ALARM_BASE "/%s", id);
    json_object_set_new(o, "href", json_string(href));
    free(href);
    opt_s(o, "externalAlarmId", r, i, 1);
    json_object_set_new(o, "sourceSystemId", json_string(store_text(r, i, 2)));
    json_object_set_new(o, "alarmedObject", json_pack("{s:s}", "id", store_text(r, i, 3)));
    opt_s(o, "alarmedObjectType", r, i, 4);
    json_object_set_new(o, "alarmType", json_string(store_text(r, i, 5)));
    json_object_set_new(o, "probableCause", json_string(store_text(r, i, 6)));
    opt_s(o, "specificProblem", r, i, 7);
    json_object_set_new(o, "perceivedSeverity", json_string(store_text(r, i, 8)));
    json_object_set_new(o, "state", json_string(store_text(r, i, 9)));
    json_object_set_new(o, "ackState", json_string(store_text(r, i, 10)));
    opt_s(o, "ackUserId", r, i, 11);
    opt_s(o, "ackSystemId", r, i, 12);
    opt_t(o, "ackTime", r, i, 13, tz);
    opt_s(o, "clearUserId", r, i, 14);
    opt_s(o, "clearSystemId", r, i, 15);
    opt_t(o, "alarmRaisedTime", r, i, 16, tz);
    opt_t(o, "alarmReportingTime", r, i, 17, tz);
    opt_t(o, "alarmChangedTime", r, i, 18, tz);
    opt_t(o, "alarmClearedTime", r, i, 19, tz);
    json_object_set_new(o, "serviceAffecting", json_boolean(store_int(r, i, 20)));
    json_object_set_new(o, "isRootCause", json_boolean(store_int(r, i, 21)));
    json_t *parents = json_array();
    if (!store_isnull(r, i, 22)) {
        char *ph = xasprintf(ALARM_BASE "/%s", store_text(r, i, 22));
        json_array_append_new(parents, json_pack("{s:s, s:s}", "id", store_text(r, i, 22), "href",
                                                 ph));
        free(ph);
    }
    json_object_set_new(o, "parentAlarm", parents);
    if (!store_isnull(r, i, 23)) {
        char *ih = xasprintf(SP_BASE "/%s", store_text(r, i, 23));
        json_object_set_new(o, "serviceProblem",
                            json_pack("{s:s, s:s}", "id", store_text(r, i, 23), "href", ih));
        free(ih);
    }
    json_t *svc = json_array();
    if (store_text(r, i, 24))
        json_array_append_new(svc, json_pack("{s:s}", "id", store_text(r, i, 24)));
    json_object_set_new(o, "affectedService", svc);
    opt_s(o, "alarmDetails", r, i, 25);
    json_t *th = json_load(store_text(r, i, 26));
    if (th)
        json_object_set_new(o, "crossedThresholdInformation", th);
    json_object_set_new(o, "repeats", json_integer(store_int(r, i, 27)));
    return o;
}

static json_t *alarm_load(store *s, int64_t id, int tz, bool full)
{
    store_res *r;
    if (store_query(s, "SELECT " AL_COLS " FROM alarms WHERE id = ?", (store_val[]){SV_I(id)}, 1,
                    &r))
        return NULL;
    json_t *o = store_rows(r) ? alarm_row(r, 0, tz) : NULL;
    store_res_free(r);
    if (!o || !full)
        return o;
    json_t *children = json_array(), *hist = json_array();
    if (store_query(s, "SELECT id FROM alarms WHERE parent_alarm = ? ORDER BY id LIMIT 200",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++) {
            char *h = xasprintf(ALARM_BASE "/%s", store_text(r, i, 0));
            json_array_append_new(children,
                                  json_pack("{s:s, s:s}", "id", store_text(r, i, 0), "href", h));
            free(h);
        }
        store_res_free(r);
    }
    if (store_query(s,
                    "SELECT time, state, severity, ack_state, actor, note FROM alarm_history"
                    " WHERE alarm_id = ? ORDER BY id",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++) {
            char t[40];
            time_iso(store_int(r, i, 0), tz, t, sizeof t);
            json_array_append_new(
                hist, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "time", t, "state",
                                store_text(r, i, 1), "perceivedSeverity", store_text(r, i, 2),
                                "ackState", store_text(r, i, 3), "actor", store_text(r, i, 4),
                                "note", store_text(r, i, 5)));
        }
        store_res_free(r);
    }
    json_object_set_new(o, "correlatedAlarm", children);
    json_object_set_new(o, "history", hist);
    return o;
}

/* ---- writing ---- */

static err history(engine *e, int64_t id, const char *actor, const char *note)
{
    return store_exec(engine_store(e),
                      "INSERT INTO alarm_history(id, alarm_id, time, state, severity, ack_state,"
                      " actor, note) SELECT ?, id, ?, state, severity, ack_state, ?, ?"
                      " FROM alarms WHERE id = ?",
                      (store_val[]){SV_I(engine_next_id(e, "alarm_history")), SV_I(engine_now(e)),
                                    SV_S(actor), SV_S(note), SV_I(id)},
                      5);
}

static err emit_alarm(engine *e, const char *type, int64_t id, const char *actor, json_t *data)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    return engine_emit(e, type, "alarm", ids, actor, data);
}

static int level_of(const char *severity)
{
    return strcmp(severity, "critical") == 0 ? 2 : strcmp(severity, "major") == 0 ? 3 : 0;
}

static err clear_alarm(engine *e, int64_t id, const char *actor, const char *system)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e);
    err rc = store_exec(s,
                        "UPDATE alarms SET state = 'cleared', severity = 'cleared', cleared = ?,"
                        " changed = ?, clear_user = ?, clear_system = ?, active_key = NULL"
                        " WHERE id = ? AND cleared IS NULL",
                        (store_val[]){SV_I(now), SV_I(now), SV_S(actor), SV_S(system), SV_I(id)},
                        5);
    if (!rc)
        rc = history(e, id, actor, "cleared");
    if (!rc)
        rc = emit_alarm(e, "alarm.cleared", id, actor, NULL);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    if (!rc)
        rc = incident_ref_cleared(e, "alarm", ids, actor);
    /* then its symptoms stand on their own (they no longer hold its incident open) */
    if (!rc)
        rc = store_exec(s,
                        "UPDATE alarms SET is_root_cause = 1 WHERE parent_alarm = ?"
                        " AND cleared IS NULL",
                        (store_val[]){SV_I(id)}, 1);
    return rc;
}

/*
 * The active alarm on the highest ancestor of `object` (its root cause), or 0. The parent
 * chain is a few primary-key steps; each step one index probe on the alarms of that element —
 * never a scan of all active alarms, however many there are.
 */
static int64_t ancestor_alarm(store *s, const char *object, int64_t *incident)
{
    char cur[80];
    snprintf(cur, sizeof cur, "%s", object);
    int64_t found = 0;
    *incident = 0;
    for (int depth = 0; depth < 32; depth++) {
        store_res *r;
        if (store_query(s, "SELECT parent FROM elements WHERE id = ?", (store_val[]){SV_S(cur)}, 1,
                        &r))
            break;
        bool up = store_rows(r) && store_text(r, 0, 0);
        if (up)
            snprintf(cur, sizeof cur, "%s", store_text(r, 0, 0));
        store_res_free(r);
        if (!up)
            break;
        if (store_query(s,
                        "SELECT id, incident_id FROM alarms WHERE object_id = ? AND cleared IS NULL"
                        " ORDER BY id LIMIT 1",
                        (store_val[]){SV_S(cur)}, 1, &r))
            break;
        if (store_rows(r)) { /* keep climbing: the highest one is the root */
            found = store_int(r, 0, 0);
            *incident = store_isnull(r, 0, 1) ? 0 : store_int(r, 0, 1);
        }
        store_res_free(r);
    }
    return found;
}

err alarms_apply_doc(engine *e, const json_t *doc, const char *actor, int64_t *out, bool *created,
                     problem *p)
{
    store *s = engine_store(e);
    assurance_ctx *a = actx(e);
    int64_t now = engine_now(e);
    const char *source = jstr(doc, "sourceSystemId");
    const char *object = jstr(json_object_get(doc, "alarmedObject"), "id");
    const char *type = jstr(doc, "alarmType");
    const char *sev = jstr(doc, "perceivedSeverity");
    const char *state = jstr(doc, "state");
    *created = false;
    *out = 0;
    char *key = xasprintf("%s|%s|%s", source, object, type);
    store_res *r;
    err rc = store_query(s, "SELECT id, severity FROM alarms WHERE active_key = ?",
                         (store_val[]){SV_S(key)}, 1, &r);
    if (rc) {
        free(key);
        return rc;
    }
    int64_t id = store_rows(r) ? store_int(r, 0, 0) : 0;
    bool worse = false;
    if (id)
        worse = level_of(sev) && (!level_of(store_text(r, 0, 1)) ||
                                  level_of(sev) < level_of(store_text(r, 0, 1)));
    store_res_free(r);
    *out = id;
    if (strcmp(state, "cleared") == 0) {
        free(key);
        if (!id)
            return problem_set(p, ERR_NOTFOUND, 404, "notFound", "alarmedObject",
                               "no active %s alarm from %s on %s to clear", type, source, object);
        return clear_alarm(e, id, actor, source);
    }
    const char *svc = jstr(json_array_get(json_object_get(doc, "affectedService"), 0), "id");
    json_t *th = json_object_get(doc, "crossedThresholdInformation");
    char *thtext = th ? json_dump(th) : NULL;
    if (id) { /* a repeat of an active alarm: update it */
        rc = store_exec(s,
                        "UPDATE alarms SET severity = ?, state = 'updated', probable_cause = ?,"
                        " specific_problem = COALESCE(?, specific_problem),"
                        " details = COALESCE(?, details), threshold = COALESCE(?, threshold),"
                        " changed = ?, repeats = repeats + 1 WHERE id = ?",
                        (store_val[]){SV_S(sev), SV_S(jstr(doc, "probableCause")),
                                      SV_S(jstr(doc, "specificProblem")),
                                      SV_S(jstr(doc, "alarmDetails")), SV_S(thtext), SV_I(now),
                                      SV_I(id)},
                        7);
        free(thtext);
        free(key);
        if (!rc)
            rc = history(e, id, actor, "repeat");
        if (!rc)
            rc = emit_alarm(e, "alarm.updated", id, actor,
                            json_pack("{s:s}", "perceivedSeverity", sev));
        /* a root alarm that got worse may now be a finding */
        if (!rc && worse) {
            rc = store_query(s,
                             "SELECT is_root_cause, incident_id, object_id, service FROM alarms"
                             " WHERE id = ?",
                             (store_val[]){SV_I(id)}, 1, &r);
            if (!rc) {
                bool root = store_int(r, 0, 0) && store_isnull(r, 0, 1);
                char obj[72], sv[40];
                snprintf(obj, sizeof obj, "%s", store_text(r, 0, 2));
                snprintf(sv, sizeof sv, "%s", store_text(r, 0, 3) ? store_text(r, 0, 3) : "");
                store_res_free(r);
                int64_t pos, last, inc = 0;
                if (root && element_span(s, obj, &pos, &last, NULL, 0)) {
                    char ids[24], name[200];
                    snprintf(ids, sizeof ids, "%lld", (long long)id);
                    snprintf(name, sizeof name, "%s告警：%s", obj, jstr(doc, "probableCause"));
                    detect d = {.origin = "alarm", .kind = "alarm", .ref = ids,
                                .level = level_of(sev), .service = sv[0] ? sv : NULL,
                                .element = obj, .name = name, .actor = actor,
                                .first_signal = now};
                    rc = incident_detect(e, &d, &inc, p);
                    if (!rc && inc)
                        rc = store_exec(s, "UPDATE alarms SET incident_id = ? WHERE id = ?",
                                        (store_val[]){SV_I(inc), SV_I(id)}, 2);
                }
            }
        }
        return rc;
    }
    /* a new alarm */
    int64_t raised = now, pos = 0, last = 0;
    time_parse_iso(jstr(doc, "alarmRaisedTime"), a->cfg.tz, &raised);
    if (raised > now)
        raised = now;
    bool known = element_span(s, object, &pos, &last, NULL, 0);
    int64_t parent_inc = 0, parent = known ? ancestor_alarm(s, object, &parent_inc) : 0;
    id = engine_next_id(e, "alarms");
    json_t *sa = json_object_get(doc, "serviceAffecting");
    rc = store_exec(
        s,
        "INSERT INTO alarms(id, external_id, source_system, object_id, object_type, object_pos,"
        " alarm_type, probable_cause, specific_problem, severity, state, ack_state, raised,"
        " reported, changed, service_affecting, is_root_cause, parent_alarm, service, details,"
        " threshold, repeats, active_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'raised',"
        " 'unacknowledged', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
        (store_val[]){SV_I(id), SV_S(jstr(doc, "externalAlarmId")), SV_S(source), SV_S(object),
                      SV_S(jstr(doc, "alarmedObjectType")), SV_OI(known, pos), SV_S(type),
                      SV_S(jstr(doc, "probableCause")), SV_S(jstr(doc, "specificProblem")),
                      SV_S(sev), SV_I(raised), SV_I(now), SV_I(now), SV_I(json_is_true(sa)),
                      SV_I(parent == 0), SV_OI(parent > 0, parent), SV_S(svc),
                      SV_S(jstr(doc, "alarmDetails")), SV_S(thtext), SV_S(key)},
        20);
    free(thtext);
    free(key);
    if (rc)
        return rc;
    *out = id;
    *created = true;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    rc = history(e, id, actor, parent ? "raised (symptom)" : "raised");
    /* an alarm above active ones is their root */
    if (!rc && known && last > pos)
        rc = store_exec(s,
                        "UPDATE alarms SET parent_alarm = ?, is_root_cause = 0 WHERE cleared IS NULL"
                        " AND object_pos > ? AND object_pos <= ? AND id <> ?",
                        (store_val[]){SV_I(id), SV_I(pos), SV_I(last), SV_I(id)}, 4);
    if (!rc)
        rc = emit_alarm(e, "alarm.raised", id, actor,
                        json_pack("{s:s, s:s, s:s, s:b, s:I?}", "perceivedSeverity", sev,
                                  "alarmedObject", object, "alarmType", type, "isRootCause",
                                  parent == 0, "parentAlarm", (json_int_t)parent));
    int64_t inc = 0;
    if (!rc && parent && parent_inc) {
        /* a symptom: recorded on its root's incident, opens nothing */
        inc = parent_inc;
        rc = incident_link(e, inc, "alarm", ids);
    } else if (!rc && !parent && known && level_of(sev)) {
        char name[200];
        snprintf(name, sizeof name, "%s告警：%s", object, jstr(doc, "probableCause"));
        detect d = {.origin = "alarm", .kind = "alarm", .ref = ids, .level = level_of(sev),
                    .service = svc, .element = object, .name = name,
                    .description = jstr(doc, "alarmDetails"), .actor = actor,
                    .first_signal = raised};
        rc = incident_detect(e, &d, &inc, p);
    }
    if (!rc && inc)
        rc = store_exec(s, "UPDATE alarms SET incident_id = ? WHERE id = ?",
                        (store_val[]){SV_I(inc), SV_I(id)}, 2);
    return rc;
}

/* ---- HTTP ---- */

static json_t *render_alarm(cmd *c, store *reader, void *route_ctx)
{
    assurance_ctx *a = route_ctx;
    return alarm_load(reader, c->out_id, a ? a->cfg.tz : 480, true);
}

static err apply_create(engine *e, cmd *c)
{
    int64_t id;
    bool created;
    err rc = alarms_apply_doc(e, c->in, c->actor, &id, &created, &c->prob);
    if (rc)
        return rc;
    c->out_id = id;
    c->render = render_alarm;
    c->status = created ? 201 : 200;
    if (created)
        snprintf(c->location, sizeof c->location, ALARM_BASE "/%lld", (long long)id);
    return ERR_OK;
}

static void create(req *r)
{
    req_submit_checked(r, alarm_fields, alarms_check, apply_create);
}

static const json_field patch_fields[] = {
    {"state", JT_STRING, 0, 16, (const char *const[]){"cleared", NULL}},
    {"ackState", JT_STRING, 0, 16, ack_states},
    {"ackUserId", JT_STRING, 0, 64, NULL},
    {"ackSystemId", JT_STRING, 0, 64, NULL},
    {"clearUserId", JT_STRING, 0, 64, NULL},
    {"clearSystemId", JT_STRING, 0, 64, NULL},
    {"comment", JT_STRING, 0, 1000, NULL},
    {NULL, 0, 0, 0, NULL},
};

/*
 * One alarm changed by a person or system: `ch` holds any of ackState, ackUserId,
 * ackSystemId, state (cleared), clearUserId, clearSystemId, comment. Audited.
 */
static err alarm_change(engine *e, cmd *c, int64_t id, const json_t *ch)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    json_t *before = alarm_load(s, id, actx(e)->cfg.tz, false);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no alarm %s", ids);
    err rc = ERR_OK;
    const char *ack = jstr(ch, "ackState");
    if (ack && !str_eq(ack, jstr(before, "ackState"))) {
        bool on = strcmp(ack, "acknowledged") == 0;
        const char *user = jstr(ch, "ackUserId") ? jstr(ch, "ackUserId") : c->actor;
        rc = store_exec(s,
                        "UPDATE alarms SET ack_state = ?, ack_user = ?, ack_system = ?,"
                        " ack_time = ? WHERE id = ?",
                        (store_val[]){SV_S(ack), SV_S(on ? user : NULL),
                                      SV_S(on ? jstr(ch, "ackSystemId") : NULL), SV_OI(on, now),
                                      SV_I(id)},
                        5);
        if (!rc)
            rc = history(e, id, c->actor, jstr(ch, "comment") ? jstr(ch, "comment") : ack);
        if (!rc)
            rc = emit_alarm(e, on ? "alarm.acknowledged" : "alarm.unacknowledged", id, c->actor,
                            NULL);
    } else if (jstr(ch, "comment") && !jstr(ch, "state")) {
        rc = history(e, id, c->actor, jstr(ch, "comment"));
    }
    if (!rc && jstr(ch, "state")) {
        if (strcmp(jstr(before, "state"), "cleared") == 0)
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "state",
                             "state: alarm %s is already cleared", ids);
        else
            rc = clear_alarm(e, id, jstr(ch, "clearUserId") ? jstr(ch, "clearUserId") : c->actor,
                             jstr(ch, "clearSystemId"));
    }
    if (rc) {
        json_decref(before);
        return rc;
    }
    json_t *after = alarm_load(s, id, actx(e)->cfg.tz, false);
    rc = engine_audit(e, c->actor, "update", "alarm", ids, before, after);
    json_decref(before);
    json_decref(after);
    return rc;
}

static err apply_patch(engine *e, cmd *c)
{
    int64_t id;
    if (parse_i64(c->id, 1, INT64_MAX, &id))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no alarm %s", c->id);
    err rc = alarm_change(e, c, id, c->in);
    c->out_id = id;
    c->render = render_alarm;
    c->status = 200;
    return rc;
}

/* ---- task resources: ackAlarms, unAckAlarms, clearAlarms, commentAlarms by pattern ---- */

#define TASK_MAX 10000

/* the attributes a pattern may name, and their columns */
static const struct {
    const char *attr, *col;
} pattern_cols[] = {
    {"id", "id"},
    {"alarmType", "alarm_type"},
    {"perceivedSeverity", "severity"},
    {"probableCause", "probable_cause"},
    {"specificProblem", "specific_problem"},
    {"sourceSystemId", "source_system"},
    {"state", "state"},
    {"ackState", "ack_state"},
    {"alarmedObject.id", "object_id"},
    {"externalAlarmId", "external_id"},
};

static const char *pattern_value(const json_t *pat, const char *attr)
{
    if (strcmp(attr, "alarmedObject.id") == 0)
        return jstr(json_object_get(pat, "alarmedObject"), "id");
    return jstr(pat, attr);
}

static err check_task(const json_t *b, problem *p)
{
    const json_t *pats = json_object_get(b, "alarmPattern");
    if (!json_is_array(pats) || json_array_size(pats) == 0 || json_array_size(pats) > 100)
        return problem_field(p, "alarmPattern", "1 … 100 patterns (an alarm matches when every"
                                                " attribute of one pattern is equal)");
    size_t i;
    json_t *pat;
    json_array_foreach(pats, i, pat)
    {
        if (!json_is_object(pat))
            return problem_field(p, "alarmPattern", "alarmPattern[%zu] must be an object", i);
        int known = 0;
        const char *k;
        json_t *v;
        json_object_foreach(pat, k, v)
        {
            bool ok = false;
            for (size_t j = 0; j < ARRAY_LEN(pattern_cols); j++)
                if (strcmp(k, pattern_cols[j].attr) == 0 ||
                    (strcmp(k, "alarmedObject") == 0 && json_is_object(v)))
                    ok = true;
            if (!ok || (strcmp(k, "alarmedObject") && !json_is_string(v)))
                return problem_field(p, "alarmPattern",
                                     "alarmPattern[%zu].%s: not an attribute a pattern can match "
                                     "(id, alarmType, perceivedSeverity, probableCause, "
                                     "specificProblem, sourceSystemId, state, ackState, "
                                     "alarmedObject.id, externalAlarmId; strings)",
                                     i, k);
            known++;
        }
        if (!known)
            return problem_field(p, "alarmPattern", "alarmPattern[%zu] is empty: it would match "
                                                    "every alarm", i);
    }
    return ERR_OK;
}

static err apply_task(engine *e, cmd *c)
{
    const char *task = jstr(c->in, "_task");
    const json_t *pats = json_object_get(c->in, "alarmPattern");
    /* WHERE (a = ? AND b = ?) OR (…): only active alarms for ack/unack/clear */
    buf w;
    buf_init(&w, 0);
    store_val args[100 * ARRAY_LEN(pattern_cols) + 1];
    int n = 0;
    buf_adds(&w, "SELECT id FROM alarms WHERE (");
    size_t i;
    json_t *pat;
    json_array_foreach(pats, i, pat)
    {
        buf_adds(&w, i ? ") OR (" : "(");
        int terms = 0;
        for (size_t j = 0; j < ARRAY_LEN(pattern_cols); j++) {
            const char *v = pattern_value(pat, pattern_cols[j].attr);
            if (!v)
                continue;
            buf_printf(&w, "%s%s = ?", terms++ ? " AND " : "", pattern_cols[j].col);
            args[n++] = SV_S(v);
        }
        if (!terms)
            buf_adds(&w, "1 = 0");
    }
    buf_adds(&w, "))");
    if (strcmp(task, "commentAlarms") != 0)
        buf_adds(&w, " AND cleared IS NULL");
    buf_adds(&w, " ORDER BY id LIMIT ?");
    args[n++] = SV_I(TASK_MAX);
    store_res *r;
    err rc = store_query(engine_store(e), w.data, args, n, &r);
    buf_free(&w);
    if (rc)
        return rc;
    json_t *ch = json_object();
    if (strcmp(task, "ackAlarms") == 0 || strcmp(task, "unAckAlarms") == 0) {
        json_object_set_new(ch, "ackState", json_string(strcmp(task, "ackAlarms") == 0
                                                            ? "acknowledged"
                                                            : "unacknowledged"));
        json_object_set(ch, "ackUserId", json_object_get(c->in, "ackUserId"));
        json_object_set(ch, "ackSystemId", json_object_get(c->in, "ackSystemId"));
    } else if (strcmp(task, "clearAlarms") == 0) {
        json_object_set_new(ch, "state", json_string("cleared"));
        json_object_set(ch, "clearUserId", json_object_get(c->in, "clearUserId"));
        json_object_set(ch, "clearSystemId", json_object_get(c->in, "clearSystemId"));
    }
    json_t *cm = json_object_get(c->in, "comment");
    if (jstr(cm, "comment"))
        json_object_set_new(ch, "comment", json_string(jstr(cm, "comment")));
    static const struct {
        const char *task, *list;
    } lists[] = {{"ackAlarms", "ackedAlarm"},
                 {"unAckAlarms", "unAckedAlarm"},
                 {"clearAlarms", "clearedAlarm"},
                 {"commentAlarms", "commentedAlarm"}};
    const char *list = "alarm";
    for (size_t k = 0; k < ARRAY_LEN(lists); k++)
        if (strcmp(lists[k].task, task) == 0)
            list = lists[k].list;
    json_t *done = json_array();
    for (int k = 0; !rc && k < store_rows(r); k++) {
        rc = alarm_change(e, c, store_int(r, k, 0), ch);
        if (!rc) {
            char *href = xasprintf(ALARM_BASE "/%s", store_text(r, k, 0));
            json_array_append_new(done, json_pack("{s:s, s:s}", "id", store_text(r, k, 0),
                                                  "href", href));
            free(href);
        }
    }
    store_res_free(r);
    json_decref(ch);
    if (rc) {
        json_decref(done);
        return rc;
    }
    c->out = json_pack("{s:s, s:O, s:o, s:s}", "state", "done", "alarmPattern", pats, list, done,
                       "@type", task);
    c->status = 201;
    return ERR_OK;
}

static void task(req *r, const char *name)
{
    static const json_field fields[] = {
        {"alarmPattern", JT_ARRAY, JF_REQUIRED, 0, NULL},
        {"ackUserId", JT_STRING, 0, 64, NULL},
        {"ackSystemId", JT_STRING, 0, 64, NULL},
        {"clearUserId", JT_STRING, 0, 64, NULL},
        {"clearSystemId", JT_STRING, 0, 64, NULL},
        {"comment", JT_OBJECT, 0, 0, NULL},
        {"id", JT_ANY, JF_READONLY, 0, NULL},
        {"state", JT_ANY, JF_READONLY, 0, NULL},
        {"@type", JT_STRING, 0, 64, NULL},
        {NULL, 0, 0, 0, NULL},
    };
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, fields, "", &p) || check_task(b, &p)) {
        req_problem(r, &p);
        return;
    }
    const json_t *cm = json_object_get(b, "comment");
    if (cm && (!jstr(cm, "comment") || utf8_chars(jstr(cm, "comment")) > 1000)) {
        req_fail(r, 400, "invalidField", "comment", "comment.comment: text of 1 … 1000 characters");
        return;
    }
    if (strcmp(name, "commentAlarms") == 0 && !cm) {
        req_fail(r, 400, "missingField", "comment", "comment: required for commentAlarms");
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    json_object_set_new(c->in, "_task", json_string(name));
    c->apply = apply_task;
    req_submit(r);
}

static void ack_task(req *r)
{
    task(r, "ackAlarms");
}

static void unack_task(req *r)
{
    task(r, "unAckAlarms");
}

static void clear_task(req *r)
{
    task(r, "clearAlarms");
}

static void comment_task(req *r)
{
    task(r, "commentAlarms");
}

static void patch(req *r)
{
    req_submit_checked(r, patch_fields, NULL, apply_patch);
}

static json_t *alarm_full(store *s, int64_t id, int tz)
{
    return alarm_load(s, id, tz, true);
}

static void get_one(req *r)
{
    settings_get(r, alarm_full, "alarm");
}

static void list(req *r)
{
    static const query_filter filters[] = {
        {"state", QF_ENUM, " AND state = ?", NULL, alarm_states, 0, 0},
        {"perceivedSeverity", QF_ENUM, " AND severity = ?", NULL, severities, 0, 0},
        {"ackState", QF_ENUM, " AND ack_state = ?", NULL, ack_states, 0, 0},
        {"alarmType", QF_ENUM, " AND alarm_type = ?", NULL, alarm_types, 0, 0},
        {"alarmedObject.id", QF_TEXT, " AND object_id = ?", NULL, NULL, 0, 0},
        {"sourceSystemId", QF_TEXT, " AND source_system = ?", NULL, NULL, 0, 0},
        {"active", QF_BOOL, " AND cleared IS NULL", " AND cleared IS NOT NULL", NULL, 0, 0},
        {"isRootCause", QF_BOOL, " AND is_root_cause = ?", NULL, NULL, 0, 0},
        {NULL, 0, NULL, NULL, NULL, 0, 0},
    };
    req_list_rows(r, "alarms", AL_COLS, filters, "id DESC", alarm_row, "alarms");
}

#define FEED (ROLE_ADMIN | ROLE_INTEGRATION)
#define NOC (ROLE_SPECIALIST | ROLE_ENGINEER | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)

static const route routes[] = {
    {"GET", ALARM_BASE, ROUTE_ANY, list},
    {"POST", ALARM_BASE, FEED, create},
    {"GET", ALARM_BASE "/{id}", ROUTE_ANY, get_one},
    {"PATCH", ALARM_BASE "/{id}", NOC, patch},
    {"POST", "/tmf-api/alarmManagement/v4/ackAlarms", NOC, ack_task},
    {"POST", "/tmf-api/alarmManagement/v4/unAckAlarms", NOC, unack_task},
    {"POST", "/tmf-api/alarmManagement/v4/clearAlarms", NOC, clear_task},
    {"POST", "/tmf-api/alarmManagement/v4/commentAlarms", NOC, comment_task},
    {NULL, NULL, 0, NULL},
};

void alarms_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
