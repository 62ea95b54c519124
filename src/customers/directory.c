/*
 * directory.c — the subscriber directory: number → attachment position, area and card (the
 * facts of the 360 view, card.h), in memory.
 *
 * Why: a batch of complaint signals names 5,000 callers; each one looked up in the store is a
 * random B-tree descent on a reader connection, and SQLite drops a reader's file mapping
 * whenever the store changed since its last read — on every request while signals stream in —
 * so every descent faulted its pages in again (11 µs a caller, measured; 0.2 µs here). And an
 * agent's overview read six tables (ten B-trees) for facts that change far less often than
 * they are read; at 10,000,000 subscribers those pages do not stay in the page cache.
 *
 * How: an open-addressing table of 24-byte slots (the number packed in 64 bits, the position,
 * an interned area, the card), built from the store in keyset pages on a background thread
 * and then answered under a read lock. It is never stale: the engine forgets a subscriber
 * whose area or attachment it changes (before the commit: until then the store still says the
 * old, so a miss is always right) and, after every commit that changed a subscriber, reads it
 * again (directory_refresh, between batches, before the change is answered); the numbers
 * changed since a build was asked for are taken from the table in use when it is installed
 * (or left out); a topology import that renumbers positions, or refreshed segments, drop
 * everything and build again. A build is asked for only while no command is half applied —
 * before the engine starts, or from the event callback between batches — so no change made
 * before it was asked for and committed after escapes its log. Numbers that are not plain
 * digits are asked of the store. Memory: ~24 bytes a subscriber without cards (load ≤ 0.7),
 * plus the card (a few hundred bytes).
 */
#include "customers/directory.h"

#include "base/base.h"
#include "customers/card.h"
#include "store/store.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#define PAGE_ROWS 20000
#define DICT_BYTES (32 * 1024) /* the cards' dictionary, trained on the first page */
#define DICT_MIN_SAMPLES 1000  /* fewer cards than this: kept as they are */
#define PAGE_SQL_LIMIT " LIMIT 20000"

typedef struct {
    uint64_t key;  /* 0 = empty */
    int32_t pos;   /* -1 = no attachment */
    uint32_t area; /* 0 = none, else index + 1 into areas */
    uint8_t *card; /* NULL, or a card: the sections' length and the kept length (4 bytes each),
                      how they are kept (1 byte: 0 as they are, 1 zstd with the table's
                      dictionary) and the kept bytes */
} slot;

typedef struct {
    slot *slots;
    size_t cap, n; /* cap: a power of two */
    size_t card_bytes;
    char **areas;
    uint32_t nareas, careas;
    uint32_t *ahash; /* area index + 1, open addressing */
    size_t acap;
    ZSTD_CDict *cdict; /* the cards' dictionary, NULL: none */
    ZSTD_DDict *ddict;
    size_t dict_bytes;
} table;

struct directory {
    char *url;
    bool cards;
    pthread_rwlock_t rw; /* the table */
    table t;
    bool ready;
    pthread_mutex_t mu; /* the rest */
    pthread_cond_t idle;
    unsigned gen, built_gen; /* a build is wanted while they differ */
    bool running, joinable;  /* running: from the request of a build until it is installed */
    atomic_bool stop;
    pthread_t thread;
    /* numbers forgotten or refreshed since a build was asked for: at its end, the new table
       takes them from the current one (refreshed after their change) or forgets them */
    uint64_t *touched;
    size_t ntouched, ctouched;
    ZSTD_CCtx *cctx; /* under mu: the engine's refreshes, the builder's moves */
};

/* digits only, 1…17 of them, with their count in the top bits ("0123" ≠ "123"); 0 = no key */
static uint64_t key_of(const char *m)
{
    uint64_t v = 0;
    size_t len = 0;
    for (; m && m[len]; len++) {
        if (m[len] < '0' || m[len] > '9' || len >= 17)
            return 0;
        v = v * 10 + (uint64_t)(m[len] - '0');
    }
    return len ? ((uint64_t)len << 59) | v : 0;
}

