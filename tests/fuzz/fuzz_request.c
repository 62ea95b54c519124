/*
 * libFuzzer target over what a request body goes through before anything acts on it:
 * body parsing (size, depth, UTF-8), the work-order field checks, time parsing, area codes,
 * lifecycle lookups and calendar parsing. A crash, a sanitizer report or a leak fails it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "tickets/tickets.h"

static const json_field fields[] = {
    {"name", JT_STRING, 0, 200, NULL},
    {"description", JT_STRING, JF_REQUIRED, 4000, NULL},
    {"ticketType", JT_STRING, JF_REQUIRED, 32, ticket_type_names},
    {"severity", JT_STRING, JF_REQUIRED, 16, ticket_severity_names},
    {"priority", JT_STRING, 0, 16, ticket_priority_names},
    {"customerLevel", JT_STRING, 0, 16, ticket_level_names},
    {"stage", JT_STRING, 0, 32, ticket_stage_names},
    {"status", JT_STRING, 0, 16, ticket_status_names},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {"requestedResolutionDate", JT_STRING, 0, 40, NULL},
    {"channel", JT_OBJECT, 0, 0, NULL},
    {"relatedParty", JT_ARRAY, 0, 0, NULL},
    {"hours", JT_ARRAY, 0, 0, NULL},
    {"holidays", JT_ARRAY, 0, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = NULL;
    problem p = {0};
    if (json_parse_body((const char *)data, size, &body, &p) != ERR_OK)
        return 0;
    json_check(body, fields, "", &p);
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v)
    {
        if (!json_is_string(v))
            continue;
        const char *s = json_string_value(v);
        int64_t ms;
        if (time_parse_iso(s, 480, &ms) == ERR_OK) {
            char out[40];
            time_iso(ms, 480, out, sizeof out);
        }
        area_code_ok(s);
        area_under(s, "GD.SZ");
        utf8_chars(s);
        lifecycle_status(s);
        lifecycle_label_zh(s);
        lifecycle_stage_for_status("inProgress", s);
        lifecycle_check("new", s, jstr(body, "stage"), ROLE_ALL, &p);
    }
    if (json_object_get(body, "hours")) {
        sla_calendar cal;
        if (sla_calendar_parse(body, 480, &cal, &p) == ERR_OK) {
            sla_add_business(&cal, 1795400000000LL, 3600000);
            sla_business_between(&cal, 1795400000000LL, 1795500000000LL);
        }
    }
    json_decref(body);
    return 0;
}
