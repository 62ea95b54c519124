/*
 * metrics.c — metric thresholds 阈值 (A2): readings from network and terminal management
 * (optical power at a node, signal level at a cell, …) against thresholds per indicator and
 * element kind. A threshold raises an alarm at one value and clears it at another
 * (hysteresis, threshold_step), so a reading hovering at the line does not flap. The alarm is
 * an ordinary TMF642 alarm (source "threshold:<indicator>", qualityOfServiceAlarm, with
 * crossedThresholdInformation) and takes part in correlation and incidents like any other.
 * Values travel as numbers and are kept in thousandths of their unit.
 */
#include "assurance/assurance_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "/api/v1/thresholds"
#define BATCH_MAX 10000

static const char *const directions[] = {"below", "above", NULL};
static const char *const raise_severities[] = {"critical", "major", "minor", "warning", NULL};

static int64_t milli(const json_t *v)
{
    return (int64_t)llround(json_number_value(v) * 1000.0);
}

static const json_field threshold_fields[] = {
    {"indicator", JT_STRING, JF_REQUIRED, 64, NULL},
    {"unit", JT_STRING, JF_NULLABLE, 16, NULL},
    {"elementKind", JT_STRING, JF_NULLABLE, 32, NULL},
    {"direction", JT_STRING, JF_REQUIRED, 8, directions},
    {"raiseAt", JT_NUMBER, JF_REQUIRED, 0, NULL},
    {"clearAt", JT_NUMBER, JF_REQUIRED, 0, NULL},
    {"perceivedSeverity", JT_STRING, JF_REQUIRED, 16, raise_severities},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_threshold(const json_t *b, problem *p)
{
    double r = json_number_value(json_object_get(b, "raiseAt"));
    double c = json_number_value(json_object_get(b, "clearAt"));
    if (fabs(r) > 1e9 || fabs(c) > 1e9)
        return problem_field(p, "raiseAt", "must be within ±1e9");
    bool below = strcmp(jstr(b, "direction"), "below") == 0;
    if (below ? c <= r : c >= r)
        return problem_field(p, "clearAt",
                             below ? "must be above raiseAt when low values are bad (hysteresis)"
                                   : "must be below raiseAt when high values are bad (hysteresis)");
    return ERR_OK;
}

static json_t *threshold_json(store *s, int64_t id, int tz)
{
    (void)tz;
    store_res *r;
    if (store_query(s,
                    "SELECT id, indicator, unit, element_kind, direction, raise_milli, clear_milli,"
                    " severity FROM thresholds WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r)) {
        char *href = xasprintf(BASE "/%s", store_text(r, 0, 0));
        o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:f, s:f, s:s}", "id", store_text(r, 0, 0),
                      "href", href, "indicator", store_text(r, 0, 1), "unit", store_text(r, 0, 2),
                      "elementKind", store_text(r, 0, 3), "direction", store_text(r, 0, 4),
                      "raiseAt", (double)store_int(r, 0, 5) / 1000.0, "clearAt",
                      (double)store_int(r, 0, 6) / 1000.0, "perceivedSeverity",
                      store_text(r, 0, 7));
        free(href);
    }
    store_res_free(r);
    return o;
}

static err apply_write(engine *e, cmd *c)
{
    store *s = engine_store(e);
    settings_write w;
    err rc = settings_begin(e, c, "thresholds", threshold_json, "threshold", &w);
    if (rc)
        return rc;
    rc = w.del ? store_exec(s, "DELETE FROM thresholds WHERE id = ?", (store_val[]){SV_I(w.id)},
                            1)
               : store_exec(
                     s,
                     w.create ? "INSERT INTO thresholds(indicator, unit, element_kind, direction,"
                                " raise_milli, clear_milli, severity, created, updated, id)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                              : "UPDATE thresholds SET indicator = ?, unit = ?, element_kind = ?,"
                                " direction = ?, raise_milli = ?, clear_milli = ?, severity = ?,"
                                " created = COALESCE(?, created), updated = ? WHERE id = ?",
                     (store_val[]){SV_S(jstr(c->in, "indicator")), SV_S(jstr(c->in, "unit")),
                                   SV_S(jstr(c->in, "elementKind")),
                                   SV_S(jstr(c->in, "direction")),
                                   SV_I(milli(json_object_get(c->in, "raiseAt"))),
                                   SV_I(milli(json_object_get(c->in, "clearAt"))),
                                   SV_S(jstr(c->in, "perceivedSeverity")),
                                   SV_OI(w.create, w.now), SV_I(w.now), SV_I(w.id)},
                     10);
    return settings_finish(e, c, &w, rc, BASE, "threshold", threshold_json);
}

static void create(req *r)
{
    req_submit_checked(r, threshold_fields, check_threshold, apply_write);
}

static void del(req *r)
{
    settings_delete(r, apply_write);
}

static void list(req *r)
{
    settings_list(r, "SELECT id FROM thresholds ORDER BY indicator, id", threshold_json,
                  "thresholds");
}

/* ---- readings ---- */

