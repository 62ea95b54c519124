/*
 * store.c — work orders in the store: one column table drives load, insert and update,
 * and the TMF621 rendering (with notes and status changes from their own tables).
 */
#include "tickets/tickets_int.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { C_STR, C_INT } col_kind;
typedef struct {
    const char *name;
    col_kind kind;
    size_t off;
} col_def;

#define S(f, c)                                                                                    \
    {                                                                                              \
        c, C_STR, offsetof(ticket, f)                                                              \
    }
#define I(f, c)                                                                                    \
    {                                                                                              \
        c, C_INT, offsetof(ticket, f)                                                              \
    }

static const col_def cols[] = {
    I(id, "id"),
    S(name, "name"),
    S(description, "description"),
    S(ticket_type, "ticket_type"),
    S(severity, "severity"),
    S(priority, "priority"),
    S(stage, "stage"),
    S(step, "step"),
    S(pending_from, "pending_from"),
    S(status, "status"),
    I(status_change_date, "status_change_date"),
    S(status_change_reason, "status_change_reason"),
    I(created, "created"),
    I(updated, "updated"),
    I(requested_resolution, "requested_resolution"),
    I(resolution_date, "resolution_date"),
    S(external_id, "external_id"),
    S(channel, "channel"),
    S(related_party, "related_party"),
    S(related_entity, "related_entity"),
    S(customer_id, "customer_id"),
    S(category, "category"),
    S(area, "area"),
    S(service, "service"),
    S(customer_level, "customer_level"),
    S(assigned_group, "assigned_group"),
    S(assignee, "assignee"),
    I(escalated, "escalated"),
    I(repeat_of, "repeat_of"),
    S(relationships, "relationships"),
    S(created_by, "created_by"),
    I(sla_policy, "sla_policy"),
    S(sla_state, "sla_state"),
    I(sla_target, "sla_target_ms"),
    I(sla_elapsed, "sla_elapsed_ms"),
    I(sla_since, "sla_running_since"),
    S(sla_calendar, "sla_calendar"),
    I(resolution_due, "resolution_due"),
    I(warned, "warned"),
    I(breached, "breached"),
    I(response_target, "response_target_ms"),
    I(response_due, "response_due"),
    I(responded, "responded"),
    I(response_breached, "response_breached"),
};
#define NCOLS ((int)ARRAY_LEN(cols))

/* columns whose 0 is stored as NULL */
static bool zero_is_null(const col_def *c)
{
    static const char *const nullable[] = {"requested_resolution",
                                           "resolution_date",
                                           "repeat_of",
                                           "sla_policy",
                                           "sla_target_ms",
                                           "sla_running_since",
                                           "resolution_due",
                                           "response_target_ms",
                                           "response_due",
                                           "responded",
                                           NULL};
    return str_in(c->name, nullable);
}

const char TICKET_COLS[] =
    "id, name, description, ticket_type, severity, priority, stage, step, pending_from, status,"
    " status_change_date, status_change_reason, created, updated, requested_resolution,"
    " resolution_date, external_id, channel, related_party, related_entity, customer_id,"
    " category, area, service, customer_level, assigned_group, assignee, escalated, repeat_of,"
    " relationships, created_by, sla_policy, sla_state, sla_target_ms, sla_elapsed_ms,"
    " sla_running_since, sla_calendar, resolution_due, warned, breached, response_target_ms,"
    " response_due, responded, response_breached";

void tset(char **field, const char *value)
{
    if (*field == value)
        return;
    char *copy = value ? xstrdup(value) : NULL;
    free(*field);
    *field = copy;
}

void ticket_free(ticket *t)
{
    for (int i = 0; i < NCOLS; i++)
        if (cols[i].kind == C_STR) {
            char **f = (char **)((char *)t + cols[i].off);
            free(*f);
            *f = NULL;
        }
}

void ticket_from_row(const store_res *r, int row, ticket *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < NCOLS; i++) {
        void *f = (char *)t + cols[i].off;
        if (cols[i].kind == C_STR) {
            const char *v = store_text(r, row, i);
            *(char **)f = v ? xstrdup(v) : NULL;
        } else {
            *(int64_t *)f = store_int(r, row, i);
        }
    }
}

static char load_sql[1024], insert_sql[2048], update_sql[2048];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

