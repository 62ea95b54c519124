/*
 * engine.c — the single writer: command queue, group commit, event log, timers.
 *
 * DESIGN. Why one thread: domain rules (legal moves, SLA clocks, correlation) run in one
 * deterministic order with no locks, and group commit turns many small durable writes into
 * one fsync. Every command runs inside SAVEPOINT cmd so a failing command leaves no trace
 * while its batch-mates commit. Events are inserted in the same transaction with a
 * gap-free sequence: if a command rolls back, its sequence numbers are handed out again.
 * If the COMMIT itself fails, every command of the batch fails with ERR_BUSY and nothing
 * is published; domain state that lives in memory (the timer heap) tolerates that because
 * timer handlers re-check the store before acting.
 */
#include "engine/engine.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 1024

typedef struct {
    int64_t at;
    int64_t id;
    int kind;
} timer_ent;

typedef struct {
    int64_t seq, time;
    char *type, *etype, *eid, *actor, *data;
} pend_event;

typedef struct {
    char table[32];
    int64_t next;
} id_counter;

typedef struct {
    engine_event_fn fn;
    void *ctx;
} subscriber;

struct engine {
    store *w;
    sy_clock *clk;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    cmd *head, *tail;
    int64_t queued;
    bool stopping, started;
    _Atomic bool running;

    /* engine-thread state */
    timer_ent *heap;
    int nheap, capheap;
    engine_timer_fn timer_fns[ENGINE_MAX_TIMER_KINDS];
    engine_start_fn start_fns[16];
    void (*abort_fns[8])(engine *);
    int nabort;
    struct {
        engine_emit_fn fn;
        void *ctx;
    } emit_hooks[8];
    int nemit;
    bool in_emit_hook;
    int nstart;
    subscriber subs[16];
    int nsubs;
    pend_event *pend;
    int npend, cappend;
    _Atomic int64_t seq; /* last assigned */
    int64_t committed_seq_base;
    id_counter ids[32];
    int nids;

    void *ctx[ENGINE_CTX_MAX];
    /* stats */
    _Atomic uint64_t batches, commands, events, timers_fired, commit_failures, max_batch;
};

engine *engine_create(store *w, sy_clock *clk)
{
    engine *e = xcalloc(1, sizeof *e);
    e->w = w;
    e->clk = clk;
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    return e;
}

void engine_on_timer(engine *e, int kind, engine_timer_fn fn)
{
    if (kind >= 0 && kind < ENGINE_MAX_TIMER_KINDS)
        e->timer_fns[kind] = fn;
}

void engine_on_start(engine *e, engine_start_fn fn)
{
    if (e->nstart < (int)ARRAY_LEN(e->start_fns))
        e->start_fns[e->nstart++] = fn;
}

void engine_on_emit(engine *e, engine_emit_fn fn, void *ctx)
{
    if (e->nemit < (int)ARRAY_LEN(e->emit_hooks)) {
        e->emit_hooks[e->nemit].fn = fn;
        e->emit_hooks[e->nemit].ctx = ctx;
        e->nemit++;
    }
}

void engine_on_abort(engine *e, void (*fn)(engine *e))
{
    if (e->nabort < (int)ARRAY_LEN(e->abort_fns))
        e->abort_fns[e->nabort++] = fn;
}

void engine_subscribe(engine *e, engine_event_fn fn, void *ctx)
{
    if (e->nsubs < (int)ARRAY_LEN(e->subs))
        e->subs[e->nsubs++] = (subscriber){fn, ctx};
}

void engine_set_ctx(engine *e, int slot, void *ctx)
{
    if (slot >= 0 && slot < ENGINE_CTX_MAX)
        e->ctx[slot] = ctx;
}

void *engine_ctx(engine *e, int slot)
{
    return slot >= 0 && slot < ENGINE_CTX_MAX ? e->ctx[slot] : NULL;
}

store *engine_store(engine *e)
{
    return e->w;
}

