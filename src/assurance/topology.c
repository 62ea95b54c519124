/*
 * topology.c — areas and network elements (A6). Trees are numbered in pre-order (`pos`, and
 * `last` = the largest position in the subtree) so a subtree is an interval; subscribers carry
 * the position of the element they hang from (attach_pos), so counting or listing everyone
 * under an optical node is one index range scan, fast at tens of millions.
 */
#include "assurance/assurance_int.h"

#include "auth/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the demo province ---- */

typedef struct {
    const char *code, *name;
} named;

static const named cities[] = {{"GZ", "广州市"}, {"SZ", "深圳市"}, {"FS", "佛山市"},
                               {"DG", "东莞市"}, {"ZH", "珠海市"}, {"ST", "汕头市"}};
static const struct {
    const char *city, *code, *name;
} districts[] = {
    {"GZ", "TH", "天河区"}, {"GZ", "YX", "越秀区"}, {"GZ", "HZ", "海珠区"}, {"SZ", "NS", "南山区"},
    {"SZ", "FT", "福田区"}, {"SZ", "LG", "龙岗区"}, {"SZ", "BA", "宝安区"}, {"FS", "NH", "南海区"},
    {"FS", "SD", "顺德区"}, {"DG", "CA", "长安镇"}, {"ZH", "XZ", "香洲区"}, {"ST", "JP", "金平区"},
};
#define NODES_PER_DISTRICT 50
#define AMPS_PER_NODE 4
#define SITES_PER_DISTRICT 20
#define CELLS_PER_SITE 3

typedef struct {
    store *s;
    int64_t pos;
    err rc;
    problem *p;
    int64_t written;
} builder;

static void add_area(builder *b, const char *code, const char *parent, const char *name,
                     const char *level)
{
    if (b->rc)
        return;
    b->rc = store_exec(b->s,
                       "INSERT INTO areas(code, parent, name, level) VALUES (?, ?, ?, ?)"
                       " ON CONFLICT DO NOTHING",
                       (store_val[]){SV_S(code), SV_S(parent), SV_S(name), SV_S(level)}, 4);
}

/* begin an element: it takes the next position; end_element writes it with its last */
static int64_t begin_element(builder *b)
{
    return b->pos++;
}

static void end_element(builder *b, int64_t pos, const char *id, const char *parent,
                        const char *kind, const char *name, const char *network, const char *area)
{
    if (b->rc)
        return;
    b->rc = store_exec(b->s,
                       "INSERT INTO elements(id, parent, kind, name, network, area, pos, last)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                       (store_val[]){SV_S(id), SV_S(parent), SV_S(kind), SV_S(name), SV_S(network),
                                     SV_S(area), SV_I(pos), SV_I(b->pos - 1)},
                       8);
    b->written++;
}

