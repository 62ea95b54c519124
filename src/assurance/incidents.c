/*
 * incidents.c — service problems 故障 (A4, A5, A8, A9; TMF656 shapes). Every detector reports
 * through incident_detect(): a finding on the same part of the network or area joins the open
 * incident (one incident, however many signs), anything else opens a new one at the finding's
 * level. Opening starts the emergency plan (a fault ticket dispatched to the responsible group,
 * SMS to the staff on duty), computes the affected subscribers as one range of pre-order
 * positions and texts them in the background, VIP and high levels first, one message each,
 * spread to the rate limit and held over quiet hours unless the level is 1. Restoring texts
 * everyone who was told (or was promised a message when they called) and closes the work
 * orders attached to the incident.
 *
 * Stages: detect 发现 → notify 通报 → locate 定位 → handle 处理 → restore 恢复 → review 复盘
 * → closed 归档 (or cancelled 撤销, a false alarm). Times kept for time to detect (first
 * sign → opened) and time to restore (opened → restored).
 */
#include "assurance/assurance_int.h"

#include "customers/customers.h"
#include "customers/directory.h"
#include "notify/notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 10000 /* impact rows notified per engine turn */

typedef struct {
    const char *stage, *status, *zh;
} stage_def;

static const stage_def stages[] = {
    {"detect", "acknowledged", "发现"}, {"notify", "acknowledged", "通报"},
    {"locate", "inProgress", "定位"},   {"handle", "inProgress", "处理"},
    {"restore", "resolved", "恢复"},    {"review", "resolved", "复盘"},
    {"closed", "closed", "归档"},       {"cancelled", "cancelled", "撤销"},
};
static const char *const stage_names[] = {"detect",  "notify", "locate", "handle",   "restore",
                                          "review",  "closed", "cancelled", NULL};

#define STAFF (ROLE_SPECIALIST | ROLE_ENGINEER | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)
#define LEAD (ROLE_SUPERVISOR | ROLE_ADMIN)

static const struct {
    const char *from, *to;
    unsigned roles;
} moves[] = {
    {"detect", "notify", STAFF},     {"detect", "locate", STAFF},    {"detect", "handle", STAFF},
    {"detect", "restore", STAFF},    {"detect", "cancelled", LEAD},  {"notify", "locate", STAFF},
    {"notify", "handle", STAFF},     {"notify", "restore", STAFF},   {"notify", "cancelled", LEAD},
    {"locate", "handle", STAFF},     {"locate", "restore", STAFF},   {"locate", "cancelled", LEAD},
    {"handle", "locate", STAFF},     {"handle", "restore", STAFF},   {"handle", "cancelled", LEAD},
    {"restore", "handle", STAFF},    {"restore", "review", LEAD},    {"restore", "closed", LEAD},
    {"review", "closed", LEAD},
};

static const stage_def *stage_of(const char *stage)
{
    for (size_t i = 0; stage && i < ARRAY_LEN(stages); i++)
        if (strcmp(stages[i].stage, stage) == 0)
            return &stages[i];
    return NULL;
}

static bool stage_active(const char *stage)
{
    return str_in(stage, (const char *const[]){"detect", "notify", "locate", "handle", NULL});
}

static const char *const level_severity[] = {NULL, "Critical", "Major", "Minor", "Warning"};
static const char *const level_priority[] = {NULL, "Critical", "High", "Medium", "Low"};

/* ---- topology helpers ---- */

bool element_span(store *s, const char *id, int64_t *pos, int64_t *last, char *area, size_t n)
{
    store_res *r;
    if (!id || store_query(s, "SELECT pos, last, area FROM elements WHERE id = ?",
                           (store_val[]){SV_S(id)}, 1, &r))
        return false;
    bool ok = store_rows(r) == 1;
    if (ok) {
        *pos = store_int(r, 0, 0);
        *last = store_int(r, 0, 1);
        if (area)
            snprintf(area, n, "%s", store_text(r, 0, 2) ? store_text(r, 0, 2) : "");
    }
    store_res_free(r);
    return ok;
}

bool element_lca(store *s, int64_t lo, int64_t hi, char *id, size_t n)
{
    store_res *r;
    id[0] = 0;
    if (store_query(s,
                    "SELECT id FROM elements WHERE pos <= ? AND last >= ? AND parent IS NOT NULL"
                    " ORDER BY pos DESC LIMIT 1",
                    (store_val[]){SV_I(lo), SV_I(hi)}, 2, &r))
        return false;
    if (store_rows(r))
        snprintf(id, n, "%s", store_text(r, 0, 0));
    store_res_free(r);
    return id[0] != 0;
}

/* ---- the incident row ---- */

#define INC_COLS                                                                                   \
    "id, name, description, category, level, service, area, element_id, element_pos,"             \
    " element_last, stage, status, status_reason, origin, reason, originator,"                    \
    " responsible_group, fault_ticket, expected_restore, first_signal, created, notified_at,"    \
    " located_at, handling_at, restored_at, closed_at, review, updated, affected, active"

enum {
    I_ID, I_NAME, I_DESC, I_CAT, I_LEVEL, I_SERVICE, I_AREA, I_ELEMENT, I_POS, I_LAST, I_STAGE,
    I_STATUS, I_REASON_S, I_ORIGIN, I_REASON, I_ORIGINATOR, I_GROUP, I_FAULT, I_EXPECTED,
    I_FIRST, I_CREATED, I_NOTIFIED, I_LOCATED, I_HANDLING, I_RESTORED, I_CLOSED, I_REVIEW,
    I_UPDATED, I_AFFECTED, I_ACTIVE
};