static size_t hash64(uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 17);
}

static void card_free(table *t, uint8_t *card)
{
    if (card)
        t->card_bytes -= malloc_usable_size(card);
    free(card);
}

#define CARD_HEAD 9

/* a card of the sections in `b`, compressed with t's dictionary when it has one */
static uint8_t *card_new(const table *t, const buf *b, ZSTD_CCtx *cctx)
{
    uint32_t n = (uint32_t)b->len;
    uint8_t *z = NULL;
    size_t zn = 0;
    if (t->cdict && cctx) {
        z = xmalloc(ZSTD_compressBound(b->len));
        zn = ZSTD_compress_usingCDict(cctx, z, ZSTD_compressBound(b->len), b->data, b->len,
                                      t->cdict);
        if (ZSTD_isError(zn) || zn >= b->len)
            zn = 0;
    }
    uint32_t kept = (uint32_t)(zn ? zn : b->len);
    uint8_t *card = xmalloc(CARD_HEAD + kept);
    memcpy(card, &n, 4);
    memcpy(card + 4, &kept, 4);
    card[8] = zn ? 1 : 0;
    memcpy(card + CARD_HEAD, zn ? z : (const uint8_t *)b->data, kept);
    free(z);
    return card;
}

/* each thread that reads cards has its own decompression context */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;
static void dctx_free(void *p)
{
    ZSTD_freeDCtx(p);
}
static void dctx_init(void)
{
    pthread_key_create(&dctx_key, dctx_free);
}

/* the sections of a card of table t, into `out` */
static bool card_open(const table *t, const uint8_t *card, buf *out)
{
    uint32_t n, kept;
    memcpy(&n, card, 4);
    memcpy(&kept, card + 4, 4);
    out->len = 0;
    if (card[8] == 0)
        return buf_add(out, card + CARD_HEAD, n) == ERR_OK;
    if (!t->ddict)
        return false;
    pthread_once(&dctx_once, dctx_init);
    ZSTD_DCtx *dctx = pthread_getspecific(dctx_key);
    if (!dctx) {
        dctx = ZSTD_createDCtx();
        pthread_setspecific(dctx_key, dctx);
    }
    buf_reserve(out, n);
    size_t got = ZSTD_decompress_usingDDict(dctx, out->data, n, card + CARD_HEAD, kept, t->ddict);
    if (ZSTD_isError(got) || got != n)
        return false;
    out->len = n;
    return true;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].card);
    ZSTD_freeCDict(t->cdict);
    ZSTD_freeDDict(t->ddict);
    free(t->slots);
    for (uint32_t i = 0; i < t->nareas; i++)
        free(t->areas[i]);
    free(t->areas);
    free(t->ahash);
    memset(t, 0, sizeof *t);
}

static slot *find_slot(const table *t, uint64_t k)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash64(k) & mask;; i = (i + 1) & mask) {
        if (t->slots[i].key == k)
            return &t->slots[i];
        if (!t->slots[i].key)
            return NULL;
    }
}

static void put_slot(table *t, slot s)
{
    if ((t->n + 1) * 10 > t->cap * 7) { /* grow to keep the load under 0.7 */
        table g = *t;
        g.cap = t->cap ? t->cap * 2 : 1024;
        g.slots = xcalloc(g.cap, sizeof *g.slots);
        g.n = 0;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].key) {
                size_t mask = g.cap - 1, j = hash64(t->slots[i].key) & mask;
                while (g.slots[j].key)
                    j = (j + 1) & mask;
                g.slots[j] = t->slots[i];
                g.n++;
            }
        free(t->slots);
        *t = g;
    }
    size_t mask = t->cap - 1, i = hash64(s.key) & mask;
    while (t->slots[i].key && t->slots[i].key != s.key)
        i = (i + 1) & mask;
    if (!t->slots[i].key)
        t->n++;
    else
        card_free(t, t->slots[i].card);
    t->slots[i] = s;
    t->card_bytes += s.card ? malloc_usable_size(s.card) : 0;
}

