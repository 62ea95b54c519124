/*
 * quality.c — the service quality map 业务质量图谱 (A10): per service × area × hour, the
 * dial-test success, alarms raised, complaints and fault reports (and per 10,000 subscribers
 * of the area), and incidents opened, with a health colour per cell. Everything is read from
 * what the detectors already store (probe_results, alarms, signals, incidents), each an index
 * range over the area subtree and the time window, so the history is the store's history.
 *
 * Health: red when an incident is active in the cell (on the area, under it, or over it) or dial-tests succeed less than 90 % in
 * the last hour; yellow when the last hour had alarms or more than 1 complaint per 10,000
 * subscribers; green otherwise; grey when nothing was measured.
 */
#include "assurance/assurance_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HOURS 168
#define HOUR_MS 3600000LL

static const char *const known_services[] = {"broadband", "tv", "iptv", "mobile", "voice", NULL};
static const char *const levels[] = {"province", "city", "district", "grid", NULL};

typedef struct {
    int64_t complaints, alarms, incidents, tests, tests_ok;
} hour_cell;

/* add `col`-grouped counts from one query: rows of (hour, count[, ok]) */
static void add_hours(store *s, const char *sql, store_val *args, int nargs, int64_t h0, int nh,
                      hour_cell *cells, int which)
{
    store_res *r;
    if (store_query(s, sql, args, nargs, &r))
        return;
    for (int i = 0; i < store_rows(r); i++) {
        int64_t k = store_int(r, i, 0) - h0;
        if (k < 0 || k >= nh)
            continue;
        int64_t n = store_int(r, i, 1);
        switch (which) {
        case 0: cells[k].complaints += n; break;
        case 1: cells[k].alarms += n; break;
        case 2: cells[k].incidents += n; break;
        default:
            cells[k].tests += n;
            cells[k].tests_ok += store_int(r, i, 2);
            break;
        }
    }
    store_res_free(r);
}

static json_t *cell_json(store *s, const char *service, const char *area, int64_t subs,
                         int64_t h0, int nh, bool hourly, int tz)
{
    char hi[80];
    snprintf(hi, sizeof hi, "%s/", area);
    int64_t t0 = h0 * HOUR_MS, t1 = (h0 + nh) * HOUR_MS;
    hour_cell *c = xcalloc((size_t)nh, sizeof *c);
    store_val a[5] = {SV_S(area), SV_S(hi), SV_I(t0), SV_I(t1), SV_S(service)};
    add_hours(s,
              "SELECT time / 3600000, COUNT(*) FROM signals WHERE area >= ? AND area < ?"
              " AND time >= ? AND time < ? AND service = ? GROUP BY time / 3600000",
              a, 5, h0, nh, c, 0);
    add_hours(s,
              "SELECT a.raised / 3600000, COUNT(*) FROM alarms a JOIN elements el"
              " ON el.id = a.object_id WHERE el.area >= ? AND el.area < ? AND a.raised >= ?"
              " AND a.raised < ? AND (a.service = ? OR a.service IS NULL)"
              " GROUP BY a.raised / 3600000",
              a, 5, h0, nh, c, 1);
    add_hours(s,
              "SELECT created / 3600000, COUNT(*) FROM incidents WHERE area >= ? AND area < ?"
              " AND created >= ? AND created < ? AND (service = ? OR service IS NULL)"
              " GROUP BY created / 3600000",
              a, 5, h0, nh, c, 2);
    add_hours(s,
              "SELECT r.time / 3600000, COUNT(*), SUM(r.ok) FROM probe_results r"
              " JOIN probes p ON p.id = r.probe_id LEFT JOIN elements el ON el.id = p.element_id"
              " WHERE COALESCE(p.area, el.area) >= ? AND COALESCE(p.area, el.area) < ?"
              " AND r.time >= ? AND r.time < ? AND p.service = ? GROUP BY r.time / 3600000",
              a, 5, h0, nh, c, 3);
    int64_t active = 0;
    /* an incident on this area, under it, or over it (a district's incident covers its grids) */
    store_scalar(s,
                 "SELECT COUNT(*) FROM incidents WHERE active = 1 AND ((area >= ? AND area < ?)"
                 " OR substr(?, 1, length(area) + 1) = area || '.')"
                 " AND (service = ? OR service IS NULL)",
                 (store_val[]){SV_S(area), SV_S(hi), SV_S(area), SV_S(service)}, 4, 0, &active);
    hour_cell tot = {0};
    json_t *hours = hourly ? json_array() : NULL;
    for (int k = 0; k < nh; k++) {
        tot.complaints += c[k].complaints;
        tot.alarms += c[k].alarms;
        tot.incidents += c[k].incidents;
        tot.tests += c[k].tests;
        tot.tests_ok += c[k].tests_ok;
        if (hours) {
            char t[40];
            time_iso((h0 + k) * HOUR_MS, tz, t, sizeof t);
            json_t *h = json_pack("{s:s, s:I, s:I, s:I, s:I}", "hour", t, "complaints",
                                  (json_int_t)c[k].complaints, "alarms", (json_int_t)c[k].alarms,
                                  "incidents", (json_int_t)c[k].incidents, "dialTests",
                                  (json_int_t)c[k].tests);
            json_object_set_new(h, "dialTestSuccess",
                                c[k].tests ? json_real((double)c[k].tests_ok / (double)c[k].tests)
                                           : json_null());
            json_array_append_new(hours, h);
        }
    }
    const hour_cell *last = &c[nh - 1];
    double per10k_last = subs ? (double)last->complaints * 10000.0 / (double)subs : 0;
    const char *health;
    bool measured = tot.complaints || tot.alarms || tot.incidents || tot.tests || active;
    if (active || (last->tests && last->tests_ok * 10 < last->tests * 9))
        health = "red";
    else if (last->alarms || per10k_last > 1.0)
        health = "yellow";
    else
        health = measured ? "green" : "grey";
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "service", service, "area",
                          area, "complaints", (json_int_t)tot.complaints, "alarms",
                          (json_int_t)tot.alarms, "incidents", (json_int_t)tot.incidents,
                          "activeIncidents", (json_int_t)active, "dialTests",
                          (json_int_t)tot.tests, "health", health);
    json_object_set_new(o, "complaintsPer10k",
                        json_real(subs ? (double)tot.complaints * 10000.0 / (double)subs : 0));
    json_object_set_new(o, "dialTestSuccess",
                        tot.tests ? json_real((double)tot.tests_ok / (double)tot.tests)
                                  : json_null());
    if (hours)
        json_object_set_new(o, "hourly", hours);
    free(c);
    return o;
}

