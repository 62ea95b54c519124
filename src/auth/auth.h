/*
 * auth — users, roles, groups, sessions (opaque bearer tokens stored as hashes), login
 * rate limiting, and the audit trail API. Passwords are argon2id (libsodium), hashed and
 * checked on HTTP threads so the engine never waits on them.
 */
#ifndef SHOUYE_AUTH_H
#define SHOUYE_AUTH_H

#include "http/http.h"

enum {
    ROLE_AGENT = 1u << 0,      /* first line 一线 */
    ROLE_SPECIALIST = 1u << 1, /* second line 二线 */
    ROLE_ENGINEER = 1u << 2,   /* field engineer 装维 */
    ROLE_SUPERVISOR = 1u << 3, /* 值班长 / 班组长 */
    ROLE_QA = 1u << 4,         /* 质检 */
    ROLE_ADMIN = 1u << 5,
    ROLE_INTEGRATION = 1u << 6, /* BOSS / NMS / gateway clients */
};
#define ROLE_ALL 0x7Fu

/* "agent" → ROLE_AGENT; 0 when unknown */
unsigned auth_role_bit(const char *name);
/* role bits → JSON array of names */
json_t *auth_roles_json(unsigned roles);
/* every role name, NULL-terminated */
extern const char *const auth_role_names[];

typedef struct auth_ctx auth_ctx;

/* Create the auth module; token lifetime in seconds. */
auth_ctx *auth_create(store_pool *readers, int64_t token_ttl_s);
void auth_destroy(auth_ctx *a);
/* Subscribe to the engine's events (cache invalidation); before engine_start. */
void auth_attach_engine(auth_ctx *a, engine *e);
/* Register routes and the authenticator on the server. */
void auth_register(auth_ctx *a, http_server *s);

/*
 * Offline setup for `shouye init` / `shouye demo`, straight on a store outside the
 * engine (no server running). Creates or updates the user.
 */
err auth_ensure_user(store *s, const char *username, const char *display, const char *password,
                     unsigned roles, const char *const *groups, problem *p);
err auth_ensure_group(store *s, const char *id, const char *name, const char *description,
                      const char *escalation, problem *p);

#endif