/* linear probing: delete by shifting the following run back (no tombstones) */
static void del_slot(table *t, uint64_t k)
{
    slot *s = find_slot(t, k);
    if (!s)
        return;
    card_free(t, s->card);
    size_t mask = t->cap - 1, i = (size_t)(s - t->slots), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slots[j].key)
            break;
        size_t h = hash64(t->slots[j].key) & mask;
        bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays)
            continue;
        t->slots[i] = t->slots[j];
        i = j;
    }
    t->slots[i].key = 0;
    t->n--;
}

static uint32_t area_id(table *t, const char *area)
{
    if (!area || !*area)
        return 0;
    if ((t->nareas + 1) * 2 > t->acap) {
        size_t cap = t->acap ? t->acap * 2 : 256;
        uint32_t *h = xcalloc(cap, sizeof *h);
        for (uint32_t i = 0; i < t->nareas; i++) {
            size_t j = (size_t)fnv1a(t->areas[i]) & (cap - 1);
            while (h[j])
                j = (j + 1) & (cap - 1);
            h[j] = i + 1;
        }
        free(t->ahash);
        t->ahash = h;
        t->acap = cap;
    }
    size_t j = (size_t)fnv1a(area) & (t->acap - 1);
    for (; t->ahash[j]; j = (j + 1) & (t->acap - 1))
        if (strcmp(t->areas[t->ahash[j] - 1], area) == 0)
            return t->ahash[j];
    if (t->nareas == t->careas) {
        t->careas = t->careas ? t->careas * 2 : 256;
        t->areas = xrealloc(t->areas, t->careas * sizeof *t->areas);
    }
    t->areas[t->nareas++] = xstrdup(area);
    t->ahash[j] = t->nareas;
    return t->nareas;
}

typedef struct {
    table *t;
    ZSTD_CCtx *cctx;
    buf samples; /* training: the first page's cards, end to end */
    size_t *sizes, nsizes;
} fill_ctx;

/* a page's subscriber with its card (card_page: the number, then the profile's columns) */
static void fill_card(void *ctx, const store_res *page, int i, const uint8_t *card, size_t n)
{
    fill_ctx *fc = ctx;
    table *t = fc->t;
    uint64_t k = key_of(store_text(page, i, 0));
    int64_t pos =
        store_isnull(page, i, 1 + CARD_COL_POS) ? -1 : store_int(page, i, 1 + CARD_COL_POS);
    if (!k || pos > INT32_MAX || pos < -1)
        return; /* asked of the store */
    buf b = {.data = (char *)card, .len = n};
    put_slot(t, (slot){k, (int32_t)pos, area_id(t, store_text(page, i, 1 + CARD_COL_AREA)),
                       card_new(t, &b, fc->cctx)});
}

static void sample_card(void *ctx, const store_res *page, int i, const uint8_t *card, size_t n)
{
    (void)page;
    fill_ctx *fc = ctx;
    buf_add(&fc->samples, card, n);
    fc->sizes[i] = n;
    fc->nsizes = (size_t)i + 1;
}

/*
 * The dictionary the cards are compressed with, trained on the first page: most of a card is
 * what many cards say (column names do not appear, but plan names, allowances, areas, dates,
 * statuses do), so each keeps little more than what is its own — ~3× smaller.
 */
