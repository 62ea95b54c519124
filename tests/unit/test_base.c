/* base: time rendering and parsing, UTF-8, JSON checks and body limits, capped buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"

static void times_round_trip_through_iso_8601(void **state)
{
    (void)state;
    char out[40];
    int64_t ms = 0;
    assert_int_equal(time_parse_iso("2026-11-23T11:15:54.123+08:00", 0, &ms), ERR_OK);
    time_iso(ms, 480, out, sizeof out);
    assert_string_equal(out, "2026-11-23T11:15:54.123+08:00");
    time_iso(ms, 0, out, sizeof out);
    assert_string_equal(out, "2026-11-23T03:15:54.123Z");
    time_iso(ms, -300, out, sizeof out);
    assert_string_equal(out, "2026-11-22T22:15:54.123-05:00");
    int64_t z;
    assert_int_equal(time_parse_iso("2026-11-23T03:15:54.123Z", 480, &z), ERR_OK);
    assert_int_equal(z, ms);
    assert_int_equal(time_parse_iso("2026-11-23", 480, &z), ERR_OK); /* midnight local */
    time_iso(z, 480, out, sizeof out);
    assert_string_equal(out, "2026-11-23T00:00:00.000+08:00");
    assert_int_equal(time_parse_iso("2026-11-23T11:15", 480, &z), ERR_OK);
    time_iso(0, 0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
}

static void bad_times_are_refused(void **state)
{
    (void)state;
    int64_t z;
    const char *bad[] = {"",
                         "tomorrow",
                         "2026-13-01",
                         "2026-02-30",
                         "2026-11-23T25:00",
                         "2026-11-23T10:00+8",
                         "2026-11-23T10:00:00.Z",
                         "2026-11-23X10:00",
                         "2026-11-23T10:00:00Zjunk",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(time_parse_iso(bad[i], 480, &z), ERR_INVALID);
}

static void utf8_is_checked_strictly(void **state)
{
    (void)state;
    assert_true(utf8_valid("守夜 ok", strlen("守夜 ok")));
    assert_false(utf8_valid("\xff", 1));
    assert_false(utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
    assert_false(utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(utf8_valid("\xe5\xae", 2));     /* cut short */
    assert_false(utf8_valid("a\0b", 3));         /* NUL */
    assert_int_equal(utf8_chars("守夜ab"), 4);
}

static const char *const colours[] = {"red", "green", NULL};
static const json_field fields[] = {
    {"name", JT_STRING, JF_REQUIRED, 4, NULL},
    {"colour", JT_STRING, 0, 8, colours},
    {"n", JT_INT, JF_NULLABLE, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static void check_one(const char *text, err want, const char *field, const char *code)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    problem p = {0};
    assert_int_equal(json_check(v, fields, "", &p), want);
    if (field)
        assert_string_equal(p.field, field);
    if (code)
        assert_string_equal(p.code, code);
    json_decref(v);
}

/* our compact writer says byte for byte what jansson says */
static void json_dump_writes_what_jansson_writes(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:I, s:I, s:b, s:n, s:[], s:{}, s:[s, {s:s}], s:f, s:s#}", "名字",
                          "王伟 \"引号\" \\ / \b\f\n\r\t\x01\x1f\x7f 😀", "big",
                          (json_int_t)INT64_MAX, "neg", (json_int_t)INT64_MIN, "t", 1, "nothing",
                          "empty", "obj", "mixed", "x", "k\n", "v", "real", 0.1, "nul", "a\0b", 3);
    json_object_set_new(v, "f", json_false());
    json_object_set_new(v, "zero", json_real(0));
    const json_t *cases[] = {v, json_object_get(v, "mixed"), json_object_get(v, "big"),
                             json_object_get(v, "nothing"), json_object_get(v, "real")};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *want = json_dumps(cases[i], JSON_COMPACT | JSON_ENCODE_ANY);
        size_t n = 0;
        char *got = json_dump_len(cases[i], &n);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
        free(want);
        free(got);
    }
    json_decref(v);
    char *null = json_dump(NULL);
    assert_string_equal(null, "null");
    free(null);
}

static void json_checks_name_the_field(void **state)
{
    (void)state;
    check_one("{\"name\":\"守夜守夜\"}", ERR_OK, NULL, NULL); /* 4 characters, 12 bytes */
    check_one("{\"name\":\"守夜守夜守\"}", ERR_INVALID, "name", "invalidField");
    check_one("{}", ERR_INVALID, "name", "missingField");
    check_one("{\"name\":\"a\",\"x\":1}", ERR_INVALID, "x", "unknownField");
    check_one("{\"name\":\"a\",\"id\":\"1\"}", ERR_INVALID, "id", "readOnlyField");
    check_one("{\"name\":1}", ERR_INVALID, "name", "invalidField");
    check_one("{\"name\":\"a\",\"colour\":\"blue\"}", ERR_INVALID, "colour", "invalidField");
    check_one("{\"name\":\"a\",\"n\":null}", ERR_OK, NULL, NULL);
    check_one("{\"name\":null}", ERR_INVALID, "name", "invalidField");
}

static void bodies_are_capped_in_size_depth_and_encoding(void **state)
{
    (void)state;
    json_t *v = NULL;
    problem p = {0};
    assert_int_equal(json_parse_body("{\"a\":1}", 7, &v, &p), ERR_OK);
    json_decref(v);
    size_t big = MAX_BODY + 1;
    char *b = malloc(big);
    memset(b, ' ', big);
    assert_int_equal(json_parse_body(b, big, &v, &p), ERR_TOOLARGE);
    assert_int_equal(p.status, 413);
    free(b);
    char deep[200];
    memset(deep, 0, sizeof deep);
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    assert_int_equal(json_parse_body(deep, strlen(deep), &v, &p), ERR_INVALID);
    assert_int_equal(json_parse_body("[1]", 3, &v, &p), ERR_INVALID);
    assert_int_equal(json_parse_body("{\"a\":\"\xff\"}", 9, &v, &p), ERR_INVALID);
    assert_int_equal(json_parse_body("{\"a\":1,\"a\":2}", 13, &v, &p), ERR_INVALID);
    assert_int_equal(json_parse_body("{\"a\":", 5, &v, &p), ERR_INVALID);
    assert_string_equal(p.code, "invalidJson");
}

static void a_capped_buffer_refuses_to_grow_past_its_cap(void **state)
{
    (void)state;
    buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_adds(&b, "12345"), ERR_OK);
    assert_int_equal(buf_adds(&b, "6789"), ERR_TOOLARGE);
    assert_string_equal(b.data, "12345");
    assert_int_equal(buf_printf(&b, "%d", 678), ERR_OK);
    assert_int_equal(b.len, 8);
    buf_free(&b);
}

static void numbers_parse_within_bounds(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_i64("42", 0, 100, &v), ERR_OK);
    assert_int_equal(v, 42);
    assert_int_equal(parse_i64("101", 0, 100, &v), ERR_INVALID);
    assert_int_equal(parse_i64("4x", 0, 100, &v), ERR_INVALID);
    assert_int_equal(parse_i64("", 0, 100, &v), ERR_INVALID);
    assert_int_equal(parse_i64("99999999999999999999", 0, INT64_MAX, &v), ERR_INVALID);
}

