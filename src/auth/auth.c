/*
 * auth.c — login/logout, the authenticator, users, groups and the audit trail.
 *
 * Sessions: a login creates a random 32-byte token; only its BLAKE2b hash is stored.
 * Session expiry and the login rate limit use the real wall clock, not the engine's
 * injectable clock: they are security boundaries, and tests that move SLA time by days
 * must not log everyone out.
 */
#include "auth/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const auth_role_names[] = {"agent", "specialist", "engineer",    "supervisor",
                                       "qa",    "admin",      "integration", NULL};

unsigned auth_role_bit(const char *name)
{
    for (int i = 0; auth_role_names[i]; i++)
        if (str_eq(name, auth_role_names[i]))
            return 1u << i;
    return 0;
}

json_t *auth_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (int i = 0; auth_role_names[i]; i++)
        if (roles & (1u << i))
            json_array_append_new(a, json_string(auth_role_names[i]));
    return a;
}

static unsigned roles_from_text(const char *s)
{
    unsigned bits = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char name[32];
        if (n < sizeof name) {
            memcpy(name, s, n);
            name[n] = 0;
            bits |= auth_role_bit(name);
        }
        s = e ? e + 1 : s + n;
    }
    return bits;
}

static char *roles_to_text(unsigned roles)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; auth_role_names[i]; i++)
        if (roles & (1u << i)) {
            if (b.len)
                buf_adds(&b, ",");
            buf_adds(&b, auth_role_names[i]);
        }
    return buf_steal(&b);
}

/* ---- login rate limit: failures per user and per address in a 15-minute window ---- */

#define RL_WINDOW_MS (15 * 60 * 1000)
#define RL_MAX_USER 5
#define RL_MAX_ADDR 30

/*
 * Token cache: a valid session seen in the last 30 s skips the store. Any committed
 * logout, user change or deactivation clears it (engine event subscriber), before the
 * request that made the change is answered, so a revoked token never works again.
 */
#define AC_SLOTS 1024
#define AC_TTL_MS 30000

typedef struct {
    char hash[65];
    principal who;
    int64_t expires, cached;
} ac_ent;

struct auth_ctx {
    store_pool *readers;
    int64_t ttl_ms;
    limiter *by_user, *by_address;
    pthread_mutex_t cache_lock;
    ac_ent cache[AC_SLOTS];
};

/* true when further attempts must wait; *retry gets the seconds */
static bool rl_blocked(auth_ctx *a, const char *user, const char *addr, int64_t *retry)
{
    int64_t ru = 0, ra = 0;
    bool blocked_user = limiter_left(a->by_user, user, &ru) == 0;
    bool blocked_addr = limiter_left(a->by_address, addr, &ra) == 0;
    *retry = blocked_user ? ru : ra;
    return blocked_user || blocked_addr;
}

static void rl_record(auth_ctx *a, const char *user, const char *addr, bool ok)
{
    limiter_record(a->by_user, user, ok);
    if (!ok)
        limiter_record(a->by_address, addr, false);
}

/* ---- the authenticator ---- */

static err authenticate(void *ctx, const char *token, principal *out)
{
    auth_ctx *a = ctx;
    if (strlen(token) > 128)
        return ERR_UNAUTHORIZED;
    char h[65];
    token_hash(token, h);
    int64_t now = time_real_ms();
    ac_ent *slot = &a->cache[fnv1a(h) % AC_SLOTS];
    pthread_mutex_lock(&a->cache_lock);
    if (strcmp(slot->hash, h) == 0 && slot->expires > now && now - slot->cached < AC_TTL_MS) {
        *out = slot->who;
        pthread_mutex_unlock(&a->cache_lock);
        return ERR_OK;
    }
    pthread_mutex_unlock(&a->cache_lock);
    store *s = store_pool_get(a->readers);
    if (!s)
        return ERR_BUSY;
    store_res *r;
    if (store_query(s,
                    "SELECT u.id, u.username, u.roles, s.expires FROM sessions s JOIN users u"
                    " ON u.id = s.user_id WHERE s.token_hash = ? AND s.revoked = 0"
                    " AND s.expires > ? AND u.active = 1",
                    (store_val[]){SV_S(h), SV_I(now)}, 2, &r))
        return ERR_BUSY;
    if (store_rows(r) != 1) {
        store_res_free(r);
        return ERR_UNAUTHORIZED;
    }
    out->user_id = store_int(r, 0, 0);
    snprintf(out->username, sizeof out->username, "%s", store_text(r, 0, 1));
    out->roles = roles_from_text(store_text(r, 0, 2));
    int64_t expires = store_int(r, 0, 3);
    store_res_free(r);
    pthread_mutex_lock(&a->cache_lock);
    snprintf(slot->hash, sizeof slot->hash, "%s", h);
    slot->who = *out;
    slot->expires = expires;
    slot->cached = now;
    pthread_mutex_unlock(&a->cache_lock);
    return ERR_OK;
}

