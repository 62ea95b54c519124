/*
 * card.c — the sections of a subscriber's 360 view: each defined once (columns, tables, key,
 * order), from which come the query for one subscriber and the query for a range of them
 * (the directory's build reads a page of subscribers with one query per section, not one per
 * subscriber and section: 20,000 subscribers are 6 queries, on PostgreSQL too); and their
 * encoding into the card the subscriber directory keeps (directory.c). See card.h.
 */
#include "customers/card.h"

#include "customers/directory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *cols, *from, *key, *where, *order; /* where: " AND …" or ""; order: may be "" */
    int cap;                                       /* rows kept of one subscriber; 0: all */
} section_def;

static const section_def sections[CARD_NSEC] = {
    [CARD_PROFILE] = {SUB_COLS ", attach_pos", "subscribers", "msisdn", "", "", 0},
    [CARD_PRODUCTS] = {"p.id, p.offer_id, p.kind, p.started, o.name, o.monthly_fee, o.allowance",
                       "subscriber_offers p JOIN offers o ON o.id = p.offer_id", "p.msisdn",
                       " AND p.state = 'active'", "p.kind, p.id", 0},
    [CARD_VAS] = {"v.id, v.vas_id, c.name, v.params, v.started",
                  "subscriber_vas v JOIN vas_catalog c ON c.id = v.vas_id", "v.msisdn",
                  " AND v.state = 'active'", "v.id", 0},
    [CARD_BALANCE] = {"free_fen, frozen_fen, deposit_fen, credit_fen, voice_left_min,"
                      " data_left_mb, sms_left",
                      "balances", "msisdn", "", "", 0},
    [CARD_LINE] = {"online, signal_dbm, terminal, last_seen", "line_state", "msisdn", "", "", 0},
    [CARD_SEGMENTS] = {"segment, score, reasons", "subscriber_segments", "msisdn", "", "segment",
                       0},
    [CARD_TICKETS] = {BRIEF_COLS, "tickets", "customer_id", "", "created DESC, id DESC",
                      CARD_TICKETS_CAP},
};

static char one_sql[CARD_NSEC][512], range_sql[CARD_NSEC][512], page_sql[512];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void build_sql(void)
{
    for (int i = 0; i < CARD_NSEC; i++) {
        const section_def *d = &sections[i];
        char limit[32] = "";
        if (d->cap)
            snprintf(limit, sizeof limit, " LIMIT %d", d->cap);
        snprintf(one_sql[i], sizeof one_sql[i], "SELECT %s FROM %s WHERE %s = ?%s%s%s%s", d->cols,
                 d->from, d->key, d->where, *d->order ? " ORDER BY " : "", d->order, limit);
        /* the key first: rows of a range come grouped by subscriber */
        snprintf(range_sql[i], sizeof range_sql[i],
                 "SELECT %s, %s FROM %s WHERE %s > ? AND %s <= ?%s ORDER BY %s%s%s", d->key,
                 d->cols, d->from, d->key, d->key, d->where, d->key, *d->order ? ", " : "",
                 d->order);
    }
    snprintf(page_sql, sizeof page_sql,
             "SELECT msisdn, %s FROM subscribers WHERE msisdn > ? ORDER BY msisdn LIMIT ?",
             sections[CARD_PROFILE].cols);
}

store_res *card_query(store *s, int sec, const char *msisdn)
{
    pthread_once(&sql_once, build_sql);
    store_res *r;
    return store_query(s, one_sql[sec], (store_val[]){SV_S(msisdn)}, 1, &r) ? NULL : r;
}

void card_sections_free(store_res *out[CARD_NSEC])
{
    for (int i = 0; i < CARD_NSEC; i++) {
        store_res_free(out[i]);
        out[i] = NULL;
    }
}

bool card_decode(const uint8_t *p, size_t n, store_res *out[CARD_NSEC])
{
    const uint8_t *end = p + n;
    for (int i = 0; i < CARD_NSEC; i++) {
        if (!(out[i] = store_res_decode(&p, end))) {
            card_sections_free(out);
            return false;
        }
    }
    return true;
}

bool card_sections(store *s, directory *d, const char *msisdn, store_res *out[CARD_NSEC])
{
    memset(out, 0, sizeof(store_res *) * CARD_NSEC);
    if (d) {
        buf b;
        buf_init(&b, 0);
        directory_lock(d);
        bool hit = directory_card(d, msisdn, &b);
        directory_unlock(d);
        hit = hit && card_decode((const uint8_t *)b.data, b.len, out);
        buf_free(&b);
        if (hit)
            return true;
    }
    for (int i = 0; i < CARD_NSEC; i++) {
        if (!(out[i] = card_query(s, i, msisdn))) {
            card_sections_free(out);
            return false;
        }
    }
    return true;
}

