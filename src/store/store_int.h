/* store_int.h — what the backends share with store.c; nothing outside store/ includes it. */
#ifndef SHOUYE_STORE_INT_H
#define SHOUYE_STORE_INT_H

#include "store/store.h"

/* result under construction: cells are offsets into one text buffer, -1 for NULL */
struct store_res {
    int rows, cols;
    int cap;    /* allocated cell slots */
    int ncells; /* cells filled */
    long *off;  /* rows*cols offsets */
    buf text;
};

store_res *res_new(int cols);
void res_cell(store_res *r, const char *s, size_t n); /* s NULL = SQL NULL */
void res_row_done(store_res *r);

struct store_ops {
    const char *name;
    err (*open)(store *s, const char *url, bool writer, problem *p);
    void (*close)(store *s);
    err (*exec)(store *s, const char *sql, const store_val *args, int n, store_res **out);
    err (*script)(store *s, const char *sql);
    const char *(*errmsg)(store *s);
};

struct store {
    const struct store_ops *ops;
    void *impl;
    bool writer;
    bool read_wanted, read_open; /* store_read_begin: asked for / begun */
    int64_t changes;
    int savepoints;
    char errbuf[512];
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