static const json_field reading_fields[] = {
    {"element", JT_STRING, JF_REQUIRED, 64, NULL},
    {"indicator", JT_STRING, JF_REQUIRED, 64, NULL},
    {"value", JT_NUMBER, JF_REQUIRED, 0, NULL},
    {"time", JT_STRING, 0, 40, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_readings(const json_t *b, problem *p)
{
    const json_t *items = json_object_get(b, "items");
    if (json_array_size(items) == 0 || json_array_size(items) > BATCH_MAX)
        return problem_field(p, "items", "1 … %d readings per request", BATCH_MAX);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        char path[32];
        snprintf(path, sizeof path, "items[%zu]", i);
        err rc = json_check(it, reading_fields, path, p);
        if (rc)
            return rc;
        if (fabs(json_number_value(json_object_get(it, "value"))) > 1e9)
            return problem_field(p, path, "value must be within ±1e9");
        int64_t ms;
        if (jstr(it, "time") && time_parse_iso(jstr(it, "time"), 480, &ms))
            return problem_field(p, path, "time must be an ISO 8601 date-time");
    }
    return ERR_OK;
}

static err reading(engine *e, cmd *c, const json_t *it, int *raised, int *cleared, int *unknown)
{
    store *s = engine_store(e);
    const char *el = jstr(it, "element"), *ind = jstr(it, "indicator");
    int64_t value = milli(json_object_get(it, "value"));
    int64_t known = 0;
    err rc = store_scalar(s, "SELECT COUNT(*) FROM elements WHERE id = ?", (store_val[]){SV_S(el)},
                          1, 0, &known);
    if (rc)
        return rc;
    if (!known) { /* counted and answered, not fatal: a feed may run ahead of the topology */
        (*unknown)++;
        return ERR_OK;
    }
    store_res *r;
    rc = store_query(s,
                         "SELECT t.direction, t.raise_milli, t.clear_milli, t.severity, t.unit"
                         " FROM thresholds t JOIN elements el ON el.id = ?"
                         " WHERE t.indicator = ? AND (t.element_kind IS NULL OR t.element_kind ="
                         " el.kind) ORDER BY t.id LIMIT 1",
                         (store_val[]){SV_S(el), SV_S(ind)}, 2, &r);
    if (rc)
        return rc;
    if (!store_rows(r)) {
        store_res_free(r);
        return ERR_OK; /* no threshold for this reading: nothing to do */
    }
    bool below = strcmp(store_text(r, 0, 0), "below") == 0;
    int64_t raise_at = store_int(r, 0, 1), clear_at = store_int(r, 0, 2);
    char sev[16], unit[20];
    snprintf(sev, sizeof sev, "%s", store_text(r, 0, 3));
    snprintf(unit, sizeof unit, "%s", store_text(r, 0, 4) ? store_text(r, 0, 4) : "");
    store_res_free(r);
    char source[96], key[240];
    snprintf(source, sizeof source, "threshold:%s", ind);
    snprintf(key, sizeof key, "%s|%s|qualityOfServiceAlarm", source, el);
    int64_t active = 0;
    rc = store_scalar(s, "SELECT COUNT(*) FROM alarms WHERE active_key = ?",
                      (store_val[]){SV_S(key)}, 1, 0, &active);
    if (rc)
        return rc;
    int step = threshold_step(below, raise_at, clear_at, active > 0, value);
    if (!step)
        return ERR_OK;
    char now[40];
    time_iso(engine_now(e), 0, now, sizeof now);
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:s, s:s, s:{s:f, s:s, s:s, s:s?, s:f}}", "alarmType",
        "qualityOfServiceAlarm", "perceivedSeverity", step > 0 ? sev : "cleared", "probableCause",
        ind, "alarmedObject", "id", el, "sourceSystemId", source, "state",
        step > 0 ? "raised" : "cleared", "alarmRaisedTime", now, "specificProblem",
        step > 0 ? "threshold crossed" : "back within threshold", "crossedThresholdInformation",
        "threshold", (double)raise_at / 1000.0, "direction", below ? "down" : "up",
        "indicatorName", ind, "indicatorUnit", unit[0] ? unit : NULL, "observedValue",
        (double)value / 1000.0);
    int64_t id;
    bool isnew;
    rc = alarms_apply_doc(e, doc, c->actor, &id, &isnew, &c->prob);
    json_decref(doc);
    if (!rc)
        (step > 0 ? (*raised)++ : (*cleared)++);
    return rc;
}

static err apply_readings(engine *e, cmd *c)
{
    int raised = 0, cleared = 0, unknown = 0;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(c->in, "items"), i, it)
    {
        err rc = reading(e, c, it, &raised, &cleared, &unknown);
        if (rc) {
            if (c->prob.status)
                snprintf(c->prob.field, sizeof c->prob.field, "items[%zu]", i);
            return rc;
        }
    }
    c->out = json_pack("{s:i, s:i, s:i, s:i}", "accepted",
                       (int)json_array_size(json_object_get(c->in, "items")), "alarmsRaised",
                       raised, "alarmsCleared", cleared, "unknownElements", unknown);
    c->status = 200;
    return ERR_OK;
}

static void readings(req *r)
{
    static const json_field fields[] = {{"items", JT_ARRAY, JF_REQUIRED, 0, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, check_readings, apply_readings);
}

#define CONF (ROLE_SUPERVISOR | ROLE_ADMIN)

static const route routes[] = {
    {"GET", BASE, ROUTE_ANY, list},
    {"POST", BASE, CONF, create},
    {"PUT", BASE "/{id}", CONF, create},
    {"DELETE", BASE "/{id}", CONF, del},
    {"POST", "/api/v1/metrics", ROLE_ADMIN | ROLE_INTEGRATION, readings},
    {NULL, NULL, 0, NULL},
};

void metrics_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
