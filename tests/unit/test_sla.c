/* SLA arithmetic: business time with calendars, and the clock across pauses, policy changes
 * and reopens. All times +08:00; 2026-11-23 is a Monday. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tickets/tickets.h"

#define MIN 60000LL
#define HOUR (60 * MIN)

static int64_t at(const char *iso)
{
    int64_t ms = 0;
    assert_int_equal(time_parse_iso(iso, 480, &ms), ERR_OK);
    return ms;
}

static sla_calendar office(void)
{
    json_t *doc = json_pack("{s:[{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s},{s:i,s:s,s:s},"
                            "{s:i,s:s,s:s}], s:[s]}",
                            "hours", "weekday", 1, "from", "09:00", "to", "18:00", "weekday", 2,
                            "from", "09:00", "to", "18:00", "weekday", 3, "from", "09:00", "to",
                            "18:00", "weekday", 4, "from", "09:00", "to", "18:00", "weekday", 5,
                            "from", "09:00", "to", "18:00", "holidays", "2026-11-25");
    sla_calendar c;
    problem p = {0};
    assert_int_equal(sla_calendar_parse(doc, 480, &c, &p), ERR_OK);
    json_decref(doc);
    return c;
}

static void without_a_calendar_every_minute_counts(void **state)
{
    (void)state;
    int64_t s = at("2026-11-23T22:00:00+08:00");
    assert_int_equal(sla_business_between(NULL, s, s + 5 * HOUR), 5 * HOUR);
    assert_int_equal(sla_add_business(NULL, s, 90 * MIN), s + 90 * MIN);
}

static void business_hours_skip_nights_weekends_and_holidays(void **state)
{
    (void)state;
    sla_calendar c = office();
    /* Monday 17:00 + 2 h → Tuesday 10:00 */
    assert_int_equal(sla_add_business(&c, at("2026-11-23T17:00:00+08:00"), 2 * HOUR),
                     at("2026-11-24T10:00:00+08:00"));
    /* Friday 17:00 + 2 h → Monday 10:00 */
    assert_int_equal(sla_add_business(&c, at("2026-11-27T17:00:00+08:00"), 2 * HOUR),
                     at("2026-11-30T10:00:00+08:00"));
    /* Tuesday 17:00 + 2 h skips the Wednesday holiday → Thursday 10:00 */
    assert_int_equal(sla_add_business(&c, at("2026-11-24T17:00:00+08:00"), 2 * HOUR),
                     at("2026-11-26T10:00:00+08:00"));
    /* starting at night counts from the next opening */
    assert_int_equal(sla_add_business(&c, at("2026-11-23T03:00:00+08:00"), 30 * MIN),
                     at("2026-11-23T09:30:00+08:00"));
    /* zero is now */
    assert_int_equal(sla_add_business(&c, at("2026-11-23T03:00:00+08:00"), 0),
                     at("2026-11-23T03:00:00+08:00"));
    /* a whole week holds 4 working days (one holiday) of 9 h */
    assert_int_equal(
        sla_business_between(&c, at("2026-11-23T00:00:00+08:00"), at("2026-11-30T00:00:00+08:00")),
        4 * 9 * HOUR);
}

static void adding_and_measuring_agree(void **state)
{
    (void)state;
    sla_calendar c = office();
    int64_t s = at("2026-11-23T11:17:00+08:00");
    for (int64_t d = 0; d < 40 * HOUR; d += 37 * MIN) {
        int64_t due = sla_add_business(&c, s, d);
        assert_true(due >= s);
        assert_int_equal(sla_business_between(&c, s, due), d);
    }
}

static void a_calendar_error_names_the_field(void **state)
{
    (void)state;
    sla_calendar c;
    problem p = {0};
    json_t *bad =
        json_pack("{s:[{s:i,s:s,s:s}]}", "hours", "weekday", 1, "from", "9am", "to", "18:00");
    assert_int_equal(sla_calendar_parse(bad, 480, &c, &p), ERR_INVALID);
    assert_string_equal(p.field, "hours[0].from");
    json_decref(bad);
    bad = json_pack("{s:[{s:i,s:s,s:s}]}", "hours", "weekday", 8, "from", "09:00", "to", "18:00");
    assert_int_equal(sla_calendar_parse(bad, 480, &c, &p), ERR_INVALID);
    assert_string_equal(p.field, "hours[0].weekday");
    json_decref(bad);
    bad = json_pack("{s:[]}", "hours");
    assert_int_equal(sla_calendar_parse(bad, 480, &c, &p), ERR_INVALID);
    assert_string_equal(p.field, "hours");
    json_decref(bad);
}

