/*
 * signals.c — complaint warning lines 投诉预警线 (A3) and area-fault awareness 片区故障预知 (A7).
 * Every complaint and fault report (a work order — through the tickets' attach hook — or a
 * signal from the batch endpoint: IVR, BOSS, the app) is kept in `signals` and counted per hour for every level of its area in
 * `signal_hours` (the learned baseline). Each warning line keeps, on the engine thread, a ring
 * of per-minute counts over its window; crossing the line (a fixed count, or the baseline
 * times a factor) is a finding for incidents, with the lowest common upstream element of the
 * reporters' attachment points as the suspected cause. A crossed line resets when the count
 * falls under 80 % of its limit (hysteresis), checked on every signal and once a minute.
 *
 * The baseline: for the hour-of-week now, the mean count of the same hour in the last four
 * weeks, scaled to the window (mean × window / 60) — documented in docs/design.md.
 */
#include "assurance/assurance_int.h"
#include "customers/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WINDOW_MIN 1440
#define BATCH_MAX 10000

struct line_state {
    int64_t id;
    char service[32], area[72], name[120];
    int window_min, level;
    int64_t threshold, factor, floor_min; /* threshold 0 = none; factor % 0 = no baseline */
    int64_t crossed;                      /* ms, 0 = not crossed */
    int64_t base_hour, base_limit;        /* the baseline limit, read for this hour */
    minute_window w;                      /* per-minute counts over the window */
    line_state *next;
};

static bool line_matches(const line_state *l, const char *service, const char *area)
{
    if (l->service[0] && !str_eq(l->service, service))
        return false;
    return area && area_under(area, l->area);
}

void signals_free(assurance_ctx *a)
{
    line_state *l = a ? a->lines : NULL;
    while (l) {
        line_state *next = l->next;
        free(l->w.minute);
        free(l->w.count);
        free(l);
        l = next;
    }
    if (a) {
        a->lines = NULL;
        a->lines_loaded = false;
    }
}

/* (Re)load the lines and refill their windows from the stored signals. */
static err lines_load(engine *e)
{
    assurance_ctx *a = actx(e);
    store *s = engine_store(e);
    signals_free(a);
    store_res *r;
    err rc = store_query(s,
                         "SELECT id, service, area, window_min, threshold, baseline_factor,"
                         " baseline_min, level, crossed, name FROM warning_lines ORDER BY id",
                         NULL, 0, &r);
    if (rc)
        return rc;
    line_state **tail = &a->lines;
    for (int i = 0; i < store_rows(r); i++) {
        line_state *l = xcalloc(1, sizeof *l);
        l->id = store_int(r, i, 0);
        snprintf(l->service, sizeof l->service, "%s", store_text(r, i, 1) ? store_text(r, i, 1) : "");
        snprintf(l->area, sizeof l->area, "%s", store_text(r, i, 2));
        l->window_min = (int)store_int(r, i, 3);
        l->threshold = store_isnull(r, i, 4) ? 0 : store_int(r, i, 4);
        l->factor = store_isnull(r, i, 5) ? 0 : store_int(r, i, 5);
        l->floor_min = store_int(r, i, 6);
        l->level = (int)store_int(r, i, 7);
        l->crossed = store_isnull(r, i, 8) ? 0 : store_int(r, i, 8);
        snprintf(l->name, sizeof l->name, "%s", store_text(r, i, 9));
        window_init(&l->w, l->window_min, xcalloc((size_t)l->window_min, sizeof(int64_t)),
                    xcalloc((size_t)l->window_min, sizeof(int64_t)));
        *tail = l;
        tail = &l->next;
    }
    store_res_free(r);
    a->lines_loaded = true;
    if (!a->lines)
        return ERR_OK;
    /* refill each window from its own index range of signals */
    int64_t now = engine_now(e);
    for (line_state *l = a->lines; l && !rc; l = l->next) {
        char hi[80];
        snprintf(hi, sizeof hi, "%s/", l->area);
        rc = store_query(s,
                         l->service[0] ? "SELECT time FROM signals WHERE area >= ? AND area < ?"
                                         " AND time > ? AND service = ?"
                                       : "SELECT time FROM signals WHERE area >= ? AND area < ?"
                                         " AND time > ?",
                         (store_val[]){SV_S(l->area), SV_S(hi),
                                       SV_I(now - (int64_t)l->window_min * 60000),
                                       SV_S(l->service)},
                         l->service[0] ? 4 : 3, &r);
        if (rc)
            break;
        for (int i = 0; i < store_rows(r); i++)
            window_add(&l->w, store_int(r, i, 0), 1);
        store_res_free(r);
    }
    return rc;
}