err topology_demo(store *s, problem *p)
{
    builder b = {.s = s, .pos = 1, .p = p};
    add_area(&b, "GD", NULL, "广东省", "province");
    for (size_t c = 0; c < ARRAY_LEN(cities); c++) {
        char cc[16];
        snprintf(cc, sizeof cc, "GD.%s", cities[c].code);
        add_area(&b, cc, "GD", cities[c].name, "city");
        for (size_t d = 0; d < ARRAY_LEN(districts); d++) {
            if (strcmp(districts[d].city, cities[c].code))
                continue;
            char dc[24];
            snprintf(dc, sizeof dc, "%s.%s", cc, districts[d].code);
            add_area(&b, dc, cc, districts[d].name, "district");
            for (int g = 1; g <= 4; g++) {
                char gc[32], gn[64];
                snprintf(gc, sizeof gc, "%s.G%02d", dc, g);
                snprintf(gn, sizeof gn, "%s第%d网格", districts[d].name, g);
                add_area(&b, gc, dc, gn, "grid");
            }
        }
    }
    /* cable: 有线网 → 头端 per city → 光机 per district → 放大器 */
    int64_t root = begin_element(&b);
    for (size_t c = 0; c < ARRAY_LEN(cities); c++) {
        char he[16], hen[64], cc[16];
        snprintf(he, sizeof he, "HE-%s", cities[c].code);
        snprintf(hen, sizeof hen, "%s头端", cities[c].name);
        snprintf(cc, sizeof cc, "GD.%s", cities[c].code);
        int64_t hp = begin_element(&b);
        for (size_t d = 0; d < ARRAY_LEN(districts); d++) {
            if (strcmp(districts[d].city, cities[c].code))
                continue;
            char dc[24];
            snprintf(dc, sizeof dc, "%s.%s", cc, districts[d].code);
            for (int n = 0; n < NODES_PER_DISTRICT; n++) {
                char on[24], onn[64];
                snprintf(on, sizeof on, "ON-%s-%03d", districts[d].code, n);
                snprintf(onn, sizeof onn, "%s光机%03d", districts[d].name, n);
                int64_t np = begin_element(&b);
                for (int a = 1; a <= AMPS_PER_NODE; a++) {
                    char amp[32], ampn[80], grid[32];
                    snprintf(amp, sizeof amp, "AMP-%s-%03d-%d", districts[d].code, n, a);
                    snprintf(ampn, sizeof ampn, "%s光机%03d放大器%d", districts[d].name, n, a);
                    snprintf(grid, sizeof grid, "%s.G%02d", dc, 1 + n % 4);
                    int64_t ap = begin_element(&b);
                    end_element(&b, ap, amp, on, "amplifier", ampn, "cable", grid);
                }
                end_element(&b, np, on, he, "opticalNode", onn, "cable", dc);
            }
        }
        end_element(&b, hp, he, "CABLE", "headend", hen, "cable", cc);
    }
    end_element(&b, root, "CABLE", NULL, "network", "有线电视网", "cable", "GD");
    /* mobile: 移动网 → core → 基站 per district → 小区 */
    root = begin_element(&b);
    int64_t core = begin_element(&b);
    for (size_t d = 0; d < ARRAY_LEN(districts); d++) {
        char dc[24];
        snprintf(dc, sizeof dc, "GD.%s.%s", districts[d].city, districts[d].code);
        for (int n = 0; n < SITES_PER_DISTRICT; n++) {
            char site[24], siten[64];
            snprintf(site, sizeof site, "SITE-%s-%02d", districts[d].code, n);
            snprintf(siten, sizeof siten, "%s基站%02d", districts[d].name, n);
            int64_t sp = begin_element(&b);
            for (int k = 1; k <= CELLS_PER_SITE; k++) {
                char cell[32], celln[80], grid[32];
                snprintf(cell, sizeof cell, "CELL-%s-%02d-%d", districts[d].code, n, k);
                snprintf(celln, sizeof celln, "%s基站%02d小区%d", districts[d].name, n, k);
                snprintf(grid, sizeof grid, "%s.G%02d", dc, 1 + n % 4);
                int64_t cp = begin_element(&b);
                end_element(&b, cp, cell, site, "cell", celln, "mobile", grid);
            }
            end_element(&b, sp, site, "CORE-GD", "site", siten, "mobile", dc);
        }
    }
    end_element(&b, core, "CORE-GD", "MOBILE", "core", "广东核心网", "mobile", "GD");
    end_element(&b, root, "MOBILE", NULL, "network", "移动网", "mobile", "GD");
    if (b.rc)
        return problem_set(p, b.rc, 500, "internal", "", "cannot write topology: %s",
                           store_errmsg(s));
    return ERR_OK;
}

/* ---- picking attachment points for demo subscribers ---- */

typedef struct {
    char district[8];
    char **amp_ids, **cell_ids;
    int64_t *amp_pos, *cell_pos;
    int namps, ncells;
} district_points;

struct topo_index {
    district_points d[ARRAY_LEN(districts)];
};

