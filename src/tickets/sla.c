/*
 * sla.c — SLA clocks. A clock holds the business time used so far (`elapsed`) and, while
 * running, the wall time it last started (`since`); pausing folds the running segment into
 * `elapsed`. Due time is therefore always "since + what is left", computed through the
 * business-hours calendar. This is what keeps the clock right across a pending pause, a
 * policy change (only the target moves) and a reopen (the clock restarts with what was used).
 */
#include "tickets/tickets.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL
#define MAX_DAYS 3660

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static bool is_holiday(const sla_calendar *cal, int64_t day)
{
    for (int i = 0; i < cal->nholidays; i++)
        if (cal->holidays[i] == day)
            return true;
    return false;
}

static int weekday(int64_t day) /* Monday = 0; day 0 (1970-01-01) was a Thursday */
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

int64_t sla_business_between(const sla_calendar *cal, int64_t a, int64_t b)
{
    if (b <= a)
        return 0;
    if (!cal)
        return b - a;
    int64_t off = (int64_t)cal->tz * 60000;
    int64_t la = a + off, lb = b + off;
    int64_t d0 = floor_div(la, DAY_MS), d1 = floor_div(lb, DAY_MS);
    if (d1 - d0 > MAX_DAYS)
        d1 = d0 + MAX_DAYS;
    int64_t sum = 0;
    for (int64_t d = d0; d <= d1; d++) {
        if (is_holiday(cal, d))
            continue;
        int wd = weekday(d);
        for (int w = 0; w < cal->nwin[wd]; w++) {
            int64_t ws = d * DAY_MS + (int64_t)cal->win[wd][w][0] * 60000;
            int64_t we = d * DAY_MS + (int64_t)cal->win[wd][w][1] * 60000;
            int64_t s = ws > la ? ws : la, e = we < lb ? we : lb;
            if (e > s)
                sum += e - s;
        }
    }
    return sum;
}

int64_t sla_add_business(const sla_calendar *cal, int64_t start, int64_t dur)
{
    if (!cal)
        return start + dur;
    if (dur <= 0)
        return start;
    int64_t off = (int64_t)cal->tz * 60000;
    int64_t ls = start + off;
    int64_t left = dur;
    int64_t d0 = floor_div(ls, DAY_MS);
    for (int64_t d = d0; d <= d0 + MAX_DAYS; d++) {
        if (is_holiday(cal, d))
            continue;
        int wd = weekday(d);
        for (int w = 0; w < cal->nwin[wd]; w++) {
            int64_t ws = d * DAY_MS + (int64_t)cal->win[wd][w][0] * 60000;
            int64_t we = d * DAY_MS + (int64_t)cal->win[wd][w][1] * 60000;
            if (we <= ls)
                continue;
            if (ws < ls)
                ws = ls;
            if (we - ws >= left)
                return ws + left - off;
            left -= we - ws;
        }
    }
    return INT64_MAX / 4; /* a calendar without business hours never comes due */
}

static err parse_hhmm(const char *s, int *out)
{
    int h, m;
    if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
        s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return ERR_INVALID;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && m != 0))
        return ERR_INVALID;
    *out = h * 60 + m;
    return ERR_OK;
}

err sla_calendar_parse(const json_t *doc, int tz, sla_calendar *out, problem *p)
{
    memset(out, 0, sizeof *out);
    out->tz = tz;
    json_t *hours = json_object_get(doc, "hours");
    if (!json_is_array(hours) || json_array_size(hours) == 0)
        return problem_field(p, "hours", "at least one business-hours window is required");
    size_t i;
    json_t *h;
    json_array_foreach(hours, i, h)
    {
        char f[40];
        snprintf(f, sizeof f, "hours[%zu]", i);
        if (!json_is_object(h))
            return problem_field(p, f, "must be an object {weekday, from, to}");
        json_t *wdv = json_object_get(h, "weekday");
        if (!json_is_integer(wdv) || json_integer_value(wdv) < 1 || json_integer_value(wdv) > 7) {
            snprintf(f, sizeof f, "hours[%zu].weekday", i);
            return problem_field(p, f, "must be an integer 1 (Monday) … 7 (Sunday)");
        }
        int wd = (int)json_integer_value(wdv) - 1, from, to;
        if (parse_hhmm(jstr(h, "from"), &from)) {
            snprintf(f, sizeof f, "hours[%zu].from", i);
            return problem_field(p, f, "must be HH:MM");
        }
        if (parse_hhmm(jstr(h, "to"), &to) || to <= from) {
            snprintf(f, sizeof f, "hours[%zu].to", i);
            return problem_field(p, f, "must be HH:MM after from");
        }
        if (out->nwin[wd] == 4) {
            snprintf(f, sizeof f, "hours[%zu]", i);
            return problem_field(p, f, "at most 4 windows per weekday");
        }
        for (int w = 0; w < out->nwin[wd]; w++)
            if (from < out->win[wd][w][1] && to > out->win[wd][w][0]) {
                snprintf(f, sizeof f, "hours[%zu]", i);
                return problem_field(p, f, "overlaps another window of the same weekday");
            }
        out->win[wd][out->nwin[wd]][0] = from;
        out->win[wd][out->nwin[wd]][1] = to;
        out->nwin[wd]++;
    }
    json_t *hol = json_object_get(doc, "holidays");
    if (hol && !json_is_array(hol))
        return problem_field(p, "holidays", "must be an array of dates YYYY-MM-DD");
    json_array_foreach(hol, i, h)
    {
        char f[40];
        snprintf(f, sizeof f, "holidays[%zu]", i);
        int64_t ms;
        const char *s = json_string_value(h);
        if (!s || strlen(s) != 10 || time_parse_iso(s, 0, &ms))
            return problem_field(p, f, "must be a date YYYY-MM-DD");
        if (out->nholidays == (int)ARRAY_LEN(out->holidays))
            return problem_field(p, "holidays", "at most %zu holidays", ARRAY_LEN(out->holidays));
        out->holidays[out->nholidays++] = ms / DAY_MS;
    }
    return ERR_OK;
}

void sla_start(sla_clock *c, int64_t now)
{
    if (!c->since)
        c->since = now;
}

void sla_stop(sla_clock *c, const sla_calendar *cal, int64_t now)
{
    if (!c->since)
        return;
    c->elapsed += sla_business_between(cal, c->since, now);
    c->since = 0;
}

int64_t sla_used(const sla_clock *c, const sla_calendar *cal, int64_t now)
{
    return c->elapsed + (c->since ? sla_business_between(cal, c->since, now) : 0);
}

static int64_t point(const sla_clock *c, const sla_calendar *cal, int64_t budget)
{
    if (!c->since || !c->target)
        return 0;
    int64_t left = budget - c->elapsed;
    return sla_add_business(cal, c->since, left > 0 ? left : 0);
}

int64_t sla_due(const sla_clock *c, const sla_calendar *cal)
{
    return point(c, cal, c->target);
}

int64_t sla_warn_at(const sla_clock *c, const sla_calendar *cal)
{
    return point(c, cal, c->target * SLA_WARN_PERMILLE / 1000);
}

void sla_retarget(sla_clock *c, int64_t target)
{
    c->target = target;
}

const char *sla_state_name(const sla_clock *c, sla_mode mode)
{
    if (!c->target)
        return "none";
    if (c->breached)
        return "breached";
    if (mode == SLA_PAUSES)
        return "paused";
    if (mode == SLA_STOPS)
        return "met";
    return c->warned ? "warning" : "running";
}
