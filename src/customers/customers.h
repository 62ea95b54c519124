/*
 * customers — the subscriber (C1): number and account, identity, address, contacts, level
 * (普通/银卡/金卡/钻石) and VIP flag, points, area and the network element the line hangs
 * from; the service password (argon2id) and its check, rate-limited per number. Personal
 * data is masked for roles that do not need it, and every unmasked view is audited.
 * Tariffs, accounts, bills, VAS and the 360 overview grow here next (issue 3).
 */
#ifndef SHOUYE_CUSTOMERS_H
#define SHOUYE_CUSTOMERS_H

#include "engine/engine.h"
#include "http/http.h"

typedef struct customers_ctx customers_ctx;

typedef struct directory directory;
/* `dir`: the subscriber directory (directory.h) the engine keeps true; may be NULL */
customers_ctx *customers_create(int tz, directory *dir);
void customers_destroy(customers_ctx *c);
void customers_register(customers_ctx *c, http_server *s);
/* offers.c: the catalogue and subscribers' products (C2) */
void customers_register_offers(customers_ctx *c, http_server *s);
/* account.c: balance, payments, charges, arrears (C3, C6) and line state (C5) */
void customers_register_account(customers_ctx *c, http_server *s);
json_t *customers_balance(store *s, const char *msisdn);      /* NULL: no account yet */
json_t *customers_line(store *s, const char *msisdn, int tz); /* NULL: never reported */
/* bills.c: monthly bills and detail records (C3), from the demo source until BOSS supplies them */
void customers_register_bills(customers_ctx *c, http_server *s);
/* vas.c: value-added services (C4) */
void customers_register_vas(customers_ctx *c, http_server *s);
json_t *customers_vas(store *s, const char *msisdn, int tz);
/* segments.c: focus segments (C7) */
void customers_register_segments(customers_ctx *c, http_server *s);
/* Register the nightly refresh timer (before engine_start). */
void customers_attach_engine(customers_ctx *c, engine *e);
/*
 * After each commit: a subscriber's event makes the directory read that subscriber again;
 * refreshed segments or a renumbered topology make it build again.
 */
void customers_on_event(void *ctx, const event_rec *ev);
void customers_set_engine(customers_ctx *c, engine *e);
/* The assurance module, for the incidents shown on the 360 view (may stay unset). */
typedef struct assurance_ctx assurance_ctx;
void customers_set_assurance(customers_ctx *c, assurance_ctx *a);
/* The active products of a subscriber (base plan first), as JSON. */
json_t *customers_products(store *s, const char *msisdn, int tz);

/* Masking helpers (also for logs): 13800138000 → 138****8000; an ID number keeps its first
 * 6 and last 4 characters; an address its first 6 characters. `out` ≥ 64 bytes. */
void mask_phone(const char *s, char *out, size_t n);
void mask_id_number(const char *s, char *out, size_t n);
void mask_address(const char *s, char *out, size_t n);

#endif
