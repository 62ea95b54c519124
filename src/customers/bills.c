/*
 * bills.c — monthly bills (last 6 months, a tree of items) and detail records (last 3 months:
 * calls, data, SMS, VAS), paged by time (C3). Billing is BOSS's; until a BOSS adapter
 * (docs/boss-boundary.md) supplies them, this file is the demo source: every figure is
 * generated from the number and the period with a fixed seed, so the same question always
 * gets the same answer, and every answer says "source": "demo".
 */
#include "customers/customers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t seed_of(const char *msisdn, int64_t k)
{
    return mix(fnv1a(msisdn) ^ (uint64_t)k * 0x9E3779B97F4A7C15ULL);
}

/* local calendar month (year*12 + month-1) of a time at +08:00 */
static int64_t month_index(int64_t ms)
{
    char t[40];
    time_iso(ms, 480, t, sizeof t); /* "YYYY-MM-…" */
    int64_t y = strtoll(t, NULL, 10), m = strtoll(t + 5, NULL, 10);
    return y * 12 + (m - 1);
}

static int64_t base_fee(store *s, const char *msisdn, char *plan, size_t n)
{
    store_res *r;
    int64_t fee = 5800;
    snprintf(plan, n, "基础套餐");
    if (store_query(s,
                    "SELECT o.name, o.monthly_fee FROM subscriber_offers p JOIN offers o"
                    " ON o.id = p.offer_id WHERE p.msisdn = ? AND p.state = 'active'"
                    " AND p.kind = 'basePlan'",
                    (store_val[]){SV_S(msisdn)}, 1, &r) == ERR_OK) {
        if (store_rows(r)) {
            snprintf(plan, n, "%s", store_text(r, 0, 0));
            fee = store_int(r, 0, 1);
        }
        store_res_free(r);
    }
    return fee;
}

static json_t *item(const char *name, int64_t fen)
{
    return json_pack("{s:s, s:I, s:[]}", "name", name, "amountFen", (json_int_t)fen, "items");
}

static void bills(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    const char *msisdn = req_param(r, "msisdn");
    int64_t n = 0, months = 6;
    store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ?",
                 (store_val[]){SV_S(msisdn)}, 1, 0, &n);
    if (!n) {
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", msisdn);
        return;
    }
    const char *m = req_query(r, "months");
    if (m && parse_i64(m, 1, 6, &months)) {
        req_fail(r, 400, "invalidField", "months", "months: 1 to 6");
        return;
    }
    char plan[96];
    int64_t fee = base_fee(s, msisdn, plan, sizeof plan);
    int64_t now_month = month_index(engine_now(req_engine(r)));
    json_t *arr = json_array();
    for (int64_t k = 1; k <= months; k++) { /* the last complete months, newest first */
        int64_t mi = now_month - k;
        uint64_t q = seed_of(msisdn, mi);
        char label[16];
        snprintf(label, sizeof label, "%04lld-%02lld", (long long)(mi / 12),
                 (long long)(mi % 12 + 1));
        json_t *root = json_array();
        json_t *plan_item = item("套餐及固定费 Plan and fixed fees", fee);
        json_array_append_new(json_object_get(plan_item, "items"), item(plan, fee));
        json_array_append_new(root, plan_item);
        int64_t voice = (int64_t)(q % 3000), data = (int64_t)((q >> 12) % 2500),
                sms = (int64_t)((q >> 24) % 300), vas = (int64_t)((q >> 32) % 1000);
        json_t *usage = item("套餐外费用 Usage beyond the plan", voice + data + sms);
        json_t *ui = json_object_get(usage, "items");
        json_array_append_new(ui, item("国内通话 Domestic calls", voice));
        json_array_append_new(ui, item("国内流量 Domestic data", data));
        json_array_append_new(ui, item("短信 SMS", sms));
        json_array_append_new(root, usage);
        json_array_append_new(root, item("增值业务费 Value-added services", vas));
        int64_t discount = (q >> 44) % 4 == 0 ? -(int64_t)((q >> 48) % 1000) : 0;
        if (discount)
            json_array_append_new(root, item("优惠减免 Discounts", discount));
        int64_t total = fee + voice + data + sms + vas + discount;
        json_array_append_new(arr, json_pack("{s:s, s:I, s:o, s:s}", "month", label, "totalFen",
                                             (json_int_t)total, "items", root, "source", "demo"));
    }
    req_list(r, arr, (int64_t)json_array_size(arr));
}

/* ---- detail records ---- */

static const char *const record_types[] = {"call", "data", "sms", "vas", NULL};

