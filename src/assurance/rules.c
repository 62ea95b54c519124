/*
 * rules.c — the pure rules of assurance, kept apart so unit tests can hold them to their
 * word: quiet hours, the notification order, interval nesting (correlation and joining),
 * per-minute windows, the learned baseline, and hysteresis for warning lines and metric
 * thresholds.
 */
#include "assurance/assurance.h"

#include <string.h>

int64_t quiet_release(int quiet_from, int quiet_to, int tz, int level, int64_t now)
{
    if (level <= 1 || quiet_from == quiet_to)
        return now;
    int64_t local = now + (int64_t)tz * 60000;
    int64_t day = local >= 0 ? local / 86400000 : (local - 86399999) / 86400000;
    int hour = (int)((local - day * 86400000) / 3600000);
    int64_t midnight = day * 86400000 - (int64_t)tz * 60000; /* UTC ms of local midnight */
    bool wraps = quiet_from > quiet_to; /* 22 → 8 */
    bool quiet = wraps ? (hour >= quiet_from || hour < quiet_to)
                       : (hour >= quiet_from && hour < quiet_to);
    if (!quiet)
        return now;
    int64_t release = midnight + (int64_t)quiet_to * 3600000;
    if (release <= now)
        release += 86400000;
    return release;
}

int impact_rank(bool vip, const char *level)
{
    static const char *const order[] = {"diamond", "gold", "silver"};
    int r = 3;
    for (int i = 0; i < 3; i++)
        if (level && strcmp(level, order[i]) == 0)
            r = i;
    return (vip ? 0 : 10) + r;
}

bool spans_nest(int64_t a_pos, int64_t a_last, int64_t b_pos, int64_t b_last)
{
    return (a_pos <= b_pos && b_pos <= a_last) || (b_pos <= a_pos && a_pos <= b_last);
}

void window_init(minute_window *w, int minutes, int64_t *minute, int64_t *count)
{
    w->minutes = minutes;
    w->minute = minute;
    w->count = count;
    for (int k = 0; k < minutes; k++) {
        minute[k] = -1;
        count[k] = 0;
    }
}

void window_add(minute_window *w, int64_t ms, int64_t n)
{
    int64_t m = ms / 60000;
    int k = (int)(m % w->minutes);
    if (w->minute[k] != m) {
        w->minute[k] = m;
        w->count[k] = 0;
    }
    w->count[k] += n;
}

int64_t window_sum(const minute_window *w, int64_t now)
{
    int64_t m = now / 60000, sum = 0;
    for (int k = 0; k < w->minutes; k++)
        if (w->minute[k] > m - w->minutes && w->minute[k] <= m)
            sum += w->count[k];
    return sum;
}

int64_t baseline_from(int64_t four_week_sum, int window_min, int64_t factor_pct, int64_t floor)
{
    /* mean per hour over 4 weeks, per window, times the factor (percent), rounded up */
    int64_t limit = (four_week_sum * window_min * factor_pct + 4 * 60 * 100 - 1) / (4 * 60 * 100);
    return limit > floor ? limit : floor;
}

int line_step(bool crossed, int64_t sum, int64_t limit)
{
    if (limit <= 0)
        return 0;
    if (!crossed && sum >= limit)
        return 1;
    if (crossed && sum * 10 < limit * 8)
        return -1;
    return 0;
}

int threshold_step(bool below, int64_t raise_at, int64_t clear_at, bool active, int64_t value)
{
    if (below) /* bad when low: raise at ≤ raise_at, clear at ≥ clear_at */
        return !active && value <= raise_at ? 1 : active && value >= clear_at ? -1 : 0;
    return !active && value >= raise_at ? 1 : active && value <= clear_at ? -1 : 0;
}