static void train(store *s, fill_ctx *fc)
{
    fc->sizes = xcalloc(PAGE_ROWS, sizeof *fc->sizes);
    buf_init(&fc->samples, 0);
    int n = 0;
    char last[32];
    if (card_page(s, "", PAGE_ROWS, sample_card, fc, &n, last, sizeof last) == ERR_OK &&
        fc->nsizes >= DICT_MIN_SAMPLES) {
        void *dict = xmalloc(DICT_BYTES);
        size_t len = ZDICT_trainFromBuffer(dict, DICT_BYTES, fc->samples.data, fc->sizes,
                                           (unsigned)fc->nsizes);
        if (!ZDICT_isError(len)) {
            fc->t->cdict = ZSTD_createCDict(dict, len, 3);
            fc->t->ddict = ZSTD_createDDict(dict, len);
            fc->t->dict_bytes = 2 * len;
        }
        free(dict);
    }
    buf_free(&fc->samples);
    free(fc->sizes);
}

/* with cards: one pass in number order, a page of subscribers and their cards at a time */
static err fill_cards(directory *d, store *s, table *t)
{
    char last[32] = "";
    fill_ctx fc = {t, ZSTD_createCCtx(), {0}, NULL, 0};
    train(s, &fc);
    err rc = ERR_OK;
    while (!rc && !atomic_load(&d->stop)) {
        int n = 0;
        rc = card_page(s, last, PAGE_ROWS, fill_card, &fc, &n, last, sizeof last);
        if (n < PAGE_ROWS)
            break;
    }
    ZSTD_freeCCtx(fc.cctx);
    return rc;
}

/* one pass over the subscribers, in keyset pages (rowid order on SQLite: the file's order) */
static err fill(directory *d, table *t)
{
    store *s;
    problem p = {0};
    err rc = store_open(d->url, false, &s, &p);
    if (rc) {
        LOGE("directory", "msg=\"cannot open the store\" error=\"%s\"", p.message);
        return rc;
    }
    if (d->cards) {
        rc = fill_cards(d, s, t);
        if (rc)
            LOGE("directory", "msg=\"build failed\" error=\"%s\"", store_errmsg(s));
        store_close(s);
        return atomic_load(&d->stop) ? ERR_BUSY : rc;
    }
    bool pg = store_is_pg(s);
    char last[32] = "";
    int64_t last_row = 0;
    while (!atomic_load(&d->stop)) {
        store_res *r;
        rc = pg ? store_query(s,
                              "SELECT msisdn, attach_pos, area FROM subscribers WHERE msisdn > ?"
                              " ORDER BY msisdn" PAGE_SQL_LIMIT,
                              (store_val[]){SV_S(last)}, 1, &r)
                : store_query(s,
                              "SELECT msisdn, attach_pos, area, rowid FROM subscribers"
                              " WHERE rowid > ? ORDER BY rowid" PAGE_SQL_LIMIT,
                              (store_val[]){SV_I(last_row)}, 1, &r);
        if (rc)
            break;
        int n = store_rows(r);
        for (int i = 0; i < n; i++) {
            uint64_t k = key_of(store_text(r, i, 0));
            int64_t pos = store_isnull(r, i, 1) ? -1 : store_int(r, i, 1);
            if (!k || pos > INT32_MAX || pos < -1)
                continue; /* asked of the store */
            put_slot(t, (slot){k, (int32_t)pos, area_id(t, store_text(r, i, 2)), NULL});
        }
        if (n) {
            snprintf(last, sizeof last, "%s", store_text(r, n - 1, 0));
            if (!pg)
                last_row = store_int(r, n - 1, 3);
        }
        store_res_free(r);
        if (n < PAGE_ROWS)
            break;
    }
    store_close(s);
    return atomic_load(&d->stop) ? ERR_BUSY : rc;
}

