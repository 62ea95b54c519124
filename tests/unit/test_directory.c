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
    directory *d = directory_create(path);
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
    directory *d = directory_create(path);
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
    directory *d = directory_create(path);
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
        directory *d = directory_create(path);
        directory_build(d);
        directory_reset(d);
        directory_free(d); /* no leak, no hang (sanitizers watch) */
    }
    directory *d = directory_create("/nonexistent/dir/x.db");
    directory_build(d);
    assert_false(directory_wait(d)); /* a store it cannot open: not ready, lookups miss */
    directory_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(it_answers_what_the_store_says_once_built),
        cmocka_unit_test(a_forgotten_line_is_asked_of_the_store_and_the_rest_stay),
        cmocka_unit_test(a_reset_builds_again_from_the_store),
        cmocka_unit_test(freeing_during_a_build_stops_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
