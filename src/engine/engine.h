/*
 * engine — the one writer. Commands come in from any thread through engine_submit(); the
 * engine thread drains the queue, applies each command inside its own savepoint of one
 * batch transaction, commits the batch once (one fsync), publishes the batch's events to
 * subscribers, then completes every command. Timers (a min-heap on the injectable clock)
 * become work on the same thread. Nothing else writes domain state.
 *
 *   loop: wait → drain commands → BEGIN → apply each (SAVEPOINT/RELEASE or ROLLBACK TO)
 *         → fire due timers → COMMIT → publish events → complete commands
 */
#ifndef SHOUYE_ENGINE_H
#define SHOUYE_ENGINE_H

#include "base/base.h"
#include "store/store.h"

typedef struct engine engine;
typedef struct cmd cmd;

/*
 * A command. The submitter owns the memory and must keep it alive until `done` runs.
 * `apply` runs on the engine thread inside a savepoint: return 0 to keep its changes, or
 * an error (with `prob` filled) to roll them back. `done` runs on the engine thread after
 * the batch is durable (or failed); it must not block and must not touch the engine.
 * After `done`, the engine never touches the command again.
 */
struct cmd {
    err (*apply)(engine *e, cmd *c);
    void (*done)(cmd *c);
    void *ctx;            /* submitter's */
    json_t *in;           /* input, owned by the submitter */
    void *prep;           /* input the submitting thread prepared (read once, looked up) */
    void (*prep_free)(void *prep); /* frees prep with the command (the submitter calls it) */
    const char *id;       /* path id when the command targets one entity */
    char actor[64];       /* who (username), recorded on events and audit */
    unsigned roles;       /* the actor's roles (bit set, see auth.h) */
    const char *idem_key; /* Idempotency-Key, or NULL */
    /* results, filled by apply */
    err rc;
    problem prob;
    int status;  /* HTTP status to answer with on success */
    json_t *out; /* response body (owned by the command after apply) */
    /*
     * Or: render the body on the submitting thread after commit, from its own read
     * connection. Hot paths use this so the engine never builds (and the HTTP threads
     * never free) large JSON documents: cross-thread frees contend on malloc arenas.
     */
    json_t *(*render)(cmd *c, store *reader, void *route_ctx);
    int64_t out_id;     /* the entity `render` loads */
    char location[200]; /* Location header for 201 */
    cmd *next;          /* queue link, engine-owned */
};

typedef struct event_rec {
    int64_t seq;
    int64_t time;
    const char *type;
    const char *entity_type;
    const char *entity_id;
    const char *actor;
    const char *data; /* JSON text */
} event_rec;

/* Receives each committed event, on the engine thread, in sequence order. Must not block. */
typedef void (*engine_event_fn)(void *ctx, const event_rec *ev);
/* Fires a timer of one kind; runs inside the batch transaction like a command's apply. */
typedef err (*engine_timer_fn)(engine *e, int64_t id, int64_t at);
/* Called once on the engine thread before the first batch, to rebuild timers from the store. */
typedef err (*engine_start_fn)(engine *e);

enum { ENGINE_MAX_TIMER_KINDS = 16 };

/*
 * Create an engine over the writer connection `w` (ownership passes to the engine) and
 * the clock `clk` (borrowed). Handlers are registered before engine_start.
 */
engine *engine_create(store *w, sy_clock *clk);
void engine_on_timer(engine *e, int kind, engine_timer_fn fn);
void engine_on_start(engine *e, engine_start_fn fn);
void engine_subscribe(engine *e, engine_event_fn fn, void *ctx);
/*
 * Called inside the transaction for every event as it is emitted (after its row is
 * written): a module that must write in the same transaction as the change — the
 * notification outbox — does it here. An error rolls the command back.
 */
typedef err (*engine_emit_fn)(engine *e, void *ctx, const event_rec *ev);
void engine_on_emit(engine *e, engine_emit_fn fn, void *ctx);
/* Called on the engine thread when a batch could not commit (caches must be dropped). */
void engine_on_abort(engine *e, void (*fn)(engine *e));
/* Start the thread. */
err engine_start(engine *e, problem *p);
/* Drain the queue, stop the thread; the engine can then be destroyed. */
void engine_stop(engine *e);
void engine_destroy(engine *e);

/* Queue a command (any thread). ERR_BUSY when stopping: `done` will not run then. */
err engine_submit(engine *e, cmd *c);
/* Queue and wait for completion (any thread but the engine's); returns c->rc. */
err engine_call(engine *e, cmd *c);

/* ---- for apply functions, on the engine thread ---- */
store *engine_store(engine *e);
int64_t engine_now(const engine *e);
sy_clock *engine_clock(engine *e);
/* Next id for a table (monotonic, starts at MAX(id)+1). */
int64_t engine_next_id(engine *e, const char *table);
/* Append an event; `data` is stolen (may be NULL). */
err engine_emit(engine *e, const char *type, const char *entity_type, const char *entity_id,
                const char *actor, json_t *data);
/* Record an audit row; before/after are borrowed (either may be NULL). */
err engine_audit(engine *e, const char *actor, const char *action, const char *entity_type,
                 const char *entity_id, const json_t *before, const json_t *after);
/*
 * The end of most changes: audit `before` → `after` under `action`, emit
 * "<entity_type>.<event>" with `after` (or `before` when deleting) as data, and make
 * `after` the command's answer with `status`. Takes ownership of `before` and `after`.
 */
err engine_finish_change(engine *e, cmd *c, const char *action, const char *event,
                         const char *entity_type, const char *entity_id, json_t *before,
                         json_t *after, int status);
/*
 * Fail the command with a 400 naming `field` ("no <what> '<value>'") unless `table` has a
 * row whose `column` equals `value`; a NULL value passes. Table and column are constants.
 */
err engine_require_row(engine *e, cmd *c, const char *table, const char *column, const char *value,
                       const char *field, const char *what);
/*
 * Run fn in a nested savepoint: on failure its writes and events are undone and the
 * caller goes on (a side effect that may fail without failing the whole command).
 */
err engine_try(engine *e, err (*fn)(engine *e, void *arg), void *arg);
/* Schedule `kind` for `id` at `at` (ms). Stale timers are fine: handlers re-check. */
void engine_timer_add(engine *e, int64_t at, int kind, int64_t id);
/* Fire every timer due by now (used after the manual clock moves). */
err engine_fire_due(engine *e);

/* Module contexts reachable from timer handlers: slot numbers are fixed per module. */
enum { ENGINE_CTX_TICKETS = 0, ENGINE_CTX_NOTIFY = 1, ENGINE_CTX_CUSTOMERS = 2, ENGINE_CTX_ASSURANCE = 3,
       ENGINE_CTX_MAX = 8 };
void engine_set_ctx(engine *e, int slot, void *ctx);
void *engine_ctx(engine *e, int slot);

/* ---- observation (any thread) ---- */
int64_t engine_last_seq(const engine *e);
bool engine_running(const engine *e);
typedef struct engine_stats {
    uint64_t batches, commands, events, timers_fired, commit_failures;
    uint64_t max_batch;
    int64_t queued;
} engine_stats;
void engine_get_stats(const engine *e, engine_stats *out);

#endif