static void put_time(json_t *o, const char *key, const store_res *r, int row, int col, int tz)
{
    if (store_isnull(r, row, col))
        return;
    char t[40];
    time_iso(store_int(r, row, col), tz, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

static json_t *ref_list(store *s, int64_t id, const char *kind, const char *base)
{
    json_t *arr = json_array();
    store_res *r;
    if (store_query(s,
                    "SELECT ref, active FROM incident_links WHERE incident_id = ? AND kind = ?"
                    " ORDER BY time, ref",
                    (store_val[]){SV_I(id), SV_S(kind)}, 2, &r))
        return arr;
    for (int i = 0; i < store_rows(r); i++) {
        json_t *o = json_pack("{s:s}", "id", store_text(r, i, 0));
        if (base) {
            char *href = xasprintf("%s/%s", base, store_text(r, i, 0));
            json_object_set_new(o, "href", json_string(href));
            free(href);
        }
        json_object_set_new(o, "active", json_boolean(store_int(r, i, 1)));
        json_array_append_new(arr, o);
    }
    store_res_free(r);
    return arr;
}

static json_t *notification_counts(store *s, int64_t id)
{
    int64_t told = 0, not_told = 0, restored = 0, promised = 0, affected = 0, pass = 0, tell = 1;
    store_res *r;
    if (store_query(s,
                    "SELECT affected, notify_pass, notify_customers, told, not_told, restore_told,"
                    " promised FROM incidents WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        if (store_rows(r)) {
            affected = store_int(r, 0, 0);
            pass = store_int(r, 0, 1);
            tell = store_int(r, 0, 2);
            told = store_int(r, 0, 3);
            not_told = store_int(r, 0, 4);
            restored = store_int(r, 0, 5);
            promised = store_int(r, 0, 6);
        }
        store_res_free(r);
    }
    /* still to walk: the affected who have no row yet, while the opening walk runs */
    int64_t to_queue = tell && pass < 3 ? affected - told - not_told : 0;
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "openQueued", (json_int_t)told, "notNotified",
                     (json_int_t)not_told, "toQueue", (json_int_t)(to_queue > 0 ? to_queue : 0),
                     "restoreQueued", (json_int_t)restored, "promisedOnContact",
                     (json_int_t)promised);
}

/* Keep the incident's counts of incident_impact with every change of its rows: told (an
   opening message), not told (opted out, or withdrawn unsent), told of the restore, promised
   a message when they called. */
static err impact_counts(engine *e, int64_t id, int64_t told, int64_t not_told,
                         int64_t restore_told, int64_t promised)
{
    if (!told && !not_told && !restore_told && !promised)
        return ERR_OK;
    return store_exec(engine_store(e),
                      "UPDATE incidents SET told = told + ?, not_told = not_told + ?,"
                      " restore_told = restore_told + ?, promised = promised + ? WHERE id = ?",
                      (store_val[]){SV_I(told), SV_I(not_told), SV_I(restore_told),
                                    SV_I(promised), SV_I(id)},
                      5);
}

/* The TMF656 ServiceProblem; `full` adds links, tracking and notification counts. */
/* One incident of a result of INC_COLS, row i: what a list shows. */
static json_t *incident_row(const store_res *r, int i, int tz)
{
    json_t *o = json_object();
    const char *ids = store_text(r, i, I_ID);
    json_object_set_new(o, "id", json_string(ids));
    char *href = xasprintf(SP_BASE "/%s", ids);
    json_object_set_new(o, "href", json_string(href));
    free(href);
    json_object_set_new(o, "name", json_string(store_text(r, i, I_NAME)));
    json_object_set_new(o, "description", json_string(store_text(r, i, I_DESC)));
    json_object_set_new(o, "category", json_string(store_text(r, i, I_CAT)));
    int level = (int)store_int(r, i, I_LEVEL);
    json_object_set_new(o, "priority", json_integer(level));
    json_object_set_new(o, "level", json_integer(level));
    const char *stage = store_text(r, i, I_STAGE);
    json_object_set_new(o, "stage", json_string(stage));
    json_object_set_new(o, "stageLabel", json_string(stage_of(stage) ? stage_of(stage)->zh : ""));
    json_object_set_new(o, "status", json_string(store_text(r, i, I_STATUS)));
    if (store_text(r, i, I_REASON_S))
        json_object_set_new(o, "statusChangeReason", json_string(store_text(r, i, I_REASON_S)));
    json_object_set_new(o, "active", json_boolean(store_int(r, i, I_ACTIVE)));
    json_object_set_new(o, "origin", json_string(store_text(r, i, I_ORIGIN)));
    json_object_set_new(o, "originatingSystem", json_string("shouye"));
    json_object_set_new(o, "reason", json_string(store_text(r, i, I_REASON)));
    json_object_set_new(o, "originatorParty",
                        json_pack("{s:s, s:s}", "id", store_text(r, i, I_ORIGINATOR), "@referredType",
                                  "Individual"));
    if (store_text(r, i, I_GROUP))
        json_object_set_new(o, "responsibleParty",
                            json_pack("{s:s, s:s}", "id", store_text(r, i, I_GROUP),
                                      "@referredType", "WorkGroup"));
    json_t *svc = json_array(), *res = json_array(), *loc = json_array();
    if (store_text(r, i, I_SERVICE))
        json_array_append_new(svc, json_pack("{s:s}", "id", store_text(r, i, I_SERVICE)));
    if (store_text(r, i, I_ELEMENT)) {
        char *eh = xasprintf("/api/v1/elements/%s", store_text(r, i, I_ELEMENT));
        json_array_append_new(res, json_pack("{s:s, s:s, s:s}", "id", store_text(r, i, I_ELEMENT),
                                             "href", eh, "role", "suspectedCause"));
        free(eh);
        json_object_set_new(o, "suspectedElement", json_string(store_text(r, i, I_ELEMENT)));
    }
    if (store_text(r, i, I_AREA))
        json_array_append_new(loc, json_pack("{s:s}", "id", store_text(r, i, I_AREA)));
    json_object_set_new(o, "affectedService", svc);
    json_object_set_new(o, "affectedResource", res);
    json_object_set_new(o, "affectedLocation", loc);
    json_object_set_new(o, "affectedNumberOfServices", json_integer(store_int(r, i, I_AFFECTED)));
    if (!store_isnull(r, i, I_FAULT)) {
        char *th = xasprintf("/tmf-api/troubleTicket/v4/troubleTicket/%s",
                             store_text(r, i, I_FAULT));
        json_object_set_new(o, "faultTicket",
                            json_pack("{s:s, s:s}", "id", store_text(r, i, I_FAULT), "href", th));
        free(th);
    }
    put_time(o, "expectedRestoreDate", r, i, I_EXPECTED, tz);
    put_time(o, "firstAlert", r, i, I_FIRST, tz);
    put_time(o, "creationDate", r, i, I_CREATED, tz);
    put_time(o, "notifiedDate", r, i, I_NOTIFIED, tz);
    put_time(o, "locatedDate", r, i, I_LOCATED, tz);
    put_time(o, "handlingDate", r, i, I_HANDLING, tz);
    put_time(o, "resolutionDate", r, i, I_RESTORED, tz);
    put_time(o, "closedDate", r, i, I_CLOSED, tz);
    put_time(o, "lastUpdate", r, i, I_UPDATED, tz);
    int64_t created = store_int(r, i, I_CREATED);
    json_object_set_new(o, "timeToDetectMs",
                        json_integer(created - store_int(r, i, I_FIRST)));
    if (!store_isnull(r, i, I_RESTORED))
        json_object_set_new(o, "timeToRestoreMs",
                            json_integer(store_int(r, i, I_RESTORED) - created));
    if (store_text(r, i, I_REVIEW))
        json_object_set_new(o, "review", json_string(store_text(r, i, I_REVIEW)));
    return o;
}

static json_t *incident_render(store *s, int64_t id, int tz, bool full)
{
    store_res *r;
    if (store_query(s, "SELECT " INC_COLS " FROM incidents WHERE id = ?", (store_val[]){SV_I(id)},
                    1, &r))
        return NULL;
    json_t *o = store_rows(r) ? incident_row(r, 0, tz) : NULL;
    store_res_free(r);
    if (!o || !full)
        return o;
    json_object_set_new(o, "underlyingAlarm", ref_list(s, id, "alarm", ALARM_BASE));
    json_object_set_new(o, "troubleTicket",
                        ref_list(s, id, "ticket", "/tmf-api/troubleTicket/v4/troubleTicket"));
    json_object_set_new(o, "dialTest", ref_list(s, id, "dialTest", "/api/v1/probes"));
    json_object_set_new(o, "warningLine", ref_list(s, id, "warningLine", "/api/v1/warningLines"));
    json_object_set_new(o, "notifications", notification_counts(s, id));
    json_t *track = json_array();
    if (store_query(s,
                    "SELECT id, time, actor, stage, description FROM incident_track"
                    " WHERE incident_id = ? ORDER BY id",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++) {
            char t[40];
            time_iso(store_int(r, i, 1), tz, t, sizeof t);
            json_array_append_new(track, json_pack("{s:s, s:s, s:s, s:s?, s:s}", "id",
                                                   store_text(r, i, 0), "time", t, "user",
                                                   store_text(r, i, 2), "stage",
                                                   store_text(r, i, 3), "description",
                                                   store_text(r, i, 4)));
        }
        store_res_free(r);
    }
    json_object_set_new(o, "trackingRecord", track);
    return o;
}

/* ---- writing ---- */

static err track(engine *e, int64_t id, const char *actor, const char *stage, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static err track(engine *e, int64_t id, const char *actor, const char *stage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char text[600];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return store_exec(engine_store(e),
                      "INSERT INTO incident_track(id, incident_id, time, actor, stage, description)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      (store_val[]){SV_I(engine_next_id(e, "incident_track")), SV_I(id),
                                    SV_I(engine_now(e)), SV_S(actor), SV_S(stage), SV_S(text)},
                      6);
}

static err emit(engine *e, const char *type, int64_t id, const char *actor, json_t *data)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    return engine_emit(e, type, "incident", ids, actor, data);
}

err incident_link(engine *e, int64_t incident, const char *kind, const char *ref)
{
    return store_exec(engine_store(e),
                      "INSERT INTO incident_links(incident_id, kind, ref, time, active)"
                      " VALUES (?, ?, ?, ?, 1) ON CONFLICT (incident_id, kind, ref)"
                      " DO UPDATE SET active = 1",
                      (store_val[]){SV_I(incident), SV_S(kind), SV_S(ref), SV_I(engine_now(e))},
                      4);
}

/*
 * The affected subscribers are a range of the subscribers' covering index — positions under
 * the suspected element, or the area subtree [code, code + "/") — so computing the impact is
 * counting that range; nothing is copied. The notifier walks the same range.
 */
static err compute_impact(engine *e, int64_t id, int64_t pos, int64_t last, const char *area,
                          int64_t *count)
{
    store *s = engine_store(e);
    char hi[80];
    snprintf(hi, sizeof hi, "%s/", area ? area : "");
    *count = 0;
    err rc = pos > 0 ? store_scalar(s,
                                    "SELECT COUNT(*) FROM subscribers WHERE attach_pos >= ?"
                                    " AND attach_pos <= ? AND status <> 'closed'",
                                    (store_val[]){SV_I(pos), SV_I(last)}, 2, 0, count)
             : area && area[0]
                 ? store_scalar(s,
                                "SELECT COUNT(*) FROM subscribers WHERE area >= ? AND area < ?"
                                " AND status <> 'closed'",
                                (store_val[]){SV_S(area), SV_S(hi)}, 2, 0, count)
                 : ERR_OK;
    if (!rc)
        rc = store_exec(s, "UPDATE incidents SET affected = ? WHERE id = ?",
                        (store_val[]){SV_I(*count), SV_I(id)}, 2);
    return rc;
}

/* "subscriber s is affected by incident i", for joins */
#define AFFECTS                                                                                    \
    "((i.element_pos IS NOT NULL AND s.attach_pos >= i.element_pos"                               \
    " AND s.attach_pos <= i.element_last) OR (i.element_pos IS NULL AND s.area >= i.area"         \
    " AND s.area < (i.area || '/')))"

typedef struct {
    int64_t id;
    int level;
    char service[32], area[72], element[72], name[200];
    int64_t expected;
    bool notify_customers;
} plan_ctx;

static err start_plan(engine *e, void *arg)
{
    plan_ctx *pc = arg;
    store *s = engine_store(e);
    store_res *r;
    err rc = store_query(s,
                         "SELECT group_id, on_duty, notify_customers, restore_hours, id"
                         " FROM emergency_plans WHERE level = ? AND (service = ? OR service IS NULL)"
                         " ORDER BY CASE WHEN service IS NULL THEN 1 ELSE 0 END LIMIT 1",
                         (store_val[]){SV_I(pc->level), SV_S(pc->service[0] ? pc->service : NULL)},
                         2, &r);
    if (rc)
        return rc;
    if (!store_rows(r)) {
        store_res_free(r);
        return track(e, pc->id, "system", "detect", "无匹配的应急预案（%d级，业务%s）", pc->level,
                     pc->service[0] ? pc->service : "-");
    }
    char group[64], plan[24];
    snprintf(group, sizeof group, "%s", store_text(r, 0, 0));
    snprintf(plan, sizeof plan, "%s", store_text(r, 0, 4));
    json_t *duty = json_load(store_text(r, 0, 1));
    pc->notify_customers = store_int(r, 0, 2) != 0;
    pc->expected = engine_now(e) + store_int(r, 0, 3) * 3600000;
    store_res_free(r);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)pc->id);
    /* the fault ticket 故障工单, dispatched to the plan's group */
    char *desc = xasprintf("【%d级故障】%s", pc->level, pc->name);
    json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:[{s:s, s:s, s:s}]}", "name",
                           pc->name, "description", desc, "ticketType", "faultTicket", "severity",
                           level_severity[pc->level], "area", pc->area[0] ? pc->area : NULL,
                           "service", pc->service[0] ? pc->service : NULL, "relatedEntity", "id",
                           ids, "role", "serviceProblem", "@referredType", "ServiceProblem");
    json_object_set_new(in, "priority", json_string(level_priority[pc->level]));
    free(desc);
    int64_t ticket = 0;
    problem p = {0};
    rc = tickets_system_create(e, in, &ticket, &p);
    json_decref(in);
    if (!rc)
        rc = tickets_system_move(e, ticket, "dispatched", group, "emergency plan", &p);
    if (rc) {
        json_decref(duty);
        return rc;
    }
    char tids[24];
    snprintf(tids, sizeof tids, "%lld", (long long)ticket);
    rc = store_exec(s,
                    "UPDATE incidents SET fault_ticket = ?, responsible_group = ?,"
                    " expected_restore = ? WHERE id = ?",
                    (store_val[]){SV_I(ticket), SV_S(group), SV_I(pc->expected), SV_I(pc->id)}, 4);
    if (!rc)
        rc = incident_link(e, pc->id, "faultTicket", tids);
    /* page the staff on duty */
    size_t i;
    json_t *m;
    int paged = 0;
    json_array_foreach(duty, i, m)
    {
        if (rc || !json_is_string(m))
            continue;
        char *text = xasprintf("【守夜值班】%d级故障#%s：%s。故障工单%s已派%s，请立即处理。"
                               "Level %d incident #%s: %s. Work order %s dispatched to %s.",
                               pc->level, ids, pc->name, tids, group, pc->level, ids,
                               pc->element[0] ? pc->element : pc->area, tids, group);
        rc = notify_enqueue(e, "sms", json_string_value(m), "incident.page", text, "incident", ids,
                            0);
        free(text);
        paged++;
    }
    json_decref(duty);
    if (!rc)
        rc = track(e, pc->id, "system", "detect",
                   "启动应急预案%s：故障工单%s派发至%s，短信通知值班人员%d人", plan, tids, group,
                   paged);
    return rc;
}