int64_t engine_now(const engine *e)
{
    return clock_now(e->clk);
}

sy_clock *engine_clock(engine *e)
{
    return e->clk;
}

int64_t engine_last_seq(const engine *e)
{
    return atomic_load(&((engine *)e)->seq);
}

bool engine_running(const engine *e)
{
    return atomic_load(&((engine *)e)->running);
}

void engine_get_stats(const engine *e, engine_stats *out)
{
    engine *m = (engine *)e;
    out->batches = m->batches;
    out->commands = m->commands;
    out->events = m->events;
    out->timers_fired = m->timers_fired;
    out->commit_failures = m->commit_failures;
    out->max_batch = m->max_batch;
    pthread_mutex_lock(&m->lock);
    out->queued = m->queued;
    pthread_mutex_unlock(&m->lock);
}

int64_t engine_next_id(engine *e, const char *table)
{
    for (int i = 0; i < e->nids; i++)
        if (strcmp(e->ids[i].table, table) == 0)
            return e->ids[i].next++;
    if (e->nids == (int)ARRAY_LEN(e->ids))
        abort(); /* a new table needs a bigger array: a bug, not input */
    id_counter *c = &e->ids[e->nids++];
    snprintf(c->table, sizeof c->table, "%s", table);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT MAX(id) FROM %s", table);
    int64_t max = 0;
    if (store_scalar(e->w, sql, NULL, 0, 0, &max))
        LOGE("engine", "msg=\"cannot read max id\" table=%s error=\"%s\"", table,
             store_errmsg(e->w));
    c->next = max + 1;
    return c->next++;
}

/* ---- events ---- */

static void pend_free(pend_event *p)
{
    free(p->type);
    free(p->etype);
    free(p->eid);
    free(p->actor);
    free(p->data);
}

err engine_emit(engine *e, const char *type, const char *entity_type, const char *entity_id,
                const char *actor, json_t *data)
{
    int64_t seq = atomic_load(&e->seq) + 1;
    int64_t now = engine_now(e);
    char *text = data ? json_dump(data) : xstrdup("{}");
    json_decref(data);
    err rc = store_exec(e->w,
                        "INSERT INTO events(seq, time, type, entity_type, entity_id, actor, data)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (store_val[]){SV_I(seq), SV_I(now), SV_S(type), SV_S(entity_type),
                                      SV_S(entity_id), SV_S(actor), SV_S(text)},
                        7);
    if (rc) {
        LOGE("engine", "msg=\"event insert failed\" error=\"%s\"", store_errmsg(e->w));
        free(text);
        return rc;
    }
    atomic_store(&e->seq, seq);
    if (e->npend == e->cappend) {
        e->cappend = e->cappend ? e->cappend * 2 : 256;
        e->pend = xrealloc(e->pend, sizeof *e->pend * (size_t)e->cappend);
    }
    e->pend[e->npend++] = (pend_event){seq,
                                       now,
                                       xstrdup(type),
                                       xstrdup(entity_type),
                                       xstrdup(entity_id),
                                       xstrdup(actor ? actor : ""),
                                       text};
    /* hooks write in the same transaction; an event they emit does not re-enter them */
    if (!e->in_emit_hook && e->nemit) {
        pend_event *p = &e->pend[e->npend - 1];
        event_rec ev = {p->seq, p->time, p->type, p->etype, p->eid, p->actor, p->data};
        e->in_emit_hook = true;
        for (int i = 0; i < e->nemit && !rc; i++)
            rc = e->emit_hooks[i].fn(e, e->emit_hooks[i].ctx, &ev);
        e->in_emit_hook = false;
    }
    return rc;
}

