/*
 * demo.c — the demo operator: groups, people, SLA policies and dispatch rules of a
 * provincial service center, and optionally a bulk history of work orders. Written
 * straight to the store (no server is running during `shouye demo`).
 */
#include "app.h"

#include "assurance/assurance.h"
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
    /* tariffs: base plans, packs, activities with a mutual exclusion */
    static const struct {
        const char *id, *kind, *name, *service;
        int fee;
        const char *allowance, *excludes;
    } offers[] = {
        {"P4G58", "basePlan", "4G畅享58元套餐", "mobile", 5800,
         "{\"voiceMin\":300,\"dataMB\":20480,\"sms\":100}", NULL},
        {"P5G128", "basePlan", "5G智享128元套餐", "mobile", 12800,
         "{\"voiceMin\":800,\"dataMB\":61440,\"sms\":200}", NULL},
        {"PFUSION199", "basePlan", "宽带融合199元套餐", "broadband", 19900,
         "{\"voiceMin\":1000,\"dataMB\":102400,\"broadbandMbps\":1000}", NULL},
        {"K10G", "pack", "10GB流量包", "mobile", 2000, "{\"dataMB\":10240}", NULL},
        {"KV100", "pack", "100分钟语音包", "mobile", 1000, "{\"voiceMin\":100}", NULL},
        {"A-CUNFEI", "activity", "存费送费（存300送300）", NULL, 0, NULL, NULL},
        {"A-HEYUEJI", "activity", "合约购机（24个月）", NULL, 0, NULL, "[\"A-CUNFEI\"]"},
    };
    int64_t tnow = time_real_ms();
    for (size_t i = 0; !rc && i < ARRAY_LEN(offers); i++) {
        rc = store_exec(s,
                        "INSERT INTO offers(id, kind, name, service, monthly_fee, allowance,"
                        " valid_from, valid_to, excludes, created, updated)"
                        " VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (store_val[]){SV_S(offers[i].id), SV_S(offers[i].kind),
                                      SV_S(offers[i].name), SV_S(offers[i].service),
                                      SV_I(offers[i].fee), SV_S(offers[i].allowance),
                                      SV_S(offers[i].excludes), SV_I(tnow), SV_I(tnow)},
                        9);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write offer: %s", store_errmsg(s));
    }
    /* the province's areas and its cable and mobile networks */
    if (!rc)
        rc = topology_demo(s, p);
    /* value-added services: a small tree */
    static const struct {
        const char *id, *parent, *name, *kind, *params;
        int fee, pos;
    } vas[] = {
        {"V-COMM", NULL, "通信助理", "category", NULL, 0, 1},
        {"V-FAMILY", "V-COMM", "亲情号", "service", "{\"type\":\"familyNumbers\",\"max\":3}", 500,
         1},
        {"V-FORWARD", "V-COMM", "呼叫转移", "service", "{\"type\":\"callForwarding\"}", 0, 2},
        {"V-CLIP", "V-COMM", "来电显示", "service", NULL, 500, 3},
        {"V-FUN", NULL, "娱乐", "category", NULL, 0, 2},
        {"V-RBT", "V-FUN", "彩铃", "service", NULL, 500, 1},
        {"V-VIDEO", "V-FUN", "视频会员", "service", NULL, 1500, 2},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(vas); i++) {
        rc = store_exec(s,
                        "INSERT INTO vas_catalog(id, parent_id, name, kind, params, monthly_fee,"
                        " position) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (store_val[]){SV_S(vas[i].id), SV_S(vas[i].parent), SV_S(vas[i].name),
                                      SV_S(vas[i].kind), SV_S(vas[i].params), SV_I(vas[i].fee),
                                      SV_I(vas[i].pos)},
                        7);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write VAS: %s", store_errmsg(s));
    }
    /* emergency plans 应急预案: who gets the fault ticket, who is paged, what is promised */
    static const struct {
        int level;
        const char *service, *group, *duty;
        int hours;
        const char *desc;
    } plans[] = {
        {1, NULL, "duty", "[\"13900000001\",\"13900000002\"]", 2, "一级故障：全网/全市业务中断"},
        {2, NULL, "duty", "[\"13900000001\"]", 4, "二级故障：区县级或光机级业务中断"},
        {2, "broadband", "broadband", "[\"13900000003\"]", 4, "宽带二级故障"},
        {2, "tv", "tv", "[\"13900000004\"]", 4, "数字电视二级故障"},
        {2, "mobile", "mobile", "[\"13900000005\"]", 4, "无线二级故障"},
        {3, NULL, "broadband", "[\"13900000003\"]", 8, "三级故障：网格级"},
        {4, NULL, "frontline", NULL, 24, "四级故障：个别用户"},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(plans); i++) {
        rc = store_exec(
            s,
            "INSERT INTO emergency_plans(id, level, service, group_id, on_duty,"
            " notify_customers, restore_hours, description, created, updated)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (store_val[]){SV_I((int64_t)i + 1), SV_I(plans[i].level), SV_S(plans[i].service),
                          SV_S(plans[i].group), SV_S(plans[i].duty), SV_I(plans[i].hours),
                          SV_S(plans[i].desc), SV_I(time_real_ms()), SV_I(time_real_ms())},
            9);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write plan: %s", store_errmsg(s));
    }
    /* complaint warning lines 投诉预警线: per district, fixed; the province on its baseline */
    static const struct {
        const char *name, *service, *area;
        int window, threshold, factor, floor, level;
    } lines[] = {
        {"南山区宽带投诉", "broadband", "GD.SZ.NS", 30, 5, 0, 0, 2},
        {"南山区数字电视投诉", "tv", "GD.SZ.NS", 30, 5, 0, 0, 2},
        {"天河区宽带投诉", "broadband", "GD.GZ.TH", 30, 5, 0, 0, 2},
        {"深圳市全业务投诉（基线3倍）", NULL, "GD.SZ", 60, 0, 300, 20, 2},
        {"全省全业务投诉（基线3倍）", NULL, "GD", 60, 0, 300, 60, 1},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(lines); i++) {
        rc = store_exec(
            s,
            "INSERT INTO warning_lines(id, name, service, area, window_min, threshold,"
            " baseline_factor, baseline_min, level, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (store_val[]){SV_I((int64_t)i + 1), SV_S(lines[i].name), SV_S(lines[i].service),
                          SV_S(lines[i].area), SV_I(lines[i].window),
                          SV_OI(lines[i].threshold > 0, lines[i].threshold),
                          SV_OI(lines[i].factor > 0, lines[i].factor), SV_I(lines[i].floor),
                          SV_I(lines[i].level), SV_I(time_real_ms()), SV_I(time_real_ms())},
            11);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write warning line: %s",
                        store_errmsg(s));
    }
    /* metric thresholds 阈值 (thousandths of the unit): raise, and clear with hysteresis */
    static const struct {
        const char *indicator, *unit, *kind, *dir;
        int64_t raise, clear;
        const char *sev;
    } ths[] = {
        {"opticalPower", "dBm", "opticalNode", "below", -25000, -22000, "major"},
        {"rfLevel", "dBuV", "amplifier", "below", 60000, 65000, "minor"},
        {"signalLevel", "dBm", "cell", "below", -110000, -105000, "minor"},
    };
    for (size_t i = 0; !rc && i < ARRAY_LEN(ths); i++) {
        rc = store_exec(s,
                        "INSERT INTO thresholds(id, indicator, unit, element_kind, direction,"
                        " raise_milli, clear_milli, severity, created, updated)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (store_val[]){SV_I((int64_t)i + 1), SV_S(ths[i].indicator),
                                      SV_S(ths[i].unit), SV_S(ths[i].kind), SV_S(ths[i].dir),
                                      SV_I(ths[i].raise), SV_I(ths[i].clear), SV_S(ths[i].sev),
                                      SV_I(time_real_ms()), SV_I(time_real_ms())},
                        10);
        if (rc)
            problem_set(p, rc, 500, "internal", "", "cannot write threshold: %s", store_errmsg(s));
    }
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
    /* history belongs to the demo subscribers when there are some */
    int64_t subscribers = 0;
    store_scalar(s, "SELECT COUNT(*) FROM subscribers", NULL, 0, 0, &subscribers);
    int64_t move_id = 0;
    store_scalar(s, "SELECT COALESCE(MAX(id), 0) + 1 FROM ticket_moves", NULL, 0, 1, &move_id);
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
            if (subscribers > 0)
                demo_msisdn((int64_t)((r >> 28) % (uint64_t)subscribers), cust, sizeof cust);
            else
                snprintf(cust, sizeof cust, "138%08llu",
                         (unsigned long long)((r >> 28) % 100000000));
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
                19);
            /* its history: taken, and where it went */
            if (!rc)
                rc = store_exec(s,
                                "INSERT INTO ticket_moves(id, ticket_id, time, actor, from_stage,"
                                " to_stage, status, reason) VALUES (?, ?, ?, 'demo', NULL, 'new',"
                                " 'acknowledged', 'created')",
                                (store_val[]){SV_I(move_id++), SV_I(id), SV_I(created)}, 3);
            if (!rc && strcmp(stage, "new") != 0)
                rc = store_exec(s,
                                "INSERT INTO ticket_moves(id, ticket_id, time, actor, from_stage,"
                                " to_stage, status, reason) VALUES (?, ?, ?, 'demo', 'new', ?, ?,"
                                " NULL)",
                                (store_val[]){SV_I(move_id++), SV_I(id),
                                              SV_I(created + (open ? 600000 : 3600000)),
                                              SV_S(stage), SV_S(lifecycle_status(stage))},
                                5);
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