/* the baseline limit for a line now: mean of the same hour-of-week, scaled, times factor */
static int64_t baseline_limit(store *s, const line_state *l, int64_t now)
{
    int64_t hour = now / 3600000, sum = 0;
    const char *svc = l->service[0] ? l->service : "*";
    store_scalar(s,
                 "SELECT COALESCE(SUM(count), 0) FROM signal_hours WHERE service = ? AND area = ?"
                 " AND hour IN (?, ?, ?, ?)",
                 (store_val[]){SV_S(svc), SV_S(l->area), SV_I(hour - 168), SV_I(hour - 336),
                               SV_I(hour - 504), SV_I(hour - 672)},
                 6, 0, &sum);
    return baseline_from(sum, l->window_min, l->factor, l->floor_min);
}

static int64_t line_limit(store *s, line_state *l, int64_t now)
{
    int64_t lim = 0;
    if (l->factor && l->base_hour != now / 3600000) {
        /* the same hour of the last four weeks: read once an hour, not at every signal */
        l->base_limit = baseline_limit(s, l, now);
        l->base_hour = now / 3600000;
    }
    if (l->factor)
        lim = l->base_limit;
    if (l->threshold && (!lim || l->threshold < lim))
        lim = l->threshold;
    return lim;
}

static err line_cross(engine *e, line_state *l, int64_t sum, int64_t limit)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e), since = now - (int64_t)l->window_min * 60000;
    l->crossed = now;
    err rc = store_exec(s, "UPDATE warning_lines SET crossed = ? WHERE id = ?",
                        (store_val[]){SV_I(now), SV_I(l->id)}, 2);
    if (rc)
        return rc;
    /* A7: the lowest common upstream element of the reporters */
    /* [area, area + "/") is the area and everything under it: codes hold no byte below '/'
       but '.', so the range is exact and one index range */
    char hi[80], lca[72] = "";
    snprintf(hi, sizeof hi, "%s/", l->area);
    store_res *r;
    int64_t first = now;
    rc = store_query(s,
                     l->service[0]
                         ? "SELECT MIN(element_pos), MAX(element_pos), MIN(time) FROM signals"
                           " WHERE area >= ? AND area < ? AND time > ? AND service = ?"
                         : "SELECT MIN(element_pos), MAX(element_pos), MIN(time) FROM signals"
                           " WHERE area >= ? AND area < ? AND time > ?",
                     (store_val[]){SV_S(l->area), SV_S(hi), SV_I(since), SV_S(l->service)},
                     l->service[0] ? 4 : 3, &r);
    if (rc)
        return rc;
    if (store_rows(r) && !store_isnull(r, 0, 0))
        element_lca(s, store_int(r, 0, 0), store_int(r, 0, 1), lca, sizeof lca);
    if (store_rows(r) && !store_isnull(r, 0, 2))
        first = store_int(r, 0, 2);
    store_res_free(r);
    char ids[24], name[240], desc[400];
    snprintf(ids, sizeof ids, "%lld", (long long)l->id);
    snprintf(name, sizeof name, "投诉预警：%s", l->name);
    snprintf(desc, sizeof desc,
             "%d分钟内投诉/报障%lld件，超过预警线%lld件%s%s", l->window_min, (long long)sum,
             (long long)limit, lca[0] ? "；疑似故障点 " : "", lca);
    detect d = {.origin = lca[0] ? "areaFault" : "warningLine", .kind = "warningLine", .ref = ids,
                .level = l->level, .service = l->service[0] ? l->service : NULL, .area = l->area,
                .element = lca[0] ? lca : NULL, .name = name, .description = desc,
                .actor = "system", .first_signal = first};
    int64_t inc;
    problem p = {0};
    rc = incident_detect(e, &d, &inc, &p);
    if (!rc)
        rc = engine_emit(e, "warningLine.crossed", "warningLine", ids, "system",
                         json_pack("{s:I, s:I, s:s?, s:I}", "count", (json_int_t)sum, "limit",
                                   (json_int_t)limit, "suspectedElement", lca[0] ? lca : NULL,
                                   "incident", (json_int_t)inc));
    return rc;
}

