/* tickets_int.h — shared by the files of tickets/ only. */
#ifndef SHOUYE_TICKETS_INT_H
#define SHOUYE_TICKETS_INT_H

#include "tickets/tickets.h"

enum { TK_SLA_WARN = 1, TK_SLA_DUE = 2, TK_RESPONSE_DUE = 3 };

/* A work order as stored: strings are owned (free with ticket_free); times in ms, 0 = none. */
typedef struct ticket {
    int64_t id;
    char *name, *description, *ticket_type, *severity, *priority, *stage, *step, *pending_from;
    char *status, *status_change_reason;
    int64_t status_change_date, created, updated, requested_resolution, resolution_date;
    char *external_id, *channel, *related_party, *related_entity, *customer_id;
    char *category, *area, *service, *customer_level, *assigned_group, *assignee;
    int64_t escalated, repeat_of;
    char *relationships, *created_by;
    int64_t sla_policy;
    char *sla_state;
    int64_t sla_target, sla_elapsed, sla_since;
    char *sla_calendar;
    int64_t resolution_due, warned, breached;
    int64_t response_target, response_due, responded, response_breached;
} ticket;

/* an SLA policy as the engine caches it */
typedef struct policy_ent {
    int64_t id;
    char type[32], priority[16], level[16];
    int64_t response_ms, resolution_ms;
    char calendar[40]; /* "" = none */
} policy_ent;

struct tickets_ctx {
    tickets_config cfg;
    engine *eng;
    /* engine thread only: the SLA policies, reloaded after any policy write */
    policy_ent *policies;
    int npolicies;
    bool policies_loaded;
    ticket_attach_fn attach; /* incidents (assurance) */
};

/* Forget the cached policies (engine thread; after a policy write, even a failed one). */
void tickets_policies_changed(tickets_ctx *tc);

/* A note on a work order (engine thread): the row and its ticket.noteAdded event. */
err tickets_add_note(engine *e, int64_t ticket_id, const char *author, const char *text,
                     const char *visibility);

void ticket_free(ticket *t);
/* Load by id; ERR_NOTFOUND when absent. */
err ticket_load(store *s, int64_t id, ticket *out);
err ticket_insert(store *s, const ticket *t);
err ticket_update(store *s, const ticket *t);
/* Write only the columns where `t` differs from `old` (as loaded). */
err ticket_update_changed(store *s, const ticket *old, const ticket *t);
/* Deep copy (free with ticket_free). */
void ticket_copy(const ticket *from, ticket *to);
/* Rows of `SELECT TICKET_COLS ...` into tickets. */
void ticket_from_row(const store_res *r, int row, ticket *t);
extern const char TICKET_COLS[];

/* The TMF621 JSON; with_children adds note and statusChange from the store. */
json_t *ticket_render(store *s, const ticket *t, int tz, bool with_children);
/* replace a string field (takes a copy; NULL clears) */
void tset(char **field, const char *value);

/* SLA helpers over a stored ticket (engine thread) */
err ticket_calendar(store *s, const char *id, int tz, sla_calendar *out, bool *has);
void ticket_clock_get(const ticket *t, sla_clock *c);
void ticket_clock_put(ticket *t, const sla_clock *c, const sla_calendar *cal, sla_mode mode);

/* admin.c: routes for SLA policies, calendars, dispatch rules, queues */
void tickets_admin_register(tickets_ctx *t, http_server *s);
/* Re-apply the SLA policy to every open ticket using `policy` (engine thread). */
err tickets_retarget_policy(engine *e, int64_t policy, int tz);
/* Choose the policy for a ticket; sets t->sla_policy, target, calendar. Engine thread. */
err tickets_choose_policy(tickets_ctx *tc, store *s, ticket *t);
/* schedule the timers a ticket needs now */
void tickets_schedule(engine *e, const ticket *t);
/* Apply SLA effects of being in the ticket's current stage, after a move at `now`. */
err tickets_sla_after_move(store *s, ticket *t, const char *from_stage, int64_t now, int tz);
/* SLA at creation (policy, clock started, response due) */
err tickets_sla_init(tickets_ctx *tc, store *s, ticket *t, int64_t now);
/* after a field change that may pick another policy */
err tickets_retarget_ticket(tickets_ctx *tc, store *s, ticket *t);
#endif