/* the statements are derived from the column table once */
static void build_sql(void)
{
    snprintf(load_sql, sizeof load_sql, "SELECT %s FROM tickets WHERE id = ?", TICKET_COLS);
    char marks[NCOLS * 3];
    size_t o = 0;
    for (int i = 0; i < NCOLS; i++)
        o += (size_t)snprintf(marks + o, sizeof marks - o, i ? ", ?" : "?");
    snprintf(insert_sql, sizeof insert_sql, "INSERT INTO tickets(%s) VALUES (%s)", TICKET_COLS,
             marks);
    o = (size_t)snprintf(update_sql, sizeof update_sql, "UPDATE tickets SET ");
    for (int i = 1; i < NCOLS; i++)
        o += (size_t)snprintf(update_sql + o, sizeof update_sql - o, "%s%s = ?", i > 1 ? ", " : "",
                              cols[i].name);
    snprintf(update_sql + o, sizeof update_sql - o, " WHERE id = ?");
}

err ticket_load(store *s, int64_t id, ticket *out)
{
    pthread_once(&sql_once, build_sql);
    const char *sql = load_sql;
    store_res *r;
    err rc = store_query(s, sql, (store_val[]){SV_I(id)}, 1, &r);
    if (rc)
        return rc;
    if (store_rows(r) != 1) {
        store_res_free(r);
        return ERR_NOTFOUND;
    }
    ticket_from_row(r, 0, out);
    store_res_free(r);
    return ERR_OK;
}

static void bind_all(const ticket *t, store_val *v)
{
    for (int i = 0; i < NCOLS; i++) {
        const void *f = (const char *)t + cols[i].off;
        if (cols[i].kind == C_STR) {
            v[i] = SV_S(*(char *const *)f);
        } else {
            int64_t x = *(const int64_t *)f;
            v[i] = (x == 0 && zero_is_null(&cols[i])) ? SV_N : SV_I(x);
        }
    }
}

err ticket_insert(store *s, const ticket *t)
{
    pthread_once(&sql_once, build_sql);
    store_val v[NCOLS];
    bind_all(t, v);
    return store_exec(s, insert_sql, v, NCOLS);
}

void ticket_copy(const ticket *from, ticket *to)
{
    memcpy(to, from, sizeof *to);
    for (int i = 0; i < NCOLS; i++)
        if (cols[i].kind == C_STR) {
            char **f = (char **)((char *)to + cols[i].off);
            if (*f)
                *f = xstrdup(*f);
        }
}

/*
 * Write only the columns that differ from `old`: SQLite rewrites an index only when one of
 * its columns is in the SET list, so a move touches two or three indexes instead of all.
 */
err ticket_update_changed(store *s, const ticket *old, const ticket *t)
{
    char sql[2048];
    store_val v[NCOLS + 1];
    store_val all[NCOLS];
    bind_all(t, all);
    size_t o = (size_t)snprintf(sql, sizeof sql, "UPDATE tickets SET ");
    int n = 0;
    for (int i = 1; i < NCOLS; i++) {
        const void *a = (const char *)old + cols[i].off, *b = (const char *)t + cols[i].off;
        bool same = cols[i].kind == C_STR ? str_eq(*(char *const *)a, *(char *const *)b)
                                          : *(const int64_t *)a == *(const int64_t *)b;
        if (same)
            continue;
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s%s = ?", n ? ", " : "", cols[i].name);
        v[n++] = all[i];
    }
    if (!n)
        return ERR_OK;
    snprintf(sql + o, sizeof sql - o, " WHERE id = ?");
    v[n++] = SV_I(t->id);
    return store_exec(s, sql, v, n);
}

err ticket_update(store *s, const ticket *t)
{
    pthread_once(&sql_once, build_sql);
    store_val v[NCOLS + 1];
    bind_all(t, v);
    v[NCOLS] = v[0];
    return store_exec(s, update_sql, v + 1, NCOLS);
}

/* ---- rendering ---- */

static void put_time(json_t *o, const char *key, int64_t ms, int tz)
{
    if (!ms)
        return;
    char t[40];
    time_iso(ms, tz, t, sizeof t);
    json_object_set_new(o, key, json_string(t));
}

static void put_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static void put_doc(json_t *o, const char *key, const char *v, bool array)
{
    json_t *d = json_load(v);
    if (!d)
        d = array ? json_array() : NULL;
    if (d)
        json_object_set_new(o, key, d);
}

