/*
 * settings.c — the shape every assurance settings resource shares (emergency plans, warning
 * lines, probes, thresholds): GET one and list, PUT/POST/DELETE as one write command whose
 * beginning (new id, or the row before) and end (Location, audit, event, answer) are here.
 */
#include "assurance/assurance_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tz_of(req *r)
{
    assurance_ctx *a = req_route_ctx(r);
    return a ? a->cfg.tz : req_tz(r);
}

void settings_get(req *r, row_json_fn one, const char *what)
{
    store *s = req_store(r);
    if (!s)
        return;
    int64_t id;
    json_t *o = NULL;
    if (parse_i64(req_param(r, "id"), 1, INT64_MAX, &id) == ERR_OK)
        o = one(s, id, tz_of(r));
    if (!o) {
        req_fail(r, 404, "notFound", "id", "no %s %s", what, req_param(r, "id"));
        return;
    }
    req_json(r, 200, o);
}

void settings_list(req *r, const char *ids_sql, row_json_fn one, const char *what)
{
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, ids_sql, NULL, 0, &res)) {
        req_fail(r, 503, "unavailable", "", "%s cannot be read now", what);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++) {
        json_t *o = one(s, store_int(res, i, 0), tz_of(r));
        if (o)
            json_array_append_new(arr, o);
    }
    store_res_free(res);
    req_list(r, arr, (int64_t)json_array_size(arr));
}

void settings_delete(req *r, err (*apply)(engine *e, cmd *c))
{
    cmd *c = req_cmd(r);
    c->in = json_pack("{s:b}", "_delete", 1);
    c->id = req_param(r, "id");
    c->apply = apply;
    req_submit(r);
}

err settings_begin(engine *e, cmd *c, const char *table, row_json_fn one, const char *what,
                   settings_write *w)
{
    memset(w, 0, sizeof *w);
    w->create = c->id == NULL;
    w->del = json_is_true(json_object_get(c->in, "_delete"));
    w->now = engine_now(e);
    if (w->create) {
        w->id = engine_next_id(e, table);
        return ERR_OK;
    }
    if (parse_i64(c->id, 1, INT64_MAX, &w->id) ||
        !(w->before = one(engine_store(e), w->id, actx(e)->cfg.tz)))
        return problem_set(&c->prob, ERR_NOTFOUND, 404, "notFound", "id", "no %s %s", what,
                           c->id);
    return ERR_OK;
}

err settings_finish(engine *e, cmd *c, settings_write *w, err rc, const char *base,
                    const char *entity, row_json_fn one)
{
    if (rc) {
        json_decref(w->before);
        return rc;
    }
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)w->id);
    if (w->create)
        snprintf(c->location, sizeof c->location, "%s/%s", base, ids);
    return engine_finish_change(
        e, c, w->del ? "delete" : w->create ? "create" : "update",
        w->del ? "deleted" : w->create ? "created" : "updated", entity, ids, w->before,
        w->del ? NULL : one(engine_store(e), w->id, actx(e)->cfg.tz),
        w->del ? 204 : w->create ? 201 : 200);
}
