/* The engine: ordered group commit, per-command rollback, gap-free events, timers on the
 * manual clock, durability across reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/engine.h"

static char path[128];

static engine *open_engine(sy_clock *clk)
{
    store *w;
    problem p = {0};
    assert_int_equal(store_open(path, true, &w, &p), ERR_OK);
    assert_int_equal(store_migrate(w, &p), ERR_OK);
    assert_int_equal(store_script(w, "CREATE TABLE IF NOT EXISTS log (n BIGINT)"), ERR_OK);
    return engine_create(w, clk);
}

/* apply: insert n, emit an event; fail (after writing!) when n is negative */
static err apply_insert(engine *e, cmd *c)
{
    int64_t n = json_integer_value(json_object_get(c->in, "n"));
    err rc = store_exec(engine_store(e), "INSERT INTO log VALUES (?)", (store_val[]){SV_I(n)}, 1);
    if (!rc) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)n);
        rc = engine_emit(e, "test.inserted", "log", id, c->actor,
                         json_pack("{s:I}", "n", (json_int_t)n));
    }
    if (!rc && n < 0)
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", "n", "n: negative");
    return rc;
}

static int fired;
static err on_timer(engine *e, int64_t id, int64_t at)
{
    (void)at;
    fired++;
    return store_exec(engine_store(e), "INSERT INTO log VALUES (?)", (store_val[]){SV_I(1000 + id)},
                      1);
}

static err apply_advance(engine *e, cmd *c)
{
    int64_t to = json_integer_value(json_object_get(c->in, "to"));
    err rc = clock_set(engine_clock(e), to);
    if (!rc)
        rc = engine_fire_due(e);
    return rc;
}

static err apply_schedule(engine *e, cmd *c)
{
    engine_timer_add(e, json_integer_value(json_object_get(c->in, "at")), 1,
                     json_integer_value(json_object_get(c->in, "id")));
    return ERR_OK;
}

static err call(engine *e, err (*apply)(engine *, cmd *), json_t *in)
{
    cmd c;
    memset(&c, 0, sizeof c);
    c.apply = apply;
    c.in = in;
    snprintf(c.actor, sizeof c.actor, "tester");
    err rc = engine_call(e, &c);
    json_decref(in);
    json_decref(c.out);
    return rc;
}

static int64_t scalar(engine *e, const char *sql)
{
    int64_t v = -1;
    assert_int_equal(store_scalar(engine_store(e), sql, NULL, 0, -1, &v), ERR_OK);
    return v;
}

static void a_failing_command_leaves_no_trace_and_no_sequence_gap(void **state)
{
    (void)state;
    sy_clock *clk = clock_create(true, 1000000);
    engine *e = open_engine(clk);
    problem p = {0};
    assert_int_equal(engine_start(e, &p), ERR_OK);
    assert_int_equal(call(e, apply_insert, json_pack("{s:i}", "n", 1)), ERR_OK);
    assert_int_equal(call(e, apply_insert, json_pack("{s:i}", "n", -2)), ERR_INVALID);
    assert_int_equal(call(e, apply_insert, json_pack("{s:i}", "n", 3)), ERR_OK);
    engine_stop(e);
    assert_int_equal(scalar(e, "SELECT COUNT(*) FROM log WHERE n = -2"), 0);
    assert_int_equal(scalar(e, "SELECT COUNT(*) FROM log"), 2);
    assert_int_equal(scalar(e, "SELECT MAX(seq) FROM events"), 2);
    assert_int_equal(scalar(e, "SELECT COUNT(*) FROM events"), 2);
    assert_int_equal(engine_last_seq(e), 2);
    engine_destroy(e);
    clock_destroy(clk);
}

typedef struct {
    int done;
    pthread_mutex_t m;
} counter;

static void count_done(cmd *c)
{
    counter *k = c->ctx;
    pthread_mutex_lock(&k->m);
    k->done++;
    pthread_mutex_unlock(&k->m);
}

