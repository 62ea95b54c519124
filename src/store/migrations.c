/*
 * migrations.c — the schema, versioned. Each migration is portable SQL (BIGINT, INTEGER,
 * TEXT only; times are integer milliseconds UTC; JSON documents are TEXT). A migration runs
 * in one transaction with its version row, so a store is never half-migrated.
 * Dialect words: @ID_PK, a 64-bit integer key — in SQLite `INTEGER PRIMARY KEY`, the
 * rowid itself (no second index, and every index entry carries it, so "ORDER BY id" over
 * an index needs no table rows); in PostgreSQL `BIGINT PRIMARY KEY`. @WITHOUT_ROWID after
 * a table with a composite key: SQLite keeps the rows in the key's B-tree (one tree instead
 * of two); PostgreSQL has nothing to say.
 * Never edit a released migration: add the next one.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const migrations[] = {
    /* 1: accounts, audit, events, work orders */
    "CREATE TABLE work_groups ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT,"
    "  escalation_group TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE users ("
    "  id @ID_PK, username TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL, roles TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,"
    "  created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE user_groups ("
    "  user_id BIGINT NOT NULL REFERENCES users(id),"
    "  group_id TEXT NOT NULL REFERENCES work_groups(id), PRIMARY KEY (user_id, group_id));"
    "CREATE INDEX user_groups_group ON user_groups(group_id);"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id),"
    "  created BIGINT NOT NULL, expires BIGINT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    "  address TEXT);"
    "CREATE TABLE audit ("
    "  id @ID_PK, time BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
    "  entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, before_doc TEXT, after_doc TEXT);"
    "CREATE INDEX audit_entity ON audit(entity_type, entity_id, id);"
    "CREATE INDEX audit_actor ON audit(actor, id);"
    "CREATE TABLE events ("
    "  seq @ID_PK, time BIGINT NOT NULL, type TEXT NOT NULL,"
    "  entity_type TEXT NOT NULL, entity_id TEXT NOT NULL, actor TEXT, data TEXT);"
    "CREATE TABLE idempotency ("
    "  key TEXT PRIMARY KEY, entity_type TEXT NOT NULL, entity_id TEXT NOT NULL,"
    "  created BIGINT NOT NULL);"
    "CREATE TABLE calendars ("
    "  id TEXT PRIMARY KEY, name TEXT NOT NULL, doc TEXT NOT NULL,"
    "  created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE sla_policies ("
    "  id @ID_PK, ticket_type TEXT NOT NULL, priority TEXT NOT NULL,"
    "  customer_level TEXT NOT NULL, response_min INTEGER NOT NULL,"
    "  resolution_min INTEGER NOT NULL, calendar_id TEXT REFERENCES calendars(id),"
    "  created BIGINT NOT NULL, updated BIGINT NOT NULL,"
    "  UNIQUE (ticket_type, priority, customer_level));"
    "CREATE TABLE dispatch_rules ("
    "  id @ID_PK, position INTEGER NOT NULL, ticket_type TEXT, category TEXT,"
    "  area TEXT, service TEXT, group_id TEXT NOT NULL REFERENCES work_groups(id),"
    "  created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE tickets ("
    "  id @ID_PK, name TEXT, description TEXT NOT NULL, ticket_type TEXT NOT NULL,"
    "  severity TEXT NOT NULL, priority TEXT NOT NULL, stage TEXT NOT NULL, step TEXT,"
    "  pending_from TEXT, status TEXT NOT NULL, status_change_date BIGINT NOT NULL,"
    "  status_change_reason TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
    "  requested_resolution BIGINT, resolution_date BIGINT, external_id TEXT, channel TEXT,"
    "  related_party TEXT, related_entity TEXT, customer_id TEXT, category TEXT, area TEXT,"
    "  service TEXT, customer_level TEXT NOT NULL, assigned_group TEXT, assignee TEXT,"
    "  escalated INTEGER NOT NULL DEFAULT 0, repeat_of BIGINT, relationships TEXT,"
    "  created_by TEXT NOT NULL,"
    "  sla_policy BIGINT, sla_state TEXT NOT NULL, sla_target_ms BIGINT,"
    "  sla_elapsed_ms BIGINT NOT NULL DEFAULT 0, sla_running_since BIGINT, sla_calendar TEXT,"
    "  resolution_due BIGINT, warned INTEGER NOT NULL DEFAULT 0,"
    "  breached INTEGER NOT NULL DEFAULT 0, response_target_ms BIGINT, response_due BIGINT,"
    "  responded BIGINT, response_breached INTEGER NOT NULL DEFAULT 0);"
    /* list filters: each common combination is an index prefix, and the columns a count
       needs are in the index, so X-Total-Count reads no table rows */
    "CREATE INDEX tickets_status ON tickets(status, id);"
    "CREATE INDEX tickets_type_area ON tickets(ticket_type, area, created);"
    "CREATE INDEX tickets_area ON tickets(area, created);"
    "CREATE INDEX tickets_category ON tickets(category, id);"
    "CREATE INDEX tickets_service ON tickets(service, status, id);"
    "CREATE INDEX tickets_group_status ON tickets(assigned_group, status, resolution_due);"
    "CREATE INDEX tickets_customer ON tickets(customer_id, category, created);"
    "CREATE INDEX tickets_created ON tickets(created);"
    "CREATE INDEX tickets_escalated ON tickets(escalated, service, created);"
    "CREATE TABLE ticket_notes ("
    "  id @ID_PK, ticket_id BIGINT NOT NULL REFERENCES tickets(id),"
    "  time BIGINT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,"
    "  visibility TEXT NOT NULL);"
    "CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id, id);"
    "CREATE TABLE ticket_moves ("
    "  id @ID_PK, ticket_id BIGINT NOT NULL REFERENCES tickets(id),"
    "  time BIGINT NOT NULL, actor TEXT NOT NULL, from_stage TEXT, to_stage TEXT NOT NULL,"
    "  status TEXT NOT NULL, reason TEXT);"
    "CREATE INDEX ticket_moves_ticket ON ticket_moves(ticket_id, id);",
    /* 2: the transactional outbox (SMS, webhooks) and TMF event hubs */
    "CREATE TABLE outbox ("
    "  id @ID_PK, created BIGINT NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL,"
    "  template TEXT, body TEXT NOT NULL, entity_type TEXT, entity_id TEXT, event_seq BIGINT,"
    "  hub_id BIGINT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt BIGINT NOT NULL, last_error TEXT, sent_at BIGINT, delivered_at BIGINT,"
    "  dlr_status INTEGER, dlr_token TEXT, updated BIGINT NOT NULL);"
    "CREATE INDEX outbox_due ON outbox(state, next_attempt);"
    "CREATE INDEX outbox_entity ON outbox(entity_type, entity_id, id);"
    "CREATE TABLE hubs ("
    "  id @ID_PK, callback TEXT NOT NULL, query TEXT, secret TEXT,"
    "  created BIGINT NOT NULL, created_by TEXT NOT NULL);",
    /* 3: subscribers (C1) */
    "CREATE TABLE subscribers ("
    "  msisdn TEXT PRIMARY KEY, account_id TEXT, name TEXT NOT NULL, id_type TEXT,"
    "  id_number TEXT, address TEXT, contacts TEXT, password_hash TEXT,"
    "  level TEXT NOT NULL, vip INTEGER NOT NULL DEFAULT 0, points BIGINT NOT NULL DEFAULT 0,"
    "  area TEXT, attachment TEXT, attach_pos BIGINT, status TEXT NOT NULL,"
    "  created BIGINT NOT NULL,"
    "  updated BIGINT NOT NULL);"
    "CREATE INDEX subscribers_name ON subscribers(name);"
    "CREATE INDEX subscribers_area ON subscribers(area, msisdn);"
    "CREATE INDEX subscribers_level ON subscribers(level, msisdn);"
    "CREATE INDEX subscribers_account ON subscribers(account_id);"
    "CREATE INDEX subscribers_attachment ON subscribers(attachment);"
    /* "every subscriber under this element" is one range of pre-order positions */
    "CREATE INDEX subscribers_attach_pos ON subscribers(attach_pos);"
    "CREATE TABLE verification_codes ("
    "  msisdn TEXT PRIMARY KEY, code_hash TEXT, expires BIGINT NOT NULL,"
    "  tries_left INTEGER NOT NULL, last_sent BIGINT NOT NULL, window_start BIGINT NOT NULL,"
    "  sent_in_window INTEGER NOT NULL);"
    /* tariffs (C2): the catalogue and what each subscriber holds */
    "CREATE TABLE offers ("
    "  id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, service TEXT,"
    "  monthly_fee BIGINT NOT NULL DEFAULT 0, allowance TEXT, valid_from BIGINT,"
    "  valid_to BIGINT, excludes TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE subscriber_offers ("
    "  id @ID_PK, msisdn TEXT NOT NULL, offer_id TEXT NOT NULL REFERENCES offers(id),"
    "  kind TEXT NOT NULL, started BIGINT NOT NULL, ended BIGINT, state TEXT NOT NULL,"
    "  ordered_by TEXT NOT NULL);"
    "CREATE INDEX subscriber_offers_active ON subscriber_offers(msisdn, state);"
    /* account (C3) and line state (C5) */
    "CREATE TABLE balances ("
    "  msisdn TEXT PRIMARY KEY, free_fen BIGINT NOT NULL DEFAULT 0,"
    "  frozen_fen BIGINT NOT NULL DEFAULT 0, deposit_fen BIGINT NOT NULL DEFAULT 0,"
    "  credit_fen BIGINT NOT NULL DEFAULT 0, voice_left_min BIGINT, data_left_mb BIGINT,"
    "  sms_left BIGINT, updated BIGINT NOT NULL);"
    "CREATE TABLE line_state ("
    "  msisdn TEXT PRIMARY KEY, online INTEGER NOT NULL, signal_dbm INTEGER, terminal TEXT,"
    "  last_seen BIGINT, updated BIGINT NOT NULL);"
    /* focus segments (C7), recomputed as a whole */
    "CREATE TABLE subscriber_segments ("
    "  msisdn TEXT NOT NULL, segment TEXT NOT NULL, score BIGINT NOT NULL, reasons TEXT,"
    "  updated BIGINT NOT NULL, PRIMARY KEY (msisdn, segment));"
    "CREATE INDEX subscriber_segments_segment ON subscriber_segments(segment, score, msisdn);"
    /* value-added services (C4): a catalogue tree and what each subscriber has */
    "CREATE TABLE vas_catalog ("
    "  id TEXT PRIMARY KEY, parent_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL,"
    "  params TEXT, monthly_fee BIGINT NOT NULL DEFAULT 0, position INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE subscriber_vas ("
    "  id @ID_PK, msisdn TEXT NOT NULL, vas_id TEXT NOT NULL REFERENCES vas_catalog(id),"
    "  params TEXT, state TEXT NOT NULL, started BIGINT NOT NULL, ended BIGINT,"
    "  ordered_by TEXT NOT NULL);"
    "CREATE INDEX subscriber_vas_active ON subscriber_vas(msisdn, state);"
    /* topology (A6): areas and network elements as trees numbered in pre-order: an element's
       subtree is [pos, last] */
    "CREATE TABLE areas ("
    "  code TEXT PRIMARY KEY, parent TEXT, name TEXT NOT NULL, level TEXT NOT NULL);"
    "CREATE TABLE elements ("
    "  id TEXT PRIMARY KEY, parent TEXT, kind TEXT NOT NULL, name TEXT NOT NULL,"
    "  network TEXT NOT NULL, area TEXT, pos BIGINT NOT NULL, last BIGINT NOT NULL);"
    "CREATE INDEX elements_parent ON elements(parent);"
    "CREATE INDEX elements_pos ON elements(pos);",
    /* 4: proactive assurance (A1-A9): alarms with their history, incidents with their links,
       impact and tracking, emergency plans, dial-test probes, complaint signals and warning
       lines; the proactive-SMS opt-out on subscribers */
    "ALTER TABLE subscribers ADD COLUMN sms_opt_out INTEGER NOT NULL DEFAULT 0;"
    /* impact reads only the index: who is under an element, with what the order needs */
    "DROP INDEX subscribers_attach_pos;"
    "CREATE INDEX subscribers_attach_cover ON subscribers(attach_pos, status, vip, level, msisdn,"
    " sms_opt_out);"
    "CREATE TABLE alarms ("
    "  id @ID_PK, external_id TEXT, source_system TEXT NOT NULL, object_id TEXT NOT NULL,"
    "  object_type TEXT, object_pos BIGINT, alarm_type TEXT NOT NULL,"
    "  probable_cause TEXT NOT NULL, specific_problem TEXT, severity TEXT NOT NULL,"
    "  state TEXT NOT NULL, ack_state TEXT NOT NULL, ack_user TEXT, ack_system TEXT,"
    "  ack_time BIGINT, clear_user TEXT, clear_system TEXT, raised BIGINT NOT NULL,"
    "  reported BIGINT NOT NULL, changed BIGINT NOT NULL, cleared BIGINT,"
    "  service_affecting INTEGER NOT NULL DEFAULT 0, is_root_cause INTEGER NOT NULL DEFAULT 1,"
    "  parent_alarm BIGINT, incident_id BIGINT, service TEXT, details TEXT, threshold TEXT,"
    "  repeats INTEGER NOT NULL DEFAULT 0, active_key TEXT);"
    /* de-duplication: one active alarm per source + object + type (cleared ones keep NULL) */
    "CREATE UNIQUE INDEX alarms_active_key ON alarms(active_key);"
    "CREATE INDEX alarms_active_pos ON alarms(cleared, object_pos);"
    "CREATE INDEX alarms_object ON alarms(object_id, id);"
    "CREATE INDEX alarms_raised ON alarms(raised);"
    "CREATE TABLE alarm_history ("
    "  id @ID_PK, alarm_id BIGINT NOT NULL, time BIGINT NOT NULL, state TEXT NOT NULL,"
    "  severity TEXT NOT NULL, ack_state TEXT NOT NULL, actor TEXT NOT NULL, note TEXT);"
    "CREATE INDEX alarm_history_alarm ON alarm_history(alarm_id, id);"
    "CREATE TABLE incidents ("
    "  id @ID_PK, name TEXT NOT NULL, description TEXT NOT NULL, category TEXT NOT NULL,"
    "  level INTEGER NOT NULL, service TEXT, area TEXT, element_id TEXT, element_pos BIGINT,"
    "  element_last BIGINT, stage TEXT NOT NULL, status TEXT NOT NULL, status_reason TEXT,"
    "  origin TEXT NOT NULL, reason TEXT NOT NULL, originator TEXT NOT NULL,"
    "  responsible_group TEXT, fault_ticket BIGINT, expected_restore BIGINT,"
    "  first_signal BIGINT NOT NULL, created BIGINT NOT NULL, notified_at BIGINT,"
    "  located_at BIGINT, handling_at BIGINT, restored_at BIGINT, closed_at BIGINT,"
    "  review TEXT, updated BIGINT NOT NULL, affected BIGINT NOT NULL DEFAULT 0,"
    "  active INTEGER NOT NULL DEFAULT 1, notify_customers INTEGER NOT NULL DEFAULT 1,"
    "  notify_pass INTEGER NOT NULL DEFAULT 0, notify_cursor TEXT);"
    "CREATE INDEX incidents_active ON incidents(active, element_pos);"
    "CREATE INDEX incidents_created ON incidents(created);"
    /* what an incident is made of: alarms, dial-tests, warning lines, work orders */
    "CREATE TABLE incident_links ("
    "  incident_id BIGINT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL, time BIGINT NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (incident_id, kind, ref));"
    "CREATE INDEX incident_links_ref ON incident_links(kind, ref);"
    "CREATE TABLE incident_track ("
    "  id @ID_PK, incident_id BIGINT NOT NULL, time BIGINT NOT NULL, actor TEXT NOT NULL,"
    "  stage TEXT, description TEXT NOT NULL);"
    "CREATE INDEX incident_track_incident ON incident_track(incident_id, id);"
    /* who was told of an incident (or promised a message when they called): the affected
       set itself is a range of the subscribers' index, never copied */
    "CREATE TABLE incident_impact ("
    "  incident_id BIGINT NOT NULL, msisdn TEXT NOT NULL, rank INTEGER NOT NULL,"
    "  opened_msg BIGINT, restored_msg BIGINT, promised INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (incident_id, msisdn)) @WITHOUT_ROWID;"
    "CREATE INDEX incident_impact_msisdn ON incident_impact(msisdn, incident_id);"
    "CREATE TABLE emergency_plans ("
    "  id @ID_PK, level INTEGER NOT NULL, service TEXT,"
    "  group_id TEXT NOT NULL REFERENCES work_groups(id), on_duty TEXT,"
    "  notify_customers INTEGER NOT NULL DEFAULT 1, restore_hours INTEGER NOT NULL DEFAULT 4,"
    "  description TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
    "  UNIQUE (level, service));"
    "CREATE TABLE probes ("
    "  id @ID_PK, name TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,"
    "  expect_status INTEGER, expect_body TEXT, max_latency_ms INTEGER NOT NULL,"
    "  interval_s INTEGER NOT NULL, fail_after INTEGER NOT NULL, level INTEGER NOT NULL,"
    "  service TEXT, area TEXT, element_id TEXT, enabled INTEGER NOT NULL DEFAULT 1,"
    "  failures INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, last_run BIGINT,"
    "  next_run BIGINT, created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE TABLE probe_results ("
    "  id @ID_PK, probe_id BIGINT NOT NULL, time BIGINT NOT NULL, ok INTEGER NOT NULL,"
    "  latency_ms INTEGER, status INTEGER, error TEXT);"
    "CREATE INDEX probe_results_probe ON probe_results(probe_id, id);"
    "CREATE INDEX probe_results_time ON probe_results(time);"
    /* complaint and fault-report signals (from work orders and the batch endpoint) */
    /* every read is by area subtree and time: the rows are kept in that order (one B-tree
       on SQLite); '' is "no area" */
    "CREATE TABLE signals ("
    "  area TEXT NOT NULL, time BIGINT NOT NULL, id BIGINT NOT NULL, kind TEXT NOT NULL,"
    "  service TEXT, msisdn TEXT, element_pos BIGINT, ref TEXT,"
    "  PRIMARY KEY (area, time, id)) @WITHOUT_ROWID;"
    /* the learned baseline: counts per service x area x hour */
    "CREATE TABLE signal_hours ("
    "  service TEXT NOT NULL, area TEXT NOT NULL, hour BIGINT NOT NULL, count BIGINT NOT NULL,"
    "  PRIMARY KEY (service, area, hour));"
    /* metric thresholds 阈值 in thousandths of the unit: raise at one value, clear at another */
    "CREATE TABLE thresholds ("
    "  id @ID_PK, indicator TEXT NOT NULL, unit TEXT, element_kind TEXT,"
    "  direction TEXT NOT NULL, raise_milli BIGINT NOT NULL, clear_milli BIGINT NOT NULL,"
    "  severity TEXT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL);"
    "CREATE INDEX thresholds_indicator ON thresholds(indicator);"
    "CREATE TABLE warning_lines ("
    "  id @ID_PK, name TEXT NOT NULL, service TEXT, area TEXT NOT NULL,"
    "  window_min INTEGER NOT NULL, threshold INTEGER, baseline_factor INTEGER,"
    "  baseline_min INTEGER NOT NULL DEFAULT 0, level INTEGER NOT NULL,"
    "  crossed BIGINT, created BIGINT NOT NULL, updated BIGINT NOT NULL);",
    /* 5: an incident's running counts of who was told (what its detail shows, and the
       notifier's pacing) instead of counting incident_impact — 200,000 rows — every time */
    "ALTER TABLE incidents ADD COLUMN told BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN not_told BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN restore_told BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE incidents ADD COLUMN promised BIGINT NOT NULL DEFAULT 0;"
    "UPDATE incidents SET"
    " told = (SELECT COUNT(*) FROM incident_impact m WHERE m.incident_id = incidents.id"
    "  AND m.opened_msg > 0),"
    " not_told = (SELECT COUNT(*) FROM incident_impact m WHERE m.incident_id = incidents.id"
    "  AND m.opened_msg = 0),"
    " restore_told = (SELECT COUNT(*) FROM incident_impact m WHERE m.incident_id = incidents.id"
    "  AND m.restored_msg > 0),"
    " promised = (SELECT COUNT(*) FROM incident_impact m WHERE m.incident_id = incidents.id"
    "  AND m.promised = 1);",
};