err engine_audit(engine *e, const char *actor, const char *action, const char *entity_type,
                 const char *entity_id, const json_t *before, const json_t *after)
{
    char *b = before ? json_dump(before) : NULL;
    char *a = after ? json_dump(after) : NULL;
    err rc = store_exec(e->w,
                        "INSERT INTO audit(id, time, actor, action, entity_type, entity_id,"
                        " before_doc, after_doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (store_val[]){SV_I(engine_next_id(e, "audit")), SV_I(engine_now(e)),
                                      SV_S(actor), SV_S(action), SV_S(entity_type), SV_S(entity_id),
                                      SV_S(b), SV_S(a)},
                        8);
    free(b);
    free(a);
    return rc;
}

err engine_finish_change(engine *e, cmd *c, const char *action, const char *event,
                         const char *entity_type, const char *entity_id, json_t *before,
                         json_t *after, int status)
{
    err rc = engine_audit(e, c->actor, action, entity_type, entity_id, before, after);
    if (!rc) {
        char type[96];
        snprintf(type, sizeof type, "%s.%s", entity_type, event);
        rc = engine_emit(e, type, entity_type, entity_id, c->actor,
                         json_incref(after ? after : before));
    }
    json_decref(before);
    if (rc) {
        json_decref(after);
        return rc;
    }
    json_decref(c->out);
    c->out = after;
    c->status = status;
    return ERR_OK;
}

err engine_require_row(engine *e, cmd *c, const char *table, const char *column, const char *value,
                       const char *field, const char *what)
{
    if (!value)
        return ERR_OK;
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s WHERE %s = ?", table, column);
    int64_t n = 0;
    err rc = store_scalar(e->w, sql, (store_val[]){SV_S(value)}, 1, 0, &n);
    if (rc)
        return rc;
    if (!n)
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", field, "%s: no %s '%s'",
                           field, what, value);
    return ERR_OK;
}

/* ---- timers: a binary min-heap on `at` ---- */

static void heap_swap(timer_ent *h, int a, int b)
{
    timer_ent t = h[a];
    h[a] = h[b];
    h[b] = t;
}

void engine_timer_add(engine *e, int64_t at, int kind, int64_t id)
{
    if (e->nheap == e->capheap) {
        e->capheap = e->capheap ? e->capheap * 2 : 1024;
        e->heap = xrealloc(e->heap, sizeof *e->heap * (size_t)e->capheap);
    }
    int i = e->nheap++;
    e->heap[i] = (timer_ent){at, id, kind};
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (e->heap[parent].at <= e->heap[i].at)
            break;
        heap_swap(e->heap, parent, i);
        i = parent;
    }
}

static timer_ent heap_pop(engine *e)
{
    timer_ent top = e->heap[0];
    e->heap[0] = e->heap[--e->nheap];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->nheap && e->heap[l].at < e->heap[m].at)
            m = l;
        if (r < e->nheap && e->heap[r].at < e->heap[m].at)
            m = r;
        if (m == i)
            break;
        heap_swap(e->heap, i, m);
        i = m;
    }
    return top;
}

/* Run fn inside a savepoint; roll back the store and pending events on failure. */
static err in_savepoint(engine *e, err (*fn)(engine *, void *), void *arg)
{
    int mark = e->npend;
    int64_t seq_mark = atomic_load(&e->seq);
    err rc = store_savepoint(e->w);
    if (rc)
        return rc;
    rc = fn(e, arg);
    if (rc) {
        if (store_rollback_to(e->w))
            LOGE("engine", "msg=\"rollback to savepoint failed\" error=\"%s\"", store_errmsg(e->w));
        for (int i = mark; i < e->npend; i++)
            pend_free(&e->pend[i]);
        e->npend = mark;
        atomic_store(&e->seq, seq_mark);
        return rc;
    }
    return store_release(e->w);
}

err engine_try(engine *e, err (*fn)(engine *e, void *arg), void *arg)
{
    return in_savepoint(e, fn, arg);
}

typedef struct {
    timer_ent t;
} timer_arg;

static err run_timer(engine *e, void *arg)
{
    timer_ent *t = arg;
    return e->timer_fns[t->kind](e, t->id, t->at);
}

