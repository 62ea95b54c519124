/*
 * trap.c — `shouye trap`: the bridge from net-snmp's snmptrapd to the alarm API. snmptrapd
 * (run with -On, numeric OIDs) starts it as a `traphandle` for every trap, with the trap on
 * stdin: the sender's host name, its transport address, then one "OID value" line per
 * variable binding. A trap becomes a TMF642 alarm:
 *   linkDown (1.3.6.1.6.3.1.1.5.3) → raise, critical, communicationsAlarm / linkDown
 *   linkUp   (1.3.6.1.6.3.1.1.5.4) → clear that alarm
 *   any other trap                 → raise, warning, probable cause = the trap OID
 * The alarmed object is the network element named by sysName.0 (1.3.6.1.2.1.1.5.0) when the
 * trap carries it, else the sending host's name; the source is "snmp:" + the agent address.
 * The server and the account come from SHOUYE_TRAP_URL (default http://127.0.0.1:8080) and
 * SHOUYE_TRAP_TOKEN, or SHOUYE_TRAP_USER / SHOUYE_TRAP_PASSWORD (an integration account).
 */
#include "trap.h"

#include "base/base.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAP_OID ".1.3.6.1.6.3.1.1.4.1.0"
#define LINK_DOWN ".1.3.6.1.6.3.1.1.5.3"
#define LINK_UP ".1.3.6.1.6.3.1.1.5.4"
#define SYS_NAME ".1.3.6.1.2.1.1.5.0"

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
}

/* a value as snmptrapd prints it: "quoted", or TYPE: value, or bare */
static void clean_value(const char *in, char *out, size_t n)
{
    const char *v = in;
    const char *colon = strstr(v, ": ");
    if (colon && colon - v < 20 && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ", v[0]))
        v = colon + 2;
    while (*v == ' ')
        v++;
    size_t len = strlen(v);
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
        v++;
        len -= 2;
    }
    snprintf(out, n, "%.*s", (int)len, v);
}

/* the numeric OID with a leading dot, whatever way it was printed */
static void norm_oid(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s%s", in[0] == '.' ? "" : ".", in);
}

err trap_parse(FILE *in, trap_info *t)
{
    memset(t, 0, sizeof *t);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, in)) {
        chomp(line);
        if (n == 0) {
            snprintf(t->host, sizeof t->host, "%s", line);
        } else if (n == 1) {
            /* "UDP: [127.0.0.1]:40216->[127.0.0.1]:16200" → 127.0.0.1 */
            const char *a = strchr(line, '[');
            const char *b = a ? strchr(a, ']') : NULL;
            if (a && b)
                snprintf(t->address, sizeof t->address, "%.*s", (int)(b - a - 1), a + 1);
            else
                snprintf(t->address, sizeof t->address, "%s", line);
        } else {
            char *sp = strchr(line, ' ');
            if (!sp)
                continue;
            *sp = 0;
            char oid[256], val[256];
            norm_oid(line, oid, sizeof oid);
            clean_value(sp + 1, val, sizeof val);
            /* numeric (snmptrapd -On), or by name when MIBs were loaded */
            if (strcmp(oid, TRAP_OID) == 0 || strstr(oid, "::snmpTrapOID.0")) {
                if (strstr(val, "::linkDown"))
                    snprintf(t->trap_oid, sizeof t->trap_oid, "%s", LINK_DOWN);
                else if (strstr(val, "::linkUp"))
                    snprintf(t->trap_oid, sizeof t->trap_oid, "%s", LINK_UP);
                else
                    norm_oid(val, t->trap_oid, sizeof t->trap_oid);
            } else if (strcmp(oid, SYS_NAME) == 0 || strstr(oid, "::sysName.0")) {
                snprintf(t->object, sizeof t->object, "%s", val);
            }
        }
        n++;
    }
    if (n < 3 || !t->trap_oid[0])
        return ERR_INVALID;
    if (!t->object[0])
        snprintf(t->object, sizeof t->object, "%s", t->host);
    return ERR_OK;
}

json_t *trap_alarm(const trap_info *t, const char *now_iso)
{
    bool down = strcmp(t->trap_oid, LINK_DOWN) == 0, up = strcmp(t->trap_oid, LINK_UP) == 0;
    char source[80];
    snprintf(source, sizeof source, "snmp:%s", t->address);
    return json_pack("{s:s, s:s, s:s, s:{s:s}, s:s, s:s, s:s, s:s, s:b}", "alarmType",
                     "communicationsAlarm", "perceivedSeverity",
                     up ? "cleared" : down ? "critical" : "warning", "probableCause",
                     down || up ? "linkDown" : t->trap_oid, "alarmedObject", "id", t->object,
                     "sourceSystemId", source, "state", up ? "cleared" : "raised",
                     "alarmRaisedTime", now_iso, "specificProblem",
                     down ? "SNMP linkDown" : up ? "SNMP linkUp" : "SNMP trap", "serviceAffecting",
                     down);
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    buf_add(ud, p, size * n);
    return size * n;
}

static long post(CURL *c, const char *url, const char *token, const char *body, buf *out)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[300];
    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

int trap_main(void)
{
    trap_info t;
    if (trap_parse(stdin, &t)) {
        fprintf(stderr, "shouye trap: no trap on stdin (host, address, then OID value lines)\n");
        return 2;
    }
    const char *base = getenv("SHOUYE_TRAP_URL") ? getenv("SHOUYE_TRAP_URL")
                                                  : "http://127.0.0.1:8080";
    CURL *c = curl_easy_init();
    if (!c)
        return 1;
    char url[600];
    char token[200] = "";
    if (getenv("SHOUYE_TRAP_TOKEN")) {
        snprintf(token, sizeof token, "%s", getenv("SHOUYE_TRAP_TOKEN"));
    } else {
        json_t *cred = json_pack("{s:s?, s:s?}", "username", getenv("SHOUYE_TRAP_USER"),
                                 "password", getenv("SHOUYE_TRAP_PASSWORD"));
        char *body = json_dump(cred);
        json_decref(cred);
        buf out;
        buf_init(&out, 64 * 1024);
        snprintf(url, sizeof url, "%s/api/v1/login", base);
        long st = post(c, url, NULL, body, &out);
        free(body);
        buf_add(&out, "", 1);
        json_t *r = st == 200 ? json_load(out.data) : NULL;
        if (jstr(r, "token"))
            snprintf(token, sizeof token, "%s", jstr(r, "token"));
        json_decref(r);
        buf_free(&out);
        if (!token[0]) {
            fprintf(stderr, "shouye trap: login to %s failed (HTTP %ld)\n", base, st);
            curl_easy_cleanup(c);
            return 1;
        }
    }
    char now[40];
    time_iso(time_real_ms(), 0, now, sizeof now);
    json_t *alarm = trap_alarm(&t, now);
    char *body = json_dump(alarm);
    json_decref(alarm);
    buf out;
    buf_init(&out, 64 * 1024);
    snprintf(url, sizeof url, "%s/tmf-api/alarmManagement/v4/alarm", base);
    long st = post(c, url, token, body, &out);
    buf_add(&out, "", 1);
    fprintf(stderr, "shouye trap: %s from %s on %s → HTTP %ld %s\n", t.trap_oid, t.address,
            t.object, st, st >= 400 ? out.data : "");
    free(body);
    buf_free(&out);
    curl_easy_cleanup(c);
    return st == 200 || st == 201 ? 0 : 1;
}
