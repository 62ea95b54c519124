/*
 * app.c — configuration and wiring. One immutable app_config is built in main from
 * defaults, shouye.conf, SHOUYE_* variables and flags, in that order, and passed down.
 */
#include "app.h"

#include "assurance/assurance.h"
#include "auth/auth.h"
#include "engine/engine.h"
#include "http/http.h"
#include "store/store.h"
#include "customers/customers.h"
#include "customers/directory.h"
#include "notify/notify.h"
#include "tickets/tickets.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void app_config_defaults(app_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->db, sizeof c->db, "var/shouye.db");
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    c->tz_offset_min = 480;
    c->token_ttl_s = 12 * 3600;
    c->repeat_days = 30;
    snprintf(c->log_level, sizeof c->log_level, "info");
    snprintf(c->notify_sms, sizeof c->notify_sms, "log");
    snprintf(c->kannel_url, sizeof c->kannel_url, "http://127.0.0.1:13013/cgi-bin/sendsms");
    snprintf(c->sms_from, sizeof c->sms_from, "10086");
    c->quiet_from = 22;
    c->quiet_to = 8;
    c->sms_rate = 200;
    snprintf(c->web_root, sizeof c->web_root, "web/dist");
}

typedef struct {
    const char *key, *env, *help;
} option_def;

static const option_def options[] = {
    {"db", "SHOUYE_DB", "SQLite file path or postgresql:// URL"},
    {"listen", "SHOUYE_LISTEN", "address:port to serve on"},
    {"clock", "SHOUYE_CLOCK", "real | manual (tests move time through the admin clock API)"},
    {"clock_start", "SHOUYE_CLOCK_START", "manual clock start, ISO 8601"},
    {"tz_offset", "SHOUYE_TZ_OFFSET", "minutes east of UTC for rendering and calendars"},
    {"token_ttl", "SHOUYE_TOKEN_TTL", "session lifetime in seconds"},
    {"repeat_days", "SHOUYE_REPEAT_DAYS", "window for repeat complaints in days"},
    {"threads", "SHOUYE_THREADS", "HTTP worker threads (0 = cores)"},
    {"log_level", "SHOUYE_LOG_LEVEL", "debug | info | warn | error"},
    {"notify_sms", "SHOUYE_NOTIFY_SMS", "log | kannel"},
    {"kannel_url", "SHOUYE_KANNEL_URL", "Kannel sendsms URL"},
    {"kannel_user", "SHOUYE_KANNEL_USER", "Kannel sendsms-user"},
    {"kannel_password", "SHOUYE_KANNEL_PASSWORD", "Kannel sendsms password"},
    {"sms_from", "SHOUYE_SMS_FROM", "sender number"},
    {"public_url", "SHOUYE_PUBLIC_URL", "base URL the SMS gateway uses for delivery reports"},
    {"quiet_hours", "SHOUYE_QUIET_HOURS",
     "FROM-TO local hours when proactive SMS wait, e.g. 22-8 (0-0: none)"},
    {"sms_rate", "SHOUYE_SMS_RATE", "proactive SMS released per second per incident"},
    {"web_root", "SHOUYE_WEB_ROOT", "directory of the built browser app (\"\" for none)"},
    {"subscriber_cards", "SHOUYE_SUBSCRIBER_CARDS",
     "on | off: keep every subscriber's 360-view facts in memory (~175 B a subscriber)"},
};

