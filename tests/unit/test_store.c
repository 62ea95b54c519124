/* The store API on SQLite and, when SHOUYE_TEST_PG names a server, on PostgreSQL: the same
 * checks on both backends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"

typedef struct {
    char url[512];
    char cleanup[512]; /* SQLite file or PG database name */
    bool pg;
} target;

static target sqlite_target, pg_target;

static int setup_sqlite(void **state)
{
    snprintf(sqlite_target.url, sizeof sqlite_target.url, "/tmp/shouye-store-%d.db", getpid());
    snprintf(sqlite_target.cleanup, sizeof sqlite_target.cleanup, "%s", sqlite_target.url);
    *state = &sqlite_target;
    return 0;
}

static int teardown_sqlite(void **state)
{
    (void)state;
    char p[600];
    unlink(sqlite_target.url);
    snprintf(p, sizeof p, "%s-wal", sqlite_target.url);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", sqlite_target.url);
    unlink(p);
    return 0;
}

static int setup_pg(void **state)
{
    const char *base = getenv("SHOUYE_TEST_PG");
    *state = &pg_target;
    if (!base || !*base)
        return 0;
    store *s;
    problem p = {0};
    if (store_open(base, true, &s, &p))
        return -1;
    snprintf(pg_target.cleanup, sizeof pg_target.cleanup, "store_test_%d", getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_target.cleanup);
    err rc = store_exec(s, sql, NULL, 0);
    store_close(s);
    if (rc)
        return -1;
    const char *slash = strrchr(base, '/');
    snprintf(pg_target.url, sizeof pg_target.url, "%.*s/%s", (int)(slash - base), base,
             pg_target.cleanup);
    pg_target.pg = true;
    return 0;
}

static int teardown_pg(void **state)
{
    (void)state;
    const char *base = getenv("SHOUYE_TEST_PG");
    if (!base || !pg_target.pg)
        return 0;
    store *s;
    problem p = {0};
    if (store_open(base, true, &s, &p) == ERR_OK) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_target.cleanup);
        store_exec(s, sql, NULL, 0);
        store_close(s);
    }
    return 0;
}

static store *open_target(void **state)
{
    target *t = *state;
    if (!t->url[0])
        skip(); /* PostgreSQL not configured for this run */
    store *s = NULL;
    problem p = {0};
    assert_int_equal(store_open(t->url, true, &s, &p), ERR_OK);
    return s;
}

static void migrating_twice_changes_nothing(void **state)
{
    store *s = open_target(state);
    problem p = {0};
    assert_int_equal(store_migrate(s, &p), ERR_OK);
    int v = store_schema_version(s);
    assert_true(v >= 1);
    assert_int_equal(store_migrate(s, &p), ERR_OK);
    assert_int_equal(store_schema_version(s), v);
    store_close(s);
}

static void values_round_trip_with_placeholders(void **state)
{
    store *s = open_target(state);
    assert_int_equal(
        store_script(s, "CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, n BIGINT, t TEXT)"),
        ERR_OK);
    assert_int_equal(store_exec(s, "DELETE FROM kv", NULL, 0), ERR_OK);
    assert_int_equal(
        store_exec(s, "INSERT INTO kv(k, n, t) VALUES (?, ?, ?)",
                   (store_val[]){SV_S("a"), SV_I(9007199254740993LL), SV_S("光机告警 ok")}, 3),
        ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO kv(k, n, t) VALUES (?, ?, ?)",
                                (store_val[]){SV_S("b"), SV_N, SV_S(NULL)}, 3),
                     ERR_OK);
    assert_int_equal(store_changes(s), 1);
    store_res *r;
    assert_int_equal(store_query(s, "SELECT k, n, t FROM kv WHERE k IN (?, ?) ORDER BY k",
                                 (store_val[]){SV_S("a"), SV_S("b")}, 2, &r),
                     ERR_OK);
    assert_int_equal(store_rows(r), 2);
    assert_int_equal(store_int(r, 0, 1), 9007199254740993LL);
    assert_string_equal(store_text(r, 0, 2), "光机告警 ok");
    assert_true(store_isnull(r, 1, 1));
    assert_null(store_text(r, 1, 2));
    store_res_free(r);
    /* a question mark inside quotes is text, not a placeholder */
    int64_t n = 0;
    assert_int_equal(store_scalar(s, "SELECT COUNT(*) FROM kv WHERE t <> 'why?' AND k = ?",
                                  (store_val[]){SV_S("a")}, 1, -1, &n),
                     ERR_OK);
    assert_int_equal(n, 1);
    store_close(s);
}

