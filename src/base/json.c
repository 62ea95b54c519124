/*
 * json.c — checking request bodies before anything acts on them: size, depth, UTF-8,
 * unknown keys, types, string lengths and enum values, each failure naming its field.
 */
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_depth(const json_t *v)
{
    int best = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            int d = json_depth(c);
            if (d > best)
                best = d;
        }
        return best + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            int d = json_depth(c);
            if (d > best)
                best = d;
        }
        return best + 1;
    }
    return 0;
}

/* depth of raw text, counted before parsing so a hostile body cannot recurse deep */
static int text_depth(const char *s, size_t n)
{
    int d = 0, best = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[') {
            if (++d > best)
                best = d;
        } else if (c == '}' || c == ']')
            d--;
    }
    return best;
}

err json_parse_body(const char *data, size_t len, json_t **out, problem *p)
{
    *out = NULL;
    if (len > MAX_BODY)
        return problem_set(p, ERR_TOOLARGE, 413, "tooLarge", "", "body: larger than %d bytes",
                           MAX_BODY);
    if (!data || len == 0)
        return problem_set(p, ERR_INVALID, 400, "invalidJson", "",
                           "body: a JSON object is required");
    if (!utf8_valid(data, len))
        return problem_set(p, ERR_INVALID, 400, "invalidJson", "", "body: not valid UTF-8");
    if (text_depth(data, len) > MAX_JSON_DEPTH)
        return problem_set(p, ERR_INVALID, 400, "invalidJson", "",
                           "body: nested deeper than %d levels", MAX_JSON_DEPTH);
    json_error_t je;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return problem_set(p, ERR_INVALID, 400, "invalidJson", "",
                           "body: invalid JSON at line %d column %d: %s", je.line, je.column,
                           je.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return problem_set(p, ERR_INVALID, 400, "invalidJson", "", "body: must be a JSON object");
    }
    *out = v;
    return ERR_OK;
}

static const char *kind_name(json_kind k)
{
    switch (k) {
    case JT_STRING:
        return "a string";
    case JT_INT:
        return "an integer";
    case JT_BOOL:
        return "a boolean";
    case JT_OBJECT:
        return "an object";
    case JT_ARRAY:
        return "an array";
    case JT_NUMBER:
        return "a number";
    default:
        return "a value";
    }
}

static bool kind_ok(const json_t *v, json_kind k)
{
    switch (k) {
    case JT_STRING:
        return json_is_string(v);
    case JT_INT:
        return json_is_integer(v);
    case JT_BOOL:
        return json_is_boolean(v);
    case JT_OBJECT:
        return json_is_object(v);
    case JT_ARRAY:
        return json_is_array(v);
    case JT_NUMBER:
        return json_is_number(v);
    default:
        return true;
    }
}

/* "prefix.key", or "key" with no prefix: built only when there is something to report */
static const char *field_path(char *path, size_t n, const char *prefix, const char *key)
{
    snprintf(path, n, "%s%s%s", prefix && *prefix ? prefix : "", prefix && *prefix ? "." : "", key);
    return path;
}

err json_check(const json_t *obj, const json_field *fields, const char *prefix, problem *p)
{
    char path[96];
    const char *key;
    json_t *val;
    if (!json_is_object(obj))
        return problem_field(p, prefix && *prefix ? prefix : "body", "must be an object");
#define PATH field_path(path, sizeof path, prefix, key)
    json_object_foreach((json_t *)obj, key, val)
    {
        const json_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name)
            return problem_set(p, ERR_INVALID, 400, "unknownField", PATH, "%s: unknown field",
                               path);
        if (f->flags & JF_READONLY)
            return problem_set(p, ERR_INVALID, 400, "readOnlyField", PATH,
                               "%s: is set by the server and cannot be written", path);
        if (json_is_null(val)) {
            if (f->flags & JF_NULLABLE)
                continue;
            return problem_field(p, PATH, "must not be null");
        }
        if (!kind_ok(val, f->kind))
            return problem_field(p, PATH, "must be %s", kind_name(f->kind));
        if (f->kind == JT_STRING) {
            const char *s = json_string_value(val);
            size_t max = f->max_len ? (size_t)f->max_len : 4000;
            size_t chars = utf8_chars(s);
            if (chars > max)
                return problem_field(p, PATH, "longer than %zu characters", max);
            if (f->enums && !str_in(s, f->enums)) {
                char allowed[300] = "";
                size_t off = 0;
                for (const char *const *e = f->enums; *e && off < sizeof allowed - 40; e++)
                    off += (size_t)snprintf(allowed + off, sizeof allowed - off, "%s%s",
                                            e == f->enums ? "" : ", ", *e);
                return problem_field(p, PATH, "'%s' is not one of: %s", s, allowed);
            }
        }
    }
    for (const json_field *f = fields; f->name; f++) {
        if ((f->flags & JF_REQUIRED) && !json_object_get(obj, f->name)) {
            return problem_missing(p, field_path(path, sizeof path, prefix, f->name));
        }
    }