static void *builder(void *arg)
{
    directory *d = arg;
    buf moving;
    buf_init(&moving, 0);
    pthread_mutex_lock(&d->mu);
    while (d->built_gen != d->gen && !atomic_load(&d->stop)) {
        unsigned gen = d->gen;
        pthread_mutex_unlock(&d->mu);
        table t = {0};
        int64_t began = time_real_ms();
        err rc = fill(d, &t);
        pthread_mutex_lock(&d->mu);
        if (!rc && gen == d->gen) {
            if (!d->cctx)
                d->cctx = ZSTD_createCCtx();
            pthread_rwlock_wrlock(&d->rw);
            for (size_t i = 0; i < d->ntouched; i++) {
                del_slot(&t, d->touched[i]);
                slot *cur = find_slot(&d->t, d->touched[i]);
                if (cur) { /* refreshed after its change: move it over, its card kept anew */
                    const char *area = cur->area ? d->t.areas[cur->area - 1] : NULL;
                    uint8_t *card = NULL;
                    if (cur->card && card_open(&d->t, cur->card, &moving))
                        card = card_new(&t, &moving, d->cctx);
                    if (!cur->card || card)
                        put_slot(&t, (slot){cur->key, cur->pos, area_id(&t, area), card});
                }
            }
            d->ntouched = 0;
            table_free(&d->t);
            d->t = t;
            d->ready = true;
            pthread_rwlock_unlock(&d->rw);
            LOGI("directory",
                 "msg=\"built\" subscribers=%zu cards_mb=%.1f dictionary_kb=%zu seconds=%.1f", t.n,
                 (double)t.card_bytes / 1048576, t.dict_bytes / 1024,
                 (double)(time_real_ms() - began) / 1000);
        } else {
            table_free(&t);
        }
        if (rc) /* a store error: lookups keep asking the store; the next reset tries again */
            d->built_gen = gen;
        else if (gen == d->gen)
            d->built_gen = gen;
    }
    d->running = false;
    d->ntouched = 0;
    pthread_cond_broadcast(&d->idle);
    pthread_mutex_unlock(&d->mu);
    buf_free(&moving);
    return NULL;
}

directory *directory_create(const char *url, bool cards)
{
    directory *d = xcalloc(1, sizeof *d);
    d->url = xstrdup(url);
    d->cards = cards;
    /* the engine's forget must not wait behind a stream of overlapping signal batches */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&d->rw, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->idle, NULL);
    return d;
}

static void start_builder(directory *d)
{
    if (d->joinable) /* the previous builder has finished (running was false) */
        pthread_join(d->thread, NULL);
    d->joinable = pthread_create(&d->thread, NULL, builder, d) == 0;
    if (!d->joinable) {
        pthread_mutex_lock(&d->mu);
        d->running = false;
        pthread_cond_broadcast(&d->idle);
        pthread_mutex_unlock(&d->mu);
    }
}

/* a build is wanted; `drop`: what the directory holds is wrong now (under mu, so a build
   finishing meanwhile cannot install positions from before a renumbering) */
static void rebuild(directory *d, bool drop)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    if (drop) {
        pthread_rwlock_wrlock(&d->rw);
        table_free(&d->t);
        d->ready = false;
        pthread_rwlock_unlock(&d->rw);
    }
    d->gen++;
    bool start = !d->running && !atomic_load(&d->stop);
    if (start)
        d->running = true;
    pthread_mutex_unlock(&d->mu);
    if (start)
        start_builder(d);
}

void directory_build(directory *d)
{
    rebuild(d, false);
}

bool directory_wait(directory *d)
{
    pthread_mutex_lock(&d->mu);
    while (d->running)
        pthread_cond_wait(&d->idle, &d->mu);
    pthread_mutex_unlock(&d->mu);
    return directory_ready(d);
}

void directory_free(directory *d)
{
    if (!d)
        return;
    atomic_store(&d->stop, true);
    if (d->joinable)
        pthread_join(d->thread, NULL);
    table_free(&d->t);
    free(d->touched);
    ZSTD_freeCCtx(d->cctx);
    free(d->url);
    pthread_rwlock_destroy(&d->rw);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->idle);
    free(d);
}

void directory_lock(directory *d)
{
    pthread_rwlock_rdlock(&d->rw);
}

void directory_unlock(directory *d)
{
    pthread_rwlock_unlock(&d->rw);
}