static char *replace_word(const char *sql, const char *word, const char *with)
{
    buf b;
    buf_init(&b, 0);
    const char *p = sql, *hit;
    while ((hit = strstr(p, word))) {
        buf_add(&b, p, (size_t)(hit - p));
        buf_adds(&b, with);
        p = hit + strlen(word);
    }
    buf_adds(&b, p);
    return buf_steal(&b);
}

static char *dialect(store *s, const char *sql)
{
    bool pg = store_is_pg(s);
    char *a = replace_word(sql, "@ID_PK", pg ? "BIGINT PRIMARY KEY" : "INTEGER PRIMARY KEY");
    /* a table stored in its primary key's order, with no rowid beside it (SQLite) */
    char *b = replace_word(a, "@WITHOUT_ROWID", pg ? "" : "WITHOUT ROWID");
    free(a);
    return b;
}

int store_schema_version(store *s)
{
    int64_t v = 0;
    if (store_scalar(s, "SELECT MAX(version) FROM schema_version", NULL, 0, 0, &v))
        return 0;
    return (int)v;
}

err store_migrate(store *s, problem *p)
{
    err rc = store_script(s, "CREATE TABLE IF NOT EXISTS schema_version ("
                             "version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)");
    if (rc)
        return problem_set(p, rc, 503, "unavailable", "db", "cannot create schema_version: %s",
                           store_errmsg(s));
    int have = store_schema_version(s);
    int want = (int)ARRAY_LEN(migrations);
    for (int v = have + 1; v <= want; v++) {
        char *sql = dialect(s, migrations[v - 1]);
        rc = store_begin(s);
        if (!rc)
            rc = store_script(s, sql);
        free(sql);
        if (!rc)
            rc = store_exec(s, "INSERT INTO schema_version(version, applied) VALUES (?, ?)",
                            (store_val[]){SV_I(v), SV_I(time_real_ms())}, 2);
        if (!rc)
            rc = store_commit(s);
        if (rc) {
            problem_set(p, rc, 503, "unavailable", "db", "migration %d failed: %s", v,
                        store_errmsg(s));
            store_rollback(s);
            return rc;
        }
        LOGI("store", "msg=\"migrated\" version=%d backend=%s", v, store_kind(s));
    }
    return ERR_OK;
}
