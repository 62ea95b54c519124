/*
 * card.h — the facts of one subscriber's 360 view, as a few query results ("sections"): the
 * profile, products, VAS, balance, line state, segments and latest work orders. Each section is
 * read by one query, written here once; each is rendered by its module's renderer from the rows,
 * whether they came from the store or from the card the subscriber directory keeps in
 * memory (an encoding of the same rows, refreshed by the engine after every change).
 * Internal to customers/.
 */
#ifndef SHOUYE_CARD_H
#define SHOUYE_CARD_H

#include "store/store.h"

typedef struct directory directory;

enum {
    CARD_PROFILE,  /* SUB_COLS, then attach_pos */
    CARD_PRODUCTS, /* active products with their offer's name, fee and allowance */
    CARD_VAS,      /* active value-added services with their catalogue name */
    CARD_BALANCE,  /* the balance row, if any */
    CARD_LINE,     /* the line state row, if any */
    CARD_SEGMENTS, /* focus segments */
    CARD_TICKETS,  /* the latest work orders (CARD_TICKETS_CAP at most; as many: maybe more) */
    CARD_NSEC
};

#define BRIEF_COLS                                                                                 \
    "id, ticket_type, category, stage, status, created, assigned_group, sla_state,"                \
    " resolution_due, escalated, repeat_of"
#define CARD_TICKETS_CAP 65

#define SUB_COLS                                                                                   \
    "msisdn, account_id, name, id_type, id_number, address, contacts, level, vip, points, area,"   \
    " attachment, status, created, updated,"                                                       \
    " CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END, sms_opt_out"
/* the profile's columns after SUB_COLS */
#define CARD_COL_AREA 10
#define CARD_COL_POS 17

/* One section of `msisdn` from the store (NULL on a store error; zero rows: none). */
store_res *card_query(store *s, int sec, const char *msisdn);
/*
 * Every section of `msisdn`: from the directory's card when it has one (`d` may be NULL),
 * else from the store. False on a store error (then nothing is left in `out`).
 */
bool card_sections(store *s, directory *d, const char *msisdn, store_res *out[CARD_NSEC]);
void card_sections_free(store_res *out[CARD_NSEC]);
/* Append every section of `msisdn` from the store to `out`, encoded (the directory's card). */
err card_encode(store *s, const char *msisdn, buf *out);
/*
 * Build cards a page at a time, one query per section: the subscribers numbered after
 * `after` in the store's order, at most `limit`; `fn` gets each one's profile row (the number
 * first, then the profile's columns) and card. *rows: how many; *last: the last number.
 */
typedef void (*card_page_fn)(void *ctx, const store_res *page, int row, const uint8_t *card,
                             size_t n);
err card_page(store *s, const char *after, int limit, card_page_fn fn, void *ctx, int *rows,
              char *last, size_t lastn);
/* Decode a card made by card_encode or card_page into `out`; false when it is not one. */
bool card_decode(const uint8_t *p, size_t n, store_res *out[CARD_NSEC]);

/* the writers of the sections (each in its module), into `w` under `key` */
void customers_products_write(jw *w, const char *key, const store_res *r, int tz);
void customers_vas_write(jw *w, const char *key, const store_res *r, int tz);
void customers_balance_write(jw *w, const char *key, const store_res *r, int tz); /* none: null */
void customers_line_write(jw *w, const char *key, const store_res *r, int tz);    /* none: null */
void customers_segments_write(jw *w, const char *key, const store_res *r, int tz);
/*
 * One section of `msisdn` from the store, written by its writer and parsed, for the resources
 * that answer it alone (or add to it). When the store fails, as if there were none: NULL for a
 * one-row section (balance, line), an empty array for the others. Not for the profile or the
 * work orders.
 */
json_t *card_section_json(store *s, int sec, const char *msisdn, int tz);

#endif
