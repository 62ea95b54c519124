/*
 * assurance — service assurance (issue 4 grows it: alarms, dial-tests, warning lines,
 * incidents, impact). Today: the topology (A6) — the area tree (province → city → district →
 * grid) and the network element trees (cable: headend 头端 → optical node 光机 → amplifier
 * 放大器; mobile: core → site → cell), each numbered in pre-order so that "every subscriber
 * under this element" is one index range on subscribers.attach_pos.
 */
#ifndef SHOUYE_ASSURANCE_H
#define SHOUYE_ASSURANCE_H

#include "http/http.h"
#include "tickets/tickets.h"

typedef struct assurance_config {
    int tz;                      /* offset minutes of local time (quiet hours, texts) */
    int quiet_from, quiet_to;    /* local hours when proactive SMS wait (22 → 8); equal = none */
    int sms_per_s;               /* proactive SMS released per second per incident (rate limit) */
    struct directory *directory; /* the subscriber directory (callers of signals); may be NULL */
} assurance_config;

typedef struct assurance_ctx assurance_ctx;
assurance_ctx *assurance_create(const assurance_config *cfg);
void assurance_destroy(assurance_ctx *a);
/* Timers, the start hook, the complaint feed from work orders and the attach hook. */
void assurance_attach_engine(assurance_ctx *a, engine *e, tickets_ctx *t);
/* Start / stop the dial-test thread (after engine_start / before engine_stop). */
void assurance_start(assurance_ctx *a, engine *e);
void assurance_stop(assurance_ctx *a);
void assurance_register(assurance_ctx *a, http_server *s); /* a may be NULL: routes only */
/* ---- pure rules (rules.c), unit-tested ---- */

/* When may a proactive SMS for an incident of `level` go out at `now`, given quiet hours
 * [quiet_from, quiet_to) local (equal: none; level 1 never waits)? */
int64_t quiet_release(int quiet_from, int quiet_to, int tz, int level, int64_t now);
/* Notification order: VIP first, then diamond, gold, silver, normal (lower goes first). */
int impact_rank(bool vip, const char *level);
/* Does one pre-order interval hold the other (same branch of the tree)? */
bool spans_nest(int64_t a_pos, int64_t a_last, int64_t b_pos, int64_t b_last);
/* A sliding window of per-minute counts over a ring the caller owns. */
typedef struct minute_window {
    int minutes;
    int64_t *minute, *count;
} minute_window;
void window_init(minute_window *w, int minutes, int64_t *minute, int64_t *count);
void window_add(minute_window *w, int64_t ms, int64_t n);
int64_t window_sum(const minute_window *w, int64_t now); /* the last `minutes` minutes */
/* The learned limit: mean of the same hour-of-week over 4 weeks (their sum given), scaled to
 * the window, times factor_pct / 100, rounded up, never under floor. */
int64_t baseline_from(int64_t four_week_sum, int window_min, int64_t factor_pct, int64_t floor);
/* Warning-line hysteresis: +1 cross (sum ≥ limit), -1 reset (sum < 80 % of limit), 0 stay. */
int line_step(bool crossed, int64_t sum, int64_t limit);
/* Metric-threshold hysteresis: +1 raise, -1 clear, 0 nothing; `below`: low values are bad. */
int threshold_step(bool below, int64_t raise_at, int64_t clear_at, bool active, int64_t value);

/*
 * The active incidents affecting a subscriber, for the 360 view (A9). `a` and `where` (what
 * the caller already knows of where the subscriber hangs and lives) may be NULL; with both,
 * the store is asked only when an active incident may reach the subscriber.
 */
typedef struct incident_where {
    bool has_pos;
    int64_t pos;
    const char *area;
} incident_where;
json_t *assurance_incidents_for(assurance_ctx *a, store *s, const char *msisdn,
                                const incident_where *where, int tz);

/*
 * Offline, for `shouye demo`: write the demo province's areas and both networks (idempotent;
 * positions are the same on every run). Returns how many elements were written.
 */
err topology_demo(store *s, problem *p);

/* An attachment point for the n-th demo subscriber in `district` (an area code): an amplifier
 * for cable customers, a cell for mobile ones; `*pos` gets its pre-order position. Needs
 * topology_demo_load first; ERR_NOTFOUND when the district has no elements. */
typedef struct topo_index topo_index;
topo_index *topology_demo_load(store *s);
err topology_demo_pick(const topo_index *t, const char *district, bool cable, uint64_t r,
                       const char **id, int64_t *pos);
void topology_demo_free(topo_index *t);

#endif
