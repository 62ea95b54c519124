/*
 * demo.c — the demo operator: groups, people, SLA policies and dispatch rules of a
 * provincial service center, and optionally a bulk history of work orders. Written
 * straight to the store (no server is running during `shouye demo`).
 */
#include "app.h"

#include "auth/auth.h"
#include "store/store.h"
#include "tickets/tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const demo_password = "shouye-demo";

typedef struct {
    const char *id, *name, *desc, *esc;
} demo_group;

static const demo_group groups[] = {
    {"duty", "值班长", "7×24 值班长，所有升级工单的最终去向", NULL},
    {"frontline", "一线客服", "10086/96123 热线一线坐席", "duty"},
    {"broadband", "宽带支撑组", "家庭宽带、光猫、光机故障二线支撑", "duty"},
    {"mobile", "无线网络支撑组", "基站、小区、手机上网故障二线支撑", "duty"},
    {"tv", "数字电视支撑组", "数字电视、IPTV、机顶盒二线支撑", "duty"},
    {"complaints", "投诉处理中心", "投诉工单处理与回访", "duty"},
};

typedef struct {
    const char *user, *name;
    unsigned roles;
    const char *group;
} demo_user;

static const demo_user users[] = {
    {"agent1", "王芳", ROLE_AGENT, "frontline"},
    {"agent2", "李娜", ROLE_AGENT, "frontline"},
    {"specialist1", "张伟", ROLE_SPECIALIST, "broadband"},
    {"specialist2", "刘洋", ROLE_SPECIALIST, "mobile"},
    {"engineer1", "陈杰", ROLE_ENGINEER, "broadband"},
    {"supervisor1", "赵敏", ROLE_SUPERVISOR, "duty"},
    {"qa1", "孙丽", ROLE_QA, "frontline"},
    {"integration1", "BOSS 接口", ROLE_INTEGRATION, NULL},
};

static err demo_base(store *s, problem *p)
{
    err rc = ERR_OK;
    /* groups without an escalation target first, so references resolve */
    for (size_t i = 0; !rc && i < ARRAY_LEN(groups); i++)
        rc = auth_ensure_group(s, groups[i].id, groups[i].name, groups[i].desc, groups[i].esc, p);
    for (size_t i = 0; !rc && i < ARRAY_LEN(users); i++) {
        const char *const g[] = {users[i].group, NULL};
        rc = auth_ensure_user(s, users[i].user, users[i].name, demo_password, users[i].roles,
                              users[i].group ? g : NULL, p);
    }
    static const struct {
        const char *type, *prio, *level;
        int resp, res;
    } pol[] = {
        {"*", "*", "*", 120, 4320},
        {"complaint", "*", "*", 30, 1440},
        {"complaint", "*", "diamond", 10, 240},
        {"faultReport", "*", "*", 60, 2880},
        {"faultReport", "Critical", "*", 15, 240},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(pol); i++) {
        rc = tickets_demo_policy(s, (int64_t)i + 1, pol[i].type, pol[i].prio, pol[i].level,
                                 pol[i].resp, pol[i].res);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write SLA policy: %s", store_errmsg(s));
    }
    static const struct {
        const char *type, *service, *group;
    } rules[] = {
        {NULL, "broadband", "broadband"},
        {NULL, "mobile", "mobile"},
        {NULL, "tv", "tv"},
        {NULL, "iptv", "tv"},
        {"complaint", NULL, "complaints"},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(rules); i++) {
        rc = tickets_demo_rule(s, (int64_t)i + 1, (int)(i + 1) * 10, rules[i].type, NULL, NULL,
                               rules[i].service, rules[i].group);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write dispatch rule: %s",
                        store_errmsg(s));
    }
    return rc;
}

/* a small deterministic generator: demo data is the same on every machine */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

