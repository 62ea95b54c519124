/*
 * lifecycle.c — the operator's work-order stages as data: each stage's TMF621 status and
 * Chinese label, and the table of legal moves with the roles allowed to make them.
 * Every move goes through lifecycle_check(); nothing assigns a stage anywhere else.
 */
#include "tickets/tickets.h"

#include <string.h>

const char *const ticket_type_names[] = {"consultation", "inquiry",   "serviceRequest",
                                         "faultReport",  "complaint", "suggestion",
                                         "faultTicket",  NULL};
const char *const ticket_severity_names[] = {"Critical", "Major", "Minor", "Warning", NULL};
const char *const ticket_priority_names[] = {"Critical", "High", "Medium", "Low", NULL};
const char *const ticket_level_names[] = {"normal", "silver", "gold", "diamond", NULL};
const char *const ticket_step_names[] = {"verify", "query", "locate", "handle", NULL};
const char *const ticket_status_names[] = {"acknowledged", "rejected",   "pending",
                                           "held",         "inProgress", "cancelled",
                                           "closed",       "resolved",   NULL};

typedef struct {
    const char *stage, *status, *zh;
    sla_mode sla;
} stage_def;

static const stage_def stages[] = {
    {"new", "acknowledged", "新建", SLA_RUNS},
    {"resolvedAtFirstLine", "resolved", "一线解决", SLA_STOPS},
    {"dispatched", "acknowledged", "已派发", SLA_RUNS},
    {"accepted", "inProgress", "已受理", SLA_RUNS},
    {"inProgress", "inProgress", "处理中", SLA_RUNS},
    {"pending", "pending", "挂起", SLA_PAUSES},
    {"feedback", "resolved", "已反馈", SLA_STOPS},
    {"replied", "resolved", "已回复", SLA_STOPS},
    {"closed", "closed", "已归档", SLA_STOPS},
    {"reopened", "inProgress", "重开", SLA_RUNS},
    {"cancelled", "cancelled", "已撤销", SLA_STOPS},
};

const char *const ticket_stage_names[] = {"new",        "resolvedAtFirstLine",
                                          "dispatched", "accepted",
                                          "inProgress", "pending",
                                          "feedback",   "replied",
                                          "closed",     "reopened",
                                          "cancelled",  NULL};

#define FIRST (ROLE_AGENT | ROLE_SUPERVISOR | ROLE_ADMIN)
#define SECOND (ROLE_SPECIALIST | ROLE_ENGINEER | ROLE_SUPERVISOR | ROLE_ADMIN)
#define STAFF (FIRST | SECOND)
#define INTEG ROLE_INTEGRATION

typedef struct {
    const char *from, *to; /* to "$back": the stage a pending ticket was paused from */
    unsigned roles;
} move_def;

static const move_def moves[] = {
    {"new", "resolvedAtFirstLine", FIRST},
    {"new", "dispatched", FIRST | INTEG},
    {"new", "pending", FIRST | INTEG},
    {"new", "cancelled", FIRST | INTEG},
    {"dispatched", "accepted", SECOND},
    {"dispatched", "dispatched", STAFF},
    {"dispatched", "pending", STAFF},
    {"dispatched", "cancelled", FIRST},
    {"accepted", "inProgress", SECOND},
    {"accepted", "dispatched", STAFF},
    {"accepted", "pending", SECOND},
    {"accepted", "cancelled", FIRST},
    {"inProgress", "inProgress", SECOND},
    {"inProgress", "feedback", SECOND},
    {"inProgress", "dispatched", STAFF},
    {"inProgress", "pending", SECOND},
    {"inProgress", "cancelled", FIRST},
    {"pending", "$back", STAFF | INTEG},
    {"pending", "cancelled", FIRST | INTEG},
    {"feedback", "replied", FIRST},
    {"feedback", "inProgress", FIRST},
    {"resolvedAtFirstLine", "closed", FIRST | INTEG},
    {"resolvedAtFirstLine", "reopened", FIRST},
    {"replied", "closed", FIRST | INTEG},
    {"replied", "reopened", FIRST},
    {"closed", "reopened", FIRST},
    {"reopened", "dispatched", FIRST},
    {"reopened", "inProgress", STAFF},
    {"reopened", "resolvedAtFirstLine", FIRST},
    {"reopened", "pending", STAFF},
    {"reopened", "cancelled", FIRST},
};

static const stage_def *find_stage(const char *stage)
{
    for (size_t i = 0; stage && i < ARRAY_LEN(stages); i++)
        if (strcmp(stages[i].stage, stage) == 0)
            return &stages[i];
    return NULL;
}

const char *lifecycle_status(const char *stage)
{
    const stage_def *d = find_stage(stage);
    return d ? d->status : NULL;
}

const char *lifecycle_label_zh(const char *stage)
{
    const stage_def *d = find_stage(stage);
    return d ? d->zh : "";
}

sla_mode lifecycle_sla_mode(const char *stage)
{
    const stage_def *d = find_stage(stage);
    return d ? d->sla : SLA_STOPS;
}

err lifecycle_check(const char *from, const char *to, const char *pending_from, unsigned roles,
                    problem *p)
{
    if (!find_stage(to))
        return problem_field(p, "stage", "unknown stage '%s'", to ? to : "");
    for (size_t i = 0; i < ARRAY_LEN(moves); i++) {
        const move_def *m = &moves[i];
        if (strcmp(m->from, from) != 0)
            continue;
        bool hit = strcmp(m->to, to) == 0 ||
                   (strcmp(m->to, "$back") == 0 && pending_from && strcmp(pending_from, to) == 0);
        if (!hit)
            continue;
        if (!(roles & m->roles))
            return problem_set(p, ERR_FORBIDDEN, 403, "forbidden", "stage",
                               "stage: your role may not move a work order from %s to %s", from,
                               to);
        return ERR_OK;
    }
    return problem_set(p, ERR_CONFLICT, 409, "illegalTransition", "stage",
                       "stage: a work order cannot move from %s to %s", from, to);
}

const char *lifecycle_stage_for_status(const char *current, const char *status)
{
    static const struct {
        const char *status, *from, *to; /* from NULL = any */
    } map[] = {
        {"cancelled", NULL, "cancelled"},
        {"closed", NULL, "closed"},
        {"pending", NULL, "pending"},
        {"resolved", "new", "resolvedAtFirstLine"},
        {"resolved", "reopened", "resolvedAtFirstLine"},
        {"resolved", "inProgress", "feedback"},
        {"resolved", "feedback", "replied"},
        {"inProgress", "dispatched", "accepted"},
        {"inProgress", "accepted", "inProgress"},
        {"inProgress", "reopened", "inProgress"},
        {"inProgress", "feedback", "inProgress"},
        {"inProgress", "closed", "reopened"},
        {"inProgress", "replied", "reopened"},
        {"inProgress", "resolvedAtFirstLine", "reopened"},
        {"acknowledged", "new", "new"},
    };
    for (size_t i = 0; i < ARRAY_LEN(map); i++)
        if (strcmp(map[i].status, status) == 0 &&
            (!map[i].from || strcmp(map[i].from, current) == 0))
            return map[i].to;
    return NULL;
}
