/*
 * sla_apply.c — SLA clocks applied to stored work orders on the engine thread: choosing
 * the policy, moving the clock with the lifecycle, the warning / breach / escalation
 * timers, and rebuilding every timer from the store when the engine starts.
 */
#include "tickets/tickets_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

err ticket_calendar(store *s, const char *id, int tz, sla_calendar *out, bool *has)
{
    *has = false;
    if (!id)
        return ERR_OK;
    store_res *r;
    err rc =
        store_query(s, "SELECT doc FROM calendars WHERE id = ?", (store_val[]){SV_S(id)}, 1, &r);
    if (rc)
        return rc;
    if (store_rows(r) == 1) {
        json_t *doc = json_load(store_text(r, 0, 0));
        if (doc && sla_calendar_parse(doc, tz, out, NULL) == ERR_OK)
            *has = true;
        json_decref(doc);
    }
    store_res_free(r);
    return ERR_OK;
}

void ticket_clock_get(const ticket *t, sla_clock *c)
{
    c->target = t->sla_target;
    c->elapsed = t->sla_elapsed;
    c->since = t->sla_since;
    c->warned = t->warned;
    c->breached = t->breached;
}

void ticket_clock_put(ticket *t, const sla_clock *c, const sla_calendar *cal, sla_mode mode)
{
    t->sla_target = c->target;
    t->sla_elapsed = c->elapsed;
    t->sla_since = c->since;
    t->warned = c->warned;
    t->breached = c->breached;
    if (c->since && c->target)
        t->resolution_due = sla_due(c, cal);
    else if (mode == SLA_PAUSES || !c->target)
        t->resolution_due = 0; /* no due time while the clock is paused */
    /* stopped: keep the due time the ticket was measured against */
    tset(&t->sla_state, sla_state_name(c, mode));
}

void tickets_policies_changed(tickets_ctx *tc)
{
    tc->policies_loaded = false;
}

static err load_policies(tickets_ctx *tc, store *s)
{
    store_res *r;
    err rc = store_query(s,
                         "SELECT id, ticket_type, priority, customer_level, response_min,"
                         " resolution_min, calendar_id FROM sla_policies ORDER BY id",
                         NULL, 0, &r);
    if (rc)
        return rc;
    free(tc->policies);
    tc->npolicies = store_rows(r);
    tc->policies = xcalloc((size_t)tc->npolicies + 1, sizeof *tc->policies);
    for (int i = 0; i < tc->npolicies; i++) {
        policy_ent *p = &tc->policies[i];
        p->id = store_int(r, i, 0);
        snprintf(p->type, sizeof p->type, "%s", store_text(r, i, 1));
        snprintf(p->priority, sizeof p->priority, "%s", store_text(r, i, 2));
        snprintf(p->level, sizeof p->level, "%s", store_text(r, i, 3));
        p->response_ms = store_int(r, i, 4) * 60000;
        p->resolution_ms = store_int(r, i, 5) * 60000;
        snprintf(p->calendar, sizeof p->calendar, "%s",
                 store_text(r, i, 6) ? store_text(r, i, 6) : "");
    }
    store_res_free(r);
    tc->policies_loaded = true;
    return ERR_OK;
}

static int attr_score(const char *rule, const char *value, int weight)
{
    if (strcmp(rule, "*") == 0)
        return 0;
    return value && strcmp(rule, value) == 0 ? weight : -1;
}

/* the most specific policy: kind outranks priority outranks customer level; then lowest id */
err tickets_choose_policy(tickets_ctx *tc, store *s, ticket *t)
{
    if (!tc->policies_loaded) {
        err rc = load_policies(tc, s);
        if (rc)
            return rc;
    }
    const policy_ent *best = NULL;
    int best_score = -1;
    for (int i = 0; i < tc->npolicies; i++) {
        const policy_ent *p = &tc->policies[i];
        int a = attr_score(p->type, t->ticket_type, 4), b = attr_score(p->priority, t->priority, 2),
            c = attr_score(p->level, t->customer_level, 1);
        if (a < 0 || b < 0 || c < 0)
            continue;
        if (a + b + c > best_score) {
            best_score = a + b + c;
            best = p;
        }
    }
    t->sla_policy = best ? best->id : 0;
    t->response_target = best ? best->response_ms : 0;
    t->sla_target = best ? best->resolution_ms : 0;
    tset(&t->sla_calendar, best && best->calendar[0] ? best->calendar : NULL);
    return ERR_OK;
}

/* recompute the response due time from creation */
static void response_due(ticket *t, const sla_calendar *cal)
{
    t->response_due =
        t->response_target ? sla_add_business(cal, t->created, t->response_target) : 0;
}

err tickets_sla_after_move(store *s, ticket *t, const char *from_stage, int64_t now, int tz)
{
    sla_calendar cal;
    bool has;
    err rc = ticket_calendar(s, t->sla_calendar, tz, &cal, &has);
    if (rc)
        return rc;
    sla_clock c;
    ticket_clock_get(t, &c);
    sla_mode before = from_stage ? lifecycle_sla_mode(from_stage) : SLA_STOPS;
    sla_mode after = lifecycle_sla_mode(t->stage);
    if (before == SLA_RUNS && after != SLA_RUNS)
        sla_stop(&c, has ? &cal : NULL, now);
    else if (before != SLA_RUNS && after == SLA_RUNS)
        sla_start(&c, now);
    ticket_clock_put(t, &c, has ? &cal : NULL, after);
    return ERR_OK;
}

