/*
 * store — one portable SQL API over two backends, SQLite (embedded default, WAL) and
 * PostgreSQL (libpq). SQL is written once with `?` placeholders; the PostgreSQL backend
 * rewrites them to $n. Results are materialised rows of text cells (NULL stays NULL),
 * owned by a store_res the caller frees. A `store` is one connection used by one thread.
 * Migrations live in migrations.c and are applied by store_migrate().
 */
#ifndef SHOUYE_STORE_H
#define SHOUYE_STORE_H

#include "base/base.h"

typedef struct store store;
typedef struct store_res store_res;
typedef struct store_pool store_pool;

typedef enum { SV_NULL, SV_INT, SV_TEXT } store_vkind;
typedef struct store_val {
    store_vkind k;
    int64_t i;
    const char *s;
} store_val;

static inline store_val SV_I(int64_t x)
{
    return (store_val){.k = SV_INT, .i = x};
}
/* text, or NULL when s is NULL */
static inline store_val SV_S(const char *s)
{
    return (store_val){.k = s ? SV_TEXT : SV_NULL, .s = s};
}
#define SV_N ((store_val){.k = SV_NULL})
/* an optional integer: NULL when `has` is false */
static inline store_val SV_OI(bool has, int64_t x)
{
    return has ? SV_I(x) : SV_N;
}

/*
 * Open a connection. `url` is a SQLite file path or a postgresql:// URL. `writer` marks the
 * one connection allowed to write (SQLite readers are query_only). On failure returns
 * ERR_BUSY (cannot reach) or ERR_STORE and fills `p`.
 */
err store_open(const char *url, bool writer, store **out, problem *p);
void store_close(store *s);
/* "sqlite" or "postgresql" */
const char *store_kind(const store *s);
bool store_is_pg(const store *s);
/* The backend's last error message (valid until the next call on `s`). */
const char *store_errmsg(store *s);

/* Run a statement with arguments; rows, if any, are discarded. */
err store_exec(store *s, const char *sql, const store_val *args, int nargs);
/* Rows changed by the last store_exec. */
int64_t store_changes(store *s);
/* Run a query; on success *out holds the rows (caller frees with store_res_free). */
err store_query(store *s, const char *sql, const store_val *args, int nargs, store_res **out);
/* Run several statements without arguments (DDL). */
err store_script(store *s, const char *sql);

/*
 * "INSERT INTO <into> VALUES <row>, <row>, …" (`rows` times; the caller frees it). On SQLite
 * it is INSERT OR FAIL: a many-row INSERT otherwise opens a statement journal, and inside a
 * command's savepoint releasing that journal walks the savepoint's whole in-memory journal —
 * quadratic in a large batch. A failing row still fails the statement; the command's savepoint
 * undoes the rows already in.
 */
char *store_insert_rows_sql(const store *s, const char *into, const char *row, int rows);

err store_begin(store *s);
/*
 * One snapshot for a run of reads on a reader connection. SQLite: a deferred transaction, so
 * the reads of one request see one state of the store, and the reader maps the file anew at
 * most once per request (SQLite unmaps a reader's file whenever the WAL moved since its last
 * read transaction); begun with the first statement, so a run without any costs nothing.
 * PostgreSQL: nothing; each statement is its own snapshot.
 */
err store_read_begin(store *s);
void store_read_end(store *s);
err store_commit(store *s);
err store_rollback(store *s);
err store_savepoint(store *s);
err store_release(store *s);
err store_rollback_to(store *s);

int store_rows(const store_res *r);
int store_cols(const store_res *r);
/* cell text, NULL when SQL NULL; valid until store_res_free */
const char *store_text(const store_res *r, int row, int col);
int64_t store_int(const store_res *r, int row, int col);
bool store_isnull(const store_res *r, int row, int col);
void store_res_free(store_res *r);

/*
 * A result as bytes, to keep outside the store (the subscriber directory's cards), and back:
 * encode appends rows [first, first + n) without their first `skip_cols` columns as one
 * result; decode reads one result from *p (advancing it; never past `end`) and returns NULL
 * when the bytes are not one.
 */
void store_res_encode_rows(const store_res *r, int first, int n, int skip_cols, buf *out);
store_res *store_res_decode(const uint8_t **p, const uint8_t *end);

/* Convenience: first column of first row as integer (or `dflt` when no row / NULL). */
err store_scalar(store *s, const char *sql, const store_val *args, int nargs, int64_t dflt,
                 int64_t *out);

/*
 * Copy the whole store into `path` (SQLite: an online, consistent copy through the backup
 * API while others keep reading and writing; PostgreSQL: pg_dump in its custom format).
 * store_restore does the reverse into the store at `url`; no server may be running on it.
 */
err store_backup(const char *url, const char *path, problem *p);
err store_restore(const char *url, const char *path, problem *p);

/*
 * One page of a filtered list and the count of all matches, as every list route needs:
 *   SELECT COUNT(*) FROM <from>            (args[0..nargs))
 *   SELECT <cols> FROM <from> ORDER BY <order> LIMIT ? OFFSET ?
 * `from` is a table and its WHERE tail; `args` are its nargs values (may be NULL when 0).
 */
err store_page(store *s, const char *cols, const char *from, const char *order,
               const store_val *args, int nargs, int64_t limit, int64_t offset, int64_t *total, store_res **out);

/* Create or migrate the schema to the newest version. */
err store_migrate(store *s, problem *p);
int store_schema_version(store *s);

/*
 * A pool hands each thread its own read connection, opened on first use and closed when
 * the thread exits or the pool is destroyed.
 */
store_pool *store_pool_create(const char *url);
void store_pool_destroy(store_pool *pool);
/* The calling thread's reader (NULL if it cannot be opened; the reason is logged). */
store *store_pool_get(store_pool *pool);
const char *store_pool_url(const store_pool *pool);

#endif
