/*
 * segments.c — focus segments (C7), each with a score and its reasons, so an agent can see
 * why a customer is flagged:
 *   complaintHeavy  3 or more complaints / fault reports in 90 days (score = how many)
 *   highValue       monthly fees of what they hold ≥ 128 元 (score = fee in fen; an ARPU proxy
 *                   until billed revenue is here)
 *   churnRisk       离网倾向, a points score ≥ 50: 40 for 2+ complaints/faults in 90 days,
 *                   30 for a line stopped for arrears, 20 for a balance below the credit
 *                   limit, 10 for a repeat complaint in 90 days
 * Recomputed as a whole by one command (POST /api/v1/segments/refresh, and every night at
 * 03:00 local on the engine clock); reads are one index range per segment.
 */
#include "customers/customers.h"

#include "customers/card.h"

#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
enum { TK_SEGMENTS = 8 };

static err refresh(engine *e, int64_t *counts)
{
    store *s = engine_store(e);
    int64_t now = engine_now(e), since = now - 90 * DAY_MS;
    err rc = store_exec(s, "DELETE FROM subscriber_segments", NULL, 0);
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO subscriber_segments(msisdn, segment, score, reasons, updated)"
                        " SELECT t.customer_id, 'complaintHeavy', COUNT(*),"
                        " 'complaints and fault reports in 90 days', ? FROM tickets t"
                        " JOIN subscribers s ON s.msisdn = t.customer_id"
                        " WHERE t.ticket_type IN ('complaint', 'faultReport') AND t.created >= ?"
                        " GROUP BY t.customer_id HAVING COUNT(*) >= 3",
                        (store_val[]){SV_I(now), SV_I(since)}, 2);
    if (!rc)
        counts[0] = store_changes(s);
    if (!rc)
        rc = store_exec(s,
                        "INSERT INTO subscriber_segments(msisdn, segment, score, reasons, updated)"
                        " SELECT p.msisdn, 'highValue', SUM(o.monthly_fee),"
                        " 'monthly fees of the products held', ? FROM subscriber_offers p"
                        " JOIN offers o ON o.id = p.offer_id WHERE p.state = 'active'"
                        " GROUP BY p.msisdn HAVING SUM(o.monthly_fee) >= 12800",
                        (store_val[]){SV_I(now)}, 1);
    if (!rc)
        counts[1] = store_changes(s);
    if (!rc)
        rc = store_exec(
            s,
            "INSERT INTO subscriber_segments(msisdn, segment, score, reasons, updated)"
            " SELECT msisdn, 'churnRisk', score, reasons, ? FROM ("
            "  SELECT s.msisdn,"
            "   (CASE WHEN COALESCE(c.n, 0) >= 2 THEN 40 ELSE 0 END"
            "    + CASE WHEN s.status = 'suspended' THEN 30 ELSE 0 END"
            "    + CASE WHEN b.free_fen + b.credit_fen < 0 THEN 20 ELSE 0 END"
            "    + CASE WHEN COALESCE(c.repeats, 0) > 0 THEN 10 ELSE 0 END) AS score,"
            "   (CASE WHEN COALESCE(c.n, 0) >= 2 THEN 'complaints90d;' ELSE '' END"
            "    || CASE WHEN s.status = 'suspended' THEN 'stoppedForArrears;' ELSE '' END"
            "    || CASE WHEN b.free_fen + b.credit_fen < 0 THEN 'inArrears;' ELSE '' END"
            "    || CASE WHEN COALESCE(c.repeats, 0) > 0 THEN 'repeatComplaint;' ELSE '' END)"
            "   AS reasons"
            "  FROM subscribers s"
            "  LEFT JOIN (SELECT customer_id, COUNT(*) AS n,"
            "    SUM(CASE WHEN repeat_of IS NOT NULL THEN 1 ELSE 0 END) AS repeats"
            "    FROM tickets WHERE ticket_type IN ('complaint', 'faultReport') AND created >= ?"
            "    GROUP BY customer_id) c ON c.customer_id = s.msisdn"
            "  LEFT JOIN balances b ON b.msisdn = s.msisdn"
            "  WHERE c.n IS NOT NULL OR s.status = 'suspended' OR b.msisdn IS NOT NULL"
            " ) x WHERE score >= 50",
            (store_val[]){SV_I(now), SV_I(since)}, 2);
    if (!rc)
        counts[2] = store_changes(s);
    return rc;
}

static err apply_refresh(engine *e, cmd *c)
{
    int64_t counts[3] = {0};
    err rc = refresh(e, counts);
    if (rc)
        return rc;
    json_t *data =
        json_pack("{s:I, s:I, s:I}", "complaintHeavy", (json_int_t)counts[0], "highValue",
                  (json_int_t)counts[1], "churnRisk", (json_int_t)counts[2]);
    c->out = json_incref(data);
    c->status = 200;
    return engine_emit(e, "segments.refreshed", "segments", "all", c->actor, data);
}

static void refresh_now(req *r)
{
    cmd *c = req_cmd(r);
    c->in = json_object();
    c->apply = apply_refresh;
    req_submit(r);
}

/* the next 03:00 local after `now` */
static int64_t next_run(int64_t now, int tz)
{
    return time_next_local(now, tz, 3 * 60);
}

static err on_timer(engine *e, int64_t id, int64_t at)
{
    (void)id;
    (void)at;
    int64_t counts[3] = {0};
    err rc = refresh(e, counts);
    if (!rc)
        rc = engine_emit(e, "segments.refreshed", "segments", "all", "system",
                         json_pack("{s:I, s:I, s:I}", "complaintHeavy", (json_int_t)counts[0],
                                   "highValue", (json_int_t)counts[1], "churnRisk",
                                   (json_int_t)counts[2]));
    engine_timer_add(e, next_run(engine_now(e), 480), TK_SEGMENTS, 0);
    return rc;
}

static err on_start(engine *e)
{
    engine_timer_add(e, next_run(engine_now(e), 480), TK_SEGMENTS, 0);
    return ERR_OK;
}

void customers_attach_engine(customers_ctx *c, engine *e)
{
    customers_set_engine(c, e);
    engine_on_timer(e, TK_SEGMENTS, on_timer);
    engine_on_start(e, on_start);
    engine_subscribe(e, customers_on_event, c);
}

void customers_segments_write(jw *w, const char *key, const store_res *r, int tz)
{
    (void)tz;
    jw_arr(w, key);
    for (int i = 0; i < store_rows(r); i++) {
        jw_obj(w, NULL);
        jw_str(w, "segment", store_text(r, i, 0));
        jw_int(w, "score", store_int(r, i, 1));
        jw_arr(w, "reasons");
        const char *t = store_text(r, i, 2);
        while (t && *t) {
            const char *semi = strchr(t, ';');
            size_t n = semi ? (size_t)(semi - t) : strlen(t);
            if (n)
                jw_strn(w, NULL, t, n);
            t = semi ? semi + 1 : t + n;
        }
        jw_end_arr(w);
        jw_end_obj(w);
    }
    jw_end_arr(w);
}

static const route routes[] = {
    {"POST", "/api/v1/segments/refresh", ROLE_SUPERVISOR | ROLE_ADMIN, refresh_now},
    {NULL, NULL, 0, NULL},
};

void customers_register_segments(customers_ctx *c, http_server *s)
{
    http_add_routes(s, routes, c);
}