static void many_commands_commit_in_order(void **state)
{
    (void)state;
    sy_clock *clk = clock_create(true, 1000000);
    engine *e = open_engine(clk);
    problem p = {0};
    int64_t seq0 = scalar(e, "SELECT COALESCE(MAX(seq), 0) FROM events");
    assert_int_equal(engine_start(e, &p), ERR_OK);
    enum { N = 500 };
    cmd *cs = calloc(N, sizeof *cs);
    counter k = {0, PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; i < N; i++) {
        cs[i].apply = apply_insert;
        cs[i].done = count_done;
        cs[i].ctx = &k;
        cs[i].in = json_pack("{s:i}", "n", 100000 + i);
        assert_int_equal(engine_submit(e, &cs[i]), ERR_OK);
    }
    engine_stop(e); /* drains the queue */
    assert_int_equal(k.done, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(cs[i].rc, ERR_OK);
        json_decref(cs[i].in);
    }
    free(cs);
    /* events are in submission order */
    store_res *r;
    assert_int_equal(store_query(engine_store(e),
                                 "SELECT seq, entity_id FROM events WHERE seq > ? ORDER BY seq",
                                 (store_val[]){SV_I(seq0)}, 1, &r),
                     ERR_OK);
    assert_int_equal(store_rows(r), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(store_int(r, i, 0), seq0 + 1 + i);
        assert_int_equal(strtoll(store_text(r, i, 1), NULL, 10), 100000 + i);
    }
    store_res_free(r);
    engine_stats st;
    engine_get_stats(e, &st);
    assert_true(st.batches < N); /* grouped */
    engine_destroy(e);
    clock_destroy(clk);
}

static void timers_fire_when_the_manual_clock_passes_them(void **state)
{
    (void)state;
    sy_clock *clk = clock_create(true, 5000000);
    engine *e = open_engine(clk);
    engine_on_timer(e, 1, on_timer);
    problem p = {0};
    assert_int_equal(engine_start(e, &p), ERR_OK);
    fired = 0;
    assert_int_equal(
        call(e, apply_schedule, json_pack("{s:I, s:i}", "at", (json_int_t)5060000, "id", 7)),
        ERR_OK);
    assert_int_equal(
        call(e, apply_schedule, json_pack("{s:I, s:i}", "at", (json_int_t)5030000, "id", 8)),
        ERR_OK);
    assert_int_equal(call(e, apply_advance, json_pack("{s:I}", "to", (json_int_t)5029999)), ERR_OK);
    assert_int_equal(fired, 0);
    assert_int_equal(call(e, apply_advance, json_pack("{s:I}", "to", (json_int_t)5030000)), ERR_OK);
    assert_int_equal(fired, 1);
    assert_int_equal(call(e, apply_advance, json_pack("{s:I}", "to", (json_int_t)9000000)), ERR_OK);
    assert_int_equal(fired, 2);
    engine_stop(e);
    assert_int_equal(scalar(e, "SELECT COUNT(*) FROM log WHERE n IN (1007, 1008)"), 2);
    engine_destroy(e);
    clock_destroy(clk);
}

static void the_sequence_continues_after_reopening(void **state)
{
    (void)state;
    sy_clock *clk = clock_create(true, 1000000);
    engine *e = open_engine(clk);
    problem p = {0};
    assert_int_equal(engine_start(e, &p), ERR_OK);
    int64_t before = engine_last_seq(e);
    assert_true(before > 0);
    assert_int_equal(call(e, apply_insert, json_pack("{s:i}", "n", 5)), ERR_OK);
    assert_int_equal(engine_last_seq(e), before + 1);
    engine_destroy(e);
    clock_destroy(clk);
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/shouye-engine-%d.db", getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failing_command_leaves_no_trace_and_no_sequence_gap),
        cmocka_unit_test(many_commands_commit_in_order),
        cmocka_unit_test(timers_fire_when_the_manual_clock_passes_them),
        cmocka_unit_test(the_sequence_continues_after_reopening),
    };
    return cmocka_run_group_tests(tests, teardown, teardown);
}
