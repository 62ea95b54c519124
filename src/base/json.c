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

/* a string as jansson writes it: '"', '\\' and control characters escaped, UTF-8 as is */
static void dump_string(buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_add(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(b, s + run, i - run);
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
        buf_add(b, e, en);
    }
    buf_add(b, s + run, n - run);
    buf_add(b, "\"", 1);
}

static void dump_value(buf *b, const json_t *v)
{
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        buf_add(b, "{", 1);
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                buf_add(b, ",", 1);
            first = false;
            const char *k = json_object_iter_key(it);
            dump_string(b, k, strlen(k));
            buf_add(b, ":", 1);
            dump_value(b, json_object_iter_value(it));
        }
        buf_add(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        buf_add(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_add(b, ",", 1);
            dump_value(b, json_array_get(v, i));
        }
        buf_add(b, "]", 1);
        break;
    case JSON_STRING:
        dump_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_add(b, num,
                (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)));
        break;
    case JSON_REAL: { /* jansson's own digits */
        char *r = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_adds(b, r ? r : "null");
        free(r);
        break;
    }
    case JSON_TRUE:
        buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        buf_add(b, "false", 5);
        break;
    default:
        buf_add(b, "null", 4);
    }
}

char *json_dump_len(const json_t *v, size_t *len)
{
    buf b;
    buf_init(&b, 0);
    if (v)
        dump_value(&b, v);
    else
        buf_add(&b, "null", 4);
    if (len)
        *len = b.len;
    return buf_steal(&b);
}

char *json_dump(const json_t *v)
{
    return json_dump_len(v, NULL);
}

json_t *json_load(const char *s)
{
    if (!s || !*s)
        return NULL;
    return json_loads(s, JSON_DECODE_ANY, NULL);
}