topo_index *topology_demo_load(store *s)
{
    topo_index *t = xcalloc(1, sizeof *t);
    for (size_t i = 0; i < ARRAY_LEN(districts); i++) {
        district_points *dp = &t->d[i];
        snprintf(dp->district, sizeof dp->district, "%s", districts[i].code);
        static const char *const kinds[] = {"amplifier", "cell"};
        for (int k = 0; k < 2; k++) {
            char like[24];
            snprintf(like, sizeof like, k == 0 ? "AMP-%s-" : "CELL-%s-", districts[i].code);
            char hi[24];
            snprintf(hi, sizeof hi, "%s~", like); /* '~' sorts after the digits */
            store_res *r;
            if (store_query(s,
                            "SELECT id, pos FROM elements WHERE kind = ? AND id >= ? AND id < ?"
                            " ORDER BY pos",
                            (store_val[]){SV_S(kinds[k]), SV_S(like), SV_S(hi)}, 3, &r))
                continue;
            int n = store_rows(r);
            char **ids = xcalloc((size_t)n + 1, sizeof *ids);
            int64_t *pos = xcalloc((size_t)n + 1, sizeof *pos);
            for (int j = 0; j < n; j++) {
                ids[j] = xstrdup(store_text(r, j, 0));
                pos[j] = store_int(r, j, 1);
            }
            store_res_free(r);
            if (k == 0) {
                dp->amp_ids = ids;
                dp->amp_pos = pos;
                dp->namps = n;
            } else {
                dp->cell_ids = ids;
                dp->cell_pos = pos;
                dp->ncells = n;
            }
        }
    }
    return t;
}

err topology_demo_pick(const topo_index *t, const char *district, bool cable, uint64_t r,
                       const char **id, int64_t *pos)
{
    /* district is an area code GD.XX.YY: its last segment */
    const char *dot = strrchr(district, '.');
    const char *code = dot ? dot + 1 : district;
    for (size_t i = 0; i < ARRAY_LEN(districts); i++) {
        const district_points *dp = &t->d[i];
        if (strcmp(dp->district, code) != 0)
            continue;
        int n = cable ? dp->namps : dp->ncells;
        if (!n)
            return ERR_NOTFOUND;
        int k = (int)(r % (uint64_t)n);
        *id = cable ? dp->amp_ids[k] : dp->cell_ids[k];
        *pos = cable ? dp->amp_pos[k] : dp->cell_pos[k];
        return ERR_OK;
    }
    return ERR_NOTFOUND;
}

void topology_demo_free(topo_index *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < ARRAY_LEN(districts); i++) {
        district_points *dp = &t->d[i];
        for (int j = 0; j < dp->namps; j++)
            free(dp->amp_ids[j]);
        for (int j = 0; j < dp->ncells; j++)
            free(dp->cell_ids[j]);
        free(dp->amp_ids);
        free(dp->cell_ids);
        free(dp->amp_pos);
        free(dp->cell_pos);
    }
    free(t);
}

/* ---- reads ---- */

static void areas(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    store_res *res;
    if (store_query(s, "SELECT code, parent, name, level FROM areas ORDER BY code", NULL, 0,
                    &res)) {
        req_fail(r, 503, "unavailable", "", "areas cannot be read now");
        return;
    }
    json_t *by = json_object(), *roots = json_array();
    for (int i = 0; i < store_rows(res); i++)
        json_object_set_new(by, store_text(res, i, 0),
                            json_pack("{s:s, s:s, s:s, s:[]}", "code", store_text(res, i, 0),
                                      "name", store_text(res, i, 2), "level", store_text(res, i, 3),
                                      "children"));
    for (int i = 0; i < store_rows(res); i++) {
        json_t *n = json_object_get(by, store_text(res, i, 0));
        json_t *parent = store_text(res, i, 1) ? json_object_get(by, store_text(res, i, 1)) : NULL;
        json_array_append(parent ? json_object_get(parent, "children") : roots, n);
    }
    store_res_free(res);
    json_decref(by);
    req_list(r, roots, (int64_t)json_array_size(roots));
}