json_t *card_section_json(store *s, int sec, const char *msisdn, int tz)
{
    static void (*const writers[CARD_NSEC])(jw *, const char *, const store_res *, int) = {
        [CARD_PRODUCTS] = customers_products_write, [CARD_VAS] = customers_vas_write,
        [CARD_BALANCE] = customers_balance_write,   [CARD_LINE] = customers_line_write,
        [CARD_SEGMENTS] = customers_segments_write,
    };
    store_res *r = writers[sec] ? card_query(s, sec, msisdn) : NULL;
    if (!r) /* the store failed: as if there were none */
        return sec == CARD_BALANCE || sec == CARD_LINE ? NULL : json_array();
    jw w;
    jw_init(&w);
    writers[sec](&w, NULL, r, tz);
    store_res_free(r);
    json_t *v = jw_parse(&w);
    if (json_is_null(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

err card_encode(store *s, const char *msisdn, buf *out)
{
    for (int i = 0; i < CARD_NSEC; i++) {
        store_res *r = card_query(s, i, msisdn);
        if (!r)
            return ERR_STORE;
        store_res_encode_rows(r, 0, store_rows(r), 0, out);
        store_res_free(r);
    }
    return ERR_OK;
}

/* a page's subscribers by number: index + 1 into the page, open addressing */
typedef struct {
    int *slot;
    size_t cap;
    const store_res *page;
} page_index;

static int page_find(const page_index *x, const char *m)
{
    for (size_t i = (size_t)fnv1a(m) & (x->cap - 1); x->slot[i]; i = (i + 1) & (x->cap - 1))
        if (strcmp(store_text(x->page, x->slot[i] - 1, 0), m) == 0)
            return x->slot[i] - 1;
    return -1;
}

err card_page(store *s, const char *after, int limit, card_page_fn fn, void *ctx, int *rows,
              char *last, size_t lastn)
{
    pthread_once(&sql_once, build_sql);
    store_res *page, *sec[CARD_NSEC] = {0};
    *rows = 0;
    err rc = store_query(s, page_sql, (store_val[]){SV_S(after), SV_I(limit)}, 2, &page);
    if (rc)
        return rc;
    int n = store_rows(page);
    if (!n) {
        store_res_free(page);
        return ERR_OK;
    }
    const char *hi = store_text(page, n - 1, 0);
    for (int i = CARD_PRODUCTS; i < CARD_NSEC && !rc; i++)
        rc = store_query(s, range_sql[i], (store_val[]){SV_S(after), SV_S(hi)}, 2, &sec[i]);
    /* where each subscriber's rows of each section start, and how many */
    int *first = xcalloc((size_t)n * CARD_NSEC, sizeof *first);
    int *count = xcalloc((size_t)n * CARD_NSEC, sizeof *count);
    page_index x = {NULL, 16, page};
    while (x.cap < (size_t)n * 2)
        x.cap *= 2;
    x.slot = xcalloc(x.cap, sizeof *x.slot);
    for (int i = 0; i < n; i++) {
        size_t j = (size_t)fnv1a(store_text(page, i, 0)) & (x.cap - 1);
        while (x.slot[j])
            j = (j + 1) & (x.cap - 1);
        x.slot[j] = i + 1;
    }
    for (int k = CARD_PRODUCTS; k < CARD_NSEC && !rc; k++) {
        for (int j = 0; j < store_rows(sec[k]); j++) {
            int i = page_find(&x, store_text(sec[k], j, 0));
            if (i < 0)
                continue; /* a row whose subscriber is gone */
            if (!count[i * CARD_NSEC + k])
                first[i * CARD_NSEC + k] = j;
            if (!sections[k].cap || count[i * CARD_NSEC + k] < sections[k].cap)
                count[i * CARD_NSEC + k]++;
        }
    }
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < n && !rc; i++) {
        b.len = 0;
        store_res_encode_rows(page, i, 1, 1, &b);
        for (int k = CARD_PRODUCTS; k < CARD_NSEC; k++)
            store_res_encode_rows(sec[k], first[i * CARD_NSEC + k], count[i * CARD_NSEC + k], 1,
                                  &b);
        fn(ctx, page, i, (const uint8_t *)b.data, b.len);
    }
    buf_free(&b);
    free(x.slot);
    free(first);
    free(count);
    if (!rc) {
        *rows = n;
        snprintf(last, lastn, "%s", hi);
    }
    for (int i = 0; i < CARD_NSEC; i++)
        store_res_free(sec[i]);
    store_res_free(page);
    return rc;
}