static err line_check(engine *e, line_state *l)
{
    int64_t now = engine_now(e), sum = window_sum(&l->w, now);
    int64_t limit = line_limit(engine_store(e), l, now);
    int step = line_step(l->crossed != 0, sum, limit);
    if (step > 0)
        return line_cross(e, l, sum, limit);
    if (step < 0) {
        l->crossed = 0;
        char ids[24];
        snprintf(ids, sizeof ids, "%lld", (long long)l->id);
        err rc = store_exec(engine_store(e), "UPDATE warning_lines SET crossed = NULL WHERE id = ?",
                            (store_val[]){SV_I(l->id)}, 1);
        if (!rc)
            rc = engine_emit(e, "warningLine.reset", "warningLine", ids, "system",
                             json_pack("{s:I, s:I}", "count", (json_int_t)sum, "limit",
                                       (json_int_t)limit));
        if (!rc)
            rc = incident_ref_cleared(e, "warningLine", ids, "system");
        return rc;
    }
    return ERR_OK;
}

/* ---- hourly counts, summed per command ---- */

#define HOUR_SLOTS 1024

typedef struct {
    char service[32], area[72];
    int64_t hour, count;
} hour_slot;

static hour_slot hour_acc[HOUR_SLOTS]; /* engine thread only */
static int hour_used;
static int hour_idx[HOUR_SLOTS]; /* the slots in use, so a flush visits only those */

static uint64_t hour_key(const char *svc, const char *area, int64_t hour)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = svc; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *p = area; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (h ^ (uint64_t)hour) * 1099511628211ULL;
}

void signals_discard(void)
{
    for (int i = 0; i < hour_used; i++)
        hour_acc[hour_idx[i]].count = 0;
    hour_used = 0;
}

err signals_flush(engine *e)
{
    err rc = ERR_OK;
    for (int i = 0; i < hour_used && !rc; i++) {
        hour_slot *h = &hour_acc[hour_idx[i]];
        rc = store_exec(engine_store(e),
                        "INSERT INTO signal_hours(service, area, hour, count)"
                        " VALUES (?, ?, ?, ?) ON CONFLICT (service, area, hour)"
                        " DO UPDATE SET count = signal_hours.count + excluded.count",
                        (store_val[]){SV_S(h->service), SV_S(h->area), SV_I(h->hour),
                                      SV_I(h->count)},
                        4);
    }
    signals_discard();
    return rc;
}

static err hour_count(engine *e, const char *svc, const char *area, int64_t hour)
{
    if (hour_used >= HOUR_SLOTS * 3 / 4) {
        err rc = signals_flush(e);
        if (rc)
            return rc;
    }
    uint64_t k = hour_key(svc, area, hour) % HOUR_SLOTS;
    for (;; k = (k + 1) % HOUR_SLOTS) {
        hour_slot *h = &hour_acc[k];
        if (!h->count) {
            snprintf(h->service, sizeof h->service, "%s", svc);
            snprintf(h->area, sizeof h->area, "%s", area);
            h->hour = hour;
            h->count = 1;
            hour_idx[hour_used++] = (int)k;
            return ERR_OK;
        }
        if (h->hour == hour && strcmp(h->area, area) == 0 && strcmp(h->service, svc) == 0) {
            h->count++;
            return ERR_OK;
        }
    }
}

#define LOOKUP_CHUNK 500 /* callers looked up per statement */
#define INSERT_ROWS 100   /* signals written per statement */

static int by_msisdn(const void *a, const void *b)
{
    const signal_in *x = *(signal_in *const *)a, *y = *(signal_in *const *)b;
    return strcmp(x->msisdn, y->msisdn);
}