static json_t *element_row(const store_res *res, int i)
{
    return json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s?}", "id", store_text(res, i, 0), "parent",
                     store_text(res, i, 1), "kind", store_text(res, i, 2), "name",
                     store_text(res, i, 3), "network", store_text(res, i, 4), "area",
                     store_text(res, i, 5));
}

#define EL_COLS "id, parent, kind, name, network, area, pos, last"

static void element(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    const char *id = req_param(r, "id");
    store_res *res = NULL;
    if (store_query(s, "SELECT " EL_COLS " FROM elements WHERE id = ?", (store_val[]){SV_S(id)}, 1,
                    &res) ||
        !store_rows(res)) {
        store_res_free(res);
        req_fail(r, 404, "notFound", "id", "no element %s", id);
        return;
    }
    json_t *o = element_row(res, 0);
    int64_t pos = store_int(res, 0, 6), last = store_int(res, 0, 7);
    store_res_free(res);
    int64_t under = 0, children = 0;
    store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE attach_pos >= ? AND attach_pos <= ?",
                 (store_val[]){SV_I(pos), SV_I(last)}, 2, 0, &under);
    store_scalar(s, "SELECT COUNT(*) FROM elements WHERE parent = ?", (store_val[]){SV_S(id)}, 1, 0,
                 &children);
    /* the path up to the root: the ancestors are the elements whose interval holds pos */
    json_t *path = json_array();
    if (store_query(s, "SELECT " EL_COLS " FROM elements WHERE pos < ? AND last >= ? ORDER BY pos",
                    (store_val[]){SV_I(pos), SV_I(pos)}, 2, &res) == ERR_OK) {
        for (int i = 0; i < store_rows(res); i++)
            json_array_append_new(path,
                                  json_pack("{s:s, s:s, s:s}", "id", store_text(res, i, 0), "kind",
                                            store_text(res, i, 2), "name", store_text(res, i, 3)));
        store_res_free(res);
    }
    json_object_set_new(o, "subscribersUnder", json_integer(under));
    json_object_set_new(o, "children", json_integer(children));
    json_object_set_new(o, "path", path);
    req_json(r, 200, o);
}

static void elements(req *r)
{
    int64_t off, lim;
    if (!req_paging(r, &off, &lim))
        return;
    store *s = req_store(r);
    if (!s)
        return;
    const char *parent = req_query(r, "parent");
    store_res *res;
    int64_t total = 0;
    err rc = parent ? store_scalar(s, "SELECT COUNT(*) FROM elements WHERE parent = ?",
                                   (store_val[]){SV_S(parent)}, 1, 0, &total)
                    : store_scalar(s, "SELECT COUNT(*) FROM elements WHERE parent IS NULL", NULL, 0,
                                   0, &total);
    if (!rc)
        rc = parent ? store_query(s,
                                  "SELECT " EL_COLS " FROM elements WHERE parent = ? ORDER BY pos"
                                  " LIMIT ? OFFSET ?",
                                  (store_val[]){SV_S(parent), SV_I(lim), SV_I(off)}, 3, &res)
                    : store_query(s,
                                  "SELECT " EL_COLS " FROM elements WHERE parent IS NULL"
                                  " ORDER BY pos LIMIT ? OFFSET ?",
                                  (store_val[]){SV_I(lim), SV_I(off)}, 2, &res);
    if (rc) {
        req_fail(r, 503, "unavailable", "", "elements cannot be read now");
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < store_rows(res); i++)
        json_array_append_new(arr, element_row(res, i));
    store_res_free(res);
    req_list(r, arr, total);
}

/* ---- import (A6): PUT /api/v1/topology merges areas and elements, then renumbers ---- */

#define IMPORT_MAX 100000

static const char *const area_levels[] = {"province", "city", "district", "grid", NULL};
static const char *const element_kinds[] = {"network", "headend", "opticalNode", "amplifier",
                                            "core",    "site",    "cell",        "olt",
                                            "onu",     "switch",  "router",      NULL};
static const char *const networks[] = {"cable", "mobile", "fixed", NULL};