err tickets_demo_bulk(store *s, int64_t n, problem *p)
{
    static const char *const types[] = {"complaint",    "faultReport",    "inquiry",
                                        "consultation", "serviceRequest", "suggestion"};
    static const char *const services[] = {"broadband", "mobile", "tv", "iptv", "voice"};
    static const char *const svc_group[] = {"broadband", "mobile", "tv", "tv", "frontline"};
    static const char *const categories[] = {"无信号",   "网速慢",   "掉线",     "资费争议",
                                             "马赛克",   "无法上网", "话费查询", "套餐变更",
                                             "装机预约", "服务态度"};
    static const char *const areas[] = {"GD.GZ.TH", "GD.GZ.YX", "GD.SZ.NS", "GD.SZ.FT",
                                        "GD.SZ.LG", "GD.FS.NH", "GD.DG.CA", "GD.ZH.XZ"};
    static const char *const closed_stages[] = {"closed", "closed", "closed", "replied",
                                                "resolvedAtFirstLine"};
    static const char *const open_stages[] = {"new",        "dispatched", "accepted",
                                              "inProgress", "pending",    "feedback"};
    static const char *const prios[] = {"Medium", "Medium", "High", "Low", "Critical"};
    int64_t start = 0;
    err rc = store_scalar(s, "SELECT MAX(id) FROM tickets", NULL, 0, 0, &start);
    if (rc)
        return problem_set(p, rc, 500, "internal", "", "%s", store_errmsg(s));
    int64_t now = time_real_ms();
    const int64_t span = 90LL * 86400000;
    const int batch = 20000;
    for (int64_t done = 0; done < n && !rc;) {
        rc = store_begin(s);
        int64_t upto = done + batch < n ? done + batch : n;
        for (; done < upto && !rc; done++) {
            int64_t id = start + done + 1;
            /* ids grow with creation time, like real traffic */
            int64_t created = now - span + (span * done) / (n > 0 ? n : 1);
            uint64_t r = rnd();
            const char *type = types[r % ARRAY_LEN(types)];
            int si = (int)((r >> 8) % ARRAY_LEN(services));
            bool open = created > now - 7LL * 86400000 && (r >> 16) % 3 == 0;
            const char *stage = open ? open_stages[(r >> 20) % ARRAY_LEN(open_stages)]
                                     : closed_stages[(r >> 20) % ARRAY_LEN(closed_stages)];
            const char *group =
                strcmp(stage, "new") == 0 || strcmp(stage, "resolvedAtFirstLine") == 0
                    ? NULL
                    : svc_group[si];
            char desc[160], cust[24];
            const char *cat = categories[(r >> 24) % ARRAY_LEN(categories)];
            snprintf(desc, sizeof desc, "客户反映%s（%s）", cat, services[si]);
            snprintf(cust, sizeof cust, "138%08llu", (unsigned long long)((r >> 28) % 100000000));
            int64_t due = created + 1440LL * 60000;
            rc = store_exec(
                s,
                "INSERT INTO tickets(id, description, ticket_type, severity, priority, stage,"
                " status, status_change_date, created, updated, customer_id, category, area,"
                " service, customer_level, assigned_group, escalated, created_by, sla_policy,"
                " sla_state, sla_target_ms, sla_elapsed_ms, resolution_due, resolution_date)"
                " VALUES (?, ?, ?, 'Minor', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'normal', ?, ?,"
                " 'demo', 1, ?, ?, 0, ?, ?)",
                (store_val[]){
                    SV_I(id), SV_S(desc), SV_S(type), SV_S(prios[(r >> 32) % ARRAY_LEN(prios)]),
                    SV_S(stage), SV_S(lifecycle_status(stage)), SV_I(created), SV_I(created),
                    SV_I(created), SV_S(cust), SV_S(cat), SV_S(areas[(r >> 40) % ARRAY_LEN(areas)]),
                    SV_S(services[si]), SV_S(group), SV_I((r >> 48) % 50 == 0),
                    SV_S(open ? "running" : "met"), SV_I(1440LL * 60000), SV_I(due),
                    SV_OI(!open, created + 3600000)},
                20);
        }
        if (!rc)
            rc = store_commit(s);
        if (rc) {
            problem_set(p, rc, 500, "internal", "", "bulk load failed: %s", store_errmsg(s));
            store_rollback(s);
        }
    }
    return rc;
}

err app_demo(const char *db, int64_t tickets, problem *p)
{
    store *s;
    err rc = store_open(db, true, &s, p);
    if (rc)
        return rc;
    rc = store_migrate(s, p);
    if (!rc) {
        rc = store_begin(s);
        if (!rc)
            rc = demo_base(s, p);
        if (!rc)
            rc = store_commit(s);
        else
            store_rollback(s);
    }
    if (!rc && tickets > 0)
        rc = tickets_demo_bulk(s, tickets, p);
    if (!rc && store_is_pg(s))
        store_script(s, "ANALYZE");
    else if (!rc)
        store_script(s, "ANALYZE");
    store_close(s);
    return rc;
}
