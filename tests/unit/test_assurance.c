/* Unit tests for the pure assurance rules and the SNMP trap bridge's parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "assurance/assurance.h"
#include "trap.h"

#include <stdio.h>
#include <string.h>

#define H (3600000LL)
#define MIN_MS (60000LL)
/* 2026-11-30 00:00 UTC */
#define DAY0 1796083200000LL

static void quiet_hours_hold_lower_levels_until_morning(void **state)
{
    (void)state;
    int tz = 480; /* UTC+8 */
    /* 23:30 local = 15:30 UTC: quiet, released at 08:00 local next day = 00:00 UTC */
    int64_t t = DAY0 - 24 * H + 15 * H + 30 * MIN_MS;
    assert_int_equal(quiet_release(22, 8, tz, 2, t), DAY0);
    /* 03:00 local (19:00 UTC the day before): released at 08:00 local the same local day */
    t = DAY0 - 5 * H;
    assert_int_equal(quiet_release(22, 8, tz, 3, t), DAY0);
    /* level 1 never waits */
    assert_int_equal(quiet_release(22, 8, tz, 1, t), t);
    /* 12:00 local is not quiet */
    t = DAY0 + 4 * H;
    assert_int_equal(quiet_release(22, 8, tz, 4, t), t);
    /* 08:00 local exactly is the end of the quiet hours */
    assert_int_equal(quiet_release(22, 8, tz, 2, DAY0), DAY0);
    /* no quiet hours */
    assert_int_equal(quiet_release(0, 0, tz, 2, DAY0 - 5 * H), DAY0 - 5 * H);
    /* a window that does not wrap: 13–14 local */
    t = DAY0 + 5 * H + 10 * MIN_MS; /* 13:10 local */
    assert_int_equal(quiet_release(13, 14, tz, 2, t), DAY0 + 6 * H);
}

static void vip_and_high_levels_go_first(void **state)
{
    (void)state;
    assert_true(impact_rank(true, "normal") < impact_rank(false, "diamond"));
    assert_true(impact_rank(false, "diamond") < impact_rank(false, "gold"));
    assert_true(impact_rank(false, "gold") < impact_rank(false, "silver"));
    assert_true(impact_rank(false, "silver") < impact_rank(false, "normal"));
    assert_int_equal(impact_rank(false, NULL), impact_rank(false, "normal"));
    assert_true(impact_rank(true, "diamond") < impact_rank(true, "gold"));
}

static void intervals_nest_on_one_branch_only(void **state)
{
    (void)state;
    /* node [10, 14] with amplifiers 11..14; another node [15, 19] */
    assert_true(spans_nest(10, 14, 12, 12)); /* amplifier under node */
    assert_true(spans_nest(12, 12, 10, 14)); /* either way round */
    assert_true(spans_nest(1, 100, 10, 14)); /* headend above */
    assert_false(spans_nest(10, 14, 15, 19)); /* siblings */
    assert_false(spans_nest(11, 11, 12, 12));
}

static void windows_slide_by_the_minute(void **state)
{
    (void)state;
    int64_t mins[30], counts[30];
    minute_window w;
    window_init(&w, 30, mins, counts);
    int64_t t0 = DAY0;
    window_add(&w, t0, 1);
    window_add(&w, t0 + 10 * MIN_MS, 2);
    window_add(&w, t0 + 29 * MIN_MS, 3);
    assert_int_equal(window_sum(&w, t0 + 29 * MIN_MS), 6);
    /* the first minute leaves the 30-minute window at minute 30 */
    assert_int_equal(window_sum(&w, t0 + 30 * MIN_MS), 5);
    assert_int_equal(window_sum(&w, t0 + 40 * MIN_MS), 3);
    /* a bucket reused 30 minutes later starts from zero */
    window_add(&w, t0 + 40 * MIN_MS, 1);
    assert_int_equal(window_sum(&w, t0 + 40 * MIN_MS), 4);
    assert_int_equal(window_sum(&w, t0 + 120 * MIN_MS), 0);
}

static void baseline_is_the_same_hour_of_week_scaled(void **state)
{
    (void)state;
    /* 4 weeks of that hour: 40 complaints → mean 10/hour; a 30-minute window → 5; ×300 % → 15 */
    assert_int_equal(baseline_from(40, 30, 300, 0), 15);
    /* rounded up */
    assert_int_equal(baseline_from(41, 30, 300, 0), 16);
    /* never under the floor (a quiet history must not make one complaint a crisis) */
    assert_int_equal(baseline_from(0, 60, 300, 20), 20);
    assert_int_equal(baseline_from(400, 60, 200, 20), 200);
}

