/*
 * notify — telling people and systems: a transactional outbox (a message row is written in
 * the same transaction as the change that causes it), a sender thread that delivers each
 * row with retries and back-off and never twice, and adapters: SMS through Kannel's
 * sendsms HTTP interface (delivery reports come back through dlr-url), a `log` adapter as
 * the embedded default, and webhooks to TMF event hubs signed with HMAC-SHA256.
 */
#ifndef SHOUYE_NOTIFY_H
#define SHOUYE_NOTIFY_H

#include "engine/engine.h"
#include "http/http.h"

typedef struct notify_config {
    const char *sms;        /* "log" (default) or "kannel" */
    const char *kannel_url; /* http://127.0.0.1:13013/cgi-bin/sendsms */
    const char *kannel_user;
    const char *kannel_password;
    const char *sms_from;   /* sender number shown to customers, e.g. 10086 */
    const char *public_url; /* how Kannel reaches us for delivery reports */
    int max_attempts;       /* default 6 */
    int tz;
} notify_config;

typedef struct notify_ctx notify_ctx;

notify_ctx *notify_create(const notify_config *cfg);
void notify_destroy(notify_ctx *n);
/* Hook into the engine (before engine_start): the outbox writer and the wake-ups. */
void notify_attach_engine(notify_ctx *n, engine *e, store_pool *readers);
void notify_register(notify_ctx *n, http_server *s);
/* Start / stop the sender thread (after engine_start / before engine_stop). */
err notify_start(notify_ctx *n);
void notify_stop(notify_ctx *n);

/*
 * On the engine thread, inside a command: queue a message in the same transaction.
 * `channel` "sms" (recipient an MSISDN) or "webhook" (recipient a URL).
 */
err notify_enqueue(engine *e, const char *channel, const char *recipient, const char *tmpl,
                   const char *body, const char *entity_type, const char *entity_id,
                   int64_t hub_id);

/* The same, held back until `not_before` (quiet hours, rate spreading); `*id` gets its id
 * (or, when > 0 on entry, is the id to use: one taken with engine_next_id(e, "outbox")). */
err notify_enqueue_at(engine *e, const char *channel, const char *recipient, const char *tmpl,
                      const char *body, const char *entity_type, const char *entity_id,
                      int64_t not_before, int64_t *id);

/* Many at once (a few INSERT statements instead of one per message); ids taken where 0. */
typedef struct notify_row {
    int64_t id;
    const char *channel, *recipient, *tmpl, *body, *entity_type, *entity_id;
    int64_t hub_id, not_before;
} notify_row;
err notify_enqueue_rows(engine *e, notify_row *rows, int n);

/* Is this a mainland mobile number (11 digits starting with 1, optional 86 prefix)? */
bool notify_msisdn_ok(const char *s);

#endif