/* ---- reading users and groups ---- */

static json_t *user_groups(store *s, int64_t id)
{
    json_t *a = json_array();
    store_res *r;
    if (store_query(s, "SELECT group_id FROM user_groups WHERE user_id = ? ORDER BY group_id",
                    (store_val[]){SV_I(id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++)
            json_array_append_new(a, json_string(store_text(r, i, 0)));
        store_res_free(r);
    }
    return a;
}

#define USER_COLS "id, username, display_name, roles, active, created, updated"

static json_t *user_row(store *s, store_res *r, int i, int tz)
{
    json_t *o = json_object();
    char t[40];
    json_object_set_new(o, "id", json_string(store_text(r, i, 0)));
    char *href = xasprintf("/api/v1/users/%s", store_text(r, i, 0));
    json_object_set_new(o, "href", json_string(href));
    free(href);
    json_object_set_new(o, "username", json_string(store_text(r, i, 1)));
    json_object_set_new(o, "displayName", json_string(store_text(r, i, 2)));
    json_object_set_new(o, "roles", auth_roles_json(roles_from_text(store_text(r, i, 3))));
    json_object_set_new(o, "groups", user_groups(s, store_int(r, i, 0)));
    json_object_set_new(o, "active", json_boolean(store_int(r, i, 4)));
    time_iso(store_int(r, i, 5), tz, t, sizeof t);
    json_object_set_new(o, "createdAt", json_string(t));
    time_iso(store_int(r, i, 6), tz, t, sizeof t);
    json_object_set_new(o, "updatedAt", json_string(t));
    return o;
}

static json_t *user_load(store *s, int64_t id, int tz)
{
    store_res *r;
    if (store_query(s, "SELECT " USER_COLS " FROM users WHERE id = ?", (store_val[]){SV_I(id)}, 1,
                    &r))
        return NULL;
    json_t *o = store_rows(r) ? user_row(s, r, 0, tz) : NULL;
    store_res_free(r);
    return o;
}

static json_t *group_load(store *s, const char *id)
{
    store_res *r;
    if (store_query(s,
                    "SELECT id, name, description, escalation_group FROM work_groups WHERE id = ?",
                    (store_val[]){SV_S(id)}, 1, &r))
        return NULL;
    json_t *o = NULL;
    if (store_rows(r)) {
        o = json_object();
        json_object_set_new(o, "id", json_string(store_text(r, 0, 0)));
        char *href = xasprintf("/api/v1/groups/%s", store_text(r, 0, 0));
        json_object_set_new(o, "href", json_string(href));
        free(href);
        json_object_set_new(o, "name", json_string(store_text(r, 0, 1)));
        json_object_set_new(o, "description",
                            store_text(r, 0, 2) ? json_string(store_text(r, 0, 2)) : json_null());
        json_object_set_new(o, "escalationGroup",
                            store_text(r, 0, 3) ? json_string(store_text(r, 0, 3)) : json_null());
        json_t *members = json_array();
        store_res *m;
        if (store_query(s,
                        "SELECT u.username FROM user_groups g JOIN users u ON u.id = g.user_id"
                        " WHERE g.group_id = ? ORDER BY u.username",
                        (store_val[]){SV_S(id)}, 1, &m) == ERR_OK) {
            for (int i = 0; i < store_rows(m); i++)
                json_array_append_new(members, json_string(store_text(m, i, 0)));
            store_res_free(m);
        }
        json_object_set_new(o, "members", members);
    }
    store_res_free(r);
    return o;
}

/* ---- login / logout / me ---- */

static const json_field login_fields[] = {
    {"username", JT_STRING, JF_REQUIRED, 64, NULL},
    {"password", JT_STRING, JF_REQUIRED, 256, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err apply_login(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t uid = json_integer_value(json_object_get(c->in, "userId"));
    int64_t expires = json_integer_value(json_object_get(c->in, "expires"));
    int64_t now = time_real_ms();
    err rc = store_exec(s,
                        "INSERT INTO sessions(token_hash, user_id, created, expires, address)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (store_val[]){SV_S(jstr(c->in, "tokenHash")), SV_I(uid), SV_I(now),
                                      SV_I(expires), SV_S(jstr(c->in, "address"))},
                        5);
    if (rc)
        return rc;
    char sid[20];
    snprintf(sid, sizeof sid, "%.16s", jstr(c->in, "tokenHash"));
    json_t *after = json_pack("{s:s, s:s}", "session", sid, "address", jstr(c->in, "address"));
    rc = engine_audit(e, c->actor, "login", "session", sid, NULL, after);
    json_decref(after);
    if (rc)
        return rc;
    int tz = (int)json_integer_value(json_object_get(c->in, "tz"));
    char t[40];
    time_iso(expires, tz, t, sizeof t);
    c->out = json_object();
    json_object_set_new(c->out, "token", json_string(jstr(c->in, "token")));
    json_object_set_new(c->out, "tokenType", json_string("Bearer"));
    json_object_set_new(c->out, "expiresAt", json_string(t));
    json_t *u = user_load(s, uid, tz);
    json_object_set_new(c->out, "user", u ? u : json_null());
    c->status = 200;
    return ERR_OK;
}

static void login(req *r)
{
    auth_ctx *a = req_route_ctx(r);
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    if (json_check(b, login_fields, "", &p)) {
        req_problem(r, &p);
        return;
    }
    const char *user = jstr(b, "username"), *pw = jstr(b, "password");
    int64_t retry;
    if (rl_blocked(a, user, req_address(r), &retry)) {
        req_too_many(r, "username", "too many failed logins for this user or address", retry);
        return;
    }
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, "SELECT id, password_hash, active FROM users WHERE username = ?",
                    (store_val[]){SV_S(user)}, 1, &res)) {
        req_fail(r, 503, "unavailable", "", "the store is not reachable");
        return;
    }
    bool ok = false;
    int64_t uid = 0;
    if (store_rows(res) == 1) {
        ok = password_check(store_text(res, 0, 1), pw) && store_int(res, 0, 2) == 1;
        uid = store_int(res, 0, 0);
    } else {
        /* spend the same time as a real check, so unknown names are not revealed */
        char dummy[128];
        if (password_hash("not-a-user", dummy, sizeof dummy) == ERR_OK)
            password_check(dummy, pw);
    }
    store_res_free(res);
    rl_record(a, user, req_address(r), ok);
    if (!ok) {
        LOGW("auth", "msg=\"login failed\" user=\"%s\" address=%s", user, req_address(r));
        req_fail(r, 401, "unauthorized", "password", "wrong username or password");
        return;
    }
    char token[96], h[65];
    rand_token(token, sizeof token, 32);
    token_hash(token, h);
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:s, s:s, s:I, s:I, s:s, s:i}", "token", token, "tokenHash", h, "userId",
                      (json_int_t)uid, "expires", (json_int_t)(time_real_ms() + a->ttl_ms),
                      "address", req_address(r), "tz", req_tz(r));
    c->apply = apply_login;
    /* the principal is not set on a public route: name the actor after the user */
    snprintf(c->actor, sizeof c->actor, "%s", user);
    req_submit(r);
}