static const char *area_name(store *s, const char *code, char *out, size_t n)
{
    out[0] = 0;
    store_res *r;
    if (code && store_query(s, "SELECT name FROM areas WHERE code = ?", (store_val[]){SV_S(code)},
                            1, &r) == ERR_OK) {
        if (store_rows(r))
            snprintf(out, n, "%s", store_text(r, 0, 0));
        store_res_free(r);
    }
    if (!out[0])
        snprintf(out, n, "%s", code ? code : "");
    return out;
}

static const char *service_zh(const char *svc)
{
    static const struct {
        const char *id, *zh;
    } names[] = {{"broadband", "宽带"}, {"mobile", "手机上网"}, {"tv", "数字电视"},
                 {"iptv", "IPTV"},      {"voice", "语音"}};
    for (size_t i = 0; svc && i < ARRAY_LEN(names); i++)
        if (strcmp(names[i].id, svc) == 0)
            return names[i].zh;
    return svc ? svc : "通信";
}

static err open_incident(engine *e, const detect *d, int64_t pos, int64_t last, const char *area,
                         int64_t *out)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e), id = engine_next_id(e, "incidents");
    int64_t first = d->first_signal > 0 && d->first_signal <= now ? d->first_signal : now;
    const char *desc = d->description ? d->description : d->name;
    err rc = store_exec(
        s,
        "INSERT INTO incidents(id, name, description, category, level, service, area, element_id,"
        " element_pos, element_last, stage, status, status_reason, origin, reason, originator,"
        " first_signal, created, updated, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'detect',"
        " 'acknowledged', 'detected', ?, ?, ?, ?, ?, ?, 1)",
        (store_val[]){SV_I(id), SV_S(d->name), SV_S(desc), SV_S(d->service ? d->service : "network"),
                      SV_I(d->level), SV_S(d->service), SV_S(area), SV_S(d->element),
                      SV_OI(pos > 0, pos), SV_OI(pos > 0, last), SV_S(d->origin), SV_S(d->name),
                      SV_S(d->actor), SV_I(first), SV_I(now), SV_I(now)},
        16);
    if (!rc && d->kind && d->ref)
        rc = incident_link(e, id, d->kind, d->ref);
    if (!rc)
        rc = track(e, id, d->actor, "detect", "发现：%s（来源 %s %s）", d->name, d->origin,
                   d->ref ? d->ref : "");
    int64_t affected = 0;
    if (!rc)
        rc = compute_impact(e, id, pos, last, area, &affected);
    plan_ctx pc = {.id = id, .level = d->level, .notify_customers = true};
    snprintf(pc.service, sizeof pc.service, "%s", d->service ? d->service : "");
    snprintf(pc.area, sizeof pc.area, "%s", area ? area : "");
    snprintf(pc.element, sizeof pc.element, "%s", d->element ? d->element : "");
    snprintf(pc.name, sizeof pc.name, "%s", d->name);
    if (!rc && engine_try(e, start_plan, &pc) != ERR_OK)
        rc = track(e, id, "system", "detect", "应急预案启动失败，请人工派单");
    if (!rc && !pc.notify_customers)
        rc = store_exec(s, "UPDATE incidents SET notify_customers = 0 WHERE id = ?",
                        (store_val[]){SV_I(id)}, 1);
    /* 通报: the plan is running and the customers are being told */
    if (!rc)
        rc = store_exec(s,
                        "UPDATE incidents SET stage = 'notify', notified_at = ?, updated = ?"
                        " WHERE id = ?",
                        (store_val[]){SV_I(now), SV_I(now), SV_I(id)}, 3);
    if (!rc)
        rc = track(e, id, "system", "notify", "影响用户%lld户，主动通知%s", (long long)affected,
                   pc.notify_customers ? "已排队" : "按预案不发送");
    json_t *after = rc ? NULL : incident_render(s, id, actx(e)->cfg.tz, false);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    if (!rc)
        rc = engine_audit(e, d->actor, "open", "incident", ids, NULL, after);
    if (!rc)
        rc = emit(e, "incident.opened", id, d->actor,
                  json_pack("{s:i, s:s?, s:s?, s:s?, s:s, s:I}", "level", d->level, "service",
                            d->service, "area", area, "element", d->element, "origin", d->origin,
                            "affected", (json_int_t)affected));
    json_decref(after);
    if (!rc) {
        engine_timer_add(e, now + 1, AK_NOTIFY, id); /* next turn: the opening commits first */
        *out = id;
    }
    return rc;
}

typedef struct {
    int64_t id, pos, last;
    int level;
    char service[32], area[72], element[72];
} active_inc;

static bool service_fits(const char *a, const char *b)
{
    return !a || !b || !a[0] || !b[0] || strcmp(a, b) == 0;
}

err incident_detect(engine *e, const detect *d, int64_t *out, problem *p)
{
    store *s = engine_store(e);
    *out = 0;
    int64_t pos = 0, last = 0;
    char area[72] = "";
    if (d->element && !element_span(s, d->element, &pos, &last, area, sizeof area))
        return problem_set(p, ERR_INVALID, 422, "invalidField", "element", "no element %s",
                           d->element);
    if (d->area)
        snprintf(area, sizeof area, "%s", d->area);
    if (!d->element && !area[0])
        return problem_set(p, ERR_INVALID, 422, "invalidField", "area",
                           "a finding needs an element or an area");
    /* join the open incident on the same part of the tree */
    store_res *r;
    err rc = store_query(s,
                         "SELECT id, element_pos, element_last, level, service, area, element_id"
                         " FROM incidents WHERE active = 1 ORDER BY id",
                         NULL, 0, &r);
    if (rc)
        return rc;
    active_inc hit = {0};
    for (int i = 0; i < store_rows(r) && !hit.id; i++) {
        int64_t ip = store_isnull(r, i, 1) ? 0 : store_int(r, i, 1);
        int64_t il = store_isnull(r, i, 2) ? 0 : store_int(r, i, 2);
        const char *ia = store_text(r, i, 5);
        bool join = false;
        if (pos > 0 && ip > 0)
            join = spans_nest(pos, last, ip, il);
        else if (area[0] && ia)
            join = (area_under(area, ia) || area_under(ia, area)) &&
                   service_fits(d->service, store_text(r, i, 4));
        if (join) {
            hit.id = store_int(r, i, 0);
            hit.pos = ip;
            hit.last = il;
            hit.level = (int)store_int(r, i, 3);
            snprintf(hit.area, sizeof hit.area, "%s", ia ? ia : "");
            snprintf(hit.element, sizeof hit.element, "%s",
                     store_text(r, i, 6) ? store_text(r, i, 6) : "");
        }
    }
    store_res_free(r);
    if (!hit.id)
        return open_incident(e, d, pos, last, area, out);
    /* joined */
    int64_t id = hit.id, now = engine_now(e);
    *out = id;
    rc = d->kind && d->ref ? incident_link(e, id, d->kind, d->ref) : ERR_OK;
    if (!rc)
        rc = track(e, id, d->actor, NULL, "关联：%s（来源 %s %s）", d->name, d->origin,
                   d->ref ? d->ref : "");
    if (!rc && d->level < hit.level) {
        rc = store_exec(s, "UPDATE incidents SET level = ?, updated = ? WHERE id = ?",
                        (store_val[]){SV_I(d->level), SV_I(now), SV_I(id)}, 3);
        if (!rc)
            rc = track(e, id, d->actor, NULL, "级别由%d级升为%d级", hit.level, d->level);
    }
    /* a finding higher up the tree (or the first with an element) widens the suspect */
    bool widen = pos > 0 && (hit.pos == 0 || (pos < hit.pos && last >= hit.last));
    if (!rc && widen) {
        rc = store_exec(s,
                        "UPDATE incidents SET element_id = ?, element_pos = ?, element_last = ?,"
                        " area = ?, updated = ? WHERE id = ?",
                        (store_val[]){SV_S(d->element), SV_I(pos), SV_I(last), SV_S(area),
                                      SV_I(now), SV_I(id)},
                        6);
        int64_t affected = 0;
        if (!rc)
            rc = compute_impact(e, id, pos, last, area, &affected);
        /* the notifier walks the wider range from the start; who was told is skipped */
        if (!rc)
            rc = store_exec(s,
                            "UPDATE incidents SET notify_pass = 0, notify_cursor = NULL"
                            " WHERE id = ? AND restored_at IS NULL",
                            (store_val[]){SV_I(id)}, 1);
        if (!rc)
            rc = track(e, id, d->actor, NULL, "疑似故障点改为%s，影响用户%lld户", d->element,
                       (long long)affected);
        if (!rc)
            engine_timer_add(e, now + 1, AK_NOTIFY, id);
    }
    if (!rc)
        rc = emit(e, "incident.joined", id, d->actor,
                  json_pack("{s:s, s:s?, s:s?, s:b}", "origin", d->origin, "kind", d->kind, "ref",
                            d->ref, "widened", widen));
    return rc;
}