static const json_field area_fields[] = {
    {"code", JT_STRING, JF_REQUIRED, 64, NULL},
    {"parent", JT_STRING, JF_NULLABLE, 64, NULL},
    {"name", JT_STRING, JF_REQUIRED, 100, NULL},
    {"level", JT_STRING, JF_REQUIRED, 16, area_levels},
    {NULL, 0, 0, 0, NULL},
};

static const json_field element_fields[] = {
    {"id", JT_STRING, JF_REQUIRED, 64, NULL},
    {"parent", JT_STRING, JF_NULLABLE, 64, NULL},
    {"kind", JT_STRING, JF_REQUIRED, 16, element_kinds},
    {"name", JT_STRING, JF_REQUIRED, 100, NULL},
    {"network", JT_STRING, JF_REQUIRED, 16, networks},
    {"area", JT_STRING, JF_NULLABLE, 64, NULL},
    {NULL, 0, 0, 0, NULL},
};

static bool element_id_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

static err check_import(const json_t *b, problem *p)
{
    const json_t *areas = json_object_get(b, "areas"), *els = json_object_get(b, "elements");
    if (!areas && !els)
        return problem_missing(p, "elements");
    if (json_array_size(areas) + json_array_size(els) > IMPORT_MAX)
        return problem_field(p, "elements", "at most %d areas and elements per request",
                             IMPORT_MAX);
    size_t i;
    json_t *v;
    char path[40];
    json_array_foreach(areas, i, v)
    {
        snprintf(path, sizeof path, "areas[%zu]", i);
        err rc = json_check(v, area_fields, path, p);
        if (rc)
            return rc;
        if (!area_code_ok(jstr(v, "code")))
            return problem_field(p, path, "code must be an area code like GD.SZ.NS");
        const char *parent = jstr(v, "parent");
        if (parent && !area_under(jstr(v, "code"), parent))
            return problem_field(p, path, "code must lie under its parent (%s.…)", parent);
    }
    json_array_foreach(els, i, v)
    {
        snprintf(path, sizeof path, "elements[%zu]", i);
        err rc = json_check(v, element_fields, path, p);
        if (rc)
            return rc;
        if (!element_id_ok(jstr(v, "id")))
            return problem_field(p, path, "id: letters, digits, '-', '_' or '.'");
        if (str_eq(jstr(v, "parent"), jstr(v, "id")))
            return problem_field(p, path, "an element cannot be its own parent");
    }
    return ERR_OK;
}

typedef struct {
    char *id, *parent;
    int64_t old_pos, pos, last;
    int *kids, nkids, capkids;
    bool seen;
} node;

static int cmp_kid(const void *a, const void *b, void *ctx)
{
    const node *ns = ctx;
    const node *x = &ns[*(const int *)a], *y = &ns[*(const int *)b];
    /* existing elements keep their order; new ones follow, by id */
    if (x->old_pos != y->old_pos) {
        if (!x->old_pos)
            return 1;
        if (!y->old_pos)
            return -1;
        return x->old_pos < y->old_pos ? -1 : 1;
    }
    return strcmp(x->id, y->id);
}

/* number the tree under `i` in pre-order (pos, and last = the end of its subtree); an element
   left unseen afterwards sits in a cycle */
static void number(node *ns, int i, int64_t *next)
{
    /* iterative DFS: the tree may be deep */
    int cap = 64, top = 0;
    int *stack = xmalloc(sizeof *stack * (size_t)cap), *iter = xmalloc(sizeof *iter * (size_t)cap);
    stack[top] = i;
    iter[top] = 0;
    ns[i].pos = (*next)++;
    ns[i].seen = true;
    while (top >= 0) {
        node *n = &ns[stack[top]];
        if (iter[top] < n->nkids) {
            int k = n->kids[iter[top]++];
            if (ns[k].seen)
                continue;
            ns[k].seen = true;
            ns[k].pos = (*next)++;
            if (++top == cap) {
                cap *= 2;
                stack = xrealloc(stack, sizeof *stack * (size_t)cap);
                iter = xrealloc(iter, sizeof *iter * (size_t)cap);
            }
            stack[top] = k;
            iter[top] = 0;
        } else {
            n->last = *next - 1;
            top--;
        }
    }
    free(stack);
    free(iter);
}