static void pending_pauses_the_resolution_clock(void **state)
{
    (void)state;
    int64_t t0 = at("2026-11-23T10:00:00+08:00");
    sla_clock c = {.target = 24 * HOUR};
    sla_start(&c, t0);
    int64_t due0 = sla_due(&c, NULL);
    assert_int_equal(due0, t0 + 24 * HOUR);
    sla_stop(&c, NULL, t0 + 10 * MIN);      /* pending */
    assert_int_equal(sla_due(&c, NULL), 0); /* no due time while paused */
    assert_int_equal(sla_used(&c, NULL, t0 + 5 * HOUR), 10 * MIN);
    sla_start(&c, t0 + 10 * MIN + 2 * HOUR); /* back after two hours */
    assert_int_equal(sla_due(&c, NULL), due0 + 2 * HOUR);
    assert_string_equal(sla_state_name(&c, SLA_RUNS), "running");
    assert_string_equal(sla_state_name(&c, SLA_PAUSES), "paused");
}

static void a_policy_change_keeps_the_time_used(void **state)
{
    (void)state;
    int64_t t0 = at("2026-11-23T10:00:00+08:00");
    sla_clock c = {.target = 24 * HOUR};
    sla_start(&c, t0);
    sla_stop(&c, NULL, t0 + 3 * HOUR);
    sla_start(&c, t0 + 5 * HOUR);
    sla_retarget(&c, 4 * HOUR);
    assert_int_equal(sla_used(&c, NULL, t0 + 5 * HOUR), 3 * HOUR);
    assert_int_equal(sla_due(&c, NULL), t0 + 6 * HOUR);
}

static void a_reopen_resumes_with_the_time_already_used(void **state)
{
    (void)state;
    int64_t t0 = at("2026-11-23T10:00:00+08:00");
    sla_clock c = {.target = 10 * HOUR};
    sla_start(&c, t0);
    sla_stop(&c, NULL, t0 + 4 * HOUR); /* resolved */
    assert_string_equal(sla_state_name(&c, SLA_STOPS), "met");
    sla_start(&c, t0 + 100 * HOUR); /* reopened days later */
    assert_int_equal(sla_due(&c, NULL), t0 + 106 * HOUR);
}

static void the_warning_comes_at_eighty_percent(void **state)
{
    (void)state;
    int64_t t0 = at("2026-11-23T10:00:00+08:00");
    sla_clock c = {.target = 10 * HOUR};
    sla_start(&c, t0);
    assert_int_equal(sla_warn_at(&c, NULL), t0 + 8 * HOUR);
    sla_calendar cal = office();
    sla_clock b = {.target = 10 * HOUR};
    sla_start(&b, at("2026-11-23T09:00:00+08:00"));
    /* 8 business hours from Monday 09:00 is Monday 17:00 */
    assert_int_equal(sla_warn_at(&b, &cal), at("2026-11-23T17:00:00+08:00"));
    b.breached = true;
    assert_string_equal(sla_state_name(&b, SLA_STOPS), "breached");
    sla_clock none = {0};
    assert_string_equal(sla_state_name(&none, SLA_RUNS), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(without_a_calendar_every_minute_counts),
        cmocka_unit_test(business_hours_skip_nights_weekends_and_holidays),
        cmocka_unit_test(adding_and_measuring_agree),
        cmocka_unit_test(a_calendar_error_names_the_field),
        cmocka_unit_test(pending_pauses_the_resolution_clock),
        cmocka_unit_test(a_policy_change_keeps_the_time_used),
        cmocka_unit_test(a_reopen_resumes_with_the_time_already_used),
        cmocka_unit_test(the_warning_comes_at_eighty_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