err app_config_set(app_config *c, const char *key, const char *v, problem *p)
{
    int64_t n;
    if (strcmp(key, "db") == 0) {
        if (!*v || strlen(v) >= sizeof c->db)
            return problem_field(p, "db", "must be a path or URL");
        snprintf(c->db, sizeof c->db, "%s", v);
    } else if (strcmp(key, "listen") == 0) {
        if (!strchr(v, ':') || strlen(v) >= sizeof c->listen)
            return problem_field(p, "listen", "must be HOST:PORT");
        snprintf(c->listen, sizeof c->listen, "%s", v);
    } else if (strcmp(key, "clock") == 0) {
        if (strcmp(v, "real") && strcmp(v, "manual"))
            return problem_field(p, "clock", "must be real or manual");
        c->manual_clock = strcmp(v, "manual") == 0;
    } else if (strcmp(key, "clock_start") == 0) {
        if (time_parse_iso(v, c->tz_offset_min, &c->clock_start_ms))
            return problem_field(p, "clock_start", "must be an ISO 8601 date-time");
    } else if (strcmp(key, "tz_offset") == 0) {
        if (parse_i64(v, -720, 840, &n))
            return problem_field(p, "tz_offset", "must be minutes -720 … 840");
        c->tz_offset_min = (int)n;
    } else if (strcmp(key, "token_ttl") == 0) {
        if (parse_i64(v, 60, 30 * 86400, &n))
            return problem_field(p, "token_ttl", "must be 60 … 2592000 seconds");
        c->token_ttl_s = n;
    } else if (strcmp(key, "repeat_days") == 0) {
        if (parse_i64(v, 1, 365, &n))
            return problem_field(p, "repeat_days", "must be 1 … 365");
        c->repeat_days = (int)n;
    } else if (strcmp(key, "threads") == 0) {
        if (parse_i64(v, 0, 256, &n))
            return problem_field(p, "threads", "must be 0 … 256");
        c->threads = (int)n;
    } else if (strcmp(key, "log_level") == 0) {
        if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") && strcmp(v, "error"))
            return problem_field(p, "log_level", "must be debug, info, warn or error");
        snprintf(c->log_level, sizeof c->log_level, "%s", v);
    } else if (strcmp(key, "notify_sms") == 0) {
        if (strcmp(v, "log") && strcmp(v, "kannel"))
            return problem_field(p, "notify_sms", "must be log or kannel");
        snprintf(c->notify_sms, sizeof c->notify_sms, "%s", v);
    } else if (strcmp(key, "kannel_url") == 0 || strcmp(key, "public_url") == 0) {
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return problem_field(p, key, "must be an http:// or https:// URL");
        char *dst = strcmp(key, "kannel_url") == 0 ? c->kannel_url : c->public_url;
        size_t cap = strcmp(key, "kannel_url") == 0 ? sizeof c->kannel_url : sizeof c->public_url;
        if (strlen(v) >= cap)
            return problem_field(p, key, "too long");
        snprintf(dst, cap, "%s", v);
    } else if (strcmp(key, "kannel_user") == 0) {
        snprintf(c->kannel_user, sizeof c->kannel_user, "%s", v);
    } else if (strcmp(key, "kannel_password") == 0) {
        snprintf(c->kannel_password, sizeof c->kannel_password, "%s", v);
    } else if (strcmp(key, "sms_from") == 0) {
        snprintf(c->sms_from, sizeof c->sms_from, "%s", v);
    } else if (strcmp(key, "quiet_hours") == 0) {
        int a, b, used = 0;
        if (sscanf(v, "%d-%d%n", &a, &b, &used) != 2 || v[used] || a < 0 || a > 23 || b < 0 ||
            b > 23)
            return problem_field(p, "quiet_hours", "must be FROM-TO hours 0 … 23, like 22-8");
        c->quiet_from = a;
        c->quiet_to = b;
    } else if (strcmp(key, "web_root") == 0) {
        if (strlen(v) >= sizeof c->web_root)
            return problem_field(p, "web_root", "too long");
        snprintf(c->web_root, sizeof c->web_root, "%s", v);
    } else if (strcmp(key, "subscriber_cards") == 0) {
        if (strcmp(v, "on") && strcmp(v, "off"))
            return problem_field(p, "subscriber_cards", "must be on or off");
        c->no_cards = strcmp(v, "off") == 0;
    } else if (strcmp(key, "sms_rate") == 0) {
        if (parse_i64(v, 1, 100000, &n))
            return problem_field(p, "sms_rate", "must be 1 … 100000 per second");
        c->sms_rate = (int)n;
    } else {
        return problem_set(p, ERR_INVALID, 400, "unknownField", key, "%s: unknown option", key);
    }
    return ERR_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

err app_config_file(app_config *c, const char *path, problem *p)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return problem_set(p, ERR_NOTFOUND, 400, "invalidField", "config", "config: cannot read %s",
                           path);
    char line[1024];
    int no = 0;
    err rc = ERR_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        no++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = problem_set(p, ERR_INVALID, 400, "invalidField", "config",
                             "%s:%d: expected key = value", path, no);
            break;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = 0;
            v++;
        }
        rc = app_config_set(c, k, v, p);
        if (rc && p) {
            char m[sizeof p->message];
            snprintf(m, sizeof m, "%s:%d: %s", path, no, p->message);
            snprintf(p->message, sizeof p->message, "%s", m);
        }
    }
    fclose(f);
    return rc;
}

