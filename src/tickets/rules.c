/*
 * rules.c — dispatch rule matching. A rule's empty attributes match anything; an area
 * matches itself and everything under it (GD matches GD.SZ.NS). First match wins, in the
 * order the caller sorted them (position, then id).
 */
#include "tickets/tickets.h"

#include <string.h>

bool area_under(const char *area, const char *prefix)
{
    if (!area || !prefix)
        return false;
    size_t n = strlen(prefix);
    return strncmp(area, prefix, n) == 0 && (area[n] == 0 || area[n] == '.');
}

bool area_code_ok(const char *s)
{
    size_t seg = 0, n = 0;
    for (; *s; s++, n++) {
        if (*s == '.') {
            if (seg == 0)
                return false;
            seg = 0;
        } else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                   (*s >= '0' && *s <= '9') || *s == '_') {
            seg++;
        } else {
            return false;
        }
    }
    return seg > 0 && n <= 64;
}

static bool attr_ok(const char *rule, const char *value)
{
    return !rule || !*rule || (value && strcmp(rule, value) == 0);
}

int rules_match(const dispatch_rule *rules, int n, const ticket_keys *k)
{
    for (int i = 0; i < n; i++) {
        const dispatch_rule *r = &rules[i];
        if (!attr_ok(r->ticket_type, k->ticket_type) || !attr_ok(r->category, k->category) ||
            !attr_ok(r->service, k->service))
            continue;
        if (r->area && *r->area && !area_under(k->area, r->area))
            continue;
        return i;
    }
    return -1;
}
