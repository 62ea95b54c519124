/*
 * limiter.c — counting failures per key in a fixed window (login attempts per user and per
 * address, service-password tries per number). A fixed-size table: a key that collides
 * with another simply starts a fresh window, which errs on the side of letting a caller
 * try again rather than locking out a stranger. Real-time clock: these are security limits.
 */
#include "base/base.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[96];
    int64_t since;
    int failures;
} slot;

struct limiter {
    pthread_mutex_t lock;
    int nslots, max;
    int64_t window_ms;
    slot *slots;
};

limiter *limiter_create(int slots, int max_failures, int64_t window_ms)
{
    limiter *l = xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    l->nslots = slots;
    l->max = max_failures;
    l->window_ms = window_ms;
    l->slots = xcalloc((size_t)slots, sizeof *l->slots);
    return l;
}

void limiter_destroy(limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l->slots);
    free(l);
}

static slot *get(limiter *l, const char *key, int64_t now)
{
    slot *s = &l->slots[fnv1a(key) % (uint64_t)l->nslots];
    if (strcmp(s->key, key) != 0 || now - s->since > l->window_ms) {
        snprintf(s->key, sizeof s->key, "%s", key);
        s->since = now;
        s->failures = 0;
    }
    return s;
}

int limiter_left(limiter *l, const char *key, int64_t *retry_s)
{
    int64_t now = time_real_ms();
    pthread_mutex_lock(&l->lock);
    slot *s = get(l, key, now);
    int left = l->max - s->failures;
    if (retry_s)
        *retry_s = (s->since + l->window_ms - now) / 1000 + 1;
    pthread_mutex_unlock(&l->lock);
    return left > 0 ? left : 0;
}

int limiter_record(limiter *l, const char *key, bool ok)
{
    int64_t now = time_real_ms();
    pthread_mutex_lock(&l->lock);
    slot *s = get(l, key, now);
    if (ok)
        s->failures = 0;
    else
        s->failures++;
    int left = l->max - s->failures;
    pthread_mutex_unlock(&l->lock);
    return left > 0 ? left : 0;
}