/* ---- restoring ---- */

static err close_attached(engine *e, void *arg)
{
    const char *ref = arg;
    int64_t tid;
    if (parse_i64(ref, 1, INT64_MAX, &tid))
        return ERR_OK;
    problem p = {0};
    err rc = tickets_system_move(e, tid, "new", NULL, "incident restored", &p);
    if (!rc)
        rc = tickets_system_move(e, tid, "resolvedAtFirstLine", NULL,
                                 "故障已恢复，已短信告知客户 / restored, customer told by SMS", &p);
    if (!rc)
        rc = tickets_system_move(e, tid, "closed", NULL, "incident restored", &p);
    return rc;
}

static err restore_incident(engine *e, int64_t id, const char *actor, const char *why)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    err rc = store_exec(s,
                        "UPDATE incidents SET stage = 'restore', status = 'resolved',"
                        " status_reason = ?, restored_at = ?, active = 0, updated = ?,"
                        " notify_pass = 3 WHERE id = ?",
                        (store_val[]){SV_S(why), SV_I(now), SV_I(now), SV_I(id)}, 4);
    /* opening messages not yet out are pointless now: withdraw them */
    if (!rc)
        rc = store_exec(s,
                        "UPDATE outbox SET state = 'cancelled', last_error = 'incident restored',"
                        " updated = ? WHERE entity_type = 'incident' AND entity_id = ?"
                        " AND template = 'incident.opened' AND state = 'pending'",
                        (store_val[]){SV_I(now), SV_S(ids)}, 2);
    if (!rc)
        rc = store_exec(s,
                        "UPDATE incident_impact SET opened_msg = 0 WHERE incident_id = ?"
                        " AND opened_msg IS NULL",
                        (store_val[]){SV_I(id)}, 1);
    if (!rc)
        rc = impact_counts(e, id, 0, store_changes(s), 0, 0);
    /* the attached work orders: resolved at first line, closed; the customer is told below */
    store_res *r = NULL;
    if (!rc)
        rc = store_query(s,
                         "SELECT ref FROM incident_links WHERE incident_id = ? AND kind = 'ticket'"
                         " AND active = 1 ORDER BY time, ref",
                         (store_val[]){SV_I(id)}, 1, &r);
    int closed = 0, left = 0;
    for (int i = 0; !rc && i < store_rows(r); i++) {
        char ref[24];
        snprintf(ref, sizeof ref, "%s", store_text(r, i, 0));
        if (engine_try(e, close_attached, ref) == ERR_OK)
            closed++;
        else
            left++;
    }
    store_res_free(r);
    if (!rc)
        rc = track(e, id, actor, "restore", "恢复：%s；关联工单自动归档%d张%s", why, closed,
                   left ? "，部分工单已人工处理，未自动归档" : "");
    if (!rc)
        rc = emit(e, "incident.restored", id, actor,
                  json_pack("{s:s, s:i, s:i}", "reason", why, "ticketsClosed", closed,
                            "ticketsLeft", left));
    if (!rc)
        engine_timer_add(e, now + 1, AK_NOTIFY, id);
    return rc;
}

err incident_ref_cleared(engine *e, const char *kind, const char *ref, const char *actor)
{
    store *s = engine_store(e);
    err rc = store_exec(s, "UPDATE incident_links SET active = 0 WHERE kind = ? AND ref = ?",
                        (store_val[]){SV_S(kind), SV_S(ref)}, 2);
    if (rc)
        return rc;
    store_res *r;
    rc = store_query(s,
                     "SELECT l.incident_id FROM incident_links l JOIN incidents i"
                     " ON i.id = l.incident_id WHERE l.kind = ? AND l.ref = ? AND i.active = 1",
                     (store_val[]){SV_S(kind), SV_S(ref)}, 2, &r);
    if (rc)
        return rc;
    for (int i = 0; !rc && i < store_rows(r); i++) {
        int64_t id = store_int(r, i, 0), still = 0;
        /* restored automatically when no root alarm or dial-test behind it is still failing
           (symptom alarms under a cleared root clear on their own) */
        rc = store_scalar(s,
                          "SELECT COUNT(*) FROM incident_links l WHERE l.incident_id = ?"
                          " AND l.active = 1 AND (l.kind = 'dialTest' OR (l.kind = 'alarm' AND"
                          " EXISTS (SELECT 1 FROM alarms a WHERE a.id = CAST(l.ref AS BIGINT)"
                          " AND a.is_root_cause = 1 AND a.cleared IS NULL)))",
                          (store_val[]){SV_I(id)}, 1, 0, &still);
        if (!rc)
            rc = track(e, id, actor, NULL, "%s %s 已消除%s", kind, ref,
                       still ? "" : "，全部告警与拨测均已恢复");
        if (!rc && !still)
            rc = restore_incident(e, id, actor, "all alarms and dial-tests cleared");
    }
    store_res_free(r);
    return rc;
}

/* ---- proactive notification, in chunks on the engine thread ---- */

typedef struct {
    int level;
    bool restored, cancelled, tell;
    int64_t base, pos, last;
    int pass;
    char area[72], cursor[200];
    char *open_text, *restore_text;
} notify_state;

/* the passes of the opening walk: VIPs, then diamond and gold, then everyone else */
/* (written so that SQLite keeps walking the covering index in order instead of sorting) */
static const char *const pass_filter[] = {
    "vip + 0 = 1",
    "vip + 0 = 0 AND level || '' IN ('diamond', 'gold')",
    "vip + 0 = 0 AND level || '' NOT IN ('diamond', 'gold')",
};
#define PASSES 3

static err load_notify_state(engine *e, int64_t id, notify_state *ns, bool *found)
{
    store *s = engine_store(e);
    assurance_ctx *a = actx(e);
    store_res *r;
    err rc = store_query(s,
                         "SELECT level, service, area, expected_restore, restored_at, notified_at,"
                         " stage, element_pos, element_last, notify_pass, notify_cursor,"
                         " notify_customers FROM incidents WHERE id = ?",
                         (store_val[]){SV_I(id)}, 1, &r);
    if (rc)
        return rc;
    *found = store_rows(r) == 1;
    if (!*found) {
        store_res_free(r);
        return ERR_OK;
    }
    ns->level = (int)store_int(r, 0, 0);
    ns->restored = !store_isnull(r, 0, 4);
    ns->cancelled = str_eq(store_text(r, 0, 6), "cancelled");
    ns->base = ns->restored ? store_int(r, 0, 4) : store_int(r, 0, 5);
    ns->pos = store_isnull(r, 0, 7) ? 0 : store_int(r, 0, 7);
    ns->last = store_isnull(r, 0, 8) ? 0 : store_int(r, 0, 8);
    ns->pass = (int)store_int(r, 0, 9);
    snprintf(ns->cursor, sizeof ns->cursor, "%s", store_text(r, 0, 10) ? store_text(r, 0, 10) : "");
    ns->tell = store_int(r, 0, 11) != 0;
    snprintf(ns->area, sizeof ns->area, "%s", store_text(r, 0, 2) ? store_text(r, 0, 2) : "");
    char an[80], svc[40], when[40] = "";
    area_name(s, store_text(r, 0, 2), an, sizeof an);
    snprintf(svc, sizeof svc, "%s", service_zh(store_text(r, 0, 1)));
    if (!store_isnull(r, 0, 3)) {
        char t[40];
        time_iso(store_int(r, 0, 3), a->cfg.tz, t, sizeof t);
        snprintf(when, sizeof when, "%.10s %.5s", t, t + 11);
    }
    store_res_free(r);
    ns->open_text = xasprintf(
        "【守夜】尊敬的客户：您所在的%s%s业务因网络故障暂时受影响，我们正在全力抢修%s%s，"
        "恢复后将短信告知，给您带来不便敬请谅解。Service notice: %s in your area is affected by a "
        "network fault; repair is under way%s%s. We will text you when it is restored.",
        an, svc, when[0] ? "，预计" : "", when[0] ? when : "", svc,
        when[0] ? ", expected by " : "", when[0] ? when : "");
    ns->restore_text = xasprintf("【守夜】尊敬的客户：您所在的%s%s业务已恢复正常，感谢您的耐心"
                                 "等待。Service notice: %s in your area is back to normal. "
                                 "Thank you for your patience.",
                                 an, svc, svc);
    return ERR_OK;
}