/* ---- demo subscribers: believable names, numbers, areas and levels ---- */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏",
    "吕", "丁", "沈", "姚", "卢", "钟", "谭", "陆", "汪", "范", "金", "廖", "夏", "方", "邹"};
static const char *const given[] = {"伟",   "芳",   "娜",   "秀英", "敏",   "静",   "丽",   "强",
                                    "磊",   "军",   "洋",   "勇",   "艳",   "杰",   "娟",   "涛",
                                    "明",   "超",   "秀兰", "霞",   "平",   "刚",   "桂英", "建国",
                                    "建华", "志强", "海燕", "晓东", "丽娟", "子涵", "浩然", "欣怡",
                                    "梓萱", "宇轩", "思远", "雨桐", "嘉豪", "俊杰"};
static const char *const prefixes[] = {"138", "139", "135", "136", "137", "150", "151", "152",
                                       "157", "158", "159", "182", "183", "187", "188", "198"};

typedef struct {
    const char *code, *city, *district, *road;
} demo_area;

static const demo_area demo_areas[] = {
    {"GD.GZ.TH", "广州市", "天河区", "天河路"},   {"GD.GZ.YX", "广州市", "越秀区", "中山五路"},
    {"GD.GZ.HZ", "广州市", "海珠区", "江南大道"}, {"GD.SZ.NS", "深圳市", "南山区", "科技园路"},
    {"GD.SZ.FT", "深圳市", "福田区", "深南大道"}, {"GD.SZ.LG", "深圳市", "龙岗区", "龙翔大道"},
    {"GD.SZ.BA", "深圳市", "宝安区", "新安路"},   {"GD.FS.NH", "佛山市", "南海区", "桂城大道"},
    {"GD.FS.SD", "佛山市", "顺德区", "大良路"},   {"GD.DG.CA", "东莞市", "长安镇", "长安路"},
    {"GD.ZH.XZ", "珠海市", "香洲区", "情侣路"},   {"GD.ST.JP", "汕头市", "金平区", "长平路"},
};

