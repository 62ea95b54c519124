/*
 * main.c — the one binary: shouye init | serve | demo | routes | version.
 */
#include "app.h"
#include "trap.h"
#include "store/store.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SHOUYE_VERSION
#define SHOUYE_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "shouye %s — 守夜 customer care and service assurance\n\n"
            "usage:\n"
            "  shouye init  [--db PATH|URL] [--config FILE]   create or migrate the store,\n"
            "                create user admin ($SHOUYE_ADMIN_PASSWORD or a printed one)\n"
            "  shouye serve [--db PATH|URL] [--listen HOST:PORT] [--clock=real|manual]\n"
            "               [--config FILE]\n"
            "  shouye demo  [--db PATH|URL] [--tickets N]     demo groups, people, policies\n"
            "  shouye backup  --db PATH|URL --out FILE        consistent copy of the store\n"
            "  shouye restore --db PATH|URL --from FILE       put a backup back (server stopped)\n"
            "  shouye trap                                    snmptrapd traphandle: a trap on\n"
            "                stdin becomes an alarm ($SHOUYE_TRAP_URL, _USER, _PASSWORD)\n"
            "  shouye routes                                  list every HTTP route\n"
            "  shouye version\n",
            SHOUYE_VERSION);
}

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* --key value / --key=value → config; returns 0 or exits with a message */
static const char *file_arg; /* --out / --from of backup and restore */

static int64_t subscribers_arg;

static int parse_flags(int argc, char **argv, app_config *cfg, int64_t *tickets)
{
    problem p = {0};
    /* a --config file is read first so that other flags override it */
    for (int i = 2; i < argc; i++) {
        if (strncmp(argv[i], "--config", 8) == 0) {
            const char *v = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
            if (!v || app_config_file(cfg, v, &p)) {
                fprintf(stderr, "shouye: %s\n", v ? p.message : "--config needs a file");
                return 2;
            }
        }
    }
    if (app_config_env(cfg, &p)) {
        fprintf(stderr, "shouye: environment: %s\n", p.message);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "shouye: unexpected argument '%s'\n", a);
            return 2;
        }
        char key[64];
        const char *eq = strchr(a, '=');
        const char *val;
        size_t kl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (kl >= sizeof key) {
            fprintf(stderr, "shouye: unknown flag %s\n", a);
            return 2;
        }
        memcpy(key, a + 2, kl);
        key[kl] = 0;
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "shouye: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(key, "config") == 0)
            continue;
        if (strcmp(key, "out") == 0 || strcmp(key, "from") == 0) {
            file_arg = val;
            continue;
        }
        if (strcmp(key, "subscribers") == 0) {
            if (!tickets || parse_i64(val, 0, 100000000, &subscribers_arg)) {
                fprintf(stderr, "shouye: --subscribers must be 0 … 100000000\n");
                return 2;
            }
            continue;
        }
        if (strcmp(key, "tickets") == 0) {
            if (!tickets || parse_i64(val, 0, 100000000, tickets)) {
                fprintf(stderr, "shouye: --tickets must be 0 … 100000000\n");
                return 2;
            }
            continue;
        }
        for (char *k = key; *k; k++)
            if (*k == '-')
                *k = '_';
        if (app_config_set(cfg, key, val, &p)) {
            fprintf(stderr, "shouye: --%s: %s\n", key, p.message);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "version") == 0 || strcmp(sub, "--version") == 0) {
        printf("shouye %s\n", SHOUYE_VERSION);
        return 0;
    }
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(sub, "trap") == 0)
        return trap_main();
    if (strcmp(sub, "routes") == 0) {
        app_print_routes();
        return 0;
    }
    app_config cfg;
    app_config_defaults(&cfg);
    int64_t tickets = 0;
    problem p = {0};
    if (strcmp(sub, "init") == 0) {
        int rc = parse_flags(argc, argv, &cfg, NULL);
        if (rc)
            return rc;
        if (app_init_store(cfg.db, getenv("SHOUYE_ADMIN_PASSWORD"), &p)) {
            fprintf(stderr, "shouye init: %s\n", p.message);
            return 1;
        }
        printf("store ready: %s\n", cfg.db);
        return 0;
    }
    if (strcmp(sub, "demo") == 0) {
        int rc = parse_flags(argc, argv, &cfg, &tickets);
        if (rc)
            return rc;
        if (app_demo(cfg.db, tickets, subscribers_arg, &p)) {
            fprintf(stderr, "shouye demo: %s\n", p.message);
            return 1;
        }
        printf("demo data written to %s (users agent1, agent2, specialist1, specialist2, "
               "engineer1, supervisor1, qa1, integration1; password shouye-demo)\n",
               cfg.db);
        return 0;
    }
    if (strcmp(sub, "backup") == 0 || strcmp(sub, "restore") == 0) {
        int rc = parse_flags(argc, argv, &cfg, NULL);
        if (rc)
            return rc;
        bool backup = strcmp(sub, "backup") == 0;
        if (!file_arg) {
            fprintf(stderr, "shouye %s: %s FILE is required\n", sub, backup ? "--out" : "--from");
            return 2;
        }
        if (backup ? store_backup(cfg.db, file_arg, &p) : store_restore(cfg.db, file_arg, &p)) {
            fprintf(stderr, "shouye %s: %s\n", sub, p.message);
            return 1;
        }
        printf("%s: %s %s %s\n", sub, cfg.db, backup ? "->" : "<-", file_arg);
        return 0;
    }
    if (strcmp(sub, "serve") == 0) {
        int rc = parse_flags(argc, argv, &cfg, NULL);
        if (rc)
            return rc;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        app *a;
        if (app_start(&cfg, &a, &p)) {
            fprintf(stderr, "shouye serve: %s\n", p.message);
            return 1;
        }
        while (!stop_flag)
            pause();
        app_stop(a);
        return 0;
    }
    usage(stderr);
    return 2;
}