/* one step of the opening walk over the affected range; true in *more when it goes on */
static err notify_open_step(engine *e, int64_t id, notify_state *ns, int64_t release, int per_s,
                            int64_t done, int budget, int *queued, int *walked, bool *more)
{
    store *s = engine_store(e);
    *more = false;
    if (!ns->tell || ns->pass >= PASSES)
        return ERR_OK;
    err rc;
    /* the walk follows the covering index; the cursor is the last row's key */
    json_t *cur = ns->cursor[0] ? json_load(ns->cursor) : NULL;
    buf sql;
    buf_init(&sql, 0);
    store_val args[8];
    int n = 0;
    char hi[80];
    snprintf(hi, sizeof hi, "%s/", ns->area);
    if (ns->pos > 0) {
        buf_printf(&sql,
                   "SELECT msisdn, sms_opt_out, attach_pos, status, vip, level FROM subscribers"
                   " WHERE attach_pos >= ? AND attach_pos <= ? AND status <> 'closed' AND %s",
                   pass_filter[ns->pass]);
        /* the range starts at the cursor's position: no rescan of what was walked */
        args[n++] = SV_I(cur ? json_integer_value(json_array_get(cur, 0)) : ns->pos);
        args[n++] = SV_I(ns->last);
        if (cur) {
            buf_adds(&sql, " AND (attach_pos, status, vip, level, msisdn) > (?, ?, ?, ?, ?)");
            args[n++] = SV_I(json_integer_value(json_array_get(cur, 0)));
            args[n++] = SV_S(json_string_value(json_array_get(cur, 1)));
            args[n++] = SV_I(json_integer_value(json_array_get(cur, 2)));
            args[n++] = SV_S(json_string_value(json_array_get(cur, 3)));
            args[n++] = SV_S(json_string_value(json_array_get(cur, 4)));
        }
        buf_adds(&sql, " ORDER BY attach_pos, status, vip, level, msisdn LIMIT ?");
    } else {
        buf_printf(&sql,
                   "SELECT msisdn, sms_opt_out, area FROM subscribers WHERE area >= ?"
                   " AND area < ? AND status <> 'closed' AND %s",
                   pass_filter[ns->pass]);
        args[n++] = SV_S(ns->area);
        args[n++] = SV_S(hi);
        if (cur) {
            buf_adds(&sql, " AND (area, msisdn) > (?, ?)");
            args[n++] = SV_S(json_string_value(json_array_get(cur, 0)));
            args[n++] = SV_S(json_string_value(json_array_get(cur, 1)));
        }
        buf_adds(&sql, " ORDER BY area, msisdn LIMIT ?");
    }
    args[n++] = SV_I(budget);
    store_res *r;
    rc = store_query(s, sql.data, args, n, &r);
    buf_free(&sql);
    json_decref(cur);
    if (rc)
        return rc;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    int rows = store_rows(r);
    *walked += rows;
    /* who already has a row (a caller promised a message, or an earlier walk): 500 a time */
    char **have = xcalloc((size_t)rows + 1, sizeof *have); /* msisdn → "told" or NULL */
    bool *told = xcalloc((size_t)rows + 1, sizeof *told);
    for (int base = 0; !rc && base < rows; base += 500) {
        int m = rows - base < 500 ? rows - base : 500;
        buf q;
        buf_init(&q, 0);
        buf_adds(&q, "SELECT msisdn, opened_msg FROM incident_impact WHERE incident_id = ?"
                     " AND msisdn IN (?");
        for (int k = 1; k < m; k++)
            buf_adds(&q, ", ?");
        buf_adds(&q, ")");
        store_val *qa = xcalloc((size_t)m + 1, sizeof *qa);
        qa[0] = SV_I(id);
        for (int k = 0; k < m; k++)
            qa[k + 1] = SV_S(store_text(r, base + k, 0));
        store_res *ex;
        rc = store_query(s, q.data, qa, m + 1, &ex);
        free(qa);
        buf_free(&q);
        if (rc)
            break;
        for (int j = 0; j < store_rows(ex); j++)
            for (int k = base; k < base + m; k++)
                if (!have[k] && strcmp(store_text(r, k, 0), store_text(ex, j, 0)) == 0) {
                    have[k] = (char *)"";
                    told[k] = !store_isnull(ex, j, 1);
                }
        store_res_free(ex);
    }
    /* the new ones in bulk: impact rows, then their messages */
    notify_row *msgs = xcalloc((size_t)rows + 1, sizeof *msgs);
    int nmsgs = 0;
    store_val *ia = xcalloc((size_t)rows * 4 + 1, sizeof *ia);
    int nia = 0;
    int64_t n_told = 0, n_not = 0;
    for (int i = 0; !rc && i < rows; i++) {
        const char *msisdn = store_text(r, i, 0);
        bool opted_out = store_int(r, i, 1) != 0;
        if (have[i] && told[i])
            continue; /* one message per subscriber per incident */
        int64_t msg = opted_out ? 0 : engine_next_id(e, "outbox");
        *(opted_out ? &n_not : &n_told) += 1;
        if (have[i]) { /* promised before the walk reached them: tell them now */
            rc = store_exec(s,
                            "UPDATE incident_impact SET opened_msg = ? WHERE incident_id = ?"
                            " AND msisdn = ?",
                            (store_val[]){SV_I(msg), SV_I(id), SV_S(msisdn)}, 3);
        } else {
            ia[nia++] = SV_I(id);
            ia[nia++] = SV_S(msisdn);
            ia[nia++] = SV_I(ns->pass);
            ia[nia++] = SV_I(msg);
        }
        if (!opted_out) {
            int64_t due = release + (done + *queued + nmsgs) * 1000 / per_s;
            msgs[nmsgs++] = (notify_row){.id = msg,
                                         .channel = "sms",
                                         .recipient = msisdn,
                                         .tmpl = "incident.opened",
                                         .body = ns->open_text,
                                         .entity_type = "incident",
                                         .entity_id = ids,
                                         .not_before = due};
        }
    }
    for (int base = 0; !rc && base < nia / 4; base += 100) {
        int m = nia / 4 - base < 100 ? nia / 4 - base : 100;
        char *q = store_insert_rows_sql(s, "incident_impact(incident_id, msisdn, rank, opened_msg)",
                                        "(?, ?, ?, ?)", m);
        rc = store_exec(s, q, &ia[base * 4], m * 4);
        free(q);
    }
    if (!rc)
        rc = notify_enqueue_rows(e, msgs, nmsgs);
    if (!rc)
        rc = impact_counts(e, id, n_told, n_not, 0, 0);
    *queued += nmsgs;
    free(msgs);
    free(ia);
    free(have);
    free(told);
    json_t *next = NULL;
    if (!rc && rows == budget) {
        int k = rows - 1;
        next = ns->pos > 0 ? json_pack("[I, s, I, s, s]", (json_int_t)store_int(r, k, 2),
                                       store_text(r, k, 3), (json_int_t)store_int(r, k, 4),
                                       store_text(r, k, 5), store_text(r, k, 0))
                           : json_pack("[s, s]", store_text(r, k, 2), store_text(r, k, 0));
    }
    store_res_free(r);
    if (rc) {
        json_decref(next);
        return rc;
    }
    char *ctext = next ? json_dump(next) : NULL;
    json_decref(next);
    int pass = next ? ns->pass : ns->pass + 1;
    rc = store_exec(s, "UPDATE incidents SET notify_pass = ?, notify_cursor = ? WHERE id = ?",
                    (store_val[]){SV_I(pass), SV_S(ctext), SV_I(id)}, 3);
    ns->pass = pass;
    snprintf(ns->cursor, sizeof ns->cursor, "%s", ctext ? ctext : "");
    free(ctext);
    *more = pass < PASSES;
    return rc;
}

static err notify_chunk(engine *e, int64_t id, int64_t at)
{
    (void)at;
    store *s = engine_store(e);
    assurance_ctx *a = actx(e);
    notify_state ns = {0};
    bool found;
    err rc = load_notify_state(e, id, &ns, &found);
    if (rc || !found || ns.cancelled) {
        free(ns.open_text);
        free(ns.restore_text);
        return rc;
    }
    int64_t release = quiet_release(a->cfg.quiet_from, a->cfg.quiet_to, a->cfg.tz, ns.level,
                                    ns.base > engine_now(e) ? ns.base : engine_now(e));
    int per_s = a->cfg.sms_per_s > 0 ? a->cfg.sms_per_s : 100;
    int queued = 0;
    bool more = false;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    if (!ns.restored) {
        /* walk up to CHUNK subscribers this turn, across passes; message k of the incident
           is released k / sms_rate seconds after the first */
        int64_t done = 0;
        rc = store_scalar(s, "SELECT told FROM incidents WHERE id = ?", (store_val[]){SV_I(id)},
                          1, 0, &done);
        int walked = 0;
        while (!rc) {
            rc = notify_open_step(e, id, &ns, release, per_s, done, CHUNK - walked, &queued,
                                  &walked, &more);
            if (!more || walked >= CHUNK)
                break;
        }
    } else {
        /* restored: everyone whose opening message was not withdrawn, and every caller who
           was promised one */
        int64_t done = 0, told = 0;
        rc = store_scalar(s, "SELECT restore_told FROM incidents WHERE id = ?",
                          (store_val[]){SV_I(id)}, 1, 0, &done);
        store_res *r = NULL;
        if (!rc)
            rc = store_query(s,
                             "SELECT i.msisdn, i.promised, o.state FROM incident_impact i"
                             " LEFT JOIN outbox o ON o.id = i.opened_msg WHERE i.incident_id = ?"
                             " AND i.restored_msg IS NULL ORDER BY i.msisdn LIMIT ?",
                             (store_val[]){SV_I(id), SV_I(CHUNK)}, 2, &r);
        int n = rc ? 0 : store_rows(r);
        for (int i = 0; !rc && i < n; i++) {
            const char *msisdn = store_text(r, i, 0);
            bool send = store_int(r, i, 1) == 1 ||
                        (store_text(r, i, 2) && strcmp(store_text(r, i, 2), "cancelled") != 0);
            int64_t msg = 0;
            if (send) {
                rc = notify_enqueue_at(e, "sms", msisdn, "incident.restored", ns.restore_text,
                                       "incident", ids, release + (done + queued) * 1000 / per_s,
                                       &msg);
                queued++;
            }
            if (!rc)
                rc = store_exec(s,
                                "UPDATE incident_impact SET restored_msg = ? WHERE incident_id = ?"
                                " AND msisdn = ?",
                                (store_val[]){SV_I(msg), SV_I(id), SV_S(msisdn)}, 3);
            told += msg > 0;
        }
        store_res_free(r);
        if (!rc)
            rc = impact_counts(e, id, 0, 0, told, 0);
        more = n == CHUNK;
    }
    free(ns.open_text);
    free(ns.restore_text);
    if (!rc && queued)
        rc = emit(e, ns.restored ? "incident.restoreNotified" : "incident.notified", id, "system",
                  json_pack("{s:i, s:I}", "queued", queued, "releaseAt", (json_int_t)release));
    if (!rc && more)
        engine_timer_add(e, engine_now(e) + 1, AK_NOTIFY, id); /* more to come, next turn */
    return rc;
}