bool directory_find(const directory *d, const char *msisdn, bool *has_pos, int64_t *pos,
                    const char **area)
{
    uint64_t k = d->ready ? key_of(msisdn) : 0;
    const slot *s = k ? find_slot(&d->t, k) : NULL;
    if (!s)
        return false;
    *has_pos = s->pos >= 0;
    *pos = s->pos >= 0 ? s->pos : 0;
    *area = s->area ? d->t.areas[s->area - 1] : NULL;
    return true;
}

bool directory_card(const directory *d, const char *msisdn, buf *out)
{
    uint64_t k = d->ready ? key_of(msisdn) : 0;
    const slot *s = k ? find_slot(&d->t, k) : NULL;
    return s && s->card && card_open(&d->t, s->card, out);
}

/* under mu: a build running now must not keep what it read of `k` */
static void touch(directory *d, uint64_t k)
{
    if (!d->running)
        return;
    if (d->ntouched == d->ctouched) {
        d->ctouched = d->ctouched ? d->ctouched * 2 : 64;
        d->touched = xrealloc(d->touched, d->ctouched * sizeof *d->touched);
    }
    d->touched[d->ntouched++] = k;
}

void directory_forget(directory *d, const char *msisdn)
{
    uint64_t k = d ? key_of(msisdn) : 0;
    if (!k)
        return;
    pthread_mutex_lock(&d->mu);
    touch(d, k);
    pthread_rwlock_wrlock(&d->rw);
    del_slot(&d->t, k);
    pthread_rwlock_unlock(&d->rw);
    pthread_mutex_unlock(&d->mu);
}

void directory_refresh(directory *d, store *s, const char *msisdn)
{
    uint64_t k = d ? key_of(msisdn) : 0;
    if (!k)
        return;
    /* read before taking any lock: lookups go on meanwhile */
    buf b;
    buf_init(&b, 0);
    store_res *prof = NULL;
    err rc = ERR_OK;
    if (d->cards) {
        rc = card_encode(s, msisdn, &b);
        const uint8_t *p = (const uint8_t *)b.data;
        prof = rc ? NULL : store_res_decode(&p, p + b.len);
    } else {
        prof = card_query(s, CARD_PROFILE, msisdn);
    }
    int64_t pos = store_isnull(prof, 0, CARD_COL_POS) ? -1 : store_int(prof, 0, CARD_COL_POS);
    bool keep = store_rows(prof) == 1 && pos <= INT32_MAX && pos >= -1;
    pthread_mutex_lock(&d->mu);
    touch(d, k);
    if (d->cards && !d->cctx)
        d->cctx = ZSTD_createCCtx();
    /* the table (its dictionary) changes only under mu */
    uint8_t *card = keep && d->cards ? card_new(&d->t, &b, d->cctx) : NULL;
    pthread_rwlock_wrlock(&d->rw);
    if (keep)
        put_slot(&d->t,
                 (slot){k, (int32_t)pos, area_id(&d->t, store_text(prof, 0, CARD_COL_AREA)), card});
    else /* gone, or the store could not say: ask it next time */
        del_slot(&d->t, k);
    pthread_rwlock_unlock(&d->rw);
    pthread_mutex_unlock(&d->mu);
    store_res_free(prof);
    buf_free(&b);
}

void directory_reset(directory *d)
{
    rebuild(d, true);
}

bool directory_has_cards(const directory *d)
{
    return d && d->cards;
}

bool directory_ready(directory *d)
{
    pthread_rwlock_rdlock(&d->rw);
    bool ready = d->ready;
    pthread_rwlock_unlock(&d->rw);
    return ready;
}

size_t directory_size(directory *d, size_t *bytes)
{
    pthread_rwlock_rdlock(&d->rw);
    size_t n = d->t.n;
    if (bytes)
        *bytes = d->t.cap * sizeof(slot) + d->t.acap * sizeof(uint32_t) + d->t.card_bytes +
                 d->t.dict_bytes;
    pthread_rwlock_unlock(&d->rw);
    return n;
}