/* fire the timers due at `now` */
static void fire_due_at(engine *e, int64_t now)
{
    /* bounded: a handler that re-arms a timer at `now` cannot spin this loop forever */
    int budget = e->nheap + 1024;
    while (e->nheap > 0 && e->heap[0].at <= now && budget-- > 0) {
        timer_ent t = heap_pop(e);
        if (t.kind < 0 || t.kind >= ENGINE_MAX_TIMER_KINDS || !e->timer_fns[t.kind])
            continue;
        err rc = in_savepoint(e, run_timer, &t);
        if (rc)
            LOGW("engine", "msg=\"timer failed\" kind=%d id=%lld error=%s", t.kind, (long long)t.id,
                 err_name(rc));
        e->timers_fired++;
    }
}

err engine_fire_due(engine *e)
{
    fire_due_at(e, engine_now(e));
    return ERR_OK;
}

/* ---- the loop ---- */

static err run_cmd(engine *e, void *arg)
{
    cmd *c = arg;
    return c->apply(e, c);
}

static void publish(engine *e)
{
    for (int i = 0; i < e->npend; i++) {
        pend_event *p = &e->pend[i];
        event_rec ev = {p->seq, p->time, p->type, p->etype, p->eid, p->actor, p->data};
        for (int s = 0; s < e->nsubs; s++)
            e->subs[s].fn(e->subs[s].ctx, &ev);
        pend_free(p);
    }
    e->events += (uint64_t)e->npend;
    e->npend = 0;
}

static void drop_pending(engine *e, int64_t seq_base)
{
    for (int i = 0; i < e->npend; i++)
        pend_free(&e->pend[i]);
    e->npend = 0;
    atomic_store(&e->seq, seq_base);
}

static void run_batch(engine *e, cmd *list, int count)
{
    int64_t seq_base = atomic_load(&e->seq);
    /* a batch fires the timers due when it began: work a command arms for "the next
       millisecond" (the notifier's first turn after an incident opens) runs in a batch of its
       own, and the command is answered without waiting for it */
    int64_t began = engine_now(e);
    err rc = store_begin(e->w);
    if (rc) {
        LOGE("engine", "msg=\"begin failed\" error=\"%s\"", store_errmsg(e->w));
    } else {
        for (cmd *c = list; c; c = c->next) {
            c->rc = in_savepoint(e, run_cmd, c);
            if (c->rc && !c->prob.status)
                problem_set(&c->prob, c->rc, c->rc == ERR_BUSY ? 503 : 500,
                            c->rc == ERR_BUSY ? "unavailable" : "internal", "",
                            "the command could not be applied (%s)", err_name(c->rc));
            if (c->rc) {
                json_decref(c->out);
                c->out = NULL;
            }
        }
        fire_due_at(e, began);
        rc = store_commit(e->w);
        if (rc) {
            LOGE("engine", "msg=\"commit failed\" error=\"%s\"", store_errmsg(e->w));
            store_rollback(e->w);
        }
    }
    if (rc) {
        e->commit_failures++;
        drop_pending(e, seq_base);
        for (int i = 0; i < e->nabort; i++)
            e->abort_fns[i](e);
        for (cmd *c = list; c; c = c->next) {
            json_decref(c->out);
            c->out = NULL;
            c->rc = ERR_BUSY;
            problem_set(&c->prob, ERR_BUSY, 503, "unavailable", "",
                        "the store could not commit; nothing was changed, try again");
        }
    } else {
        publish(e);
    }
    e->batches++;
    e->commands += (uint64_t)count;
    if ((uint64_t)count > e->max_batch)
        e->max_batch = (uint64_t)count;
    cmd *c = list;
    while (c) {
        cmd *next = c->next; /* read before done(): the submitter may free c */
        c->next = NULL;
        if (c->done)
            c->done(c);
        c = next;
    }
}

