/* assurance_int.h — shared by the files of assurance/ only. */
#ifndef SHOUYE_ASSURANCE_INT_H
#define SHOUYE_ASSURANCE_INT_H

#include "assurance/assurance.h"
#include "auth/auth.h"

#include <pthread.h>

/* timer kinds (tickets use 1–3, segments 8) */
enum { AK_NOTIFY = 9, AK_LINES = 10, AK_PROBE = 11, AK_PRUNE = 12 };

#define SP_BASE "/tmf-api/serviceProblemManagement/v4/serviceProblem"
#define ALARM_BASE "/tmf-api/alarmManagement/v4/alarm"

typedef struct line_state line_state; /* signals.c */
typedef struct prober prober;         /* probes.c */

/* where an active incident reaches: an element's subtree, or an area and those under it */
typedef struct reach {
    bool has_pos;
    int64_t pos, last;
    char area[72];
} reach;

struct assurance_ctx {
    assurance_config cfg;
    /* the active incidents' reach, read again by the engine after every incident event, so
       that the 360 view and the IVR ask the store only for a caller one may affect */
    pthread_mutex_t reach_mu;
    reach *reach;
    size_t nreach;
    bool reach_loaded;
    engine *eng;
    /* engine thread only: the complaint windows of signals.c */
    line_state *lines;
    bool lines_loaded;
    prober *prober; /* the dial-test thread */
};

static inline assurance_ctx *actx(engine *e)
{
    return engine_ctx(e, ENGINE_CTX_ASSURANCE);
}

/*
 * A detector's finding. Any detector (alarm, dial-test, warning line, area burst, a person)
 * reports one; it joins the open incident on the same part of the network or area, or opens
 * a new one with its emergency plan, impact and customer notification.
 */
typedef struct detect {
    const char *origin;      /* alarm | dialTest | warningLine | areaFault | manual */
    const char *kind, *ref;  /* the link recorded on the incident: ("alarm", "17") */
    int level;               /* 1 (highest) … 4 */
    const char *service;     /* may be NULL */
    const char *area;        /* may be NULL */
    const char *element;     /* suspected element, may be NULL */
    const char *name;        /* short title */
    const char *description; /* may be NULL */
    const char *actor;
    int64_t first_signal; /* when the first sign of it was seen (time to detect) */
} detect;

/* Returns the incident id (joined or opened) in *id; 0 when the finding cannot make one. */
err incident_detect(engine *e, const detect *d, int64_t *id, problem *p);
/* A link's source went away (alarm cleared, probe recovered): restore when none is left. */
err incident_ref_cleared(engine *e, const char *kind, const char *ref, const char *actor);
/* Add a link (idempotent). */
err incident_link(engine *e, int64_t incident, const char *kind, const char *ref);

/* ---- settings resources (settings.c) ---- */
typedef json_t *(*row_json_fn)(store *s, int64_t id, int tz);
void settings_get(req *r, row_json_fn one, const char *what);
void settings_list(req *r, const char *ids_sql, row_json_fn one, const char *what);
void settings_delete(req *r, err (*apply)(engine *e, cmd *c));
typedef struct settings_write {
    int64_t id, now;
    bool create, del;
    json_t *before;
} settings_write;
/* A write's start: a new id (POST) or the row as it was (404 naming `what`). */
err settings_begin(engine *e, cmd *c, const char *table, row_json_fn one, const char *what,
                   settings_write *w);
/* Its end: on success Location (create), audit, event "<entity>.<verb>" and the answer; on
 * failure `rc` back after dropping `before`. */
err settings_finish(engine *e, cmd *c, settings_write *w, err rc, const char *base,
                    const char *entity, row_json_fn one);

/* An element's interval and area; false when unknown. */
bool element_span(store *s, const char *id, int64_t *pos, int64_t *last, char *area, size_t n);
/* The deepest element whose subtree holds every position in [lo, hi]; "" when none. */
bool element_lca(store *s, int64_t lo, int64_t hi, char *id, size_t n);

/* alarms.c, incidents.c, signals.c, plans.c */
void alarms_register(assurance_ctx *a, http_server *s);
void incidents_register(assurance_ctx *a, http_server *s);
void signals_register(assurance_ctx *a, http_server *s);
void plans_register(assurance_ctx *a, http_server *s);
void signals_free(assurance_ctx *a);
void probes_register(assurance_ctx *a, http_server *s);
void metrics_register(assurance_ctx *a, http_server *s);
void quality_register(assurance_ctx *a, http_server *s);
void probes_attach_engine(engine *e);
prober *prober_start(engine *e);
void prober_stop(prober *pr);

void signals_attach_engine(engine *e);
/* on the engine thread: take complaint / fault-report signals (a caller's position and area are
 * looked up here) */
typedef struct signal_in {
    int64_t time;
    const char *kind, *service, *area, *msisdn, *ref;
    /* filled in */
    bool resolved; /* looked up already (directory or store): found says whether it is a line */
    bool found, has_pos;
    int64_t pos;
    char sub_area[72];
} signal_in;
err signals_take_many(engine *e, signal_in *in, int n);
/* Where the callers of unresolved signals hang and live, on any connection (a reader will do). */
err signals_resolve_callers(store *s, signal_in *in, int n);
err signals_take(engine *e, int64_t time, const char *kind, const char *service, const char *area,
                 const char *msisdn, const char *ref);
/* Write the hourly counts gathered since the last flush (end of every command that took
 * signals), or drop them when the command fails. */
err signals_flush(engine *e);
void signals_discard(void);
/* alarms.c: raise/update/clear one alarm from a JSON document (TMF642 shape); on the engine
 * thread. *id gets the alarm id, *created whether it is new. */
err alarms_apply_doc(engine *e, const json_t *doc, const char *actor, int64_t *id, bool *created,
                     problem *p);
extern const json_field alarm_fields[];
err alarms_check(const json_t *b, problem *p);

#endif
