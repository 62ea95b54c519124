/* The work-order lifecycle table: legal moves, roles, pending, TMF status mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tickets/tickets.h"

static void legal_moves_are_accepted(void **state)
{
    (void)state;
    problem p = {0};
    assert_int_equal(lifecycle_check("new", "dispatched", NULL, ROLE_AGENT, &p), ERR_OK);
    assert_int_equal(lifecycle_check("dispatched", "accepted", NULL, ROLE_SPECIALIST, &p), ERR_OK);
    assert_int_equal(lifecycle_check("accepted", "inProgress", NULL, ROLE_ENGINEER, &p), ERR_OK);
    assert_int_equal(lifecycle_check("inProgress", "feedback", NULL, ROLE_SPECIALIST, &p), ERR_OK);
    assert_int_equal(lifecycle_check("feedback", "replied", NULL, ROLE_AGENT, &p), ERR_OK);
    assert_int_equal(lifecycle_check("replied", "closed", NULL, ROLE_AGENT, &p), ERR_OK);
    assert_int_equal(lifecycle_check("closed", "reopened", NULL, ROLE_SUPERVISOR, &p), ERR_OK);
}

static void an_illegal_move_is_a_conflict_naming_both_stages(void **state)
{
    (void)state;
    problem p = {0};
    assert_int_equal(lifecycle_check("new", "closed", NULL, ROLE_ALL, &p), ERR_CONFLICT);
    assert_int_equal(p.status, 409);
    assert_string_equal(p.code, "illegalTransition");
    assert_non_null(strstr(p.message, "new"));
    assert_non_null(strstr(p.message, "closed"));
    assert_int_equal(lifecycle_check("closed", "inProgress", NULL, ROLE_ALL, &p), ERR_CONFLICT);
    assert_int_equal(lifecycle_check("cancelled", "reopened", NULL, ROLE_ALL, &p), ERR_CONFLICT);
}

static void a_legal_move_by_the_wrong_role_is_forbidden(void **state)
{
    (void)state;
    problem p = {0};
    assert_int_equal(lifecycle_check("dispatched", "accepted", NULL, ROLE_AGENT, &p),
                     ERR_FORBIDDEN);
    assert_int_equal(p.status, 403);
    assert_int_equal(lifecycle_check("feedback", "replied", NULL, ROLE_SPECIALIST, &p),
                     ERR_FORBIDDEN);
    assert_int_equal(lifecycle_check("new", "dispatched", NULL, ROLE_QA, &p), ERR_FORBIDDEN);
}

static void pending_returns_only_where_it_came_from(void **state)
{
    (void)state;
    problem p = {0};
    assert_int_equal(lifecycle_check("pending", "accepted", "accepted", ROLE_SPECIALIST, &p),
                     ERR_OK);
    assert_int_equal(lifecycle_check("pending", "inProgress", "accepted", ROLE_SPECIALIST, &p),
                     ERR_CONFLICT);
    assert_int_equal(lifecycle_check("pending", "cancelled", "accepted", ROLE_AGENT, &p), ERR_OK);
}

static void every_stage_has_a_tmf_status_and_a_chinese_label(void **state)
{
    (void)state;
    for (int i = 0; ticket_stage_names[i]; i++) {
        const char *st = lifecycle_status(ticket_stage_names[i]);
        assert_non_null(st);
        assert_true(str_in(st, ticket_status_names));
        assert_true(strlen(lifecycle_label_zh(ticket_stage_names[i])) > 0);
    }
    assert_string_equal(lifecycle_status("pending"), "pending");
    assert_string_equal(lifecycle_status("feedback"), "resolved");
    assert_null(lifecycle_status("bogus"));
}

static void tmf_status_maps_onto_stages(void **state)
{
    (void)state;
    assert_string_equal(lifecycle_stage_for_status("new", "resolved"), "resolvedAtFirstLine");
    assert_string_equal(lifecycle_stage_for_status("inProgress", "resolved"), "feedback");
    assert_string_equal(lifecycle_stage_for_status("dispatched", "inProgress"), "accepted");
    assert_string_equal(lifecycle_stage_for_status("closed", "inProgress"), "reopened");
    assert_string_equal(lifecycle_stage_for_status("accepted", "cancelled"), "cancelled");
    assert_null(lifecycle_stage_for_status("closed", "acknowledged"));
}

static void the_sla_clock_runs_pauses_and_stops_by_stage(void **state)
{
    (void)state;
    assert_int_equal(lifecycle_sla_mode("new"), SLA_RUNS);
    assert_int_equal(lifecycle_sla_mode("reopened"), SLA_RUNS);
    assert_int_equal(lifecycle_sla_mode("pending"), SLA_PAUSES);
    assert_int_equal(lifecycle_sla_mode("feedback"), SLA_STOPS);
    assert_int_equal(lifecycle_sla_mode("cancelled"), SLA_STOPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(legal_moves_are_accepted),
        cmocka_unit_test(an_illegal_move_is_a_conflict_naming_both_stages),
        cmocka_unit_test(a_legal_move_by_the_wrong_role_is_forbidden),
        cmocka_unit_test(pending_returns_only_where_it_came_from),
        cmocka_unit_test(every_stage_has_a_tmf_status_and_a_chinese_label),
        cmocka_unit_test(tmf_status_maps_onto_stages),
        cmocka_unit_test(the_sla_clock_runs_pauses_and_stops_by_stage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