err app_config_env(app_config *c, problem *p)
{
    for (size_t i = 0; i < ARRAY_LEN(options); i++) {
        const char *v = getenv(options[i].env);
        if (v && *v) {
            err rc = app_config_set(c, options[i].key, v, p);
            if (rc)
                return rc;
        }
    }
    return ERR_OK;
}

/* the whole operator's activity as it happens (the event log and stream): for the floor's
   supervisors, QA and the integrators' feeds — not for every agent's token */
#define EVENT_READERS (ROLE_SUPERVISOR | ROLE_QA | ROLE_ADMIN | ROLE_INTEGRATION)

/* ---- the running server ---- */

struct app {
    app_config cfg;
    sy_clock *clk;
    store_pool *readers;
    engine *eng;
    http_server *http;
    auth_ctx *auth;
    tickets_ctx *tickets;
    notify_ctx *notify;
    customers_ctx *customers;
    assurance_ctx *assurance;
    directory *dir; /* the subscriber directory: callers of signals without a store read */
};

/* GET /metrics: the subscriber directory */
static void app_metrics(void *ctx, buf *b)
{
    app *a = ctx;
    size_t bytes = 0, n = directory_size(a->dir, &bytes);
    buf_printf(b,
               "# HELP shouye_directory_subscribers Subscribers the in-memory directory knows.\n"
               "# TYPE shouye_directory_subscribers gauge\n"
               "shouye_directory_subscribers %zu\n"
               "# HELP shouye_directory_ready 1 when the directory is built and answering.\n"
               "# TYPE shouye_directory_ready gauge\n"
               "shouye_directory_ready %d\n"
               "# HELP shouye_directory_bytes Memory of the directory's tables.\n"
               "# TYPE shouye_directory_bytes gauge\n"
               "shouye_directory_bytes %zu\n",
               n, directory_ready(a->dir) ? 1 : 0, bytes);
}

/* GET/POST /api/v1/admin/clock */
static json_t *clock_json(engine *e, int tz)
{
    char t[40];
    time_iso(engine_now(e), tz, t, sizeof t);
    return json_pack("{s:s, s:I, s:s}", "now", t, "nowMs", (json_int_t)engine_now(e), "mode",
                     clock_is_manual(engine_clock(e)) ? "manual" : "real");
}

static void clock_get(req *r)
{
    req_json(r, 200, clock_json(req_engine(r), req_tz(r)));
}

static err apply_clock(engine *e, cmd *c)
{
    int64_t to = json_integer_value(json_object_get(c->in, "to"));
    int64_t from = engine_now(e);
    if (clock_set(engine_clock(e), to))
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", "now",
                           "now: the clock never moves backwards");
    err rc =
        engine_emit(e, "clock.advanced", "clock", "engine", c->actor,
                    json_pack("{s:I, s:I}", "fromMs", (json_int_t)from, "toMs", (json_int_t)to));
    if (rc)
        return rc;
    /* timers due by the new time fire in this same batch, before the answer */
    rc = engine_fire_due(e);
    c->out = clock_json(e, (int)json_integer_value(json_object_get(c->in, "tz")));
    return rc;
}

static const json_field clock_fields[] = {
    {"advanceMs", JT_INT, 0, 0, NULL},
    {"now", JT_STRING, 0, 40, NULL},
    {NULL, 0, 0, 0, NULL},
};

