/*
 * pg.c — the PostgreSQL backend (libpq). `?` placeholders become $1..$n outside quoted
 * text; every argument goes as text and PostgreSQL infers its type from the statement.
 * Statements that run often are prepared once per connection, named by a hash of the SQL.
 */
#include "store/store_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREP_SLOTS 512

typedef struct {
    PGconn *conn;
    char *prepared[PREP_SLOTS]; /* SQL text of statement "s<slot>" */
} pgc;

static char *translate(const char *sql)
{
    buf b;
    buf_init(&b, 0);
    int n = 0;
    bool quote = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            quote = !quote;
        if (*p == '?' && !quote) {
            char tmp[16];
            snprintf(tmp, sizeof tmp, "$%d", ++n);
            buf_adds(&b, tmp);
        } else {
            buf_add(&b, p, 1);
        }
    }
    return buf_steal(&b);
}

static err pg_open(store *s, const char *url, bool writer, problem *p)
{
    pgc *c = xcalloc(1, sizeof *c);
    c->conn = PQconnectdb(url);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        problem_set(p, ERR_BUSY, 503, "unavailable", "db", "cannot connect to PostgreSQL: %s",
                    PQerrorMessage(c->conn));
        PQfinish(c->conn);
        free(c);
        return ERR_BUSY;
    }
    PGresult *r = PQexec(c->conn, "SET client_min_messages=warning; SET TIME ZONE 'UTC'");
    PQclear(r);
    s->impl = c;
    return ERR_OK;
}

static void pg_close(store *s)
{
    pgc *c = s->impl;
    if (!c)
        return;
    for (int i = 0; i < PREP_SLOTS; i++)
        free(c->prepared[i]);
    PQfinish(c->conn);
    free(c);
}

static err map_error(store *s, PGresult *r)
{
    pgc *c = s->impl;
    snprintf(s->errbuf, sizeof s->errbuf, "%s", PQerrorMessage(c->conn));
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(c->conn) != CONNECTION_OK)
        return ERR_BUSY;
    if (state && strncmp(state, "23", 2) == 0)
        return ERR_CONFLICT;
    if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
        return ERR_BUSY;
    return ERR_STORE;
}

static err pg_exec(store *s, const char *sql, const store_val *args, int n, store_res **out)
{
    pgc *c = s->impl;
    if (PQstatus(c->conn) != CONNECTION_OK) {
        PQreset(c->conn);
        for (int i = 0; i < PREP_SLOTS; i++) {
            free(c->prepared[i]);
            c->prepared[i] = NULL;
        }
        if (PQstatus(c->conn) != CONNECTION_OK)
            return map_error(s, NULL);
    }
    char nums[64][24];
    const char *vals[64];
    const char **values = vals;
    char(*numbuf)[24] = nums;
    if (n > 64) {
        values = xmalloc(sizeof(char *) * (size_t)n);
        numbuf = xmalloc(24 * (size_t)n);
    }
    for (int i = 0; i < n; i++) {
        switch (args[i].k) {
        case SV_NULL:
            values[i] = NULL;
            break;
        case SV_INT:
            snprintf(numbuf[i], 24, "%lld", (long long)args[i].i);
            values[i] = numbuf[i];
            break;
        case SV_TEXT:
            values[i] = args[i].s;
            break;
        }
    }
    bool transaction_control = strncmp(sql, "BEGIN", 5) == 0 || strncmp(sql, "COMMIT", 6) == 0 ||
                               strncmp(sql, "ROLLBACK", 8) == 0 ||
                               strncmp(sql, "SAVEPOINT", 9) == 0 || strncmp(sql, "RELEASE", 7) == 0;
    PGresult *r;
    if (transaction_control) {
        r = PQexec(c->conn, sql);
    } else {
        uint64_t h = fnv1a(sql) % PREP_SLOTS;
        char name[16];
        snprintf(name, sizeof name, "s%llu", (unsigned long long)h);
        if (!c->prepared[h] || strcmp(c->prepared[h], sql) != 0) {
            char *t = translate(sql);
            if (c->prepared[h]) {
                char dealloc[40];
                snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", name);
                PQclear(PQexec(c->conn, dealloc));
                free(c->prepared[h]);
                c->prepared[h] = NULL;
            }
            PGresult *pr = PQprepare(c->conn, name, t, 0, NULL);
            free(t);
            if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
                err e = map_error(s, pr);
                PQclear(pr);
                if (values != vals) {
                    free(values);
                    free(numbuf);
                }
                return e;
            }
            PQclear(pr);
            c->prepared[h] = xstrdup(sql);
        }
        r = PQexecPrepared(c->conn, name, n, values, NULL, NULL, 0);
    }
    if (values != vals) {
        free(values);
        free(numbuf);
    }
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err e = map_error(s, r);
        PQclear(r);
        return e;
    }
    const char *ct = PQcmdTuples(r);
    s->changes = (ct && *ct) ? strtoll(ct, NULL, 10) : 0;
    if (out) {
        int rows = PQntuples(r), cols = PQnfields(r);
        store_res *res = res_new(cols);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                if (PQgetisnull(r, i, j))
                    res_cell(res, NULL, 0);
                else
                    res_cell(res, PQgetvalue(r, i, j), (size_t)PQgetlength(r, i, j));
            }
            res_row_done(res);
        }
        *out = res;
    }
    PQclear(r);
    return ERR_OK;
}

static err pg_script(store *s, const char *sql)
{
    pgc *c = s->impl;
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err e = map_error(s, r);
        PQclear(r);
        return e;
    }
    PQclear(r);
    return ERR_OK;
}

static const char *pg_errmsg(store *s)
{
    return s->errbuf;
}

const struct store_ops store_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .script = pg_script,
    .errmsg = pg_errmsg,
};