static void lines_reset_only_well_under_their_limit(void **state)
{
    (void)state;
    assert_int_equal(line_step(false, 9, 10), 0);
    assert_int_equal(line_step(false, 10, 10), 1);
    assert_int_equal(line_step(true, 12, 10), 0);
    assert_int_equal(line_step(true, 8, 10), 0);  /* 80 %: still crossed */
    assert_int_equal(line_step(true, 7, 10), -1); /* under 80 %: reset */
    assert_int_equal(line_step(false, 100, 0), 0); /* no limit, no line */
}

static void thresholds_raise_and_clear_with_hysteresis(void **state)
{
    (void)state;
    /* optical power, bad when low: raise at ≤ -25 dBm, clear at ≥ -22 dBm */
    assert_int_equal(threshold_step(true, -25, -22, false, -24), 0);
    assert_int_equal(threshold_step(true, -25, -22, false, -25), 1);
    assert_int_equal(threshold_step(true, -25, -22, true, -23), 0); /* between: stays raised */
    assert_int_equal(threshold_step(true, -25, -22, true, -22), -1);
    /* temperature, bad when high: raise at ≥ 70, clear at ≤ 60 */
    assert_int_equal(threshold_step(false, 70, 60, false, 71), 1);
    assert_int_equal(threshold_step(false, 70, 60, true, 65), 0);
    assert_int_equal(threshold_step(false, 70, 60, true, 60), -1);
}

static void traps_parse_as_snmptrapd_prints_them(void **state)
{
    (void)state;
    const char *in = "localhost\n"
                     "UDP: [127.0.0.1]:40216->[127.0.0.1]:16299\n"
                     ".1.3.6.1.2.1.1.3.0 0:0:27:41.78\n"
                     ".1.3.6.1.6.3.1.1.4.1.0 .1.3.6.1.6.3.1.1.5.3\n"
                     ".1.3.6.1.2.1.1.5.0 \"ON-NS-017\"\n"
                     ".1.3.6.1.2.1.2.2.1.1.1 3\n";
    FILE *f = fmemopen((void *)in, strlen(in), "r");
    trap_info t;
    assert_int_equal(trap_parse(f, &t), ERR_OK);
    fclose(f);
    assert_string_equal(t.address, "127.0.0.1");
    assert_string_equal(t.trap_oid, ".1.3.6.1.6.3.1.1.5.3");
    assert_string_equal(t.object, "ON-NS-017");
    json_t *a = trap_alarm(&t, "2026-11-30T00:00:00Z");
    assert_string_equal(jstr(a, "state"), "raised");
    assert_string_equal(jstr(a, "perceivedSeverity"), "critical");
    assert_string_equal(jstr(a, "sourceSystemId"), "snmp:127.0.0.1");
    json_decref(a);
    /* linkUp clears; without sysName the host names the object; typed values are cleaned */
    const char *up = "olt-7\nUDP: [10.0.0.7]:161->[127.0.0.1]:162\n"
                     "SNMPv2-MIB::snmpTrapOID.0 OID: .1.3.6.1.6.3.1.1.5.4\n";
    f = fmemopen((void *)up, strlen(up), "r");
    assert_int_equal(trap_parse(f, &t), ERR_OK);
    fclose(f);
    assert_string_equal(t.object, "olt-7");
    a = trap_alarm(&t, "2026-11-30T00:00:00Z");
    assert_string_equal(jstr(a, "state"), "cleared");
    json_decref(a);
    /* not a trap */
    f = fmemopen((void *)"x\n", 2, "r");
    assert_int_equal(trap_parse(f, &t), ERR_INVALID);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quiet_hours_hold_lower_levels_until_morning),
        cmocka_unit_test(vip_and_high_levels_go_first),
        cmocka_unit_test(intervals_nest_on_one_branch_only),
        cmocka_unit_test(windows_slide_by_the_minute),
        cmocka_unit_test(baseline_is_the_same_hour_of_week_scaled),
        cmocka_unit_test(lines_reset_only_well_under_their_limit),
        cmocka_unit_test(thresholds_raise_and_clear_with_hysteresis),
        cmocka_unit_test(traps_parse_as_snmptrapd_prints_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