/* the n-th demo number: unique by construction, spread over real-looking prefixes */
void demo_msisdn(int64_t n, char *out, size_t len)
{
    int np = (int)ARRAY_LEN(prefixes);
    snprintf(out, len, "%s%08lld", prefixes[n % np], (long long)(n / np));
}

/*
 * What else a demo line holds: a pack (15 % of mobile lines) or a marketing activity (6 %),
 * a value-added service (25 %: 来电显示, 彩铃, 视频会员, 亲情号 or 呼转 with their parameters),
 * and what terminal management last reported — every cable line (光猫 / 机顶盒) and 40 % of
 * mobile lines (the handset).
 */
static err demo_holdings(store *s, const char *msisdn, int64_t k, int64_t n, bool cable,
                         int64_t now, int64_t *offer_id, int64_t *vas_id)
{
    static const char *const packs[] = {"K10G", "KV100"};
    static const char *const acts[] = {"A-CUNFEI", "A-HEYUEJI"};
    static const char *const vas[] = {"V-CLIP", "V-RBT", "V-VIDEO", "V-FAMILY", "V-FORWARD"};
    static const char *const phones[] = {"Huawei Mate 60", "Xiaomi 14", "iPhone 15",
                                         "OPPO Reno11",    "vivo X100", "Honor 90"};
    static const char *const boxes[] = {"华为 HG8245 光猫", "中兴 F650 光猫", "创维 E900 机顶盒",
                                        "九洲 DVC-7058 机顶盒"};
    uint64_t v = rnd();
    err rc = ERR_OK;
    const char *extra = NULL, *kind = NULL;
    if (!cable && v % 100 < 15)
        extra = packs[(v >> 8) % 2], kind = "pack";
    else if ((v >> 4) % 100 < 6)
        extra = acts[(v >> 9) % 2], kind = "activity";
    if (extra)
        rc = store_exec(s,
                        "INSERT INTO subscriber_offers(id, msisdn, offer_id, kind, started, ended,"
                        " state, ordered_by) VALUES (?, ?, ?, ?, ?, NULL, 'active', 'demo')",
                        (store_val[]){SV_I((*offer_id)++), SV_S(msisdn), SV_S(extra), SV_S(kind),
                                      SV_I(now - (int64_t)((v >> 12) % 90) * 86400000)},
                        5);
    if (!rc && (v >> 20) % 100 < 25) {
        const char *id = vas[(v >> 28) % ARRAY_LEN(vas)];
        char params[160] = "{}", a[16], b[16];
        demo_msisdn((k + 1 + (int64_t)((v >> 32) % 1000)) % (n > 1 ? n : 2), a, sizeof a);
        demo_msisdn((k + 1001 + (int64_t)((v >> 42) % 1000)) % (n > 1 ? n : 2), b, sizeof b);
        if (strcmp(id, "V-FAMILY") == 0 && strcmp(a, msisdn) && strcmp(b, msisdn) && strcmp(a, b))
            snprintf(params, sizeof params, "{\"numbers\":[\"%s\",\"%s\"]}", a, b);
        else if (strcmp(id, "V-FAMILY") == 0)
            id = "V-CLIP";
        if (strcmp(id, "V-FORWARD") == 0 && strcmp(a, msisdn))
            snprintf(params, sizeof params, "{\"forwardTo\":\"%s\",\"condition\":\"noAnswer\"}", a);
        else if (strcmp(id, "V-FORWARD") == 0)
            id = "V-RBT";
        rc = store_exec(s,
                        "INSERT INTO subscriber_vas(id, msisdn, vas_id, params, state, started,"
                        " ended, ordered_by) VALUES (?, ?, ?, ?, 'active', ?, NULL, 'demo')",
                        (store_val[]){SV_I((*vas_id)++), SV_S(msisdn), SV_S(id), SV_S(params),
                                      SV_I(now - (int64_t)((v >> 50) % 365) * 86400000)},
                        5);
    }
    uint64_t w = rnd();
    if (!rc && (cable || w % 100 < 40)) {
        bool online = (w >> 8) % 100 < 97;
        int signal = cable ? -15 - (int)((w >> 16) % 12) : -65 - (int)((w >> 16) % 45);
        rc = store_exec(
            s,
            "INSERT INTO line_state(msisdn, online, signal_dbm, terminal, last_seen,"
            " updated) VALUES (?, ?, ?, ?, ?, ?)",
            (store_val[]){SV_S(msisdn), SV_I(online), SV_I(signal),
                          SV_S(cable ? boxes[(w >> 24) % ARRAY_LEN(boxes)]
                                     : phones[(w >> 24) % ARRAY_LEN(phones)]),
                          SV_I(now - (int64_t)((w >> 32) % (online ? 600 : 259200)) * 1000),
                          SV_I(now)},
            6);
    }
    return rc;
}