/* after a policy or field change: new target, same time used */
static err retarget(tickets_ctx *tc, store *s, ticket *t)
{
    int tz = tc->cfg.tz;
    err rc = tickets_choose_policy(tc, s, t);
    if (rc)
        return rc;
    sla_calendar cal;
    bool has;
    rc = ticket_calendar(s, t->sla_calendar, tz, &cal, &has);
    if (rc)
        return rc;
    const sla_calendar *cp = has ? &cal : NULL;
    sla_clock c;
    ticket_clock_get(t, &c);
    /* the used time is measured on the calendar it ran under; fold it in before switching */
    sla_retarget(&c, t->sla_target);
    if (c.warned && sla_used(&c, cp, t->updated) < c.target * SLA_WARN_PERMILLE / 1000)
        c.warned = false; /* a looser target earns a new warning later */
    response_due(t, cp);
    ticket_clock_put(t, &c, cp, lifecycle_sla_mode(t->stage));
    return ERR_OK;
}

err tickets_retarget_ticket(tickets_ctx *tc, store *s, ticket *t)
{
    return retarget(tc, s, t);
}

err tickets_sla_init(tickets_ctx *tc, store *s, ticket *t, int64_t now)
{
    int tz = tc->cfg.tz;
    err rc = tickets_choose_policy(tc, s, t);
    if (rc)
        return rc;
    sla_calendar cal;
    bool has;
    rc = ticket_calendar(s, t->sla_calendar, tz, &cal, &has);
    if (rc)
        return rc;
    sla_clock c = {.target = t->sla_target};
    sla_start(&c, now);
    response_due(t, has ? &cal : NULL);
    ticket_clock_put(t, &c, has ? &cal : NULL, lifecycle_sla_mode(t->stage));
    return ERR_OK;
}

void tickets_schedule(engine *e, const ticket *t)
{
    int64_t now = engine_now(e);
    if (t->sla_since && t->sla_target) {
        tickets_ctx *tc = engine_ctx(e, ENGINE_CTX_TICKETS);
        sla_calendar cal;
        bool has = false;
        if (t->sla_calendar)
            ticket_calendar(engine_store(e), t->sla_calendar, tc ? tc->cfg.tz : 480, &cal, &has);
        sla_clock c;
        ticket_clock_get(t, &c);
        if (!c.warned) {
            int64_t w = sla_warn_at(&c, has ? &cal : NULL);
            engine_timer_add(e, w > now ? w : now, TK_SLA_WARN, t->id);
        }
        if (!c.breached) {
            int64_t d = sla_due(&c, has ? &cal : NULL);
            engine_timer_add(e, d > now ? d : now, TK_SLA_DUE, t->id);
        }
    }
    if (t->response_due && !t->responded && !t->response_breached)
        engine_timer_add(e, t->response_due > now ? t->response_due : now, TK_RESPONSE_DUE, t->id);
}

err tickets_retarget_policy(engine *e, int64_t policy, int tz)
{
    store *s = engine_store(e);
    char *sql = xasprintf("SELECT %s FROM tickets WHERE sla_policy = ? AND status IN"
                          " ('acknowledged', 'inProgress', 'pending')",
                          TICKET_COLS);
    store_res *r;
    err rc = store_query(s, sql, (store_val[]){SV_I(policy)}, 1, &r);
    free(sql);
    if (rc)
        return rc;
    int64_t now = engine_now(e);
    for (int i = 0; i < store_rows(r) && !rc; i++) {
        ticket t, orig;
        ticket_from_row(r, i, &t);
        ticket_copy(&t, &orig);
        t.updated = now;
        rc = retarget(engine_ctx(e, ENGINE_CTX_TICKETS), s, &t);
        if (!rc)
            rc = ticket_update_changed(s, &orig, &t);
        if (!rc)
            tickets_schedule(e, &t);
        ticket_free(&orig);
        ticket_free(&t);
    }
    store_res_free(r);
    return rc;
}

/* ---- timers ---- */

