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
    bool txn = store_exec(s, "BEGIN", NULL, 0) == ERR_OK;
    store_res *res = NULL;
    if (store_query(s, "SELECT " EL_COLS " FROM elements WHERE id = ?", (store_val[]){SV_S(id)}, 1,
                    &res) ||
        !store_rows(res)) {
        store_res_free(res);
        if (txn)
            store_exec(s, "COMMIT", NULL, 0);
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
    if (txn)
        store_exec(s, "COMMIT", NULL, 0);
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

static const route routes[] = {
    {"GET", "/api/v1/areas", ROUTE_ANY, areas},
    {"GET", "/api/v1/elements", ROUTE_ANY, elements},
    {"GET", "/api/v1/elements/{id}", ROUTE_ANY, element},
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
