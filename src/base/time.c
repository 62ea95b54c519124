/*
 * time.c — wall time, ISO 8601 rendering and parsing, and the injectable clock.
 * Every domain timestamp is integer milliseconds UTC; rendering applies a fixed offset
 * (operators in China run on +08:00 and there is no daylight saving to model).
 */
#include "base/base.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t time_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* days from civil (Howard Hinnant's algorithm), proleptic Gregorian */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t yy = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void time_iso(int64_t ms, int offset_min, char *out, size_t n)
{
    int64_t local = ms + (int64_t)offset_min * 60000;
    int64_t days = floordiv(local, 86400000);
    int64_t rem = local - days * 86400000;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    int hh = (int)(rem / 3600000), mi = (int)(rem / 60000 % 60), ss = (int)(rem / 1000 % 60);
    int msec = (int)(rem % 1000);
    if (n >= 30 && y >= 0 && y <= 9999) {
        /* the hot path (every rendered timestamp): no printf */
        char *o = out;
        int yy = (int)y;
        *o++ = (char)('0' + yy / 1000);
        *o++ = (char)('0' + yy / 100 % 10);
        *o++ = (char)('0' + yy / 10 % 10);
        *o++ = (char)('0' + yy % 10);
        const int parts[] = {(int)mo, (int)d, hh, mi, ss};
        const char seps[] = {'-', '-', 'T', ':', ':'};
        for (int i = 0; i < 5; i++) {
            *o++ = seps[i];
            *o++ = (char)('0' + parts[i] / 10);
            *o++ = (char)('0' + parts[i] % 10);
        }
        *o++ = '.';
        *o++ = (char)('0' + msec / 100);
        *o++ = (char)('0' + msec / 10 % 10);
        *o++ = (char)('0' + msec % 10);
        if (offset_min == 0) {
            *o++ = 'Z';
        } else {
            int a = offset_min < 0 ? -offset_min : offset_min;
            *o++ = offset_min < 0 ? '-' : '+';
            *o++ = (char)('0' + a / 60 / 10);
            *o++ = (char)('0' + a / 60 % 10);
            *o++ = ':';
            *o++ = (char)('0' + a % 60 / 10);
            *o++ = (char)('0' + a % 60 % 10);
        }
        *o = 0;
        return;
    }
    if (offset_min == 0) {
        snprintf(out, n, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d, hh, mi, ss,
                 msec);
    } else {
        int a = offset_min < 0 ? -offset_min : offset_min;
        snprintf(out, n, "%04lld-%02u-%02uT%02d:%02d:%02d.%03d%c%02d:%02d", (long long)y, mo, d, hh,
                 mi, ss, msec, offset_min < 0 ? '-' : '+', a / 60, a % 60);
    }
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

err time_parse_iso(const char *s, int default_offset_min, int64_t *out)
{
    if (!s)
        return ERR_INVALID;
    size_t len = strlen(s);
    int y, mo, d, hh = 0, mi = 0, ss = 0, ms = 0;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return ERR_INVALID;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return ERR_INVALID;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (d > mdays[mo - 1])
        return ERR_INVALID;
    const char *p = s + 10;
    int offset = default_offset_min;
    if (*p) {
        if (*p != 'T' && *p != ' ')
            return ERR_INVALID;
        p++;
        if (strlen(p) < 5 || !digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mi))
            return ERR_INVALID;
        p += 5;
        if (*p == ':') {
            if (!digits(p + 1, 2, &ss))
                return ERR_INVALID;
            p += 3;
            if (*p == '.') {
                p++;
                int k = 0, frac = 0;
                while (*p >= '0' && *p <= '9') {
                    if (k < 3) {
                        frac = frac * 10 + (*p - '0');
                    }
                    k++;
                    p++;
                }
                if (k == 0)
                    return ERR_INVALID;
                for (int j = k; j < 3; j++)
                    frac *= 10;
                ms = frac;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60)
            return ERR_INVALID;
        if (*p == 'Z' || *p == 'z') {
            offset = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh, om;
            int sign = *p == '-' ? -1 : 1;
            p++;
            if (!digits(p, 2, &oh))
                return ERR_INVALID;
            p += 2;
            if (*p == ':')
                p++;
            if (!digits(p, 2, &om))
                return ERR_INVALID;
            p += 2;
            if (oh > 18 || om > 59)
                return ERR_INVALID;
            offset = sign * (oh * 60 + om);
        }
        if (*p)
            return ERR_INVALID;
    }
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = days * 86400000 + (int64_t)hh * 3600000 + (int64_t)mi * 60000 + (int64_t)ss * 1000 + ms -
           (int64_t)offset * 60000;
    return ERR_OK;
}

/* ---- the injectable clock ---- */

struct sy_clock {
    bool manual;
    _Atomic int64_t now; /* manual mode: the current time */
};

sy_clock *clock_create(bool manual, int64_t start_ms)
{
    sy_clock *c = xcalloc(1, sizeof *c);
    c->manual = manual;
    atomic_store(&c->now, start_ms ? start_ms : time_real_ms());
    return c;
}

void clock_destroy(sy_clock *c)
{
    free(c);
}

int64_t clock_now(const sy_clock *c)
{
    if (!c || !c->manual)
        return time_real_ms();
    return atomic_load(&((sy_clock *)c)->now);
}

bool clock_is_manual(const sy_clock *c)
{
    return c && c->manual;
}

err clock_set(sy_clock *c, int64_t ms)
{
    if (!c->manual || ms < atomic_load(&c->now))
        return ERR_INVALID;
    atomic_store(&c->now, ms);
    return ERR_OK;
}

int64_t time_next_local(int64_t now, int offset_min, int minute_of_day)
{
    const int64_t day_ms = 86400000;
    int64_t off = (int64_t)offset_min * 60000, local = now + off;
    int64_t day = (local >= 0 ? local / day_ms : (local - day_ms + 1) / day_ms) * day_ms;
    int64_t at = day + (int64_t)minute_of_day * 60000;
    if (at <= local)
        at += day_ms;
    return at - off;
}