static void a_savepoint_rollback_undoes_only_the_inner_work(void **state)
{
    store *s = open_target(state);
    assert_int_equal(store_script(s, "CREATE TABLE IF NOT EXISTS sp (x BIGINT)"), ERR_OK);
    assert_int_equal(store_exec(s, "DELETE FROM sp", NULL, 0), ERR_OK);
    assert_int_equal(store_begin(s), ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO sp VALUES (1)", NULL, 0), ERR_OK);
    assert_int_equal(store_savepoint(s), ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO sp VALUES (2)", NULL, 0), ERR_OK);
    /* an error inside the savepoint (PostgreSQL would otherwise abort the transaction) */
    assert_int_not_equal(store_exec(s, "INSERT INTO nosuchtable VALUES (3)", NULL, 0), ERR_OK);
    assert_int_equal(store_rollback_to(s), ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO sp VALUES (4)", NULL, 0), ERR_OK);
    assert_int_equal(store_commit(s), ERR_OK);
    int64_t sum = 0;
    assert_int_equal(store_scalar(s, "SELECT SUM(x) FROM sp", NULL, 0, 0, &sum), ERR_OK);
    assert_int_equal(sum, 5);
    store_close(s);
}

static void a_commit_survives_reopening(void **state)
{
    store *s = open_target(state);
    assert_int_equal(store_script(s, "CREATE TABLE IF NOT EXISTS dur (x BIGINT)"), ERR_OK);
    assert_int_equal(store_begin(s), ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO dur VALUES (?)", (store_val[]){SV_I(77)}, 1),
                     ERR_OK);
    assert_int_equal(store_commit(s), ERR_OK);
    store_close(s);
    s = open_target(state);
    int64_t n = 0;
    assert_int_equal(store_scalar(s, "SELECT COUNT(*) FROM dur WHERE x = 77", NULL, 0, 0, &n),
                     ERR_OK);
    assert_true(n >= 1);
    store_close(s);
}

static void a_unique_violation_is_a_conflict(void **state)
{
    store *s = open_target(state);
    assert_int_equal(store_script(s, "CREATE TABLE IF NOT EXISTS uq (k TEXT PRIMARY KEY)"), ERR_OK);
    store_exec(s, "DELETE FROM uq", NULL, 0);
    assert_int_equal(store_exec(s, "INSERT INTO uq VALUES (?)", (store_val[]){SV_S("x")}, 1),
                     ERR_OK);
    assert_int_equal(store_exec(s, "INSERT INTO uq VALUES (?)", (store_val[]){SV_S("x")}, 1),
                     ERR_CONFLICT);
    store_close(s);
}

static void a_backup_is_a_readable_copy(void **state)
{
    target *t = *state;
    if (t->pg || !t->url[0])
        skip(); /* pg_dump is exercised by hand; the SQLite copy is in-process */
    char out[600];
    snprintf(out, sizeof out, "%s.bak", t->url);
    unlink(out);
    problem p = {0};
    assert_int_equal(store_backup(t->url, out, &p), ERR_OK);
    assert_int_equal(store_backup(t->url, out, &p), ERR_CONFLICT); /* never overwrites */
    store *b;
    assert_int_equal(store_open(out, false, &b, &p), ERR_OK);
    int64_t n = 0;
    assert_int_equal(store_scalar(b, "SELECT COUNT(*) FROM dur WHERE x = 77", NULL, 0, 0, &n),
                     ERR_OK);
    assert_true(n >= 1);
    store_close(b);
    unlink(out);
}

#define ALL(prefix)                                                                                \
    cmocka_unit_test(migrating_twice_changes_nothing),                                             \
        cmocka_unit_test(values_round_trip_with_placeholders),                                     \
        cmocka_unit_test(a_savepoint_rollback_undoes_only_the_inner_work),                         \
        cmocka_unit_test(a_commit_survives_reopening),                                             \
        cmocka_unit_test(a_unique_violation_is_a_conflict),                                        \
        cmocka_unit_test(a_backup_is_a_readable_copy)

int main(void)
{
    const struct CMUnitTest tests[] = {ALL(x)};
    int failed = cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, teardown_sqlite);
    failed += cmocka_run_group_tests_name("postgresql", tests, setup_pg, teardown_pg);
    return failed;
}