static void passwords_and_tokens(void **state)
{
    (void)state;
    char h[160];
    assert_int_equal(password_hash("correct horse", h, sizeof h), ERR_OK);
    assert_non_null(strstr(h, "$argon2id$"));
    assert_true(password_check(h, "correct horse"));
    assert_false(password_check(h, "wrong horse"));
    char t1[96], t2[96], th[65];
    rand_token(t1, sizeof t1, 32);
    rand_token(t2, sizeof t2, 32);
    assert_string_not_equal(t1, t2);
    token_hash(t1, th);
    assert_int_equal(strlen(th), 64);
}

static void the_manual_clock_moves_only_forward(void **state)
{
    (void)state;
    sy_clock *c = clock_create(true, 1000);
    assert_int_equal(clock_now(c), 1000);
    assert_int_equal(clock_set(c, 5000), ERR_OK);
    assert_int_equal(clock_now(c), 5000);
    assert_int_equal(clock_set(c, 4000), ERR_INVALID);
    clock_destroy(c);
    sy_clock *r = clock_create(false, 0);
    assert_int_equal(clock_set(r, 1), ERR_INVALID);
    clock_destroy(r);
}

static void a_limiter_counts_failures_per_key(void **state)
{
    (void)state;
    limiter *l = limiter_create(16, 2, 60000);
    int64_t retry = 0;
    assert_int_equal(limiter_left(l, "13800138000", &retry), 2);
    assert_int_equal(limiter_record(l, "13800138000", false), 1);
    assert_int_equal(limiter_record(l, "13800138000", false), 0);
    assert_int_equal(limiter_left(l, "13800138000", &retry), 0);
    assert_true(retry > 0 && retry <= 61);
    assert_int_equal(limiter_left(l, "13900139000", NULL), 2);   /* other keys are untouched */
    assert_int_equal(limiter_record(l, "13800138000", true), 2); /* success clears */
    limiter_destroy(l);
}

static void next_local_time_of_day(void **state)
{
    (void)state;
    const int64_t H = 3600000, day0 = 1796083200000LL; /* 2026-11-30 00:00 UTC */
    /* 03:30 at UTC+8 is 19:30 UTC the day before */
    assert_int_equal(time_next_local(day0 - 6 * H, 480, 210), day0 - 4 * H - 30 * 60000);
    /* just after it: the next day's */
    assert_int_equal(time_next_local(day0 - 4 * H, 480, 210), day0 + 20 * H - 30 * 60000);
    /* exactly at it: the next day's (strictly after now) */
    int64_t at = time_next_local(day0, 0, 0);
    assert_int_equal(at, day0 + 24 * H);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_local_time_of_day),
        cmocka_unit_test(times_round_trip_through_iso_8601),
        cmocka_unit_test(bad_times_are_refused),
        cmocka_unit_test(utf8_is_checked_strictly),
        cmocka_unit_test(json_checks_name_the_field),
        cmocka_unit_test(json_dump_writes_what_jansson_writes),
        cmocka_unit_test(bodies_are_capped_in_size_depth_and_encoding),
        cmocka_unit_test(a_capped_buffer_refuses_to_grow_past_its_cap),
        cmocka_unit_test(numbers_parse_within_bounds),
        cmocka_unit_test(passwords_and_tokens),
        cmocka_unit_test(the_manual_clock_moves_only_forward),
        cmocka_unit_test(a_limiter_counts_failures_per_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