static err customers_demo_bulk(store *s, int64_t n, problem *p)
{
    int64_t now = time_real_ms();
    const int batch = 20000;
    int64_t offer_id = 0, vas_id = 0;
    err rc = store_scalar(s, "SELECT COALESCE(MAX(id), 0) + 1 FROM subscriber_offers", NULL, 0, 1,
                          &offer_id);
    if (!rc)
        rc = store_scalar(s, "SELECT COALESCE(MAX(id), 0) + 1 FROM subscriber_vas", NULL, 0, 1,
                          &vas_id);
    topo_index *topo = topology_demo_load(s);
    for (int64_t done = 0; done < n && !rc;) {
        rc = store_begin(s);
        int64_t upto = done + batch < n ? done + batch : n;
        for (; done < upto && !rc; done++) {
            uint64_t r = rnd();
            char msisdn[16], name[32], idn[24], addr[160], attach[32], acct[24];
            demo_msisdn(done, msisdn, sizeof msisdn);
            snprintf(name, sizeof name, "%s%s", surnames[r % ARRAY_LEN(surnames)],
                     given[(r >> 8) % ARRAY_LEN(given)]);
            const demo_area *a = &demo_areas[(r >> 16) % ARRAY_LEN(demo_areas)];
            int year = 1950 + (int)((r >> 20) % 55), month = 1 + (int)((r >> 28) % 12),
                day = 1 + (int)((r >> 32) % 28);
            snprintf(idn, sizeof idn, "4403%02d%04d%02d%02d%04d", (int)((r >> 36) % 99), year,
                     month, day, (int)((r >> 40) % 10000));
            snprintf(addr, sizeof addr, "广东省%s%s%s%d号%d栋%d室", a->city, a->district, a->road,
                     1 + (int)((r >> 44) % 300), 1 + (int)((r >> 50) % 20),
                     101 + (int)((r >> 54) % 30) * 100 / 10);
            /* fusion (broadband + TV) customers hang from a cable amplifier, the rest from a cell
             */
            static const char *const plans[] = {"P4G58", "P4G58", "P4G58", "P5G128", "PFUSION199"};
            const char *plan = plans[(r >> 6) % ARRAY_LEN(plans)];
            const char *point = NULL;
            int64_t attach_pos = 0;
            if (topology_demo_pick(topo, a->code, strcmp(plan, "PFUSION199") == 0, r >> 12, &point,
                                   &attach_pos))
                point = NULL;
            snprintf(attach, sizeof attach, "%s", point ? point : "");
            snprintf(acct, sizeof acct, "ACC%010lld", (long long)done + 1);
            int lv = (int)((r >> 24) % 100);
            const char *level = lv < 80   ? "normal"
                                : lv < 92 ? "silver"
                                : lv < 98 ? "gold"
                                          : "diamond";
            bool vip = lv >= 98 || (lv >= 92 && (r >> 60) % 3 == 0);
            /* money first: a few are in arrears, and those lines are stopped 欠费停机 */
            uint64_t q = rnd();
            int64_t free_fen = (int64_t)(q % 30000) - ((q >> 20) % 50 == 0 ? 40000 : 0);
            int64_t credit_fen = lv >= 92 ? 10000 : 0;
            const char *status = free_fen + credit_fen < 0 ? "suspended" : "active";
            /* a customer since the plan started, or up to a month before */
            int64_t started = now - (int64_t)((r >> 10) % 700) * 86400000;
            int64_t joined = started - (int64_t)(q % 30) * 86400000;
            rc = store_exec(
                s,
                "INSERT INTO subscribers(msisdn, account_id, name, id_type, id_number, address,"
                " contacts, password_hash, level, vip, points, area, attachment, attach_pos,"
                " status, created, updated) VALUES (?, ?, ?, 'idCard', ?, ?, NULL, NULL, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (store_val[]){SV_S(msisdn), SV_S(acct), SV_S(name), SV_S(idn), SV_S(addr),
                              SV_S(level), SV_I(vip), SV_I((int64_t)((r >> 4) % 50000)),
                              SV_S(a->code), SV_S(point ? attach : NULL),
                              SV_OI(point != NULL, attach_pos), SV_S(status), SV_I(joined),
                              SV_I(joined)},
                14);
            /* everyone holds exactly one base plan */
            bool fresh = !rc && store_changes(s) == 1;
            if (fresh)
                rc = store_exec(
                    s,
                    "INSERT INTO subscriber_offers(id, msisdn, offer_id, kind, started,"
                    " ended, state, ordered_by) VALUES (?, ?, ?, 'basePlan', ?, NULL,"
                    " 'active', 'demo')",
                    (store_val[]){SV_I(offer_id++), SV_S(msisdn), SV_S(plan), SV_I(started)}, 4);
            /* a balance and what is left of this month's allowances; a few in arrears */
            if (!rc) {
                rc = store_exec(s,
                                "INSERT INTO balances(msisdn, free_fen, frozen_fen, deposit_fen,"
                                " credit_fen, voice_left_min, data_left_mb, sms_left, updated)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                (store_val[]){SV_S(msisdn), SV_I(free_fen),
                                              SV_I((q >> 16) % 4 == 0 ? 5000 : 0),
                                              SV_I((q >> 18) % 5 == 0 ? 30000 : 0),
                                              SV_I(credit_fen), SV_I((int64_t)((q >> 24) % 300)),
                                              SV_I((int64_t)((q >> 32) % 20480)),
                                              SV_I((int64_t)((q >> 44) % 100)), SV_I(now)},
                                9);
            }
            if (!rc && fresh)
                rc = demo_holdings(s, msisdn, done, n, strcmp(plan, "PFUSION199") == 0, now,
                                   &offer_id, &vas_id);
        }
        if (!rc)
            rc = store_commit(s);
        if (rc) {
            problem_set(p, rc, 500, "internal", "", "subscriber load failed: %s", store_errmsg(s));
            store_rollback(s);
        }
    }
    topology_demo_free(topo);
    return rc;
}