json_t *ticket_render(store *s, const ticket *t, int tz, bool with_children)
{
    json_t *o = json_object();
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)t->id);
    json_object_set_new(o, "id", json_string(id));
    char *href = xasprintf("/tmf-api/troubleTicket/v4/troubleTicket/%s", id);
    json_object_set_new(o, "href", json_string(href));
    free(href);
    put_str(o, "name", t->name);
    put_str(o, "description", t->description);
    put_str(o, "ticketType", t->ticket_type);
    put_str(o, "severity", t->severity);
    put_str(o, "priority", t->priority);
    put_str(o, "status", t->status);
    put_time(o, "statusChangeDate", t->status_change_date, tz);
    put_str(o, "statusChangeReason", t->status_change_reason);
    put_time(o, "creationDate", t->created, tz);
    put_time(o, "lastUpdate", t->updated, tz);
    put_time(o, "requestedResolutionDate", t->requested_resolution, tz);
    put_time(o, "expectedResolutionDate", t->resolution_due, tz);
    put_time(o, "resolutionDate", t->resolution_date, tz);
    put_str(o, "externalId", t->external_id);
    put_doc(o, "channel", t->channel, false);
    put_doc(o, "relatedParty", t->related_party, true);
    put_doc(o, "relatedEntity", t->related_entity, true);
    put_doc(o, "troubleTicketRelationship", t->relationships, true);
    put_str(o, "category", t->category);
    put_str(o, "area", t->area);
    put_str(o, "service", t->service);
    put_str(o, "customerLevel", t->customer_level);
    put_str(o, "assignedGroup", t->assigned_group);
    put_str(o, "assignee", t->assignee);
    put_str(o, "stage", t->stage);
    put_str(o, "stageLabel", lifecycle_label_zh(t->stage));
    put_str(o, "step", t->step);
    put_str(o, "slaState", t->sla_state);
    json_object_set_new(o, "escalated", json_boolean(t->escalated));
    if (t->repeat_of) {
        char rid[24];
        snprintf(rid, sizeof rid, "%lld", (long long)t->repeat_of);
        json_object_set_new(o, "repeatOf", json_string(rid));
    }
    put_time(o, "responseDueDate", t->response_due, tz);
    put_time(o, "respondedDate", t->responded, tz);
    if (t->sla_policy) {
        char pid[24];
        snprintf(pid, sizeof pid, "%lld", (long long)t->sla_policy);
        json_object_set_new(o, "slaPolicy", json_string(pid));
    }
    put_str(o, "createdBy", t->created_by);
    json_object_set_new(o, "@type", json_string("TroubleTicket"));
    json_object_set_new(o, "@baseType", json_string("TroubleTicket"));
    if (!with_children)
        return o;
    json_t *notes = json_array(), *changes = json_array();
    store_res *r;
    if (store_query(s,
                    "SELECT id, time, author, text, visibility FROM ticket_notes"
                    " WHERE ticket_id = ? ORDER BY id",
                    (store_val[]){SV_I(t->id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++) {
            json_t *n = json_object();
            put_str(n, "id", store_text(r, i, 0));
            put_time(n, "date", store_int(r, i, 1), tz);
            put_str(n, "author", store_text(r, i, 2));
            put_str(n, "text", store_text(r, i, 3));
            put_str(n, "visibility", store_text(r, i, 4));
            json_object_set_new(n, "@type", json_string("Note"));
            json_array_append_new(notes, n);
        }
        store_res_free(r);
    }
    if (store_query(s,
                    "SELECT time, reason, status, to_stage, from_stage, actor FROM ticket_moves"
                    " WHERE ticket_id = ? ORDER BY id",
                    (store_val[]){SV_I(t->id)}, 1, &r) == ERR_OK) {
        for (int i = 0; i < store_rows(r); i++) {
            json_t *c = json_object();
            put_time(c, "changeDate", store_int(r, i, 0), tz);
            put_str(c, "changeReason", store_text(r, i, 1));
            put_str(c, "status", store_text(r, i, 2));
            put_str(c, "stage", store_text(r, i, 3));
            put_str(c, "fromStage", store_text(r, i, 4));
            put_str(c, "actor", store_text(r, i, 5));
            json_object_set_new(c, "@type", json_string("StatusChange"));
            json_array_append_new(changes, c);
        }
        store_res_free(r);
    }
    json_object_set_new(o, "note", notes);
    json_object_set_new(o, "statusChange", changes);
    return o;
}
