/* The subscriber directory over a real SQLite store: built in the background, answers what the
 * store says, forgets, rebuilds, and says "ask the store" for anything it cannot vouch for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "customers/card.h"
#include "customers/directory.h"
#include "store/store.h"

#define N 20000 /* enough to grow the table several times */

static char path[256];

static void number(int i, char *out, size_t n)
{
    snprintf(out, n, "139%08d", i * 7);
}

static store *open_store(void)
{
    store *s;
    problem p = {0};
    assert_int_equal(store_open(path, true, &s, &p), ERR_OK);
    return s;
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/shouye-directory-%d.db", getpid());
    store *s = open_store();
    problem p = {0};
    assert_int_equal(store_migrate(s, &p), ERR_OK);
    assert_int_equal(store_begin(s), ERR_OK);
    for (int i = 0; i < N; i++) {
        char m[32], area[32];
        number(i, m, sizeof m);
        snprintf(area, sizeof area, "GD.SZ.G%02d", i % 37);
        assert_int_equal(store_exec(s,
                                    "INSERT INTO subscribers(msisdn, name, level, area, attach_pos,"
                                    " status, created, updated)"
                                    " VALUES (?, 'x', 'normal', ?, ?, 'active', 0, 0)",
                                    (store_val[]){SV_S(m), SV_S(i % 5 ? area : NULL),
                                                  SV_OI(i % 3 != 0, 1000 + i)},
                                    3),
                         ERR_OK);
    }
    /* what the 360 view shows of a few of them: products, VAS, balance, line, segments */
    assert_int_equal(store_script(s, "INSERT INTO offers(id, kind, name, monthly_fee, allowance,"
                                     " created, updated) VALUES"
                                     " ('P1', 'basePlan', '套餐', 5800, '{\"dataMB\":100}', 0, 0),"
                                     " ('K1', 'pack', '流量包', 1000, NULL, 0, 0);"
                                     "INSERT INTO vas_catalog(id, name, kind) VALUES"
                                     " ('V1', '彩铃', 'service');"),
                     ERR_OK);
    for (int i = 0; i < N; i += 97) {
        char m[32];
        number(i, m, sizeof m);
        assert_int_equal(
            store_exec(s,
                       "INSERT INTO subscriber_offers(id, msisdn, offer_id, kind,"
                       " started, state, ordered_by) VALUES (?, ?, 'P1', 'basePlan',"
                       " 1, 'active', 't'), (?, ?, 'K1', 'pack', 2, 'active', 't')",
                       (store_val[]){SV_I(2 * i + 1), SV_S(m), SV_I(2 * i + 2), SV_S(m)}, 4),
            ERR_OK);
        assert_int_equal(
            store_exec(s,
                       "INSERT INTO balances(msisdn, free_fen, voice_left_min, updated)"
                       " VALUES (?, ?, NULL, 0)",
                       (store_val[]){SV_S(m), SV_I(i)}, 2),
            ERR_OK);
        if (i % 2)
            assert_int_equal(
                store_exec(s,
                           "INSERT INTO line_state(msisdn, online, signal_dbm, terminal,"
                           " last_seen, updated) VALUES (?, 1, -80, '终端', 5, 0);"
                           "",
                           (store_val[]){SV_S(m)}, 1),
                ERR_OK);
        if (i % 3 == 0)
            assert_int_equal(
                store_exec(s,
                           "INSERT INTO subscriber_vas(id, msisdn, vas_id, params, state,"
                           " started, ordered_by) VALUES (?, ?, 'V1', '{}', 'active', 3,"
                           " 't')",
                           (store_val[]){SV_I(i + 1), SV_S(m)}, 2),
                ERR_OK);
        assert_int_equal(
            store_exec(s,
                       "INSERT INTO subscriber_segments(msisdn, segment, score, reasons,"
                       " updated) VALUES (?, 'highValue', 1, 'a;b', 0),"
                       " (?, 'churnRisk', 2, NULL, 0)",
                       (store_val[]){SV_S(m), SV_S(m)}, 2),
            ERR_OK);
    }
    /* work orders: a few for some, 70 for one (the card keeps the latest 65) */
    for (int t = 0; t < 400; t++) {
        char m[32];
        number(t < 70 ? 97 : (t % 50) * 97, m, sizeof m);
        assert_int_equal(store_exec(s,
                                    "INSERT INTO tickets(id, description, ticket_type, severity,"
                                    " priority, stage, status, status_change_date, created,"
                                    " updated, customer_id, customer_level, created_by,"
                                    " sla_state) VALUES (?, 'x', 'complaint', 'Minor', 'Medium',"
                                    " 'new', 'acknowledged', 0, ?, 0, ?, 'normal', 't', 'running')",
                                    (store_val[]){SV_I(t + 1), SV_I(1000 + t % 90), SV_S(m)}, 3),
                         ERR_OK);
    }
    /* numbers the directory must leave to the store */
    assert_int_equal(
        store_exec(s,
                   "INSERT INTO subscribers(msisdn, name, level, status, created,"
                   " updated) VALUES ('+8613900000001', 'x', 'normal', 'active', 0, 0)",
                   NULL, 0),
        ERR_OK);
    assert_int_equal(store_commit(s), ERR_OK);
    store_close(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    return 0;
}

static void expect(directory *d, int i, bool known)
{
    char m[32], want_area[32];
    number(i, m, sizeof m);
    snprintf(want_area, sizeof want_area, "GD.SZ.G%02d", i % 37);
    bool has_pos = false;
    int64_t pos = -5;
    const char *area = NULL;
    directory_lock(d);
    bool found = directory_find(d, m, &has_pos, &pos, &area);
    if (found && known) {
        assert_int_equal(has_pos, i % 3 != 0);
        if (has_pos)
            assert_int_equal(pos, 1000 + i);
        if (i % 5)
            assert_string_equal(area, want_area);
        else
            assert_null(area);
    }
    directory_unlock(d);
    assert_int_equal(found, known);
}

static void it_answers_what_the_store_says_once_built(void **state)
{
    (void)state;
    directory *d = directory_create(path, false);
    bool has_pos;
    int64_t pos;
    const char *area;
    directory_lock(d);
    assert_false(directory_find(d, "13900000007", &has_pos, &pos, &area)); /* not built yet */
    directory_unlock(d);
    directory_build(d);
    assert_true(directory_wait(d));
    assert_int_equal(directory_size(d, NULL), N);
    for (int i = 0; i < N; i++)
        expect(d, i, true);
    directory_lock(d);
    assert_false(directory_find(d, "13999999999", &has_pos, &pos, &area));    /* no such line */
    assert_false(directory_find(d, "+8613900000001", &has_pos, &pos, &area)); /* not digits */
    assert_false(directory_find(d, "", &has_pos, &pos, &area));
    assert_false(directory_find(d, "1390000000700000000", &has_pos, &pos, &area)); /* too long */
    directory_unlock(d);
    directory_free(d);
}

static void a_forgotten_line_is_asked_of_the_store_and_the_rest_stay(void **state)
{
    (void)state;
    directory *d = directory_create(path, false);
    directory_build(d);
    assert_true(directory_wait(d));
    for (int i = 0; i < N; i += 3) {
        char m[32];
        number(i, m, sizeof m);
        directory_forget(d, m);
    }
    for (int i = 0; i < N; i++)
        expect(d, i, i % 3 != 0);
    assert_int_equal(directory_size(d, NULL), N - (N + 2) / 3);
    directory_forget(d, "13999999999"); /* unknown: nothing happens */
    directory_forget(d, "not a number");
    assert_int_equal(directory_size(d, NULL), N - (N + 2) / 3);
    directory_free(d);
}

static void a_reset_builds_again_from_the_store(void **state)
{
    (void)state;
    directory *d = directory_create(path, false);
    directory_build(d);
    assert_true(directory_wait(d));
    store *s = open_store();
    assert_int_equal(
        store_exec(s, "UPDATE subscribers SET attach_pos = attach_pos + 1000000", NULL, 0), ERR_OK);
    directory_reset(d);
    assert_true(directory_wait(d));
    bool has_pos;
    int64_t pos;
    const char *area;
    directory_lock(d);
    assert_true(directory_find(d, "13900000007", &has_pos, &pos, &area)); /* i = 1 */
    assert_true(has_pos);
    assert_int_equal(pos, 1001001);
    directory_unlock(d);
    assert_int_equal(
        store_exec(s, "UPDATE subscribers SET attach_pos = attach_pos - 1000000", NULL, 0), ERR_OK);
    store_close(s);
    directory_free(d);
}

static void freeing_during_a_build_stops_it(void **state)
{
    (void)state;
    for (int k = 0; k < 5; k++) {
        directory *d = directory_create(path, false);
        directory_build(d);
        directory_reset(d);
        directory_free(d); /* no leak, no hang (sanitizers watch) */
    }
    directory *d = directory_create("/nonexistent/dir/x.db", false);
    directory_build(d);
    assert_false(directory_wait(d)); /* a store it cannot open: not ready, lookups miss */
    directory_free(d);
}

/* the sections of number(i)'s card */
static void card_of(directory *d, int i, store_res *sec[CARD_NSEC])
{
    char m[32];
    number(i, m, sizeof m);
    buf bytes;
    buf_init(&bytes, 0);
    directory_lock(d);
    assert_true(directory_card(d, m, &bytes));
    directory_unlock(d);
    assert_true(card_decode((const uint8_t *)bytes.data, bytes.len, sec));
    buf_free(&bytes);
}

/* the card of number(i) holds, section by section and cell by cell, what the store says */
static void expect_card(directory *d, store *s, int i)
{
    char m[32];
    number(i, m, sizeof m);
    store_res *sec[CARD_NSEC];
    card_of(d, i, sec);
    for (int k = 0; k < CARD_NSEC; k++) {
        store_res *want = card_query(s, k, m);
        assert_non_null(want);
        assert_int_equal(store_rows(sec[k]), store_rows(want));
        assert_int_equal(store_cols(sec[k]), store_cols(want));
        for (int r = 0; r < store_rows(want); r++)
            for (int c = 0; c < store_cols(want); c++) {
                const char *a = store_text(sec[k], r, c), *b = store_text(want, r, c);
                if (!a || !b)
                    assert_true(a == b);
                else
                    assert_string_equal(a, b);
            }
        store_res_free(want);
    }
    card_sections_free(sec);
}

static void cards_hold_what_the_store_says_and_are_read_again_after_a_change(void **state)
{
    (void)state;
    directory *d = directory_create(path, true);
    directory_build(d);
    assert_true(directory_wait(d));
    store *s = open_store();
    for (int i = 0; i < N; i += 97) {
        expect_card(d, s, i);
        expect_card(d, s, i + 1); /* one with nothing but a profile */
    }
    /* the latest 65 work orders of the one with 70, newest first, as the store orders them */
    store_res *sec[CARD_NSEC];
    card_of(d, 97, sec);
    assert_int_equal(store_rows(sec[CARD_TICKETS]), CARD_TICKETS_CAP);
    card_sections_free(sec);
    size_t bytes = 0;
    assert_int_equal(directory_size(d, &bytes), N);
    assert_true(bytes > (size_t)N * sizeof(void *)); /* slots and cards */
    /* a change, then the engine's refresh: the card says the new */
    char m[32];
    number(194, m, sizeof m);
    assert_int_equal(store_exec(s, "UPDATE balances SET free_fen = -5 WHERE msisdn = ?",
                                (store_val[]){SV_S(m)}, 1),
                     ERR_OK);
    assert_int_equal(
        store_exec(s, "UPDATE subscribers SET attach_pos = 77, area = 'GD.X' WHERE msisdn = ?",
                   (store_val[]){SV_S(m)}, 1),
        ERR_OK);
    directory_refresh(d, s, m);
    expect_card(d, s, 194);
    bool has_pos;
    int64_t pos;
    const char *area;
    directory_lock(d);
    assert_true(directory_find(d, m, &has_pos, &pos, &area));
    assert_int_equal(pos, 77);
    assert_string_equal(area, "GD.X");
    directory_unlock(d);
    /* a build asked for meanwhile keeps the refreshed card, not what it read before */
    directory_build(d);
    assert_int_equal(store_exec(s, "UPDATE balances SET free_fen = -6 WHERE msisdn = ?",
                                (store_val[]){SV_S(m)}, 1),
                     ERR_OK);
    directory_refresh(d, s, m);
    assert_true(directory_wait(d));
    expect_card(d, s, 194);
    /* a number the store does not know stays unknown */
    directory_refresh(d, s, "13999999999");
    buf cb;
    buf_init(&cb, 0);
    directory_lock(d);
    assert_false(directory_card(d, "13999999999", &cb));
    directory_unlock(d);
    buf_free(&cb);
    assert_int_equal(
        store_exec(s,
                   "UPDATE subscribers SET attach_pos = 1194, area = 'GD.SZ.G09' WHERE msisdn = ?",
                   (store_val[]){SV_S(m)}, 1),
        ERR_OK);
    store_close(s);
    directory_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(it_answers_what_the_store_says_once_built),
        cmocka_unit_test(a_forgotten_line_is_asked_of_the_store_and_the_rest_stay),
        cmocka_unit_test(a_reset_builds_again_from_the_store),
        cmocka_unit_test(freeing_during_a_build_stops_it),
        cmocka_unit_test(cards_hold_what_the_store_says_and_are_read_again_after_a_change),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