static void quality(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    const char *level = req_query(r, "level") ? req_query(r, "level") : "district";
    if (!str_in(level, levels)) {
        req_fail(r, 400, "invalidField", "level", "level: province, city, district or grid");
        return;
    }
    int64_t nh = 24;
    if (req_query(r, "hours") && parse_i64(req_query(r, "hours"), 1, MAX_HOURS, &nh)) {
        req_fail(r, 400, "invalidField", "hours", "hours: 1 … %d", MAX_HOURS);
        return;
    }
    const char *service = req_query(r, "service");
    if (service && (strlen(service) == 0 || strlen(service) > 32)) {
        req_fail(r, 400, "invalidField", "service", "service: 1 … 32 characters");
        return;
    }
    const char *under = req_query(r, "area");
    if (under && !area_code_ok(under)) {
        req_fail(r, 400, "invalidField", "area", "area: an area code like GD.SZ");
        return;
    }
    bool hourly = !req_query(r, "hourly") || strcmp(req_query(r, "hourly"), "false") != 0;
    int64_t now = engine_now(req_engine(r));
    int64_t h1 = now / HOUR_MS + 1, h0 = h1 - nh; /* hours [h0, h1), the current one included */
    store_res *ar;
    char hi[80];
    snprintf(hi, sizeof hi, "%s/", under ? under : "");
    if (store_query(s,
                    under ? "SELECT code, name FROM areas WHERE level = ? AND code >= ? AND code < ?"
                            " ORDER BY code"
                          : "SELECT code, name FROM areas WHERE level = ? ORDER BY code",
                    (store_val[]){SV_S(level), SV_S(under), SV_S(hi)}, under ? 3 : 1, &ar)) {
        req_fail(r, 503, "unavailable", "", "the quality map cannot be read now");
        return;
    }
    json_t *areas = json_array(), *cells = json_array(), *svcs = json_array();
    const char *one[] = {service, NULL};
    const char *const *list = service ? one : known_services;
    for (int k = 0; list[k]; k++)
        json_array_append_new(svcs, json_string(list[k]));
    for (int i = 0; i < store_rows(ar); i++) {
        const char *code = store_text(ar, i, 0);
        char ahi[80];
        snprintf(ahi, sizeof ahi, "%s/", code);
        int64_t subs = 0;
        store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE area >= ? AND area < ?",
                     (store_val[]){SV_S(code), SV_S(ahi)}, 2, 0, &subs);
        json_array_append_new(areas, json_pack("{s:s, s:s, s:I}", "code", code, "name",
                                               store_text(ar, i, 1), "subscribers",
                                               (json_int_t)subs));
        for (int k = 0; list[k]; k++)
            json_array_append_new(cells,
                                  cell_json(s, list[k], code, subs, h0, (int)nh, hourly,
                                            req_tz(r)));
    }
    store_res_free(ar);
    char from[40], to[40];
    time_iso(h0 * HOUR_MS, req_tz(r), from, sizeof from);
    time_iso(h1 * HOUR_MS, req_tz(r), to, sizeof to);
    req_json(r, 200,
             json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "level", level, "from", from, "to", to,
                       "services", svcs, "areas", areas, "cells", cells));
}

static const route routes[] = {
    {"GET", "/api/v1/quality", ROUTE_ANY, quality},
    {NULL, NULL, 0, NULL},
};

void quality_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