static err on_sla_timer(engine *e, int64_t id, int64_t at)
{
    (void)at;
    tickets_ctx *tc = engine_ctx(e, ENGINE_CTX_TICKETS);
    int tz = tc ? tc->cfg.tz : 480;
    store *s = engine_store(e);
    ticket t;
    err rc = ticket_load(s, id, &t);
    if (rc == ERR_NOTFOUND)
        return ERR_OK;
    if (rc)
        return rc;
    int64_t now = engine_now(e);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    bool changed = false;
    ticket orig;
    ticket_copy(&t, &orig);
    if (t.response_due && !t.responded && !t.response_breached && now >= t.response_due) {
        t.response_breached = 1;
        changed = true;
        rc = engine_emit(e, "ticket.responseOverdue", "ticket", ids, "system",
                         json_pack("{s:s?}", "assignedGroup", t.assigned_group));
        /* SLA events stand in the work order's own timeline too */
        if (!rc)
            rc = tickets_add_note(e, id, "system", "响应超时：未在规定时间内受理 / response overdue",
                                  "internal");
    }
    if (!rc && t.sla_since && t.sla_target) {
        sla_calendar cal;
        bool has;
        rc = ticket_calendar(s, t.sla_calendar, tz, &cal, &has);
        sla_clock c;
        ticket_clock_get(&t, &c);
        int64_t used = sla_used(&c, has ? &cal : NULL, now);
        if (!rc && !c.warned && used >= c.target * SLA_WARN_PERMILLE / 1000) {
            c.warned = true;
            changed = true;
            rc = engine_emit(e, "ticket.slaWarning", "ticket", ids, "system",
                             json_pack("{s:I, s:I, s:s?}", "usedMs", (json_int_t)used, "targetMs",
                                       (json_int_t)c.target, "assignedGroup", t.assigned_group));
            if (!rc)
                rc = tickets_add_note(e, id, "system",
                                      "SLA预警：处理时限已用80% / SLA warning: 80% of the time used",
                                      "internal");
        }
        if (!rc && !c.breached && used >= c.target) {
            c.breached = true;
            changed = true;
            rc = engine_emit(e, "ticket.slaBreached", "ticket", ids, "system",
                             json_pack("{s:I, s:I, s:s?}", "usedMs", (json_int_t)used, "targetMs",
                                       (json_int_t)c.target, "assignedGroup", t.assigned_group));
            if (!rc)
                rc = tickets_add_note(e, id, "system", "SLA超时：已超过处理时限 / SLA breached",
                                      "internal");
            /* escalate 升级: to the assigned group's escalation target */
            char *from = t.assigned_group ? xstrdup(t.assigned_group) : NULL;
            store_res *g = NULL;
            if (!rc && from)
                rc = store_query(s, "SELECT escalation_group FROM work_groups WHERE id = ?",
                                 (store_val[]){SV_S(from)}, 1, &g);
            const char *to = g && store_rows(g) ? store_text(g, 0, 0) : NULL;
            if (!rc) {
                t.escalated = 1;
                if (to) {
                    tset(&t.assigned_group, to);
                    tset(&t.assignee, NULL);
                }
                rc = engine_emit(e, "ticket.escalated", "ticket", ids, "system",
                                 json_pack("{s:s?, s:s?, s:s}", "fromGroup", from, "toGroup", to,
                                           "reason", "slaBreached"));
            }
            if (!rc) {
                json_t *a =
                    json_pack("{s:s?, s:b}", "assignedGroup", t.assigned_group, "escalated", 1);
                json_t *b = json_pack("{s:s?, s:b}", "assignedGroup", from, "escalated", 0);
                rc = engine_audit(e, "system", "escalate", "ticket", ids, b, a);
                json_decref(a);
                json_decref(b);
            }
            store_res_free(g);
            free(from);
        }
        ticket_clock_put(&t, &c, has ? &cal : NULL, lifecycle_sla_mode(t.stage));
    }
    if (!rc && changed) {
        t.updated = now;
        rc = ticket_update_changed(s, &orig, &t);
    }
    if (!rc)
        tickets_schedule(e, &t);
    ticket_free(&orig);
    ticket_free(&t);
    return rc;
}

static err on_start(engine *e)
{
    store *s = engine_store(e);
    /* a retry comes within minutes, not weeks: idempotency keys live 7 days */
    err prc = store_exec(s, "DELETE FROM idempotency WHERE created < ?",
                         (store_val[]){SV_I(engine_now(e) - 7LL * 86400000)}, 1);
    if (prc)
        return prc;
    char *sql = xasprintf("SELECT %s FROM tickets WHERE sla_running_since IS NOT NULL"
                          " OR (responded IS NULL AND response_due IS NOT NULL"
                          " AND response_breached = 0)",
                          TICKET_COLS);
    store_res *r;
    err rc = store_query(s, sql, NULL, 0, &r);
    free(sql);
    if (rc)
        return rc;
    for (int i = 0; i < store_rows(r); i++) {
        ticket t;
        ticket_from_row(r, i, &t);
        tickets_schedule(e, &t);
        ticket_free(&t);
    }
    LOGI("tickets", "msg=\"timers rebuilt\" tickets=%d", store_rows(r));
    store_res_free(r);
    return ERR_OK;
}

static void on_abort(engine *e)
{
    tickets_policies_changed(engine_ctx(e, ENGINE_CTX_TICKETS));
}

void tickets_attach_engine(tickets_ctx *t, engine *e)
{
    engine_on_abort(e, on_abort);
    t->eng = e;
    engine_set_ctx(e, ENGINE_CTX_TICKETS, t);
    engine_on_timer(e, TK_SLA_WARN, on_sla_timer);
    engine_on_timer(e, TK_SLA_DUE, on_sla_timer);
    engine_on_timer(e, TK_RESPONSE_DUE, on_sla_timer);
    engine_on_start(e, on_start);
}
