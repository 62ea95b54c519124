/*
 * base — the vocabulary every module shares and no domain word: allocation with one
 * out-of-memory policy, error codes and user-facing problems, capped buffers, time
 * (the injectable clock and ISO 8601), logging, JSON validation helpers and randomness.
 * Nothing here knows about tickets, users or the store.
 */
#ifndef SHOUYE_BASE_H
#define SHOUYE_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- allocation: every allocation goes through these; out of memory aborts ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string the caller frees */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- errors: one enum, 0 is success ---- */
typedef enum {
    ERR_OK = 0,
    ERR_INVALID,      /* wrong input: a problem says which field */
    ERR_NOTFOUND,     /* the entity does not exist */
    ERR_CONFLICT,     /* state forbids it (illegal move, duplicate) */
    ERR_FORBIDDEN,    /* authenticated, but not allowed */
    ERR_UNAUTHORIZED, /* no valid credentials */
    ERR_TOOLARGE,     /* over a hard cap */
    ERR_RATELIMIT,    /* try again later: caller is too fast */
    ERR_BUSY,         /* try again later: backend busy or down */
    ERR_STORE,        /* the store failed (SQL error) */
    ERR_INTERNAL,     /* a bug */
} err;

const char *err_name(err e);

/*
 * A user-facing problem: what the API renders as {code, reason, message, status, field}.
 * `code` is a static machine code ("invalidField"), `field` the JSON path or "".
 */
typedef struct problem {
    int status;
    const char *code;
    char field[96];
    char message[480];
} problem;

/* Fill `p` (if not NULL) and return `e`. */
err problem_set(problem *p, err e, int status, const char *code, const char *field, const char *fmt,
                ...) __attribute__((format(printf, 6, 7)));