static err apply_logout(engine *e, cmd *c)
{
    store *s = engine_store(e);
    err rc = store_exec(s, "UPDATE sessions SET revoked = 1 WHERE token_hash = ?",
                        (store_val[]){SV_S(jstr(c->in, "tokenHash"))}, 1);
    if (rc)
        return rc;
    char sid[20];
    snprintf(sid, sizeof sid, "%.16s", jstr(c->in, "tokenHash"));
    rc = engine_audit(e, c->actor, "logout", "session", sid, NULL, NULL);
    if (!rc)
        rc = engine_emit(e, "session.revoked", "session", sid, c->actor, NULL);
    c->status = 204;
    return rc;
}

static void logout(req *r)
{
    const char *h = req_header(r, "Authorization");
    const char *token =
        h && strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : req_query(r, "access_token");
    char th[65];
    token_hash(token ? token : "", th);
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:s}", "tokenHash", th);
    c->apply = apply_logout;
    req_submit(r);
}

static void me(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    json_t *u = user_load(s, req_who(r)->user_id, req_tz(r));
    if (!u) {
        req_fail(r, 404, "notFound", "", "user not found");
        return;
    }
    req_json(r, 200, u);
}

/* ---- users ---- */

static const json_field user_create_fields[] = {
    {"username", JT_STRING, JF_REQUIRED, 64, NULL},
    {"password", JT_STRING, JF_REQUIRED, 128, NULL},
    {"displayName", JT_STRING, JF_REQUIRED, 64, NULL},
    {"roles", JT_ARRAY, JF_REQUIRED, 0, NULL},
    {"groups", JT_ARRAY, 0, 0, NULL},
    {"active", JT_BOOL, 0, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"createdAt", JT_ANY, JF_READONLY, 0, NULL},
    {"updatedAt", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field user_patch_fields[] = {
    {"password", JT_STRING, 0, 128, NULL},
    {"displayName", JT_STRING, 0, 64, NULL},
    {"roles", JT_ARRAY, 0, 0, NULL},
    {"groups", JT_ARRAY, 0, 0, NULL},
    {"active", JT_BOOL, 0, 0, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"username", JT_ANY, JF_READONLY, 0, NULL},
    {"createdAt", JT_ANY, JF_READONLY, 0, NULL},
    {"updatedAt", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static bool ident_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* roles array → bits; 0 with problem on bad input */
static err check_roles(const json_t *arr, unsigned *out, problem *p)
{
    *out = 0;
    size_t i;
    json_t *v;
    if (json_array_size(arr) == 0)
        return problem_field(p, "roles", "at least one role is required");
    json_array_foreach(arr, i, v)
    {
        char f[32];
        snprintf(f, sizeof f, "roles[%zu]", i);
        unsigned bit = json_is_string(v) ? auth_role_bit(json_string_value(v)) : 0;
        if (!bit)
            return problem_field(p, f,
                                 "must be one of agent, specialist, engineer, supervisor, qa, "
                                 "admin, integration");
        *out |= bit;
    }
    return ERR_OK;
}

static err check_groups_shape(const json_t *arr, problem *p)
{
    size_t i;
    json_t *v;
    if (json_array_size(arr) > 32)
        return problem_field(p, "groups", "at most 32 groups");
    json_array_foreach(arr, i, v)
    {
        char f[32];
        snprintf(f, sizeof f, "groups[%zu]", i);
        if (!json_is_string(v) || !ident_ok(json_string_value(v), 32))
            return problem_field(p, f, "must be a group id");
    }
    return ERR_OK;
}

/* on the engine: replace a user's groups, each must exist */
static err set_groups(engine *e, cmd *c, int64_t uid, const json_t *groups)
{
    store *s = engine_store(e);
    err rc =
        store_exec(s, "DELETE FROM user_groups WHERE user_id = ?", (store_val[]){SV_I(uid)}, 1);
    if (rc)
        return rc;
    size_t i;
    json_t *v;
    json_array_foreach(groups, i, v)
    {
        char f[32];
        snprintf(f, sizeof f, "groups[%zu]", i);
        rc = engine_require_row(e, c, "work_groups", "id", json_string_value(v), f, "group");
        if (rc)
            return rc;
        rc = store_exec(s,
                        "INSERT INTO user_groups(user_id, group_id) VALUES (?, ?)"
                        " ON CONFLICT DO NOTHING",
                        (store_val[]){SV_I(uid), SV_S(json_string_value(v))}, 2);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static int cmd_tz(const cmd *c)
{
    return (int)json_integer_value(json_object_get(c->in, "_tz"));
}

static err apply_user_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const char *username = jstr(c->in, "username");
    int64_t n = 0;
    err rc = store_scalar(s, "SELECT COUNT(*) FROM users WHERE username = ?",
                          (store_val[]){SV_S(username)}, 1, 0, &n);
    if (rc)
        return rc;
    if (n)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "username",
                           "username: '%s' is taken", username);
    int64_t id = engine_next_id(e, "users");
    int64_t now = engine_now(e);
    unsigned roles = (unsigned)json_integer_value(json_object_get(c->in, "_roles"));
    char *rt = roles_to_text(roles);
    json_t *act = json_object_get(c->in, "active");
    rc = store_exec(s,
                    "INSERT INTO users(id, username, display_name, password_hash, roles, active,"
                    " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (store_val[]){SV_I(id), SV_S(username), SV_S(jstr(c->in, "displayName")),
                                  SV_S(jstr(c->in, "_hash")), SV_S(rt),
                                  SV_I(act ? json_is_true(act) : 1), SV_I(now), SV_I(now)},
                    8);
    free(rt);
    if (rc)
        return rc;
    json_t *groups = json_object_get(c->in, "groups");
    if (groups && (rc = set_groups(e, c, id, groups)))
        return rc;
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(c->location, sizeof c->location, "/api/v1/users/%s", ids);
    return engine_finish_change(e, c, "create", "created", "user", ids, NULL,
                                user_load(s, id, cmd_tz(c)), 201);
}

static void users_create(req *r)
{
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    unsigned roles;
    if (json_check(b, user_create_fields, "", &p) ||
        check_roles(json_object_get(b, "roles"), &roles, &p) ||
        (json_object_get(b, "groups") && check_groups_shape(json_object_get(b, "groups"), &p))) {
        req_problem(r, &p);
        return;
    }
    if (!ident_ok(jstr(b, "username"), 64)) {
        req_fail(r, 400, "invalidField", "username",
                 "username: letters, digits, '.', '_' and '-' only (1–64)");
        return;
    }
    if (strlen(jstr(b, "password")) < 8) {
        req_fail(r, 400, "invalidField", "password", "password: at least 8 characters");
        return;
    }
    if (utf8_chars(jstr(b, "displayName")) == 0) {
        req_fail(r, 400, "invalidField", "displayName", "displayName: must not be empty");
        return;
    }
    char hash[160];
    if (password_hash(jstr(b, "password"), hash, sizeof hash)) {
        req_fail(r, 500, "internal", "", "cannot hash the password");
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    json_object_del(c->in, "password");
    json_object_set_new(c->in, "_hash", json_string(hash));
    json_object_set_new(c->in, "_roles", json_integer(roles));
    json_object_set_new(c->in, "_tz", json_integer(req_tz(r)));
    c->apply = apply_user_create;
    req_submit(r);
}

static err apply_user_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    int64_t id;
    if (parse_i64(c->id, 1, INT64_MAX, &id))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no user %s", c->id);
    json_t *before = user_load(s, id, cmd_tz(c));
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no user %s", c->id);
    err rc = ERR_OK;
    int64_t now = engine_now(e);
    if (jstr(c->in, "displayName"))
        rc = store_exec(s, "UPDATE users SET display_name = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "displayName")), SV_I(id)}, 2);
    if (!rc && json_object_get(c->in, "_roles")) {
        char *rt = roles_to_text((unsigned)json_integer_value(json_object_get(c->in, "_roles")));
        rc = store_exec(s, "UPDATE users SET roles = ? WHERE id = ?",
                        (store_val[]){SV_S(rt), SV_I(id)}, 2);
        free(rt);
    }
    if (!rc && jstr(c->in, "_hash"))
        rc = store_exec(s, "UPDATE users SET password_hash = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "_hash")), SV_I(id)}, 2);
    json_t *act = json_object_get(c->in, "active");
    if (!rc && act) {
        rc = store_exec(s, "UPDATE users SET active = ? WHERE id = ?",
                        (store_val[]){SV_I(json_is_true(act)), SV_I(id)}, 2);
        if (!rc && !json_is_true(act))
            rc = store_exec(s, "UPDATE sessions SET revoked = 1 WHERE user_id = ?",
                            (store_val[]){SV_I(id)}, 1);
    }
    if (!rc && (jstr(c->in, "_hash")))
        rc = store_exec(s, "UPDATE sessions SET revoked = 1 WHERE user_id = ?",
                        (store_val[]){SV_I(id)}, 1);
    if (!rc && json_object_get(c->in, "groups"))
        rc = set_groups(e, c, id, json_object_get(c->in, "groups"));
    if (!rc)
        rc = store_exec(s, "UPDATE users SET updated = ? WHERE id = ?",
                        (store_val[]){SV_I(now), SV_I(id)}, 2);
    if (rc) {
        json_decref(before);
        return rc;
    }
    return engine_finish_change(e, c, jstr(c->in, "_hash") ? "update+password" : "update",
                                "updated", "user", c->id, before, user_load(s, id, cmd_tz(c)), 200);
}

static void users_patch(req *r)
{
    json_t *b = req_body(r);
    if (!b)
        return;
    problem p = {0};
    unsigned roles = 0;
    if (json_check(b, user_patch_fields, "", &p) ||
        (json_object_get(b, "roles") && check_roles(json_object_get(b, "roles"), &roles, &p)) ||
        (json_object_get(b, "groups") && check_groups_shape(json_object_get(b, "groups"), &p))) {
        req_problem(r, &p);
        return;
    }
    cmd *c = req_cmd(r);
    c->in = json_deep_copy(b);
    json_object_del(c->in, "password");
    if (jstr(b, "password")) {
        if (strlen(jstr(b, "password")) < 8) {
            req_fail(r, 400, "invalidField", "password", "password: at least 8 characters");
            return;
        }
        char hash[160];
        if (password_hash(jstr(b, "password"), hash, sizeof hash)) {
            req_fail(r, 500, "internal", "", "cannot hash the password");
            return;
        }
        json_object_set_new(c->in, "_hash", json_string(hash));
    }
    if (roles)
        json_object_set_new(c->in, "_roles", json_integer(roles));
    json_object_set_new(c->in, "_tz", json_integer(req_tz(r)));
    c->id = req_param(r, "id");
    c->apply = apply_user_patch;
    req_submit(r);
}

static void users_list(req *r)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    int64_t total = 0;
    store_res *res;
    if (store_scalar(s, "SELECT COUNT(*) FROM users", NULL, 0, 0, &total) ||
        store_query(s, "SELECT " USER_COLS " FROM users ORDER BY id LIMIT ? OFFSET ?",
                    (store_val[]){SV_I(lim), SV_I(off)}, 2, &res)) {
        req_fail(r, 503, "unavailable", "", "the store is not reachable");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++)
        json_array_append_new(arr, user_row(s, res, i, req_tz(r)));
    store_res_free(res);
    req_list(r, arr, total);
}

static void users_get(req *r)
{
    int64_t id;
    store *s = req_store(r);
    if (!s)
        return;
    json_t *u =
        parse_i64(req_param(r, "id"), 1, INT64_MAX, &id) ? NULL : user_load(s, id, req_tz(r));
    if (!u) {
        req_fail(r, 404, "notFound", "id", "no user %s", req_param(r, "id"));
        return;
    }
    req_json(r, 200, u);
}

/* ---- groups ---- */

static const json_field group_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 32, NULL},
    {"name", JT_STRING, JF_REQUIRED, 64, NULL},
    {"description", JT_STRING, JF_NULLABLE, 400, NULL},
    {"escalationGroup", JT_STRING, JF_NULLABLE, 32, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"members", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static const json_field group_patch_fields[] = {
    {"name", JT_STRING, 0, 64, NULL},
    {"description", JT_STRING, JF_NULLABLE, 400, NULL},
    {"escalationGroup", JT_STRING, JF_NULLABLE, 32, NULL},
    {"id", JT_ANY, JF_READONLY, 0, NULL},
    {"href", JT_ANY, JF_READONLY, 0, NULL},
    {"members", JT_ANY, JF_READONLY, 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static err check_escalation(engine *e, cmd *c, const char *self)
{
    const char *esc = jstr(c->in, "escalationGroup");
    if (str_eq(esc, self))
        return problem_set(&c->prob, ERR_INVALID, 400, "invalidField", "escalationGroup",
                           "escalationGroup: a group cannot escalate to itself");
    return engine_require_row(e, c, "work_groups", "id", esc, "escalationGroup", "group");
}

static err apply_group_create(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const char *id = jstr(c->in, "id");
    int64_t n = 0;
    err rc = store_scalar(s, "SELECT COUNT(*) FROM work_groups WHERE id = ?",
                          (store_val[]){SV_S(id)}, 1, 0, &n);
    if (rc)
        return rc;
    if (n)
        return problem_set(&c->prob, ERR_CONFLICT, 409, "conflict", "id", "id: group '%s' exists",
                           id);
    rc = check_escalation(e, c, id);
    if (rc)
        return rc;
    int64_t now = engine_now(e);
    rc = store_exec(s,
                    "INSERT INTO work_groups(id, name, description, escalation_group, created,"
                    " updated) VALUES (?, ?, ?, ?, ?, ?)",
                    (store_val[]){SV_S(id), SV_S(jstr(c->in, "name")),
                                  SV_S(jstr(c->in, "description")),
                                  SV_S(jstr(c->in, "escalationGroup")), SV_I(now), SV_I(now)},
                    6);
    if (rc)
        return rc;
    snprintf(c->location, sizeof c->location, "/api/v1/groups/%s", id);
    return engine_finish_change(e, c, "create", "created", "group", id, NULL, group_load(s, id),
                                201);
}

static err check_group_id(const json_t *b, problem *p)
{
    if (!ident_ok(jstr(b, "id"), 32))
        return problem_field(p, "id", "letters, digits, '.', '_' and '-' only");
    return ERR_OK;
}

static void groups_create(req *r)
{
    req_submit_checked(r, group_fields, check_group_id, apply_group_create);
}

static err apply_group_patch(engine *e, cmd *c)
{
    store *s = engine_store(e);
    json_t *before = group_load(s, c->id);
    if (!before)
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no group %s", c->id);
    err rc = check_escalation(e, c, c->id);
    if (!rc && jstr(c->in, "name"))
        rc = store_exec(s, "UPDATE work_groups SET name = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "name")), SV_S(c->id)}, 2);
    if (!rc && json_object_get(c->in, "description"))
        rc = store_exec(s, "UPDATE work_groups SET description = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "description")), SV_S(c->id)}, 2);
    if (!rc && json_object_get(c->in, "escalationGroup"))
        rc = store_exec(s, "UPDATE work_groups SET escalation_group = ? WHERE id = ?",
                        (store_val[]){SV_S(jstr(c->in, "escalationGroup")), SV_S(c->id)}, 2);
    if (!rc)
        rc = store_exec(s, "UPDATE work_groups SET updated = ? WHERE id = ?",
                        (store_val[]){SV_I(engine_now(e)), SV_S(c->id)}, 2);
    if (rc) {
        json_decref(before);
        return rc;
    }
    return engine_finish_change(e, c, "update", "updated", "group", c->id, before,
                                group_load(s, c->id), 200);
}

static void groups_patch(req *r)
{
    req_submit_checked(r, group_patch_fields, NULL, apply_group_patch);
}

static void groups_list(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, "SELECT id FROM work_groups ORDER BY id", NULL, 0, &res)) {
        req_fail(r, 503, "unavailable", "", "the store is not reachable");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *g = group_load(s, store_text(res, i, 0));
        if (g)
            json_array_append_new(arr, g);
    }
    int64_t total = store_rows(res);
    store_res_free(res);
    req_list(r, arr, total);
}

static void groups_get(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    json_t *g = group_load(s, req_param(r, "id"));
    if (!g) {
        req_fail(r, 404, "notFound", "id", "no group %s", req_param(r, "id"));
        return;
    }
    req_json(r, 200, g);
}

/* ---- audit ---- */

static json_t *audit_row(const store_res *res, int i, int tz)
{
    json_t *o = json_object();
    char t[40];
    json_object_set_new(o, "id", json_string(store_text(res, i, 0)));
    time_iso(store_int(res, i, 1), tz, t, sizeof t);
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "actor", json_string(store_text(res, i, 2)));
    json_object_set_new(o, "action", json_string(store_text(res, i, 3)));
    json_object_set_new(o, "entityType", json_string(store_text(res, i, 4)));
    json_object_set_new(o, "entityId", json_string(store_text(res, i, 5)));
    json_t *bd = json_load(store_text(res, i, 6)), *ad = json_load(store_text(res, i, 7));
    json_object_set_new(o, "before", bd ? bd : json_null());
    json_object_set_new(o, "after", ad ? ad : json_null());
    return o;
}

static void audit_list(req *r)
{
    static const query_filter filters[] = {
        {"entityType", QF_TEXT, " AND entity_type = ?", NULL, NULL, 0, 0},
        {"entityId", QF_TEXT, " AND entity_id = ?", NULL, NULL, 0, 0},
        {"actor", QF_TEXT, " AND actor = ?", NULL, NULL, 0, 0},
        {"action", QF_TEXT, " AND action = ?", NULL, NULL, 0, 0},
        {"after", QF_TIME, " AND time >= ?", NULL, NULL, 0, 0},
        {"before", QF_TIME, " AND time < ?", NULL, NULL, 0, 0},
        {NULL, 0, NULL, NULL, NULL, 0, 0},
    };
    req_list_rows(r, "audit",
                  "id, time, actor, action, entity_type, entity_id, before_doc, after_doc",
                  filters, "id DESC", audit_row, "the audit trail");
}

/* ---- registration ---- */

static const route auth_routes[] = {
    {"POST", "/api/v1/login", ROUTE_PUBLIC, login},
    {"POST", "/api/v1/logout", ROUTE_ANY, logout},
    {"GET", "/api/v1/me", ROUTE_ANY, me},
    {"GET", "/api/v1/users", ROLE_SUPERVISOR | ROLE_ADMIN, users_list},
    {"POST", "/api/v1/users", ROLE_ADMIN, users_create},
    {"GET", "/api/v1/users/{id}", ROLE_SUPERVISOR | ROLE_ADMIN, users_get},
    {"PATCH", "/api/v1/users/{id}", ROLE_ADMIN, users_patch},
    {"GET", "/api/v1/groups", ROUTE_ANY, groups_list},
    {"POST", "/api/v1/groups", ROLE_ADMIN, groups_create},
    {"GET", "/api/v1/groups/{id}", ROUTE_ANY, groups_get},
    {"PATCH", "/api/v1/groups/{id}", ROLE_ADMIN, groups_patch},
    {"GET", "/api/v1/audit", ROLE_SUPERVISOR | ROLE_ADMIN, audit_list},
    {NULL, NULL, 0, NULL},
};

auth_ctx *auth_create(store_pool *readers, int64_t token_ttl_s)
{
    auth_ctx *a = xcalloc(1, sizeof *a);
    a->readers = readers;
    a->ttl_ms = token_ttl_s * 1000;
    a->by_user = limiter_create(4096, RL_MAX_USER, RL_WINDOW_MS);
    a->by_address = limiter_create(4096, RL_MAX_ADDR, RL_WINDOW_MS);
    pthread_mutex_init(&a->cache_lock, NULL);
    return a;
}

/* engine thread, after commit: forget cached sessions when accounts or sessions change */
static void on_event(void *ctx, const event_rec *ev)
{
    auth_ctx *a = ctx;
    if (strcmp(ev->type, "session.revoked") != 0 && strcmp(ev->type, "user.updated") != 0)
        return;
    pthread_mutex_lock(&a->cache_lock);
    memset(a->cache, 0, sizeof a->cache);
    pthread_mutex_unlock(&a->cache_lock);
}

void auth_attach_engine(auth_ctx *a, engine *e)
{
    engine_subscribe(e, on_event, a);
}

void auth_destroy(auth_ctx *a)
{
    if (!a)
        return;
    limiter_destroy(a->by_user);
    limiter_destroy(a->by_address);
    pthread_mutex_destroy(&a->cache_lock);
    free(a);
}

void auth_register(auth_ctx *a, http_server *s)
{
    http_add_routes(s, auth_routes, a);
    http_set_auth(s, authenticate, a);
}

/* ---- offline setup ---- */

err auth_ensure_group(store *s, const char *id, const char *name, const char *description,
                      const char *escalation, problem *p)
{
    int64_t now = time_real_ms();
    err rc = store_exec(s,
                        "INSERT INTO work_groups(id, name, description, escalation_group, created,"
                        " updated) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                        " name = excluded.name, description = excluded.description,"
                        " escalation_group = excluded.escalation_group, updated = excluded.updated",
                        (store_val[]){SV_S(id), SV_S(name), SV_S(description), SV_S(escalation),
                                      SV_I(now), SV_I(now)},
                        6);
    if (rc)
        return problem_set(p, rc, 500, "internal", "", "cannot write group %s: %s", id,
                           store_errmsg(s));
    return ERR_OK;
}

err auth_ensure_user(store *s, const char *username, const char *display, const char *password,
                     unsigned roles, const char *const *groups, problem *p)
{
    char hash[160];
    if (password_hash(password, hash, sizeof hash))
        return problem_set(p, ERR_INTERNAL, 500, "internal", "", "cannot hash password");
    int64_t now = time_real_ms();
    int64_t id = 0;
    err rc = store_scalar(s, "SELECT id FROM users WHERE username = ?",
                          (store_val[]){SV_S(username)}, 1, 0, &id);
    char *rt = roles_to_text(roles);
    if (!rc && id) {
        rc = store_exec(s,
                        "UPDATE users SET display_name = ?, password_hash = ?, roles = ?,"
                        " active = 1, updated = ? WHERE id = ?",
                        (store_val[]){SV_S(display), SV_S(hash), SV_S(rt), SV_I(now), SV_I(id)}, 5);
    } else if (!rc) {
        rc = store_scalar(s, "SELECT MAX(id) FROM users", NULL, 0, 0, &id);
        id++;
        if (!rc)
            rc = store_exec(s,
                            "INSERT INTO users(id, username, display_name, password_hash, roles,"
                            " active, created, updated) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
                            (store_val[]){SV_I(id), SV_S(username), SV_S(display), SV_S(hash),
                                          SV_S(rt), SV_I(now), SV_I(now)},
                            7);
    }
    free(rt);
    for (int i = 0; !rc && groups && groups[i]; i++)
        rc = store_exec(s,
                        "INSERT INTO user_groups(user_id, group_id) VALUES (?, ?)"
                        " ON CONFLICT DO NOTHING",
                        (store_val[]){SV_I(id), SV_S(groups[i])}, 2);
    if (rc)
        return problem_set(p, rc, 500, "internal", "", "cannot write user %s: %s", username,
                           store_errmsg(s));
    return ERR_OK;
}
