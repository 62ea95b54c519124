/*
 * tickets — work orders (工单): the TMF621 trouble-ticket API, the operator's lifecycle,
 * SLA clocks with pauses and business-hours calendars, dispatch rules, repeat detection,
 * notes, group queues, and the admin API for SLA policies, calendars and dispatch rules.
 *
 * The pure parts (lifecycle table, SLA arithmetic, rule matching) are exported for unit
 * tests; everything that changes state runs as engine commands.
 */
#ifndef SHOUYE_TICKETS_H
#define SHOUYE_TICKETS_H

#include "auth/auth.h"
#include "engine/engine.h"
#include "http/http.h"

/* ---- lifecycle (lifecycle.c) ---- */
extern const char *const ticket_stage_names[]; /* NULL-terminated */
extern const char *const ticket_type_names[];
extern const char *const ticket_severity_names[];
extern const char *const ticket_priority_names[];
extern const char *const ticket_level_names[];
extern const char *const ticket_step_names[];
extern const char *const ticket_status_names[];

/* TMF621 status for a stage ("acknowledged", …); NULL for an unknown stage. */
const char *lifecycle_status(const char *stage);
/* Chinese label for a stage. */
const char *lifecycle_label_zh(const char *stage);
/*
 * May `roles` move a ticket from `from` to `to`? `pending_from` is the stage a pending
 * ticket returns to. Returns ERR_OK, ERR_CONFLICT (illegal move; problem names from and
 * to, 409) or ERR_FORBIDDEN (legal, but not for these roles; 403).
 */
err lifecycle_check(const char *from, const char *to, const char *pending_from, unsigned roles,
                    problem *p);
/* Map a TMF status in a PATCH to a target stage given the current one; NULL if none. */
const char *lifecycle_stage_for_status(const char *current, const char *status);
/* Does the resolution clock run / pause / stop in this stage? */
typedef enum { SLA_RUNS, SLA_PAUSES, SLA_STOPS } sla_mode;
sla_mode lifecycle_sla_mode(const char *stage);

/* ---- SLA arithmetic (sla.c) ---- */
typedef struct sla_calendar {
    int tz;           /* offset minutes of local business time */
    int nwin[7];      /* windows per weekday, Monday = 0 */
    int win[7][4][2]; /* [from, to) minutes after local midnight */
    int nholidays;
    int64_t holidays[64]; /* local day numbers (days since 1970-01-01 local) */
} sla_calendar;

/* Parse a calendar document {hours:[{weekday, from, to}], holidays:[...]} */
err sla_calendar_parse(const json_t *doc, int tz, sla_calendar *out, problem *p);
/* Business milliseconds in [a, b); the plain difference when cal is NULL. */
int64_t sla_business_between(const sla_calendar *cal, int64_t a, int64_t b);
/* The wall time at which `dur` business ms have passed since `start`. */
int64_t sla_add_business(const sla_calendar *cal, int64_t start, int64_t dur);

typedef struct sla_clock {
    int64_t target;  /* business ms allowed; 0 = no SLA */
    int64_t elapsed; /* business ms used before `since` */
    int64_t since;   /* wall ms the clock last started; 0 when not running */
    bool warned, breached;
} sla_clock;

#define SLA_WARN_PERMILLE 800

void sla_start(sla_clock *c, int64_t now);
void sla_stop(sla_clock *c, const sla_calendar *cal, int64_t now);
/* Business ms used by now. */
int64_t sla_used(const sla_clock *c, const sla_calendar *cal, int64_t now);
/* Due and warning wall times while running; 0 when not running or no target. */
int64_t sla_due(const sla_clock *c, const sla_calendar *cal);
int64_t sla_warn_at(const sla_clock *c, const sla_calendar *cal);
/* Change the target (policy changed), keeping the time already used. */
void sla_retarget(sla_clock *c, int64_t target);
/* "none", "running", "warning", "breached", "paused", "met" */
const char *sla_state_name(const sla_clock *c, sla_mode mode);

/* ---- dispatch rules (rules.c) ---- */
typedef struct dispatch_rule {
    int64_t id;
    int position;
    const char *ticket_type, *category, *area, *service; /* NULL = any */
    const char *group;
} dispatch_rule;

typedef struct ticket_keys {
    const char *ticket_type, *category, *area, *service;
} ticket_keys;

/* Is this a well-formed area code: [A-Za-z0-9_]+ segments joined by '.', ≤ 64 bytes? */
bool area_code_ok(const char *s);
/* Is `area` equal to or under `prefix` (dot-separated codes: GD.SZ under GD)? */
bool area_under(const char *area, const char *prefix);
/* Index of the first matching rule (rules sorted by position, id), or -1. */
int rules_match(const dispatch_rule *rules, int n, const ticket_keys *k);

/* ---- the module ---- */
typedef struct tickets_config {
    int repeat_days; /* same customer + category within N days is a repeat (default 30) */
    int tz;          /* offset minutes for rendering and business calendars */
} tickets_config;

typedef struct tickets_ctx tickets_ctx;
tickets_ctx *tickets_create(const tickets_config *cfg, engine *e);
void tickets_destroy(tickets_ctx *t);
/* Register timers and the start hook on the engine (before engine_start). */
void tickets_attach_engine(tickets_ctx *t, engine *e);
/* Register the HTTP routes. */
void tickets_register(tickets_ctx *t, http_server *s);

/* ---- for other modules, on the engine thread inside a command or timer ---- */

/* Create a work order as the system from a TMF621 create body (trusted: not re-checked). */
err tickets_system_create(engine *e, json_t *in, int64_t *id, problem *p);
/* Move a work order as the system through the lifecycle table (group for a dispatch). */
err tickets_system_move(engine *e, int64_t id, const char *stage, const char *group,
                        const char *reason, problem *p);
/*
 * Asked while a complaint or fault report is created (customer may be NULL): the module
 * counts it as a signal and, knowing of an incident affecting the customer, records the
 * attachment and fills `incident`
 * (its id) and `note` (a customer-visible note); the work order then waits on the incident
 * (stage pending) instead of being dispatched on its own.
 */
typedef struct ticket_attach_ask {
    int64_t ticket_id;
    const char *customer, *ticket_type, *service, *area;
} ticket_attach_ask;
typedef err (*ticket_attach_fn)(engine *e, const ticket_attach_ask *ask, char *incident,
                                size_t nincident, char *note, size_t nnote);
void tickets_set_attach_hook(tickets_ctx *t, ticket_attach_fn fn);

/*
 * Offline helpers for `shouye demo`: write a policy / rule / bulk tickets directly.
 */
err tickets_demo_policy(store *s, int64_t id, const char *type, const char *priority,
                        const char *level, int response_min, int resolution_min);
err tickets_demo_rule(store *s, int64_t id, int position, const char *type, const char *category,
                      const char *area, const char *service, const char *group);
/* Bulk-load `n` historical tickets spread over the last 90 days (for benchmarks). */
err tickets_demo_bulk(store *s, int64_t n, problem *p);

#endif