/*
 * A bulk load into SQLite: no fsync until the end (a demo load cut short is done again on a
 * new store), a page cache of 1 GB, and the secondary indexes of the tables it fills dropped
 * and built once at the end — sorting ten million keys once is much faster than ten million
 * random inserts into each of seven B-trees. The index definitions are the store's own
 * (sqlite_master), so nothing here repeats the migrations.
 */
typedef struct {
    char **sql;
    size_t n;
} bulk;

static err bulk_begin(store *s, bulk *b)
{
    memset(b, 0, sizeof *b);
    if (store_is_pg(s))
        return ERR_OK;
    err rc = store_script(s, "PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;");
    store_res *r = NULL;
    if (!rc)
        rc = store_query(s,
                         "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND"
                         " sql IS NOT NULL AND tbl_name IN ('subscribers', 'subscriber_offers',"
                         " 'subscriber_vas', 'balances', 'line_state', 'tickets', 'ticket_moves')",
                         NULL, 0, &r);
    b->sql = xcalloc((size_t)store_rows(r) + 1, sizeof *b->sql);
    for (int i = 0; !rc && i < store_rows(r); i++) {
        char *drop = xasprintf("DROP INDEX %s", store_text(r, i, 0));
        rc = store_script(s, drop);
        free(drop);
        if (!rc)
            b->sql[b->n++] = xstrdup(store_text(r, i, 1));
    }
    store_res_free(r);
    return rc;
}