/* the records of one local day, newest first, generated from (number, day) */
static int day_records(const char *msisdn, int64_t day, const char *type, json_t *out,
                       int64_t before, int64_t after, int tz, int limit)
{
    uint64_t q = seed_of(msisdn, day);
    int count = 3 + (int)(q % 12);
    int added = 0;
    for (int i = count - 1; i >= 0 && (int)json_array_size(out) < limit; i--) {
        uint64_t x = seed_of(msisdn, day * 64 + i);
        /* spread over the day, kept in time order by index */
        int64_t at = day * DAY_MS - (int64_t)tz * 60000 + 7 * 3600000 +
                     (int64_t)i * (15 * 3600000LL / count) + (int64_t)(x % 600000);
        const char *t = record_types[x % 4 == 3 ? ((x >> 8) % 8 == 0 ? 3 : 0) : x % 3];
        if ((type && strcmp(type, t) != 0) || at >= before || at < after)
            continue;
        char when[40], peer[16];
        time_iso(at, tz, when, sizeof when);
        snprintf(peer, sizeof peer, "1%02d%08llu", 30 + (int)((x >> 10) % 70),
                 (unsigned long long)((x >> 20) % 100000000));
        json_t *rec =
            json_pack("{s:s, s:s, s:I}", "type", t, "time", when, "timeMs", (json_int_t)at);
        if (strcmp(t, "call") == 0) {
            json_object_set_new(rec, "peer", json_string(peer));
            json_object_set_new(rec, "direction", json_string((x >> 40) % 2 ? "out" : "in"));
            json_object_set_new(rec, "seconds", json_integer((json_int_t)((x >> 44) % 900 + 5)));
        } else if (strcmp(t, "data") == 0) {
            json_object_set_new(rec, "kilobytes", json_integer((json_int_t)((x >> 30) % 500000)));
        } else if (strcmp(t, "sms") == 0) {
            json_object_set_new(rec, "peer", json_string(peer));
        } else {
            json_object_set_new(rec, "service", json_string("彩铃 Ringback tone"));
        }
        json_object_set_new(rec, "feeFen", json_integer((json_int_t)((x >> 50) % 50)));
        json_array_append_new(out, rec);
        added++;
    }
    return added;
}

static void records(req *r)
{
    store *s = req_store(r);
    if (!s)
        return;
    const char *msisdn = req_param(r, "msisdn");
    int64_t n = 0;
    store_scalar(s, "SELECT COUNT(*) FROM subscribers WHERE msisdn = ?",
                 (store_val[]){SV_S(msisdn)}, 1, 0, &n);
    if (!n) {
        req_fail(r, 404, "notFound", "msisdn", "no subscriber %s", msisdn);
        return;
    }
    const char *type = req_query(r, "type");
    if (type && !str_in(type, record_types)) {
        req_fail(r, 400, "invalidField", "type", "type: call, data, sms or vas");
        return;
    }
    int64_t now = engine_now(req_engine(r)), limit = 50, before = now, after = now - 92 * DAY_MS;
    const char *v;
    if ((v = req_query(r, "limit")) && parse_i64(v, 1, 500, &limit)) {
        req_fail(r, 400, "invalidField", "limit", "limit: 1 to 500");
        return;
    }
    if ((v = req_query(r, "before")) && time_parse_iso(v, req_tz(r), &before)) {
        req_fail(r, 400, "invalidField", "before", "before: an ISO 8601 date-time");
        return;
    }
    if ((v = req_query(r, "after")) && time_parse_iso(v, req_tz(r), &after)) {
        req_fail(r, 400, "invalidField", "after", "after: an ISO 8601 date-time");
        return;
    }
    if (after < now - 92 * DAY_MS)
        after = now - 92 * DAY_MS; /* three months are kept */
    if (before > now)
        before = now;
    json_t *arr = json_array();
    int64_t tzms = (int64_t)req_tz(r) * 60000;
    for (int64_t day = (before - 1 + tzms) / DAY_MS;
         day >= (after + tzms) / DAY_MS && (int64_t)json_array_size(arr) < limit; day--)
        day_records(msisdn, day, type, arr, before, after, req_tz(r), (int)limit);
    /* the next page: everything before the oldest record shown */
    if ((int64_t)json_array_size(arr) == limit) {
        json_t *last = json_array_get(arr, json_array_size(arr) - 1);
        char t[40];
        time_iso(json_integer_value(json_object_get(last, "timeMs")), req_tz(r), t, sizeof t);
        req_add_header(r, "X-Next-Before", t);
    }
    req_add_header(r, "X-Data-Source", "demo");
    req_list(r, arr, (int64_t)json_array_size(arr));
}

static const route routes[] = {
    {"GET", "/api/v1/subscribers/{msisdn}/bills", ROUTE_ANY, bills},
    {"GET", "/api/v1/subscribers/{msisdn}/records", ROUTE_ANY, records},
    {NULL, NULL, 0, NULL},
};

void customers_register_bills(customers_ctx *c, http_server *s)
{
    http_add_routes(s, routes, c);
}