#undef PATH
    return ERR_OK;
}

const char *jstr(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* appends without the cap check and NUL of buf_add: the writer's hot path (NUL at the end) */
static void put(buf *b, const char *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_int(buf *b, int64_t v)
{
    char t[24], *e = t + sizeof t, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    put(b, p, (size_t)(e - p));
}

/* a string as jansson writes it: '"', '\\' and control characters escaped, UTF-8 as is */
static void dump_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0};
        size_t en = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            memcpy(e, "\\u00", 4);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            en = 6;
        }
        put(b, e, en);
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

static void dump_value(buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        put(b, "{", 1);
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                put(b, ",", 1);
            first = false;
            const char *k = json_object_iter_key(it);
            dump_string(b, k, strlen(k));
            put(b, ":", 1);
            dump_value(b, json_object_iter_value(it));
        }
        put(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            dump_value(b, json_array_get(v, i));
        }
        put(b, "]", 1);
        break;
    case JSON_STRING:
        dump_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_int(b, json_integer_value(v));
        break;
    case JSON_REAL: { /* jansson's own digits */
        char *r = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        put(b, r ? r : "null", r ? strlen(r) : 4);
        free(r);
        break;
    }
    case JSON_TRUE:
        put(b, "true", 4);
        break;
    case JSON_FALSE:
        put(b, "false", 5);
        break;
    default:
        put(b, "null", 4);
    }
}

static char *take(buf *b, size_t *len)
{
    put(b, "", 1); /* the NUL */
    b->len--;
    if (len)
        *len = b->len;
    return buf_steal(b);
}

char *json_dump_len(const json_t *v, size_t *len)
{
    buf b;
    buf_init(&b, 0);
    buf_reserve(&b, 1023); /* an answer's usual size: one allocation */
    if (v)
        dump_value(&b, v);
    else
        put(&b, "null", 4);
    return take(&b, len);
}

char *json_dump(const json_t *v)
{
    return json_dump_len(v, NULL);
}

/* ---- the writer ---- */

void jw_init(jw *w)
{
    memset(w, 0, sizeof *w);
    buf_init(&w->b, 0);
    buf_reserve(&w->b, 1023);
}

void jw_free(jw *w)
{
    buf_free(&w->b);
}

/* the comma and the key before a value at the current depth */
static void jw_key(jw *w, const char *key)
{
    if (w->more[w->depth])
        put(&w->b, ",", 1);
    w->more[w->depth] = true;
    if (key) {
        dump_string(&w->b, key, strlen(key));
        put(&w->b, ":", 1);
    }
}

static void jw_open(jw *w, const char *key, char c)
{
    jw_key(w, key);
    put(&w->b, &c, 1);
    if (w->depth + 1 < (int)ARRAY_LEN(w->more))
        w->more[++w->depth] = false;
}

void jw_obj(jw *w, const char *key)
{
    jw_open(w, key, '{');
}

void jw_arr(jw *w, const char *key)
{
    jw_open(w, key, '[');
}

void jw_end_obj(jw *w)
{
    put(&w->b, "}", 1);
    if (w->depth)
        w->depth--;
}

void jw_end_arr(jw *w)
{
    put(&w->b, "]", 1);
    if (w->depth)
        w->depth--;
}

void jw_str(jw *w, const char *key, const char *v)
{
    jw_key(w, key);
    if (v)
        dump_string(&w->b, v, strlen(v));
    else
        put(&w->b, "null", 4);
}

void jw_strn(jw *w, const char *key, const char *v, size_t n)
{
    jw_key(w, key);
    dump_string(&w->b, v, n);
}

void jw_int(jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    put_int(&w->b, v);
}

void jw_bool(jw *w, const char *key, bool v)
{
    jw_key(w, key);
    put(&w->b, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(jw *w, const char *key)
{
    jw_key(w, key);
    put(&w->b, "null", 4);
}

void jw_json(jw *w, const char *key, const json_t *v)
{
    jw_key(w, key);
    if (v)
        dump_value(&w->b, v);
    else
        put(&w->b, "null", 4);
}

void jw_raw(jw *w, const char *key, const char *json, const char *dflt)
{
    jw_key(w, key);
    const char *t = json && *json ? json : dflt;
    put(&w->b, t, strlen(t));
}

char *jw_take(jw *w, size_t *len)
{
    return take(&w->b, len);
}

json_t *jw_parse(jw *w)
{
    put(&w->b, "", 1);
    json_t *v = json_loadb(w->b.data, w->b.len - 1, JSON_DECODE_ANY, NULL);
    buf_free(&w->b);
    return v;
}

json_t *json_load(const char *s)
{
    if (!s || !*s)
        return NULL;
    return json_loads(s, JSON_DECODE_ANY, NULL);
}