/* after a restart: finish what was being notified */
static err rebuild_notify(engine *e)
{
    store_res *r;
    err rc = store_query(engine_store(e),
                         "SELECT id FROM incidents WHERE (restored_at IS NULL AND active = 1"
                         " AND notify_customers = 1 AND notify_pass < 3) OR id IN"
                         " (SELECT incident_id FROM incident_impact WHERE restored_msg IS NULL"
                         " AND incident_id IN (SELECT id FROM incidents WHERE restored_at IS NOT"
                         " NULL))",
                         NULL, 0, &r);
    if (rc)
        return rc;
    for (int i = 0; i < store_rows(r); i++)
        engine_timer_add(e, engine_now(e), AK_NOTIFY, store_int(r, i, 0));
    store_res_free(r);
    return ERR_OK;
}

/* ---- the attach hook for new work orders (T6, A9) ---- */

static err attach_ticket(engine *e, const ticket_attach_ask *ask, char *incident, size_t ni,
                         char *note, size_t nn)
{
    store *s = engine_store(e);
    /* every complaint and fault report counts against the warning lines first: the one that
       crosses a line opens the incident it is then attached to */
    char tid[24];
    snprintf(tid, sizeof tid, "%lld", (long long)ask->ticket_id);
    err rc = signals_take(e, engine_now(e), ask->ticket_type, ask->service, ask->area,
                          ask->customer, tid);
    if (!rc)
        rc = signals_flush(e);
    else
        signals_discard();
    if (rc || !ask->customer)
        return rc;
    store_res *r;
    rc = store_query(s,
                         "SELECT i.id, i.expected_restore, i.name FROM subscribers s"
                         " JOIN incidents i ON i.active = 1 AND " AFFECTS
                         " WHERE s.msisdn = ? ORDER BY i.level, i.id LIMIT 1",
                         (store_val[]){SV_S(ask->customer)}, 1, &r);
    if (rc)
        return rc;
    if (!store_rows(r)) {
        store_res_free(r);
        return ERR_OK;
    }
    int64_t id = store_int(r, 0, 0);
    char when[40] = "未定";
    if (!store_isnull(r, 0, 1)) {
        char t[40];
        time_iso(store_int(r, 0, 1), actx(e)->cfg.tz, t, sizeof t);
        snprintf(when, sizeof when, "%.10s %.5s", t, t + 11);
    }
    snprintf(incident, ni, "%lld", (long long)id);
    snprintf(note, nn,
             "已知故障#%lld（%s）正在处理，预计恢复时间：%s；恢复后将短信告知客户。"
             "Known incident #%lld is being handled (expected restore: %s); the customer will be "
             "texted on restore.",
             (long long)id, store_text(r, 0, 2), when, (long long)id, when);
    store_res_free(r);
    rc = incident_link(e, id, "ticket", tid);
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO incident_impact(incident_id, msisdn, rank, promised)"
                        " VALUES (?, ?, 9, 1) ON CONFLICT (incident_id, msisdn)"
                        " DO UPDATE SET promised = 1 WHERE incident_impact.promised = 0",
                        (store_val[]){SV_I(id), SV_S(ask->customer)}, 2);
    if (!rc) /* a row is written only when the caller was not promised before */
        rc = impact_counts(e, id, 0, 0, 0, store_changes(s));
    if (!rc)
        rc = track(e, id, "system", NULL, "%s工单%s已关联到本故障", ask->ticket_type, tid);
    if (!rc)
        rc = emit(e, "incident.ticketAttached", id, "system",
                  json_pack("{s:s, s:s}", "ticket", tid, "ticketType", ask->ticket_type));
    return rc;
}

/* after every incident event and at the start, on the engine thread: what is active now */
static void reach_reload(assurance_ctx *a, store *s)
{
    store_res *r;
    err rc = store_query(s,
                         "SELECT element_pos, element_last, area FROM incidents WHERE active = 1",
                         NULL, 0, &r);
    reach *list = NULL;
    size_t n = rc ? 0 : (size_t)store_rows(r);
    if (n)
        list = xcalloc(n, sizeof *list);
    for (size_t i = 0; i < n; i++) {
        list[i].has_pos = !store_isnull(r, (int)i, 0) && !store_isnull(r, (int)i, 1);
        list[i].pos = store_int(r, (int)i, 0);
        list[i].last = store_int(r, (int)i, 1);
        const char *area = store_text(r, (int)i, 2);
        snprintf(list[i].area, sizeof list[i].area, "%s", area ? area : "");
    }
    store_res_free(r);
    pthread_mutex_lock(&a->reach_mu);
    free(a->reach);
    a->reach = list;
    a->nreach = n;
    a->reach_loaded = !rc; /* a store error: every caller asks the store */
    pthread_mutex_unlock(&a->reach_mu);
}

static err reach_start(engine *e)
{
    reach_reload(actx(e), engine_store(e));
    return ERR_OK;
}

static void reach_on_event(void *ctx, const event_rec *ev)
{
    assurance_ctx *a = ctx;
    if (strcmp(ev->entity_type, "incident") == 0 || strcmp(ev->type, "topology.imported") == 0)
        reach_reload(a, engine_store(a->eng));
}

/* may an active incident affect a subscriber here (AFFECTS, or more: an area prefix)? */
static bool reach_may(assurance_ctx *a, const incident_where *w)
{
    pthread_mutex_lock(&a->reach_mu);
    bool may = !a->reach_loaded;
    for (size_t i = 0; !may && i < a->nreach; i++) {
        const reach *x = &a->reach[i];
        if (x->has_pos)
            may = w->has_pos && w->pos >= x->pos && w->pos <= x->last;
        else
            may = w->area && strncmp(w->area, x->area, strlen(x->area)) == 0;
    }
    pthread_mutex_unlock(&a->reach_mu);
    return may;
}

json_t *assurance_incidents_for(assurance_ctx *a, store *s, const char *msisdn,
                                const incident_where *where, int tz)
{
    json_t *arr = json_array();
    if (a && where && !reach_may(a, where))
        return arr;
    store_res *r;
    /* one query: during an outage every affected caller's overview asks this */
    if (store_query(s,
                    "SELECT " INC_COLS " FROM incidents WHERE id IN (SELECT i.id FROM subscribers s"
                    " JOIN incidents i ON i.active = 1 AND " AFFECTS " WHERE s.msisdn = ?)"
                    " ORDER BY level, id",
                    (store_val[]){SV_S(msisdn)}, 1, &r))
        return arr;
    for (int i = 0; i < store_rows(r); i++)
        json_array_append_new(arr, incident_row(r, i, tz));
    store_res_free(r);
    return arr;
}

/* ---- HTTP ---- */

