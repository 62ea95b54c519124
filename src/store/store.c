/*
 * store.c — the backend-independent half of the store: choosing a backend from the URL,
 * transactions and savepoints, result sets, the per-thread reader pool.
 */
#include "store/store_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

store_res *res_new(int cols)
{
    store_res *r = xcalloc(1, sizeof *r);
    r->cols = cols;
    buf_init(&r->text, 0);
    return r;
}

void res_cell(store_res *r, const char *s, size_t n)
{
    if (r->ncells == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->off = xrealloc(r->off, sizeof(long) * (size_t)r->cap);
    }
    if (!s) {
        r->off[r->ncells++] = -1;
        return;
    }
    r->off[r->ncells++] = (long)r->text.len;
    buf_add(&r->text, s, n);
    buf_add(&r->text, "", 1); /* keep the NUL as a separator */
}

void res_row_done(store_res *r)
{
    r->rows++;
}

int store_rows(const store_res *r)
{
    return r ? r->rows : 0;
}

int store_cols(const store_res *r)
{
    return r ? r->cols : 0;
}

const char *store_text(const store_res *r, int row, int col)
{
    if (!r || row < 0 || row >= r->rows || col < 0 || col >= r->cols)
        return NULL;
    long o = r->off[row * r->cols + col];
    return o < 0 ? NULL : r->text.data + o;
}

int64_t store_int(const store_res *r, int row, int col)
{
    const char *s = store_text(r, row, col);
    if (!s)
        return 0;
    return strtoll(s, NULL, 10);
}

bool store_isnull(const store_res *r, int row, int col)
{
    return store_text(r, row, col) == NULL;
}

void store_res_free(store_res *r)
{
    if (!r)
        return;
    free(r->off);
    buf_free(&r->text);
    free(r);
}

static void put_varint(buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    buf_add(b, t, n);
}

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

void store_res_encode_rows(const store_res *r, int first, int n, int skip_cols, buf *out)
{
    int cols = store_cols(r) - skip_cols;
    if (!r || first < 0 || n < 0 || first + n > r->rows || cols < 0)
        n = cols = 0;
    put_varint(out, (uint64_t)n);
    put_varint(out, (uint64_t)cols);
    for (int i = first; i < first + n; i++) {
        for (int c = skip_cols; c < r->cols; c++) {
            long o = r->off[i * r->cols + c];
            if (o < 0) {
                put_varint(out, 0);
                continue;
            }
            size_t len = strlen(r->text.data + o);
            put_varint(out, len + 1);
            buf_add(out, r->text.data + o, len);
        }
    }
}

store_res *store_res_decode(const uint8_t **p, const uint8_t *end)
{
    uint64_t rows, cols;
    if (!get_varint(p, end, &rows) || !get_varint(p, end, &cols) || rows > INT32_MAX / 64 ||
        cols > 1024)
        return NULL;
    store_res *r = res_new((int)cols);
    for (uint64_t i = 0; i < rows; i++) {
        for (uint64_t c = 0; c < cols; c++) {
            uint64_t n;
            if (!get_varint(p, end, &n) || (n && n - 1 > (uint64_t)(end - *p))) {
                store_res_free(r);
                return NULL;
            }
            res_cell(r, n ? (const char *)*p : NULL, n ? (size_t)(n - 1) : 0);
            *p += n ? n - 1 : 0;
        }
        res_row_done(r);
    }
    return r;
}

err store_open(const char *url, bool writer, store **out, problem *p)
{
    store *s = xcalloc(1, sizeof *s);
    s->writer = writer;
    bool pg = strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
    s->ops = pg ? &store_pg_ops : &store_sqlite_ops;
    err rc = s->ops->open(s, url, writer, p);
    if (rc) {
        free(s);
        *out = NULL;
        return rc;
    }
    *out = s;
    return ERR_OK;
}

void store_close(store *s)
{
    if (!s)
        return;
    s->ops->close(s);
    free(s);
}

const char *store_kind(const store *s)
{
    return s->ops->name;
}

bool store_is_pg(const store *s)
{
    return s->ops == &store_pg_ops;
}

const char *store_errmsg(store *s)
{
    return s->ops->errmsg(s);
}

/* a read snapshot asked for and not begun yet: begin it before the first statement */
static err read_open(store *s)
{
    if (!s->read_wanted || s->read_open)
        return ERR_OK;
    s->read_open = true;
    return s->ops->exec(s, "BEGIN", NULL, 0, NULL);
}

err store_exec(store *s, const char *sql, const store_val *args, int nargs)
{
    err rc = read_open(s);
    return rc ? rc : s->ops->exec(s, sql, args, nargs, NULL);
}

int64_t store_changes(store *s)
{
    return s->changes;
}

err store_query(store *s, const char *sql, const store_val *args, int nargs, store_res **out)
{
    *out = NULL;
    err rc = read_open(s);
    return rc ? rc : s->ops->exec(s, sql, args, nargs, out);
}