static void clock_post(req *r)
{
    engine *e = req_engine(r);
    if (!clock_is_manual(engine_clock(e))) {
        req_fail(r, 409, "conflict", "", "the clock is real; start the server with --clock=manual");
        return;
    }
    json_t *b = req_body(r);
    problem p = {0};
    if (!b)
        return;
    if (json_check(b, clock_fields, "", &p)) {
        req_problem(r, &p);
        return;
    }
    json_t *adv = json_object_get(b, "advanceMs");
    const char *now = jstr(b, "now");
    if (!!adv == !!now) {
        req_fail(r, 400, "invalidField", "advanceMs", "advanceMs: give advanceMs or now (one)");
        return;
    }
    int64_t to;
    if (adv) {
        if (json_integer_value(adv) < 0 || json_integer_value(adv) > 10LL * 365 * 86400000) {
            req_fail(r, 400, "invalidField", "advanceMs", "advanceMs: 0 … ten years");
            return;
        }
        to = engine_now(e) + json_integer_value(adv);
    } else if (time_parse_iso(now, req_tz(r), &to)) {
        req_fail(r, 400, "invalidField", "now", "now: must be an ISO 8601 date-time");
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:I, s:i}", "to", (json_int_t)to, "tz", req_tz(r));
    c->apply = apply_clock;
    req_submit(r);
}

static const route app_routes[] = {
    {"GET", "/api/v1/admin/clock", ROLE_ADMIN, clock_get},
    {"POST", "/api/v1/admin/clock", ROLE_ADMIN, clock_post},
    {NULL, NULL, 0, NULL},
};

static void publish(void *ctx, const event_rec *ev)
{
    http_publish_event(ctx, ev);
}

static log_level level_of(const char *s)
{
    if (strcmp(s, "debug") == 0)
        return LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return LOG_WARN;
    if (strcmp(s, "error") == 0)
        return LOG_ERROR;
    return LOG_INFO;
}

err app_start(const app_config *c, app **out, problem *p)
{
    *out = NULL;
    log_set_level(level_of(c->log_level));
    store *w;
    err rc = store_open(c->db, true, &w, p);
    if (rc)
        return rc;
    rc = store_migrate(w, p);
    if (rc) {
        store_close(w);
        return rc;
    }
    int64_t start = c->clock_start_ms;
    if (c->manual_clock && !start) {
        /* a manual clock resumes where the history ends: time never runs backwards */
        int64_t last = 0;
        store_scalar(w, "SELECT MAX(time) FROM events", NULL, 0, 0, &last);
        start = last > time_real_ms() ? last : time_real_ms();
    }
    app *a = xcalloc(1, sizeof *a);
    a->cfg = *c;
    a->clk = clock_create(c->manual_clock, start);
    a->readers = store_pool_create(c->db);
    a->eng = engine_create(w, a->clk);
    tickets_config tcfg = {.repeat_days = c->repeat_days, .tz = c->tz_offset_min};
    a->tickets = tickets_create(&tcfg, a->eng);
    http_config hc = {
        .listen = c->listen, .threads = c->threads, .tz_offset_min = c->tz_offset_min};
    a->http = http_create(&hc, a->eng, a->readers);
    engine_subscribe(a->eng, publish, a->http);
    a->auth = auth_create(a->readers, c->token_ttl_s);
    auth_attach_engine(a->auth, a->eng);
    http_add_builtin_routes(a->http, EVENT_READERS);
    auth_register(a->auth, a->http);
    tickets_register(a->tickets, a->http);
    char public_url[300];
    snprintf(public_url, sizeof public_url, "%s", c->public_url);
    if (!public_url[0])
        snprintf(public_url, sizeof public_url, "http://%s", c->listen);
    notify_config ncfg = {.sms = c->notify_sms,
                          .kannel_url = c->kannel_url,
                          .kannel_user = c->kannel_user,
                          .kannel_password = c->kannel_password,
                          .sms_from = c->sms_from,
                          .public_url = public_url,
                          .tz = c->tz_offset_min};
    a->notify = notify_create(&ncfg);
    notify_attach_engine(a->notify, a->eng, a->readers);
    notify_register(a->notify, a->http);
    a->dir = directory_create(c->db, !c->no_cards);
    a->customers = customers_create(c->tz_offset_min, a->dir);
    engine_set_ctx(a->eng, ENGINE_CTX_CUSTOMERS, a->customers);
    customers_attach_engine(a->customers, a->eng);
    customers_register(a->customers, a->http);
    assurance_config acfg = {.tz = c->tz_offset_min,
                             .quiet_from = c->quiet_from,
                             .quiet_to = c->quiet_to,
                             .sms_per_s = c->sms_rate,
                             .directory = a->dir};
    a->assurance = assurance_create(&acfg);
    customers_set_assurance(a->customers, a->assurance);
    assurance_attach_engine(a->assurance, a->eng, a->tickets);
    assurance_register(a->assurance, a->http);
    http_add_routes(a->http, app_routes, a);
    http_set_metrics(a->http, app_metrics, a);
    if (c->web_root[0])
        http_set_web_root(a->http, c->web_root); /* absent: the API alone */
    /* in the background (lookups ask the store meanwhile); asked before any command runs */
    directory_build(a->dir);
    rc = engine_start(a->eng, p);
    if (!rc)
        rc = http_start(a->http, p);
    if (!rc)
        assurance_start(a->assurance, a->eng);

    if (!rc && notify_start(a->notify))
        rc = problem_set(p, ERR_INTERNAL, 500, "internal", "", "cannot start the notifier");
    if (rc) {
        app_stop(a);
        return rc;
    }
    LOGI("app", "msg=\"serving\" db_backend=%s clock=%s", store_kind(w),
         c->manual_clock ? "manual" : "real");
    *out = a;
    return ERR_OK;
}