static const json_field ref_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 64, NULL},
    {"href", JT_STRING, 0, 300, NULL},
    {"name", JT_STRING, 0, 200, NULL},
    {"role", JT_STRING, 0, 64, NULL},
    {"@referredType", JT_STRING, 0, 64, NULL},
    {"@type", JT_STRING, 0, 64, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field create_fields[] = {
    {"category", JT_STRING, JF_REQUIRED, 64, NULL},
    {"description", JT_STRING, JF_REQUIRED, 2000, NULL},
    {"priority", JT_INT, JF_REQUIRED, 0, NULL},
    {"reason", JT_STRING, JF_REQUIRED, 200, NULL},
    {"originatorParty", JT_OBJECT, JF_REQUIRED, 0, NULL},
    {"name", JT_STRING, 0, 200, NULL},
    {"affectedService", JT_ARRAY, 0, 0, NULL},
    {"affectedResource", JT_ARRAY, 0, 0, NULL},
    {"affectedLocation", JT_ARRAY, 0, 0, NULL},
    {"firstAlert", JT_STRING, 0, 40, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_refs(const json_t *b, const char *name, problem *p)
{
    const json_t *arr = json_object_get(b, name);
    if (json_array_size(arr) > 1)
        return problem_field(p, name, "one item per incident (open another incident for more)");
    if (json_array_size(arr) == 1)
        return json_check(json_array_get(arr, 0), ref_fields, name, p);
    return ERR_OK;
}

static const char *first_id(const json_t *b, const char *name)
{
    return jstr(json_array_get(json_object_get(b, name), 0), "id");
}

static err check_create(const json_t *b, problem *p)
{
    json_int_t lv = json_integer_value(json_object_get(b, "priority"));
    if (lv < 1 || lv > 4)
        return problem_field(p, "priority", "must be a level 1 (highest) … 4");
    err rc = check_refs(b, "affectedService", p);
    if (!rc)
        rc = check_refs(b, "affectedResource", p);
    if (!rc)
        rc = check_refs(b, "affectedLocation", p);
    if (rc)
        return rc;
    if (!first_id(b, "affectedResource") && !first_id(b, "affectedLocation"))
        return problem_field(p, "affectedResource",
                             "name the element (affectedResource) or the area (affectedLocation)");
    const char *area = first_id(b, "affectedLocation");
    if (area && !area_code_ok(area))
        return problem_field(p, "affectedLocation", "must be an area code like GD.SZ.NS");
    int64_t ms;
    if (jstr(b, "firstAlert") && time_parse_iso(jstr(b, "firstAlert"), 480, &ms))
        return problem_field(p, "firstAlert", "must be an ISO 8601 date-time");
    if (!jstr(json_object_get(b, "originatorParty"), "id"))
        return problem_missing(p, "originatorParty.id");
    return ERR_OK;
}

static json_t *render_one(cmd *c, store *reader, void *route_ctx)
{
    assurance_ctx *a = route_ctx;
    return incident_render(reader, c->out_id, a ? a->cfg.tz : 480, true);
}

static err apply_create(engine *e, cmd *c)
{
    const json_t *b = c->in;
    const char *area = first_id(b, "affectedLocation");
    err rc = engine_require_row(e, c, "areas", "code", area, "affectedLocation", "area");
    if (rc)
        return rc;
    int64_t first = engine_now(e);
    if (jstr(b, "firstAlert"))
        time_parse_iso(jstr(b, "firstAlert"), actx(e)->cfg.tz, &first);
    detect d = {.origin = "manual",
                .level = (int)json_integer_value(json_object_get(b, "priority")),
                .service = first_id(b, "affectedService"),
                .area = area,
                .element = first_id(b, "affectedResource"),
                .name = jstr(b, "name") ? jstr(b, "name") : jstr(b, "reason"),
                .description = jstr(b, "description"),
                .actor = c->actor,
                .first_signal = first};
    int64_t id;
    rc = incident_detect(e, &d, &id, &c->prob);
    if (rc)
        return rc;
    c->out_id = id;
    c->render = render_one;
    c->status = 201;
    snprintf(c->location, sizeof c->location, SP_BASE "/%lld", (long long)id);
    return ERR_OK;
}

static void create(req *r)
{
    req_submit_checked(r, create_fields, check_create, apply_create);
}

static const json_field patch_fields[] = {
    {"stage", JT_STRING, 0, 16, stage_names},
    {"status", JT_STRING, 0, 16, NULL},
    {"statusChangeReason", JT_STRING, 0, 200, NULL},
    {"priority", JT_INT, 0, 0, NULL},
    {"expectedRestoreDate", JT_STRING, 0, 40, NULL},
    {"review", JT_STRING, 0, 4000, NULL},
    {"description", JT_STRING, 0, 2000, NULL},
    {"note", JT_STRING, 0, 1000, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_patch(const json_t *b, problem *p)
{
    json_t *lv = json_object_get(b, "priority");
    if (lv && (json_integer_value(lv) < 1 || json_integer_value(lv) > 4))
        return problem_field(p, "priority", "must be a level 1 (highest) … 4");
    int64_t ms;
    if (jstr(b, "expectedRestoreDate") && time_parse_iso(jstr(b, "expectedRestoreDate"), 480, &ms))
        return problem_field(p, "expectedRestoreDate", "must be an ISO 8601 date-time");
    const char *st = jstr(b, "status");
    if (st && !str_in(st, (const char *const[]){"inProgress", "resolved", "closed", "cancelled",
                                                NULL}))
        return problem_field(p, "status", "must be inProgress, resolved, closed or cancelled");
    return ERR_OK;
}

static err apply_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t id;
    if (parse_i64(c->id, 1, INT64_MAX, &id))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no incident %s", c->id);
    json_t *before = incident_render(s, id, actx(e)->cfg.tz, false);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no incident %s", c->id);
    const char *cur = jstr(before, "stage");
    const char *to = jstr(c->in, "stage");
    const char *st = jstr(c->in, "status");
    if (!to && st)
        to = strcmp(st, "inProgress") == 0 ? "handle"
             : strcmp(st, "resolved") == 0 ? "restore"
                                           : st; /* closed, cancelled */
    int64_t now = engine_now(e);
    const char *why = jstr(c->in, "statusChangeReason");
    err rc = ERR_OK;
    if (to && strcmp(to, cur) != 0) {
        unsigned roles = 0;
        bool legal = false;
        for (size_t i = 0; i < ARRAY_LEN(moves); i++)
            if (strcmp(moves[i].from, cur) == 0 && strcmp(moves[i].to, to) == 0) {
                legal = true;
                roles = moves[i].roles;
            }
        if (!legal)
            rc = problem_set(&c->prob, ERR_CONFLICT, 409, "illegalTransition", "stage",
                             "stage: an incident in stage %s cannot move to %s", cur, to);
        else if (!(roles & c->roles))
            rc = problem_set(&c->prob, ERR_FORBIDDEN, 403, "forbidden", "stage",
                             "stage: your role may not move an incident from %s to %s", cur, to);
        else if (strcmp(to, "closed") == 0 && strcmp(cur, "review") != 0 &&
                 !jstr(c->in, "review"))
            rc = problem_set(&c->prob, ERR_INVALID, 422, "missingField", "review",
                             "review: closing an incident needs its review 复盘 text");
        if (!rc && strcmp(to, "restore") == 0) {
            rc = restore_incident(e, id, c->actor, why ? why : "restored by hand");
        } else if (!rc) {
            const char *col = strcmp(to, "locate") == 0   ? "located_at"
                              : strcmp(to, "handle") == 0 ? "handling_at"
                              : strcmp(to, "closed") == 0 ? "closed_at"
                                                          : NULL;
            bool active = stage_active(to);
            if (strcmp(to, "handle") == 0 && strcmp(cur, "restore") == 0) {
                /* relapse: the fault is back */
                rc = store_exec(s, "UPDATE incidents SET restored_at = NULL WHERE id = ?",
                                (store_val[]){SV_I(id)}, 1);
            }
            if (!rc)
                rc = store_exec(s,
                                "UPDATE incidents SET stage = ?, status = ?, status_reason = ?,"
                                " active = ?, updated = ? WHERE id = ?",
                                (store_val[]){SV_S(to), SV_S(stage_of(to)->status), SV_S(why),
                                              SV_I(active), SV_I(now), SV_I(id)},
                                6);
            if (!rc && col) { /* the first time the stage was reached */
                char *sql =
                    xasprintf("UPDATE incidents SET %s = COALESCE(%s, ?) WHERE id = ?", col, col);
                rc = store_exec(s, sql, (store_val[]){SV_I(now), SV_I(id)}, 2);
                free(sql);
            }
            if (!rc)
                rc = track(e, id, c->actor, to, "%s%s%s", stage_of(to)->zh, why ? "：" : "",
                           why ? why : "");
            if (!rc && strcmp(to, "cancelled") == 0)
                rc = store_exec(s,
                                "UPDATE outbox SET state = 'cancelled', last_error = 'incident"
                                " cancelled', updated = ? WHERE entity_type = 'incident'"
                                " AND entity_id = ? AND state = 'pending'",
                                (store_val[]){SV_I(now), SV_S(c->id)}, 2);
            if (!rc)
                rc = emit(e, "incident.stageChanged", id, c->actor,
                          json_pack("{s:s, s:s}", "from", cur, "to", to));
        }
    }
    json_t *lv = json_object_get(c->in, "priority");
    if (!rc && lv) {
        rc = store_exec(s, "UPDATE incidents SET level = ?, updated = ? WHERE id = ?",
                        (store_val[]){SV_I(json_integer_value(lv)), SV_I(now), SV_I(id)}, 3);
        if (!rc)
            rc = track(e, id, c->actor, NULL, "级别调整为%d级", (int)json_integer_value(lv));
    }
    int64_t ms;
    if (!rc && jstr(c->in, "expectedRestoreDate") &&
        time_parse_iso(jstr(c->in, "expectedRestoreDate"), actx(e)->cfg.tz, &ms) == ERR_OK) {
        rc = store_exec(s, "UPDATE incidents SET expected_restore = ?, updated = ? WHERE id = ?",
                        (store_val[]){SV_I(ms), SV_I(now), SV_I(id)}, 3);
        if (!rc)
            rc = track(e, id, c->actor, NULL, "预计恢复时间更新为%s",
                       jstr(c->in, "expectedRestoreDate"));
    }
    static const char *const texts[] = {"review", "description"};
    for (int k = 0; k < 2 && !rc; k++)
        if (jstr(c->in, texts[k])) {
            char *sql = xasprintf("UPDATE incidents SET %s = ?, updated = ? WHERE id = ?", texts[k]);
            rc = store_exec(s, sql, (store_val[]){SV_S(jstr(c->in, texts[k])), SV_I(now), SV_I(id)},
                            3);
            free(sql);
        }
    if (!rc && jstr(c->in, "note"))
        rc = track(e, id, c->actor, NULL, "%s", jstr(c->in, "note"));
    if (rc) {
        json_decref(before);
        return rc;
    }
    json_t *after = incident_render(s, id, actx(e)->cfg.tz, false);
    rc = engine_audit(e, c->actor, to ? "move" : "update", "incident", c->id, before, after);
    json_decref(before);
    json_decref(after);
    c->out_id = id;
    c->render = render_one;
    c->status = 200;
    return rc;
}

static void patch(req *r)
{
    req_submit_checked(r, patch_fields, check_patch, apply_patch);
}

static json_t *incident_full(store *s, int64_t id, int tz)
{
    return incident_render(s, id, tz, true);
}

static void get_one(req *r)
{
    settings_get(r, incident_full, "incident");
}

/* GET …/serviceProblem/{id}/affected — the affected subscribers (the range under the suspect
   or the area) with whether and how each was told */
static void affected(req *r)
{
    int64_t off, lim, id;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    store_res *inc = NULL;
    if (parse_i64(req_param(r, "id"), 1, INT64_MAX, &id) ||
        store_query(s, "SELECT element_pos, element_last, area FROM incidents WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &inc) ||
        !store_rows(inc)) {
        store_res_free(inc);
        req_fail(r, 404, "notFound", "id", "no incident %s", req_param(r, "id"));
        return;
    }
    bool by_pos = !store_isnull(inc, 0, 0);
    int64_t pos = by_pos ? store_int(inc, 0, 0) : 0, last = by_pos ? store_int(inc, 0, 1) : 0;
    char area[72], hi[80];
    snprintf(area, sizeof area, "%s", store_text(inc, 0, 2) ? store_text(inc, 0, 2) : "");
    snprintf(hi, sizeof hi, "%s/", area);
    store_res_free(inc);
    store_res *res;
    int64_t total = 0;
    err rc = store_page(
        s,
        "s.msisdn, s.level, s.vip, s.sms_opt_out, m.opened_msg, m.restored_msg, m.promised,"
        " o.state",
        by_pos ? "subscribers s LEFT JOIN incident_impact m ON m.incident_id = ? AND m.msisdn ="
                 " s.msisdn LEFT JOIN outbox o ON o.id = m.opened_msg WHERE s.attach_pos >= ?"
                 " AND s.attach_pos <= ? AND s.status <> 'closed'"
               : "subscribers s LEFT JOIN incident_impact m ON m.incident_id = ? AND m.msisdn ="
                 " s.msisdn LEFT JOIN outbox o ON o.id = m.opened_msg WHERE s.area >= ?"
                 " AND s.area < ? AND s.status <> 'closed'",
        "s.vip DESC, s.msisdn",
        by_pos ? (store_val[]){SV_I(id), SV_I(pos), SV_I(last)}
               : (store_val[]){SV_I(id), SV_S(area), SV_S(hi)},
        3, lim, off, &total, &res);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "the affected subscribers cannot be read now");
        return;
    }
    bool full = req_who(r)->roles & (ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION);
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        char m[32];
        const char *msisdn = store_text(res, i, 0);
        if (!full)
            mask_phone(msisdn, m, sizeof m);
        json_t *o = json_pack("{s:s, s:i, s:s, s:b, s:b, s:b}", "msisdn", full ? msisdn : m,
                              "rank", impact_rank(store_int(res, i, 2) != 0, store_text(res, i, 1)),
                              "level", store_text(res, i, 1), "vip", store_int(res, i, 2) != 0,
                              "optedOut", store_int(res, i, 3) != 0, "promised",
                              !store_isnull(res, i, 6) && store_int(res, i, 6) != 0);
        if (!store_isnull(res, i, 4) && store_int(res, i, 4) > 0) {
            json_object_set_new(o, "openMessage", json_integer(store_int(res, i, 4)));
            json_object_set_new(o, "openMessageState", json_string(store_text(res, i, 7)));
        }
        if (!store_isnull(res, i, 5) && store_int(res, i, 5) > 0)
            json_object_set_new(o, "restoreMessage", json_integer(store_int(res, i, 5)));
        json_array_append_new(arr, o);
    }
    store_res_free(res);
    req_list(r, arr, total);
}

static void list(req *r)
{
    static const query_filter filters[] = {
        {"active", QF_BOOL, " AND active = ?", NULL, NULL, 0, 0},
        {"stage", QF_ENUM, " AND stage = ?", NULL, stage_names, 0, 0},
        {"priority", QF_INT, " AND level = ?", NULL, NULL, 1, 4},
        {"service", QF_TEXT, " AND service = ?", NULL, NULL, 0, 0},
        {"element", QF_TEXT, " AND element_id = ?", NULL, NULL, 0, 0},
        {NULL, 0, NULL, NULL, NULL, 0, 0},
    };
    req_list_rows(r, "incidents", INC_COLS, filters, "id DESC", incident_row, "incidents");
}

/* ---- the IVR (A9): what to tell a caller, and taking their call as a contact ---- */

static json_t *ivr_answer(assurance_ctx *a, store *s, const char *caller, int tz)
{
    /* where the caller hangs, from the directory when it knows */
    incident_where at = {0};
    char area[72] = "";
    bool known = false;
    if (a && a->cfg.directory) {
        const char *ar = NULL;
        directory_lock(a->cfg.directory);
        known = directory_find(a->cfg.directory, caller, &at.has_pos, &at.pos, &ar);
        snprintf(area, sizeof area, "%s", ar ? ar : "");
        directory_unlock(a->cfg.directory);
        at.area = area[0] ? area : NULL;
    }
    json_t *inc = assurance_incidents_for(a, s, caller, known ? &at : NULL, tz);
    json_t *first = json_array_get(inc, 0);
    json_t *o = json_pack("{s:b, s:o}", "knownIncident", first != NULL, "incidents", inc);
    if (first) {
        const char *svc = jstr(json_array_get(json_object_get(first, "affectedService"), 0), "id");
        const char *when = jstr(first, "expectedRestoreDate");
        char w[40] = "";
        if (when)
            snprintf(w, sizeof w, "%.2s月%.2s日%.5s", when + 5, when + 8, when + 11);
        char *zh = xasprintf("您好，您所在区域的%s业务因网络故障暂时受影响，我们正在全力抢修%s%s。"
                             "故障恢复后将短信通知您。如需人工服务请按0。",
                             service_zh(svc), w[0] ? "，预计" : "", w[0] ? w : "");
        char *en = xasprintf("Hello. %s in your area is affected by a network fault and is being "
                             "repaired%s%s. We will text you when it is restored. Press 0 for an "
                             "agent.",
                             svc ? svc : "Service", when ? ", expected by " : "",
                             when ? when : "");
        json_object_set_new(o, "prompt", json_pack("{s:s, s:s}", "zh", zh, "en", en));
        free(zh);
        free(en);
    }
    return o;
}

static void ivr_status(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    const char *caller = req_query(r, "caller");
    if (!caller || !notify_msisdn_ok(caller)) {
        req_fail(r, 400, "invalidField", "caller", "caller: a mobile number of 11 digits");
        return;
    }
    const char *m = caller + strlen(caller) - 11;
    json_t *o = ivr_answer(req_route_ctx(r), s, m, req_tz(r));
    req_json(r, 200, o);
}

static json_t *render_ivr(cmd *c, store *reader, void *route_ctx)
{
    assurance_ctx *a = route_ctx;
    json_t *o = ivr_answer(a, reader, jstr(c->in, "caller"), a ? a->cfg.tz : 480);
    json_object_set_new(o, "promised", json_boolean(c->out_id > 0));
    return o;
}

/* a caller who stays in the IVR: counted as a report, and promised the restore message */
static err apply_ivr_contact(engine *e, cmd *c)
{
    const char *caller = jstr(c->in, "caller");
    err rc = engine_require_row(e, c, "subscribers", "msisdn", caller, "caller", "subscriber");
    if (rc)
        return rc;
    char ref[40];
    snprintf(ref, sizeof ref, "ivr:%lld", (long long)engine_now(e));
    ticket_attach_ask ask = {0, caller, jstr(c->in, "kind") ? jstr(c->in, "kind") : "faultReport",
                             jstr(c->in, "service"), NULL};
    rc = signals_take(e, engine_now(e), ask.ticket_type, ask.service, NULL, caller, ref);
    if (!rc)
        rc = signals_flush(e);
    else
        signals_discard();
    store_res *r;
    if (!rc)
        rc = store_query(engine_store(e),
                         "SELECT i.id FROM subscribers s JOIN incidents i ON i.active = 1 AND " AFFECTS
                         " WHERE s.msisdn = ? ORDER BY i.level, i.id LIMIT 1",
                         (store_val[]){SV_S(caller)}, 1, &r);
    if (rc)
        return rc;
    int64_t id = store_rows(r) ? store_int(r, 0, 0) : 0;
    store_res_free(r);
    if (id) {
        rc = store_exec(engine_store(e),
                        "INSERT INTO incident_impact(incident_id, msisdn, rank, promised)"
                        " VALUES (?, ?, 9, 1) ON CONFLICT (incident_id, msisdn)"
                        " DO UPDATE SET promised = 1 WHERE incident_impact.promised = 0",
                        (store_val[]){SV_I(id), SV_S(caller)}, 2);
        if (!rc)
            rc = impact_counts(e, id, 0, 0, 0, store_changes(engine_store(e)));
        if (!rc)
            rc = track(e, id, c->actor, NULL, "IVR来电已关联，恢复后短信告知");
        if (!rc)
            rc = emit(e, "incident.contactAttached", id, c->actor,
                      json_pack("{s:s}", "channel", "ivr"));
    }
    c->out_id = id;
    c->render = render_ivr;
    c->status = 200;
    return rc;
}

static err check_ivr(const json_t *b, problem *p)
{
    if (!notify_msisdn_ok(jstr(b, "caller")))
        return problem_field(p, "caller", "a mobile number of 11 digits");
    return ERR_OK;
}

static const char *const report_kinds[] = {"complaint", "faultReport", NULL};

static void ivr_contact(req *r)
{
    static const json_field fields[] = {{"caller", JT_STRING, JF_REQUIRED, 16, NULL},
                                        {"service", JT_STRING, 0, 32, NULL},
                                        {"kind", JT_STRING, 0, 16, report_kinds},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, check_ivr, apply_ivr_contact);
}

#define READ ROUTE_ANY
#define WRITE (ROLE_SPECIALIST | ROLE_ENGINEER | ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION)

static const route routes[] = {
    {"GET", SP_BASE, READ, list},
    {"POST", SP_BASE, ROLE_SUPERVISOR | ROLE_ADMIN | ROLE_INTEGRATION | ROLE_SPECIALIST, create},
    {"GET", SP_BASE "/{id}", READ, get_one},
    {"PATCH", SP_BASE "/{id}", WRITE, patch},
    {"GET", SP_BASE "/{id}/affected", READ, affected},
    {"GET", "/api/v1/ivr/status", ROLE_AGENT | ROLE_ADMIN | ROLE_INTEGRATION, ivr_status},
    {"POST", "/api/v1/ivr/contacts", ROLE_ADMIN | ROLE_INTEGRATION, ivr_contact},
    {NULL, NULL, 0, NULL},
};

void incidents_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}

/* ---- the module ---- */

assurance_ctx *assurance_create(const assurance_config *cfg)
{
    assurance_ctx *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    pthread_mutex_init(&a->reach_mu, NULL);
    return a;
}

void assurance_destroy(assurance_ctx *a)
{
    if (!a)
        return;
    signals_free(a);
    pthread_mutex_destroy(&a->reach_mu);
    free(a->reach);
    free(a);
}

void assurance_attach_engine(assurance_ctx *a, engine *e, tickets_ctx *t)
{
    engine_set_ctx(e, ENGINE_CTX_ASSURANCE, a);
    a->eng = e;
    engine_on_timer(e, AK_NOTIFY, notify_chunk);
    engine_on_start(e, rebuild_notify);
    engine_on_start(e, reach_start);
    engine_subscribe(e, reach_on_event, a);
    tickets_set_attach_hook(t, attach_ticket);
    signals_attach_engine(e);
    probes_attach_engine(e);
}

void assurance_start(assurance_ctx *a, engine *e)
{
    if (a && !a->prober)
        a->prober = prober_start(e);
}

void assurance_stop(assurance_ctx *a)
{
    if (a && a->prober) {
        prober_stop(a->prober);
        a->prober = NULL;
    }
}
