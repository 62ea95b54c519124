/* Dispatch rule matching and area codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tickets/tickets.h"

static const dispatch_rule rules[] = {
    {1, 1, "faultReport", NULL, "GD.FS", "broadband", "fs-broadband"},
    {2, 10, NULL, NULL, NULL, "broadband", "broadband"},
    {3, 20, "complaint", NULL, NULL, NULL, "complaints"},
    {4, 30, NULL, "资费争议", NULL, NULL, "billing"},
};
#define N ((int)(sizeof rules / sizeof rules[0]))

static void the_first_matching_rule_wins(void **state)
{
    (void)state;
    ticket_keys k = {"faultReport", NULL, "GD.FS.NH", "broadband"};
    assert_int_equal(rules_match(rules, N, &k), 0);
    ticket_keys k2 = {"complaint", NULL, "GD.FS.NH", "broadband"};
    assert_int_equal(rules_match(rules, N, &k2), 1);
    ticket_keys k3 = {"complaint", NULL, "GD.SZ", "tv"};
    assert_int_equal(rules_match(rules, N, &k3), 2);
}

static void empty_attributes_match_anything_and_values_must_be_equal(void **state)
{
    (void)state;
    ticket_keys k = {"inquiry", "资费争议", NULL, NULL};
    assert_int_equal(rules_match(rules, N, &k), 3);
    ticket_keys none = {"inquiry", "其他", "GD.SZ", "tv"};
    assert_int_equal(rules_match(rules, N, &none), -1);
    ticket_keys no_area = {"faultReport", NULL, NULL, "mobile"};
    assert_int_equal(rules_match(rules, N, &no_area), -1);
}

static void an_area_rule_covers_its_subtree_only(void **state)
{
    (void)state;
    assert_true(area_under("GD.FS", "GD.FS"));
    assert_true(area_under("GD.FS.NH.G01", "GD.FS"));
    assert_false(area_under("GD.FSX", "GD.FS"));
    assert_false(area_under("GD", "GD.FS"));
    assert_false(area_under(NULL, "GD"));
}

static void area_codes_are_dot_separated_words(void **state)
{
    (void)state;
    assert_true(area_code_ok("GD"));
    assert_true(area_code_ok("GD.SZ.NS_01"));
    assert_false(area_code_ok(""));
    assert_false(area_code_ok("GD..SZ"));
    assert_false(area_code_ok("GD.SZ."));
    assert_false(area_code_ok("GD/SZ"));
    assert_false(area_code_ok("GD-SZ"));
    assert_false(area_code_ok("广东"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_first_matching_rule_wins),
        cmocka_unit_test(empty_attributes_match_anything_and_values_must_be_equal),
        cmocka_unit_test(an_area_rule_covers_its_subtree_only),
        cmocka_unit_test(area_codes_are_dot_separated_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
