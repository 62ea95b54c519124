/*
 * app — wiring: configuration (shouye.conf, SHOUYE_* environment, flags), and a running
 * server made of store, engine, HTTP front and the capability modules. main.c and the
 * tests build servers through here.
 */
#ifndef SHOUYE_APP_H
#define SHOUYE_APP_H

#include "base/base.h"

typedef struct app_config {
    char db[512];
    char listen[128];
    bool manual_clock;
    int64_t clock_start_ms; /* manual clock start; 0 = now */
    int tz_offset_min;
    int64_t token_ttl_s;
    int repeat_days;
    int threads;
    char log_level[16];
    /* notifications */
    char notify_sms[16]; /* log | kannel */
    char kannel_url[256];
    char kannel_user[64];
    char kannel_password[64];
    char sms_from[32];
    char public_url[256]; /* how the SMS gateway reaches us for delivery reports */
    /* proactive notification (A8) */
    int quiet_from, quiet_to; /* local hours; equal = no quiet hours */
    int sms_rate;             /* proactive SMS per second per incident */
    char web_root[512];       /* the built browser app (web/dist); "" = none */
    bool no_cards; /* the subscriber directory keeps no cards: every 360 view reads the store */
} app_config;

/* Defaults, then the file (if any), then SHOUYE_* environment variables. */
void app_config_defaults(app_config *c);
err app_config_file(app_config *c, const char *path, problem *p);
err app_config_env(app_config *c, problem *p);
/* Set one option by its file name ("db", "listen", …). */
err app_config_set(app_config *c, const char *key, const char *value, problem *p);

typedef struct app app;
/* Open the store (migrating it), start the engine and the HTTP server. */
err app_start(const app_config *c, app **out, problem *p);
/* Register routes only (no listening), to list them. */
void app_print_routes(void);
void app_stop(app *a);

/* `shouye init`: create/migrate the store and the admin user. */
err app_init_store(const char *db, const char *admin_password, problem *p);
/* `shouye demo`: groups, people, policies, rules; then `tickets` historical work orders and
 * `subscribers` subscribers (numbers from demo_msisdn(0 … subscribers-1)). */
err app_demo(const char *db, int64_t tickets, int64_t subscribers, problem *p);
/* The n-th demo subscriber's number. */
void demo_msisdn(int64_t n, char *out, size_t len);

#endif