/* where each caller hangs and lives: one IN (…) query per LOOKUP_CHUNK callers */
err signals_resolve_callers(store *s, signal_in *in, int n)
{
    signal_in **sorted = xcalloc((size_t)LOOKUP_CHUNK, sizeof *sorted);
    err rc = ERR_OK;
    for (int base = 0; !rc && base < n; base += LOOKUP_CHUNK) {
        int m = 0;
        store_val args[LOOKUP_CHUNK];
        for (int i = base; i < n && i < base + LOOKUP_CHUNK; i++)
            if (in[i].msisdn && !in[i].resolved) {
                sorted[m] = &in[i];
                args[m++] = SV_S(in[i].msisdn);
            }
        if (!m)
            continue;
        qsort(sorted, (size_t)m, sizeof *sorted, by_msisdn);
        buf sql;
        buf_init(&sql, 0);
        buf_adds(&sql, "SELECT msisdn, attach_pos, area FROM subscribers WHERE msisdn IN (?");
        for (int k = 1; k < m; k++)
            buf_adds(&sql, ", ?");
        buf_adds(&sql, ")");
        store_res *r;
        rc = store_query(s, sql.data, args, m, &r);
        buf_free(&sql);
        if (rc)
            break;
        for (int k = 0; k < m; k++) /* looked up: found below, or not a subscriber */
            sorted[k]->resolved = true;
        for (int j = 0; j < store_rows(r); j++) {
            /* binary search the sorted callers, then every signal from that number */
            const char *msisdn = store_text(r, j, 0);
            int lo = 0, hi = m - 1, at = -1;
            while (lo <= hi) {
                int mid = (lo + hi) / 2, c = strcmp(sorted[mid]->msisdn, msisdn);
                if (c == 0) {
                    at = mid;
                    hi = mid - 1; /* the first of equal ones */
                } else if (c < 0) {
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            for (int k = at; at >= 0 && k < m && strcmp(sorted[k]->msisdn, msisdn) == 0; k++) {
                signal_in *x = sorted[k];
                x->found = true;
                x->has_pos = !store_isnull(r, j, 1);
                x->pos = x->has_pos ? store_int(r, j, 1) : 0;
                if (!x->area && store_text(r, j, 2))
                    snprintf(x->sub_area, sizeof x->sub_area, "%s", store_text(r, j, 2));
            }
        }
        store_res_free(r);
    }
    free(sorted);
    return rc;
}

err signals_take_many(engine *e, signal_in *in, int n)
{
    store *s = engine_store(e);
    assurance_ctx *a = actx(e);
    err rc;
    if (!a->lines_loaded && (rc = lines_load(e)))
        return rc;
    rc = signals_resolve_callers(s, in, n);
    for (int i = 0; i < n; i++)
        if (!in[i].area && in[i].sub_area[0])
            in[i].area = in[i].sub_area;
    /* the rows, INSERT_ROWS per statement */
    for (int base = 0; !rc && base < n; base += INSERT_ROWS) {
        int m = n - base < INSERT_ROWS ? n - base : INSERT_ROWS;
        char *sql = store_insert_rows_sql(
            s, "signals(id, time, kind, service, area, msisdn, element_pos, ref)",
            "(?, ?, ?, ?, ?, ?, ?, ?)", m);
        store_val *args = xcalloc((size_t)m * 8, sizeof *args);
        for (int k = 0; k < m; k++) {
            signal_in *x = &in[base + k];
            store_val *v = &args[k * 8];
            v[0] = SV_I(engine_next_id(e, "signals"));
            v[1] = SV_I(x->time);
            v[2] = SV_S(x->kind);
            v[3] = SV_S(x->service);
            v[4] = SV_S(x->area ? x->area : "");
            v[5] = SV_S(x->msisdn);
            v[6] = SV_OI(x->has_pos, x->pos);
            v[7] = SV_S(x->ref);
        }
        rc = store_exec(s, sql, args, m * 8);
        free(args);
        free(sql);
    }
    int64_t now = engine_now(e);
    for (int i = 0; !rc && i < n; i++) {
        signal_in *x = &in[i];
        /* the hourly history for every level of the area, per service and for all services:
           counted in memory and written once per command (signals_flush) */
        if (x->area) {
            char prefix[72];
            snprintf(prefix, sizeof prefix, "%s", x->area);
            for (;;) {
                for (int k = 0; k < 2 && !rc; k++) {
                    const char *svc = k == 0 ? "*" : x->service;
                    if (svc)
                        rc = hour_count(e, svc, prefix, x->time / 3600000);
                }
                char *dot = strrchr(prefix, '.');
                if (rc || !dot)
                    break;
                *dot = 0;
            }
        }
        for (line_state *l = a->lines; l && !rc; l = l->next)
            if (line_matches(l, x->service, x->area)) {
                if (x->time > now - (int64_t)l->window_min * 60000)
                    window_add(&l->w, x->time, 1);
                rc = line_check(e, l);
            }
    }
    return rc;
}

err signals_take(engine *e, int64_t time, const char *kind, const char *service, const char *area,
                 const char *msisdn, const char *ref)
{
    signal_in one = {.time = time, .kind = kind, .service = service, .area = area,
                     .msisdn = msisdn, .ref = ref};
    return signals_take_many(e, &one, 1);
}

/* once a minute: lines whose window emptied reset */
static err on_lines_timer(engine *e, int64_t id, int64_t at)
{
    (void)id;
    (void)at;
    assurance_ctx *a = actx(e);
    err rc = ERR_OK;
    if (!a->lines_loaded)
        rc = lines_load(e);
    for (line_state *l = a->lines; l && !rc; l = l->next)
        if (l->crossed)
            rc = line_check(e, l);
    engine_timer_add(e, engine_now(e) + 60000, AK_LINES, 0);
    return rc;
}

/* ---- housekeeping, nightly at 03:30 local: signals and dial-test results age out ---- */

#define SIGNAL_KEEP_DAYS 8 /* the quality map looks back a week; baselines live in signal_hours */
#define PROBE_RESULT_KEEP_DAYS 35
#define PRUNE_MINUTE (3 * 60 + 30)

static err prune(engine *e, int64_t *signals_out, int64_t *results_out)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e), cut = now - SIGNAL_KEEP_DAYS * 86400000LL;
    /* signals are kept in (area, time) order: walk the distinct areas by index seeks and cut
       each one's old end */
    char area[80] = "";
    bool first = true;
    err rc = ERR_OK;
    *signals_out = *results_out = 0;
    for (;;) {
        store_res *r;
        rc = store_query(s,
                         first ? "SELECT area FROM signals ORDER BY area LIMIT 1"
                               : "SELECT area FROM signals WHERE area > ? ORDER BY area LIMIT 1",
                         (store_val[]){SV_S(area)}, first ? 0 : 1, &r);
        if (rc)
            return rc;
        bool any = store_rows(r) == 1;
        if (any)
            snprintf(area, sizeof area, "%s", store_text(r, 0, 0));
        store_res_free(r);
        if (!any)
            break;
        first = false;
        rc = store_exec(s, "DELETE FROM signals WHERE area = ? AND time < ?",
                        (store_val[]){SV_S(area), SV_I(cut)}, 2);
        if (rc)
            return rc;
        *signals_out += store_changes(s);
    }
    rc = store_exec(s, "DELETE FROM probe_results WHERE time < ?",
                    (store_val[]){SV_I(now - PROBE_RESULT_KEEP_DAYS * 86400000LL)}, 1);
    if (!rc)
        *results_out = store_changes(s);
    return rc;
}