static int find_node(node *ns, int n, const char *id)
{
    /* ns is sorted by id */
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(ns[mid].id, id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static err apply_import(engine *e, cmd *c)
{
    store *s = engine_store(e);
    const json_t *areas = json_object_get(c->in, "areas"), *els = json_object_get(c->in, "elements");
    size_t i;
    json_t *v;
    err rc = ERR_OK;
    /* areas first (parents before children: the codes say who is under whom) */
    json_array_foreach(areas, i, v)
    {
        rc = store_exec(s,
                        "INSERT INTO areas(code, parent, name, level) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (code) DO UPDATE SET parent = excluded.parent,"
                        " name = excluded.name, level = excluded.level",
                        (store_val[]){SV_S(jstr(v, "code")), SV_S(jstr(v, "parent")),
                                      SV_S(jstr(v, "name")), SV_S(jstr(v, "level"))},
                        4);
        if (rc)
            return rc;
    }
    json_array_foreach(areas, i, v)
    {
        if (!jstr(v, "parent"))
            continue;
        char field[40];
        snprintf(field, sizeof field, "areas[%zu].parent", i);
        rc = engine_require_row(e, c, "areas", "code", jstr(v, "parent"), field, "area");
        if (rc)
            return rc;
    }
    json_array_foreach(els, i, v)
    {
        char field[40];
        snprintf(field, sizeof field, "elements[%zu].area", i);
        rc = engine_require_row(e, c, "areas", "code", jstr(v, "area"), field, "area");
        if (!rc)
            rc = store_exec(s,
                            "INSERT INTO elements(id, parent, kind, name, network, area, pos, last)"
                            " VALUES (?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT (id) DO UPDATE SET"
                            " parent = excluded.parent, kind = excluded.kind,"
                            " name = excluded.name, network = excluded.network,"
                            " area = excluded.area",
                            (store_val[]){SV_S(jstr(v, "id")), SV_S(jstr(v, "parent")),
                                          SV_S(jstr(v, "kind")), SV_S(jstr(v, "name")),
                                          SV_S(jstr(v, "network")), SV_S(jstr(v, "area"))},
                            6);
        if (rc)
            return rc;
    }
    /* renumber the whole forest in pre-order */
    store_res *r;
    rc = store_query(s, "SELECT id, parent, pos FROM elements ORDER BY id", NULL, 0, &r);
    if (rc)
        return rc;
    int n = store_rows(r);
    node *ns = xcalloc((size_t)n + 1, sizeof *ns);
    for (int k = 0; k < n; k++) {
        ns[k].id = xstrdup(store_text(r, k, 0));
        ns[k].parent = store_text(r, k, 1) ? xstrdup(store_text(r, k, 1)) : NULL;
        ns[k].old_pos = store_int(r, k, 2);
    }
    store_res_free(r);
    int nroots = 0;
    int *roots = xcalloc((size_t)n + 1, sizeof *roots);
    for (int k = 0; k < n && !rc; k++) {
        if (!ns[k].parent) {
            roots[nroots++] = k;
            continue;
        }
        int p = find_node(ns, n, ns[k].parent);
        if (p < 0) {
            rc = problem_set(&c->prob, ERR_INVALID, 422, "invalidField", "elements",
                             "elements: %s names parent %s, which is not in the topology",
                             ns[k].id, ns[k].parent);
            break;
        }
        node *pn = &ns[p];
        if (pn->nkids == pn->capkids) {
            pn->capkids = pn->capkids ? pn->capkids * 2 : 4;
            pn->kids = xrealloc(pn->kids, sizeof *pn->kids * (size_t)pn->capkids);
        }
        pn->kids[pn->nkids++] = k;
    }
    int64_t next = 1;
    if (!rc) {
        qsort_r(roots, (size_t)nroots, sizeof *roots, cmp_kid, ns);
        for (int k = 0; k < n; k++)
            if (ns[k].nkids > 1)
                qsort_r(ns[k].kids, (size_t)ns[k].nkids, sizeof *ns[k].kids, cmp_kid, ns);
        for (int k = 0; k < nroots; k++)
            number(ns, roots[k], &next);
        for (int k = 0; k < n && !rc; k++)
            if (!ns[k].seen)
                rc = problem_set(&c->prob, ERR_INVALID, 422, "invalidField", "elements",
                                 "elements: %s is in a cycle of parents", ns[k].id);
    }
    int moved = 0;
    for (int k = 0; k < n && !rc; k++) {
        rc = store_exec(s, "UPDATE elements SET pos = ?, last = ? WHERE id = ?",
                        (store_val[]){SV_I(ns[k].pos), SV_I(ns[k].last), SV_S(ns[k].id)}, 3);
        if (!rc && ns[k].pos != ns[k].old_pos) {
            /* whoever hangs from a renumbered element follows it */
            moved++;
            rc = store_exec(s, "UPDATE subscribers SET attach_pos = ? WHERE attachment = ?",
                            (store_val[]){SV_I(ns[k].pos), SV_S(ns[k].id)}, 2);
            if (!rc)
                rc = store_exec(s, "UPDATE alarms SET object_pos = ? WHERE object_id = ?",
                                (store_val[]){SV_I(ns[k].pos), SV_S(ns[k].id)}, 2);
            if (!rc)
                rc = store_exec(s,
                                "UPDATE incidents SET element_pos = ?, element_last = ?"
                                " WHERE element_id = ?",
                                (store_val[]){SV_I(ns[k].pos), SV_I(ns[k].last), SV_S(ns[k].id)},
                                3);
        } else if (!rc && ns[k].last != 0) {
            rc = store_exec(s,
                            "UPDATE incidents SET element_last = ? WHERE element_id = ?"
                            " AND element_last <> ?",
                            (store_val[]){SV_I(ns[k].last), SV_S(ns[k].id), SV_I(ns[k].last)}, 3);
        }
    }
    for (int k = 0; k < n; k++) {
        free(ns[k].id);
        free(ns[k].parent);
        free(ns[k].kids);
    }
    free(ns);
    free(roots);
    if (rc)
        return rc;
    json_t *summary = json_pack("{s:i, s:i, s:i, s:i}", "areas", (int)json_array_size(areas),
                                "elements", (int)json_array_size(els), "elementsTotal", n,
                                "renumbered", moved);
    rc = engine_audit(e, c->actor, "import", "topology", "all", NULL, summary);
    if (!rc)
        rc = engine_emit(e, "topology.imported", "topology", "all", c->actor,
                         json_incref(summary));
    c->out = summary;
    c->status = 200;
    return rc;
}

static void import(req *r)
{
    static const json_field fields[] = {{"areas", JT_ARRAY, 0, 0, NULL},
                                        {"elements", JT_ARRAY, 0, 0, NULL},
                                        {NULL, 0, 0, 0, NULL}};
    req_submit_checked(r, fields, check_import, apply_import);
}

static const route routes[] = {
    {"GET", "/api/v1/areas", ROUTE_ANY, areas},
    {"GET", "/api/v1/elements", ROUTE_ANY, elements},
    {"GET", "/api/v1/elements/{id}", ROUTE_ANY, element},
    {"PUT", "/api/v1/topology", ROLE_ADMIN | ROLE_INTEGRATION, import},
    {NULL, NULL, 0, NULL},
};

void assurance_register(assurance_ctx *a, http_server *s)
{
    http_add_routes(s, routes, a);
    alarms_register(a, s);
    incidents_register(a, s);
    signals_register(a, s);
    plans_register(a, s);
    probes_register(a, s);
    metrics_register(a, s);
    quality_register(a, s);
}