/* build the indexes again (also after a failed load: the schema stays whole) */
static err bulk_end(store *s, bulk *b)
{
    err rc = ERR_OK;
    for (size_t i = 0; i < b->n; i++) {
        err one = store_script(s, b->sql[i]);
        rc = rc ? rc : one;
        free(b->sql[i]);
    }
    free(b->sql);
    if (!store_is_pg(s)) {
        err one = store_script(s, "PRAGMA synchronous=FULL;");
        rc = rc ? rc : one;
    }
    return rc;
}

err app_demo(const char *db, int64_t tickets, int64_t subscribers, problem *p)
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
    bulk b = {0};
    bool big = subscribers + tickets >= 100000; /* small loads keep their indexes */
    if (!rc && big && (rc = bulk_begin(s, &b)))
        problem_set(p, rc, 500, "internal", "", "cannot prepare the bulk load: %s",
                    store_errmsg(s));
    if (!rc && subscribers > 0)
        rc = customers_demo_bulk(s, subscribers, p);
    if (!rc && tickets > 0)
        rc = tickets_demo_bulk(s, tickets, p);
    if (big) {
        err end = bulk_end(s, &b);
        if (!rc && end)
            rc = problem_set(p, end, 500, "internal", "", "cannot build the indexes: %s",
                             store_errmsg(s));
    }
    if (!rc)
        store_script(s, "ANALYZE");
    store_close(s);
    return rc;
}