static err on_prune_timer(engine *e, int64_t id, int64_t at)
{
    (void)id;
    (void)at;
    int64_t sig = 0, res = 0;
    err rc = prune(e, &sig, &res);
    if (!rc)
        rc = engine_emit(e, "assurance.pruned", "assurance", "housekeeping", "system",
                         json_pack("{s:I, s:I}", "signals", (json_int_t)sig, "probeResults",
                                   (json_int_t)res));
    engine_timer_add(e, time_next_local(engine_now(e), actx(e)->cfg.tz, PRUNE_MINUTE), AK_PRUNE,
                     0);
    return rc;
}

static err lines_start(engine *e)
{
    engine_timer_add(e, engine_now(e) + 60000, AK_LINES, 0);
    engine_timer_add(e, time_next_local(engine_now(e), actx(e)->cfg.tz, PRUNE_MINUTE), AK_PRUNE,
                     0);
    return ERR_OK;
}

static void on_abort(engine *e)
{
    /* the windows may hold counts of a batch that did not commit: refill from the store */
    assurance_ctx *a = actx(e);
    if (a)
        a->lines_loaded = false;
}

void signals_attach_engine(engine *e)
{
    engine_on_timer(e, AK_LINES, on_lines_timer);
    engine_on_timer(e, AK_PRUNE, on_prune_timer);
    engine_on_start(e, lines_start);
    engine_on_abort(e, on_abort);
}

/* ---- HTTP: the batch endpoint and the warning lines ---- */

static const char *const signal_kinds[] = {"complaint", "faultReport", "alarm", NULL};