err store_script(store *s, const char *sql)
{
    return s->ops->script(s, sql);
}

err store_scalar(store *s, const char *sql, const store_val *args, int nargs, int64_t dflt,
                 int64_t *out)
{
    store_res *r;
    err rc = store_query(s, sql, args, nargs, &r);
    if (rc)
        return rc;
    *out = (store_rows(r) > 0 && !store_isnull(r, 0, 0)) ? store_int(r, 0, 0) : dflt;
    store_res_free(r);
    return ERR_OK;
}

err store_page(store *s, const char *cols, const char *from, const char *order,
               const store_val *args, int nargs, int64_t limit, int64_t offset, int64_t *total,
               store_res **out)
{
    *out = NULL;
    char *count_sql = xasprintf("SELECT COUNT(*) FROM %s", from);
    err rc = store_scalar(s, count_sql, args, nargs, 0, total);
    free(count_sql);
    if (rc)
        return rc;
    char *sql = xasprintf("SELECT %s FROM %s ORDER BY %s LIMIT ? OFFSET ?", cols, from, order);
    store_val *all = xcalloc((size_t)nargs + 2, sizeof *all);
    for (int i = 0; i < nargs; i++)
        all[i] = args[i];
    all[nargs] = SV_I(limit);
    all[nargs + 1] = SV_I(offset);
    rc = store_query(s, sql, all, nargs + 2, out);
    free(all);
    free(sql);
    return rc;
}

err store_begin(store *s)
{
    s->savepoints = 0;
    return store_exec(s, store_is_pg(s) ? "BEGIN" : "BEGIN IMMEDIATE", NULL, 0);
}

char *store_insert_rows_sql(const store *s, const char *into, const char *row, int rows)
{
    buf b;
    buf_init(&b, 0);
    buf_adds(&b, store_is_pg(s) ? "INSERT INTO " : "INSERT OR FAIL INTO ");
    buf_adds(&b, into);
    buf_adds(&b, " VALUES ");
    for (int k = 0; k < rows; k++) {
        if (k)
            buf_adds(&b, ", ");
        buf_adds(&b, row);
    }
    return buf_steal(&b);
}

err store_read_begin(store *s)
{
    /* begun with the first statement: a request answered from memory costs nothing here */
    s->read_wanted = !store_is_pg(s);
    return ERR_OK;
}

void store_read_end(store *s)
{
    if (s->read_open)
        s->ops->exec(s, "COMMIT", NULL, 0, NULL);
    s->read_wanted = s->read_open = false;
}

err store_commit(store *s)
{
    return store_exec(s, "COMMIT", NULL, 0);
}

err store_rollback(store *s)
{
    return store_exec(s, "ROLLBACK", NULL, 0);
}

err store_savepoint(store *s)
{
    return store_exec(s, "SAVEPOINT cmd", NULL, 0);
}

err store_release(store *s)
{
    return store_exec(s, "RELEASE SAVEPOINT cmd", NULL, 0);
}

err store_rollback_to(store *s)
{
    err rc = store_exec(s, "ROLLBACK TO SAVEPOINT cmd", NULL, 0);
    if (rc)
        return rc;
    return store_release(s);
}

/* ---- the reader pool ---- */

struct store_pool {
    char *url;
    pthread_key_t key;
    pthread_mutex_t lock;
    store **all;
    int n, cap;
};

static void pool_thread_exit(void *v)
{
    (void)v; /* connections are closed by store_pool_destroy, which owns the list */
}

store_pool *store_pool_create(const char *url)
{
    store_pool *p = xcalloc(1, sizeof *p);
    p->url = xstrdup(url);
    pthread_key_create(&p->key, pool_thread_exit);
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void store_pool_destroy(store_pool *pool)
{
    if (!pool)
        return;
    for (int i = 0; i < pool->n; i++)
        store_close(pool->all[i]);
    free(pool->all);
    pthread_key_delete(pool->key);
    pthread_mutex_destroy(&pool->lock);
    free(pool->url);
    free(pool);
}

store *store_pool_get(store_pool *pool)
{
    store *s = pthread_getspecific(pool->key);
    if (s)
        return s;
    problem pr = {0};
    if (store_open(pool->url, false, &s, &pr)) {
        LOGE("store", "msg=\"cannot open reader\" error=\"%s\"", pr.message);
        return NULL;
    }
    pthread_mutex_lock(&pool->lock);
    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? pool->cap * 2 : 8;
        pool->all = xrealloc(pool->all, sizeof(store *) * (size_t)pool->cap);
    }
    pool->all[pool->n++] = s;
    pthread_mutex_unlock(&pool->lock);
    pthread_setspecific(pool->key, s);
    return s;
}

const char *store_pool_url(const store_pool *pool)
{
    return pool->url;
}