void app_stop(app *a)
{
    if (!a)
        return;
    /* order: stop accepting, drain the engine (every waiting request is answered), close */
    http_quiesce(a->http);
    notify_stop(a->notify); /* it submits to the engine: stop it first */
    assurance_stop(a->assurance); /* so does the prober */
    engine_stop(a->eng);
    http_stop(a->http);
    http_destroy(a->http);
    engine_destroy(a->eng);
    tickets_destroy(a->tickets);
    notify_destroy(a->notify);
    customers_destroy(a->customers);
    assurance_destroy(a->assurance);
    directory_free(a->dir);
    auth_destroy(a->auth);
    store_pool_destroy(a->readers);
    clock_destroy(a->clk);
    free(a);
    LOGI("app", "msg=\"stopped\"");
}

static void print_route(void *ctx, const route *rt)
{
    (void)ctx;
    printf("%s %s\n", rt->method, rt->path);
}

void app_print_routes(void)
{
    http_config hc = {.listen = "127.0.0.1:0"};
    http_server *h = http_create(&hc, NULL, NULL);
    http_add_builtin_routes(h, EVENT_READERS);
    auth_register(NULL, h);
    tickets_register(NULL, h);
    notify_register(NULL, h);
    customers_register(NULL, h);
    assurance_register(NULL, h);
    http_add_routes(h, app_routes, NULL);
    http_each_route(h, print_route, NULL);
    http_destroy(h);
}

err app_init_store(const char *db, const char *admin_password, problem *p)
{
    store *s;
    err rc = store_open(db, true, &s, p);
    if (rc)
        return rc;
    rc = store_migrate(s, p);
    if (!rc) {
        int64_t have = 0;
        store_scalar(s, "SELECT COUNT(*) FROM users WHERE username = 'admin'", NULL, 0, 0, &have);
        char generated[64];
        const char *pw = admin_password;
        if (!pw && !have) {
            rand_token(generated, sizeof generated, 12);
            pw = generated;
            printf("admin password (shown once): %s\n", pw);
        }
        if (pw) {
            rc = auth_ensure_group(s, "admins", "系统管理员", "administrators", NULL, p);
            const char *const groups[] = {"admins", NULL};
            if (!rc)
                rc = auth_ensure_user(s, "admin", "系统管理员", pw, ROLE_ADMIN | ROLE_SUPERVISOR,
                                      groups, p);
        }
    }
    store_close(s);
    return rc;
}