static const json_field signal_fields[] = {
    {"kind", JT_STRING, JF_REQUIRED, 16, signal_kinds},
    {"service", JT_STRING, 0, 32, NULL},
    {"area", JT_STRING, 0, 64, NULL},
    {"msisdn", JT_STRING, 0, 16, NULL},
    {"time", JT_STRING, 0, 40, NULL},
    {"ref", JT_STRING, 0, 64, NULL},
    {"alarm", JT_OBJECT, 0, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_batch(const json_t *b, problem *p)
{
    const json_t *items = json_object_get(b, "items");
    if (!json_is_array(items))
        return problem_missing(p, "items");
    if (json_array_size(items) == 0 || json_array_size(items) > BATCH_MAX)
        return problem_field(p, "items", "1 … %d items per request", BATCH_MAX);
    size_t i;
    json_t *it;
    char path[32];
#define ITEM (snprintf(path, sizeof path, "items[%zu]", i), path) /* only for an answer */
    json_array_foreach(items, i, it)
    {
        err rc = json_check(it, signal_fields, "items[]", p);
        if (rc) { /* name the item: items[]. → items[12]. */
            char field[sizeof p->field];
            snprintf(field, sizeof field, "%s%s", ITEM, p->field + strlen("items[]"));
            snprintf(p->field, sizeof p->field, "%s", field);
            return rc;
        }
        const char *kind = jstr(it, "kind");
        if (strcmp(kind, "alarm") == 0) {
            const json_t *al = json_object_get(it, "alarm");
            char sub[48];
            snprintf(sub, sizeof sub, "%s.alarm", ITEM);
            if (!al)
                return problem_missing(p, sub);
            rc = json_check(al, alarm_fields, sub, p);
            if (!rc)
                rc = alarms_check(al, p);
            if (rc)
                return rc;
            continue;
        }
        const char *area = jstr(it, "area");
        if (area && !area_code_ok(area))
            return problem_field(p, ITEM, "area must be an area code like GD.SZ.NS");
        if (!area && !jstr(it, "msisdn"))
            return problem_field(p, ITEM, "a signal needs an area or a msisdn");
        int64_t ms;
        if (jstr(it, "time") && time_parse_iso(jstr(it, "time"), 480, &ms))
            return problem_field(p, ITEM, "time must be an ISO 8601 date-time");
    }
#undef ITEM
    return ERR_OK;
}

#define TIME_NOW INT64_MIN /* a signal without a time happened when the engine takes it */

static err apply_batch(engine *e, cmd *c)
{
    const json_t *items = json_object_get(c->in, "items");
    signal_in *in = c->prep; /* one per item, prepared (and callers looked up) by batch() */
    int64_t now = engine_now(e);
    int signals = 0, created = 0, updated = 0, cleared = 0;
    size_t n = json_array_size(items), run = 0;
    err rc = ERR_OK;
    /* signals go in runs (one insert per hundreds); alarms between them in their place */
    for (size_t i = 0; !rc && i <= n; i++) {
        bool alarm = i < n && strcmp(in[i].kind, "alarm") == 0;
        if (i < n && !alarm) {
            in[i].time = in[i].time == TIME_NOW || in[i].time > now ? now : in[i].time;
            continue;
        }
        if (i > run) {
            rc = signals_take_many(e, &in[run], (int)(i - run));
            signals += (int)(i - run);
            if (rc)
                break;
        }
        run = i + 1;
        if (!alarm)
            continue;
        const json_t *al = json_object_get(json_array_get(items, i), "alarm");
        int64_t id;
        bool isnew;
        rc = alarms_apply_doc(e, al, c->actor, &id, &isnew, &c->prob);
        if (rc == ERR_NOTFOUND) { /* clearing what is not active: counted, not fatal */
            memset(&c->prob, 0, sizeof c->prob);
            rc = ERR_OK;
        } else if (!rc) {
            if (strcmp(jstr(al, "state"), "cleared") == 0)
                cleared++;
            else if (isnew)
                created++;
            else
                updated++;
        } else if (c->prob.status) {
            snprintf(c->prob.field, sizeof c->prob.field, "items[%zu]", i);
        }
    }
    if (rc) {
        signals_discard();
        return rc;
    }
    rc = signals_flush(e);
    if (rc)
        return rc;
    c->out = json_pack("{s:i, s:i, s:i, s:i, s:i}", "accepted", (int)n, "signals", signals,
                       "alarmsRaised", created, "alarmsUpdated", updated, "alarmsCleared",
                       cleared);
    c->status = 200;
    return ERR_OK;
}

/* the callers the directory knows; the rest are asked of the store */
static void directory_pass(directory *d, signal_in *in, size_t n)
{
    if (!d)
        return;
    directory_lock(d);
    for (size_t i = 0; i < n; i++) {
        const char *area;
        if (!in[i].msisdn ||
            !directory_find(d, in[i].msisdn, &in[i].has_pos, &in[i].pos, &area))
            continue;
        in[i].resolved = in[i].found = true;
        if (!in[i].area && area)
            snprintf(in[i].sub_area, sizeof in[i].sub_area, "%s", area);
    }
    directory_unlock(d);
}

static void batch(req *r)
{
    static const json_field fields[] = {{"items", JT_ARRAY, JF_REQUIRED, 0, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    assurance_ctx *a = req_route_ctx(r);
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, fields, "", &p) || check_batch(b, &p)) {
        req_problem(r, &p);
        return;
    }
    store *s = req_store(r); /* NULL: answered 503 */
    if (!s)
        return;
    /* the items are read here once, into what the engine takes; the callers are looked up here
       too — in the directory, else on this thread's read connection — so the one writer only
       writes. A caller not found stays "found: false" (their signal still counts). */
    cmd *c = req_cmd(r);
    c->in = json_incref(b);
    const json_t *items = json_object_get(b, "items");
    size_t n = json_array_size(items);
    signal_in *in = xcalloc(n + 1, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        signal_in *x = &in[i];
        x->kind = jstr(it, "kind");
        if (strcmp(x->kind, "alarm") == 0)
            continue;
        x->service = jstr(it, "service");
        x->area = jstr(it, "area");
        x->msisdn = jstr(it, "msisdn");
        x->ref = jstr(it, "ref");
        x->time = TIME_NOW;
        if (jstr(it, "time"))
            time_parse_iso(jstr(it, "time"), a ? a->cfg.tz : 480, &x->time);
    }
    directory_pass(a ? a->cfg.directory : NULL, in, n);
    signals_resolve_callers(s, in, (int)n); /* those still unresolved; an error leaves them so */
    c->prep = in;
    c->prep_free = free;
    c->apply = apply_batch;
    req_submit(r);
}

/* warning lines */

static const json_field line_fields[] = {
    {"name", JT_STRING, JF_REQUIRED, 100, NULL},
    {"service", JT_STRING, JF_NULLABLE, 32, NULL},
    {"area", JT_STRING, JF_REQUIRED, 64, NULL},
    {"windowMinutes", JT_INT, JF_REQUIRED, 0, NULL},
    {"threshold", JT_INT, JF_NULLABLE, 0, NULL},
    {"baselineFactorPercent", JT_INT, JF_NULLABLE, 0, NULL},
    {"baselineMinimum", JT_INT, 0, 0, NULL},
    {"level", JT_INT, JF_REQUIRED, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"crossed", JT_ANY, JF_READONLY, 0, NULL},
    {"currentCount", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_line(const json_t *b, problem *p)
{
    if (!area_code_ok(jstr(b, "area")))
        return problem_field(p, "area", "must be an area code like GD.SZ.NS");
    json_int_t w = json_integer_value(json_object_get(b, "windowMinutes"));
    if (w < 1 || w > MAX_WINDOW_MIN)
        return problem_field(p, "windowMinutes", "must be 1 … %d", MAX_WINDOW_MIN);
    json_t *t = json_object_get(b, "threshold"), *f = json_object_get(b, "baselineFactorPercent");
    if (!json_is_integer(t) && !json_is_integer(f))
        return problem_field(p, "threshold",
                             "a line needs a threshold, a baselineFactorPercent, or both");
    if (json_is_integer(t) && (json_integer_value(t) < 1 || json_integer_value(t) > 1000000))
        return problem_field(p, "threshold", "must be 1 … 1000000");
    if (json_is_integer(f) && (json_integer_value(f) < 100 || json_integer_value(f) > 10000))
        return problem_field(p, "baselineFactorPercent", "must be 100 … 10000 (percent)");
    json_int_t lv = json_integer_value(json_object_get(b, "level"));
    if (lv < 1 || lv > 4)
        return problem_field(p, "level", "must be 1 (highest) … 4");
    json_t *m = json_object_get(b, "baselineMinimum");
    if (m && json_integer_value(m) < 0)
        return problem_field(p, "baselineMinimum", "must be ≥ 0");
    return ERR_OK;
}

static json_t *line_json(store *s, int64_t id, int tz)
{
    (void)tz;
    store_res *r;
    if (store_query(s,
                    "SELECT id, name, service, area, window_min, threshold, baseline_factor,"
                    " baseline_min, level, crossed FROM warning_lines WHERE id = ?",
                    (store_val[]){SV_I(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r)) {
        o = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:I, s:i}", "id", store_text(r, 0, 0), "name",
                      store_text(r, 0, 1), "service", store_text(r, 0, 2), "area",
                      store_text(r, 0, 3), "windowMinutes", (json_int_t)store_int(r, 0, 4),
                      "baselineMinimum", (json_int_t)store_int(r, 0, 7), "level",
                      (int)store_int(r, 0, 8));
        json_object_set_new(o, "threshold",
                            store_isnull(r, 0, 5) ? json_null() : json_integer(store_int(r, 0, 5)));
        json_object_set_new(o, "baselineFactorPercent",
                            store_isnull(r, 0, 6) ? json_null() : json_integer(store_int(r, 0, 6)));
        json_object_set_new(o, "crossed", json_boolean(!store_isnull(r, 0, 9)));
    }
    store_res_free(r);
    return o;
}

static err apply_line_write(engine *e, cmd *c)
{
    store *s = engine_store(e);
    settings_write w;
    err rc = settings_begin(e, c, "warning_lines", line_json, "warning line", &w);
    if (rc)
        return rc;
    if (w.del) {
        rc = store_exec(s, "DELETE FROM warning_lines WHERE id = ?", (store_val[]){SV_I(w.id)}, 1);
    } else {
        json_t *t = json_object_get(c->in, "threshold"),
               *f = json_object_get(c->in, "baselineFactorPercent");
        rc = store_exec(
            s,
            w.create ? "INSERT INTO warning_lines(name, service, area, window_min, threshold,"
                       " baseline_factor, baseline_min, level, created, updated, id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                     : "UPDATE warning_lines SET name = ?, service = ?, area = ?, window_min = ?,"
                       " threshold = ?, baseline_factor = ?, baseline_min = ?, level = ?,"
                       " crossed = NULL, created = COALESCE(?, created), updated = ? WHERE id = ?",
            (store_val[]){SV_S(jstr(c->in, "name")), SV_S(jstr(c->in, "service")),
                          SV_S(jstr(c->in, "area")),
                          SV_I(json_integer_value(json_object_get(c->in, "windowMinutes"))),
                          SV_OI(json_is_integer(t), json_integer_value(t)),
                          SV_OI(json_is_integer(f), json_integer_value(f)),
                          SV_I(json_integer_value(json_object_get(c->in, "baselineMinimum"))),
                          SV_I(json_integer_value(json_object_get(c->in, "level"))),
                          SV_OI(w.create, w.now), SV_I(w.now), SV_I(w.id)},
            11);
    }
    actx(e)->lines_loaded = false; /* reload with the next signal */
    return settings_finish(e, c, &w, rc, "/api/v1/warningLines", "warningLine", line_json);
}

static void line_create(req *r)
{
    req_submit_checked(r, line_fields, check_line, apply_line_write);
}

static void line_delete(req *r)
{
    settings_delete(r, apply_line_write);
}

static void line_list(req *r)
{
    settings_list(r, "SELECT id FROM warning_lines ORDER BY id", line_json, "warning lines");
}

#define CONF (ROLE_SUPERVISOR | ROLE_ADMIN)

static const route routes[] = {
    {"POST", "/api/v1/signals", ROLE_ADMIN | ROLE_INTEGRATION, batch},
    {"GET", "/api/v1/warningLines", ROUTE_ANY, line_list},
    {"POST", "/api/v1/warningLines", CONF, line_create},
    {"PUT", "/api/v1/warningLines/{id}", CONF, line_create},
    {"DELETE", "/api/v1/warningLines/{id}", CONF, line_delete},
    {NULL, NULL, 0, NULL},
};

void signals_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
}