/* Shorthands for the common cases. */
err problem_field(problem *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
err problem_missing(problem *p, const char *field);
/* HTTP reason phrase for a status */
const char *http_reason(int status);

/* ---- a growable byte buffer with a hard cap ---- */
typedef struct buf {
    char *data; /* NUL-terminated while len < cap */
    size_t len;
    size_t alloc;
    size_t max; /* 0 = unlimited */
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
/* Append; ERR_TOOLARGE (nothing appended) when the cap would be passed. */
err buf_add(buf *b, const void *p, size_t n);
/* Room for n more bytes and a NUL (no cap check: for writers that check their own). */
void buf_reserve(buf *b, size_t n);
err buf_adds(buf *b, const char *s);
err buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Take the data (caller frees); the buffer is empty afterwards. */
char *buf_steal(buf *b);

/* FNV-1a of a string: the hash of every small table keyed by text here */
uint64_t fnv1a(const char *s);

/* ---- time ---- */
/* Milliseconds since the epoch, UTC, from the real clock. */
int64_t time_real_ms(void);
/* Render ms as ISO 8601 with a fixed offset in minutes (e.g. 480 → +08:00). out ≥ 32 bytes. */
void time_iso(int64_t ms, int offset_min, char *out, size_t n);
/* Parse ISO 8601 (date-time with Z or ±hh:mm, or a bare date as 00:00 at offset). */
err time_parse_iso(const char *s, int default_offset_min, int64_t *out);
/* The next moment after `now` when the local clock (offset minutes) shows `minute_of_day`. */
int64_t time_next_local(int64_t now, int offset_min, int minute_of_day);

/*
 * The injectable clock. In real mode now() is the wall clock; in manual mode time only
 * moves when told. Thread-safe: read from any thread, moved by the engine.
 */
typedef struct sy_clock sy_clock;
sy_clock *clock_create(bool manual, int64_t start_ms);
void clock_destroy(sy_clock *c);
int64_t clock_now(const sy_clock *c);
bool clock_is_manual(const sy_clock *c);
/* Manual mode only: set the time (never backwards: ERR_INVALID). */
err clock_set(sy_clock *c, int64_t ms);

/* ---- logging: one logfmt line per event on stderr ---- */
typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;
void log_set_level(log_level l);
void log_msg(log_level l, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define LOGI(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define LOGW(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define LOGE(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)
#define LOGD(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/* ---- numbers and strings without atoi/strtok pitfalls ---- */
err parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
bool str_eq(const char *a, const char *b); /* NULL-safe */
bool utf8_valid(const char *s, size_t n);
size_t utf8_chars(const char *s);

/* ---- JSON input validation: each names the field in the problem ---- */
/*
 * A field specification used to check an input object: unknown keys are refused, types
 * checked, string lengths (in characters) and enums enforced. `flags` bits below.
 */
enum { JF_REQUIRED = 1, JF_READONLY = 2, JF_NULLABLE = 4 };
typedef enum { JT_STRING, JT_INT, JT_BOOL, JT_OBJECT, JT_ARRAY, JT_ANY, JT_NUMBER } json_kind;
typedef struct json_field {
    const char *name;
    json_kind kind;
    int flags;
    int max_len;              /* strings: max characters (0 = 4000) */
    const char *const *enums; /* NULL-terminated allowed values, or NULL */
} json_field;

/* Check `obj` against `fields` (terminated by a {NULL}). `prefix` names the parent path. */
err json_check(const json_t *obj, const json_field *fields, const char *prefix, problem *p);
/* Max nesting depth of a JSON value (objects/arrays). */
int json_depth(const json_t *v);
/* Parse a request body: size and depth caps, UTF-8, must be an object. Caller decrefs. */
err json_parse_body(const char *data, size_t len, json_t **out, problem *p);
/* Get a string member or NULL. */
const char *jstr(const json_t *obj, const char *key);
/* Render compact JSON into a fresh string (caller frees). */
char *json_dump(const json_t *v);
/*
 * The same, with its length. Compact, keys in insertion order, byte for byte what jansson's
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes — in a third of the time, which every
 * answer and event pays.
 */
char *json_dump_len(const json_t *v, size_t *len);

/*
 * A JSON text writer for hot answers: what json_dump would write of the same document built
 * with jansson, without building it (no allocation per value). `key` names a member of the
 * object being written, or is NULL for an array element or the top value.
 */
typedef struct jw {
    buf b;
    int depth;
    bool more[32]; /* something was written at this depth: the next needs a comma */
} jw;
void jw_init(jw *w);
void jw_free(jw *w);
void jw_obj(jw *w, const char *key);
void jw_arr(jw *w, const char *key);
void jw_end_obj(jw *w);
void jw_end_arr(jw *w);
void jw_str(jw *w, const char *key, const char *v); /* NULL: null */
void jw_strn(jw *w, const char *key, const char *v, size_t n); /* n bytes of v */
void jw_int(jw *w, const char *key, int64_t v);
void jw_bool(jw *w, const char *key, bool v);
void jw_null(jw *w, const char *key);
void jw_json(jw *w, const char *key, const json_t *v); /* a jansson value (NULL: null) */
/* JSON text this program wrote with json_dump (a stored document), as is; `dflt` when none */
void jw_raw(jw *w, const char *key, const char *json, const char *dflt);
/* The text (caller frees; *len its length); the writer is empty afterwards. */
char *jw_take(jw *w, size_t *len);
/* The text parsed (for callers that need a jansson value); frees the writer's text. */
json_t *jw_parse(jw *w);
/* Parse JSON text from the store; returns NULL on NULL/invalid input. */
json_t *json_load(const char *s);
/* Does the string appear in a NULL-terminated list? */
bool str_in(const char *s, const char *const *list);

/* ---- failure limits per key in a fixed window (thread-safe, real clock) ---- */
typedef struct limiter limiter;
limiter *limiter_create(int slots, int max_failures, int64_t window_ms);
void limiter_destroy(limiter *l);
/* Tries left for `key` (0 = blocked); *retry_s gets the seconds until the window ends. */
int limiter_left(limiter *l, const char *key, int64_t *retry_s);
/* Record a try: a success clears the key's failures. Returns the tries left. */
int limiter_record(limiter *l, const char *key, bool ok);

/* ---- randomness (libsodium) ---- */
/* Fill out with a URL-safe random token of `bytes` random bytes (out ≥ 2*bytes). */
void rand_token(char *out, size_t n, size_t bytes);
/* Hex SHA-256-strength hash (BLAKE2b-256) of a token: out ≥ 65 bytes. */
void token_hash(const char *token, char *out);
/* argon2id password hash and check. */
err password_hash(const char *pw, char *out, size_t n);
bool password_check(const char *hash, const char *pw);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_BODY (1024 * 1024)
#define MAX_JSON_DEPTH 32

#endif