static void *engine_main(void *arg)
{
    engine *e = arg;
    pthread_setname_np(pthread_self(), "engine");
    pthread_mutex_lock(&e->lock);
    for (;;) {
        while (!e->head && !e->stopping) {
            int64_t next = e->nheap > 0 ? e->heap[0].at : INT64_MAX;
            int64_t now = engine_now(e);
            if (next <= now) /* also on a manual clock: work re-armed at `now` goes on */
                break;
            /* real clock: sleep until the next timer (at most 1 s); manual: until woken */
            int64_t wait_ms = clock_is_manual(e->clk) ? 1000 : next - now;
            if (wait_ms > 1000)
                wait_ms = 1000;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&e->wake, &e->lock, &ts);
            if (e->nheap > 0 && e->heap[0].at <= engine_now(e))
                break;
        }
        if (!e->head && e->stopping)
            break;
        /* take up to MAX_BATCH commands */
        cmd *list = e->head, *last = NULL;
        int count = 0;
        for (cmd *c = e->head; c && count < MAX_BATCH; c = c->next) {
            last = c;
            count++;
        }
        if (last) {
            e->head = last->next;
            if (!e->head)
                e->tail = NULL;
            last->next = NULL;
        } else {
            list = NULL;
        }
        e->queued -= count;
        pthread_mutex_unlock(&e->lock);
        run_batch(e, list, count);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    atomic_store(&e->running, false);
    return NULL;
}

err engine_start(engine *e, problem *p)
{
    int64_t seq = 0;
    err rc = store_scalar(e->w, "SELECT MAX(seq) FROM events", NULL, 0, 0, &seq);
    if (rc)
        return problem_set(p, rc, 503, "unavailable", "db", "cannot read the event log: %s",
                           store_errmsg(e->w));
    atomic_store(&e->seq, seq);
    for (int i = 0; i < e->nstart; i++) {
        rc = e->start_fns[i](e);
        if (rc)
            return problem_set(p, rc, 503, "unavailable", "", "engine start hook %d failed: %s", i,
                               err_name(rc));
    }
    atomic_store(&e->running, true);
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        atomic_store(&e->running, false);
        return problem_set(p, ERR_INTERNAL, 500, "internal", "", "cannot start engine thread");
    }
    e->started = true;
    return ERR_OK;
}

void engine_stop(engine *e)
{
    if (!e->started)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    e->started = false;
}

void engine_destroy(engine *e)
{
    if (!e)
        return;
    engine_stop(e);
    drop_pending(e, atomic_load(&e->seq));
    free(e->pend);
    free(e->heap);
    store_close(e->w);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->wake);
    free(e);
}

err engine_submit(engine *e, cmd *c)
{
    c->next = NULL;
    c->rc = ERR_OK;
    pthread_mutex_lock(&e->lock);
    if (e->stopping || !e->started) {
        pthread_mutex_unlock(&e->lock);
        return ERR_BUSY;
    }
    if (e->tail)
        e->tail->next = c;
    else
        e->head = c;
    e->tail = c;
    e->queued++;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
    return ERR_OK;
}

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool done;
    void (*orig_done)(cmd *);
    void *orig_ctx;
} waiter;

static void call_done(cmd *c)
{
    waiter *w = c->ctx;
    pthread_mutex_lock(&w->m);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->m);
}

err engine_call(engine *e, cmd *c)
{
    waiter w = {.done = false, .orig_done = c->done, .orig_ctx = c->ctx};
    pthread_mutex_init(&w.m, NULL);
    pthread_cond_init(&w.cv, NULL);
    c->done = call_done;
    c->ctx = &w;
    err rc = engine_submit(e, c);
    if (!rc) {
        pthread_mutex_lock(&w.m);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.m);
        pthread_mutex_unlock(&w.m);
        rc = c->rc;
    }
    c->done = w.orig_done;
    c->ctx = w.orig_ctx;
    pthread_mutex_destroy(&w.m);
    pthread_cond_destroy(&w.cv);
    return rc;
}
