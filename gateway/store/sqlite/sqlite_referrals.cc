// SqliteStore: referrals and the delivery outbox (ReferralRecords, DeliveryOutbox).
#include <sqlite3.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "audit/audit_record.h"
#include "audit/search_columns.h"
#include "common/status_macros.h"
#include "gateway/store/audit_records.h"
#include "gateway/store/audit_search.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/sqlite/sqlite_statements.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway {

using sqlite::Run;
using sqlite::SqliteError;
using sqlite::Statement;
using store_rows::FromMicros;
using store_rows::ParseRecord;
using store_rows::ToMicros;

absl::StatusOr<std::vector<RecordOutcome>> SqliteStore::RecordReferrals(std::vector<NewReferral> batch) {
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  Statement find(db,
                 "SELECT decision, content_fingerprint, received_us FROM referrals"
                 " WHERE sender_ods = ?1 AND message_id = ?2");
  Statement insert(db,
                   "INSERT INTO referrals (referral_id, sender_ods, message_id, format, received_us, disposition,"
                   " connector_id, endpoint_id, decision, referral, content_fingerprint)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  Statement facts(db, "INSERT INTO report_facts (received_us, referral_id, facts) VALUES (?1, ?2, ?3)");
  Statement outbox(db,
                   "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                   " next_attempt_us, created_us) VALUES (?1, ?2, 'deliver', ?3, ?4, 'pending', ?5, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(find.status());
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  FRONTDOOR_RETURN_IF_ERROR(facts.status());
  FRONTDOOR_RETURN_IF_ERROR(outbox.status());

  {
    absl::MutexLock queue(&shared_mu_);
    last_group_commit_ = absl::Now();  // submissions are coming: see WriteShared
  }
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  // Acknowledgements and checkpoints that queued for the write lock during the last commit share
  // this one's fsync. First, while no page is dirty yet (see TakeSharedWritesInto).
  if (before_shared_writes_hook_) before_shared_writes_hook_();
  absl::StatusOr<std::vector<SharedWrite*>> shared = TakeSharedWritesInto(db);
  if (!shared.ok()) return shared.status();
  auto fail = [this, db, &shared](absl::Status s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    Run(db, "ROLLBACK").IgnoreError();
    // The writes this batch carried must not fail with it.
    CommitEachAlone(db, *shared);
    return s;
  };

  std::vector<RecordOutcome> outcomes;
  outcomes.reserve(batch.size());
  for (NewReferral& r : batch) {
    find.Reset();
    find.Bind(1, r.sender_ods);
    find.Bind(2, r.message_id);
    const int found = find.Step();
    if (found == SQLITE_ROW) {
      absl::StatusOr<RecordOutcome> out =
          store_rows::OutcomeForRecordedId(r, find.Text(1), find.Blob(0), FromMicros(find.Int(2)));
      if (!out.ok()) return fail(out.status());
      outcomes.push_back(std::move(*out));
      continue;
    }
    if (found != SQLITE_DONE) return fail(SqliteError(db, found, "look up duplicate"));

    insert.Reset();
    insert.Bind(1, r.referral_id);
    insert.Bind(2, r.sender_ods);
    insert.Bind(3, r.message_id);
    insert.Bind(4, r.format);
    insert.Bind(5, ToMicros(r.received_at));
    insert.Bind(6, static_cast<int64_t>(r.decision.disposition()));
    insert.Bind(7, r.decision.connector_id());
    insert.Bind(8, r.decision.endpoint_id());
    insert.BindBlob(9, r.decision.SerializeAsString());
    insert.BindBlob(10, r.referral.SerializeAsString());
    insert.Bind(11, r.content_fingerprint);
    if (int rc = insert.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert referral"));
    facts.Reset();
    facts.Bind(1, ToMicros(r.received_at));
    facts.Bind(2, r.referral_id);
    facts.BindBlob(3, FactsOfReferral(r.sender_ods, r.referral.self_referral(), r.decision).SerializeAsString());
    if (int rc = facts.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert report facts"));

    if (r.delivery.has_value()) {
      outbox.Reset();
      outbox.Bind(1, r.referral_id);
      outbox.Bind(2, r.delivery->endpoint_id);
      outbox.Bind(3, r.delivery->request.idempotency_key());
      outbox.BindBlob(4, r.delivery->request.SerializeAsString());
      outbox.Bind(5, ToMicros(r.received_at));
      if (int rc = outbox.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert outbox row"));
    }
    if (absl::Status s = RecordDecisionAudit(db, r.referral_id, r.sender_ods, std::move(r.audit)); !s.ok()) {
      return fail(s);
    }
    RecordOutcome out;
    out.decision = std::move(r.decision);
    outcomes.push_back(std::move(out));
  }
  FRONTDOOR_RETURN_IF_ERROR(CommitCarrying(db, *shared));
  return outcomes;
}

absl::StatusOr<std::optional<StoredReferral>> SqliteStore::GetReferral(std::string_view referral_id) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT r.referral_id, r.sender_ods, r.message_id, r.format, r.received_us, r.decision,"
               " o.state, o.delivered_us, o.attempts, o.outbox_id"
               " FROM referrals r LEFT JOIN outbox o ON o.referral_id = r.referral_id AND o.kind = 'deliver'"
               " WHERE r.referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read referral");
  StoredReferral out;
  out.referral_id = st.Text(0);
  out.sender_ods = st.Text(1);
  out.message_id = st.Text(2);
  out.format = st.Text(3);
  out.received_at = FromMicros(st.Int(4));
  if (!out.decision.ParseFromString(st.Blob(5))) return absl::InternalError("stored decision does not parse");
  const bool has_outbox = !st.IsNull(9);
  out.delivery_state =
      store_rows::DeliveryStateFor(out.decision, has_outbox ? std::optional<std::string>(st.Text(6)) : std::nullopt);
  if (!st.IsNull(7)) out.delivered_at = FromMicros(st.Int(7));
  out.delivery_attempts = has_outbox ? static_cast<uint32_t>(st.Int(8)) : 0;
  FRONTDOOR_RETURN_IF_ERROR(ReadCancellation(reader_, &out));
  return out;
}

absl::StatusOr<std::vector<OutboxItem>> SqliteStore::DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                                   int limit) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT o.outbox_id, o.referral_id, o.attempts, o.payload, o.kind, o.created_us,"
               " c.nhs_number, c.consent_reference, c.referrer_ods, c.rule_ids"
               " FROM outbox AS o LEFT JOIN audit_context AS c ON c.referral_id = o.referral_id"
               " WHERE o.endpoint_id = ?1 AND o.state = 'pending' AND +o.next_attempt_us <= ?2"
               " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
               "                 AND earlier.endpoint_id = o.endpoint_id"
               "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)"
               " ORDER BY o.outbox_id LIMIT ?3");
  // The unary + keeps SQLite from using next_attempt_us as an index range: it then walks
  // outbox_pending (endpoint_id, outbox_id: the pending rows only) in order and stops at the limit,
  // instead of sorting every due row of a backlog on each call (docs/PERFORMANCE.md).
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  st.Bind(2, ToMicros(now));
  st.Bind(3, static_cast<int64_t>(limit));
  std::vector<OutboxItem> items;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    OutboxItem item;
    item.outbox_id = st.Int(0);
    item.referral_id = st.Text(1);
    item.endpoint_id = std::string(endpoint_id);
    item.attempts = static_cast<uint32_t>(st.Int(2));
    item.created_at = FromMicros(st.Int(5));
    FRONTDOOR_RETURN_IF_ERROR(store_rows::SetOutboxRequest(st.Text(4), st.Blob(3), &item));
    // For the acknowledgement's audit record (MarkDeliveredMany); none: recorded before the audit
    // log existed, and the record cites nothing.
    item.audit_context = ReferralAuditContext{st.Text(6), st.Text(7), st.Text(8), st.Text(9)};
    items.push_back(std::move(item));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read outbox");
  return items;
}

absl::StatusOr<std::optional<absl::Time>> SqliteStore::NextDeliveryDue(std::string_view endpoint_id) {
  absl::MutexLock lock(&read_mu_);
  // Rows held behind an earlier pending or dead row of their referral to the same endpoint are not
  // due, whatever their time.
  Statement st(reader_,
               "SELECT MIN(next_attempt_us) FROM outbox AS o WHERE endpoint_id = ?1 AND state = 'pending'"
               " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
               "                 AND earlier.endpoint_id = o.endpoint_id"
               "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  const int rc = st.Step();
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read next due");
  if (st.IsNull(0)) return std::nullopt;
  return FromMicros(st.Int(0));
}

absl::StatusOr<std::vector<OutboxDepth>> SqliteStore::OutboxDepths() {
  absl::MutexLock lock(&read_mu_);
  // One state at a time: each is then a walk of its partial index (pending rows, dead letters),
  // where `state IN (...)` would read the whole outbox.
  std::map<std::string, OutboxDepth> depths;
  for (const bool dead : {false, true}) {
    Statement st(reader_, dead ? "SELECT endpoint_id, COUNT(*) FROM outbox WHERE state = 'dead' GROUP BY endpoint_id"
                               : "SELECT endpoint_id, COUNT(*), MIN(created_us) FROM outbox WHERE state = 'pending'"
                                 " GROUP BY endpoint_id");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      OutboxDepth& depth = depths[st.Text(0)];
      depth.endpoint_id = st.Text(0);
      (dead ? depth.dead : depth.pending) = st.Int(1);
      if (!dead) depth.oldest_pending = FromMicros(st.Int(2));
    }
    if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read outbox depth");
  }
  std::vector<OutboxDepth> out;
  out.reserve(depths.size());
  for (auto& [endpoint, depth] : depths) out.push_back(std::move(depth));
  return out;
}

absl::Status SqliteStore::MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) {
  if (rows.empty()) return absl::OkStatus();
  // Each acknowledgement's audit record (IG-9) is built here, before the write lock, from the
  // audit context DueDeliveries read with the row: the transaction, which every submission's
  // commit may be waiting for, only marks the rows and appends the records (index and hash).
  std::vector<std::optional<frontdoor::v1::AuditRecord>> prepared(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const OutboxItem& row = *rows[i];
    if (row.audit_context.has_value()) {
      prepared[i] = AcknowledgementRecord(row, /*withdrawn=*/false, at);
    }
  }
  // The acknowledgements and their audit records commit together, in one fsync: often the fsync of
  // a group commit of submissions that is running anyway. `apply` may run twice (alone, after a
  // carried write failed), so it leaves `prepared` as it found it.
  SharedWrite write;
  write.apply = [&rows, &prepared, at](sqlite3* db) -> absl::Status {
    Statement st(db,
                 "UPDATE outbox SET state = 'delivered', delivered_us = ?2, attempts = attempts + 1, last_error = ''"
                 " WHERE outbox_id = ?1 AND state = 'pending'");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    // A delivery that was in flight when it was withdrawn (IG-7) still reached the connector: keep
    // its time (the row stays 'cancelled') so the audit log records the disclosure.
    Statement in_flight(db,
                        "UPDATE outbox SET delivered_us = ?2 WHERE outbox_id = ?1 AND state = 'cancelled'"
                        " AND delivered_us IS NULL");
    FRONTDOOR_RETURN_IF_ERROR(in_flight.status());
    std::vector<frontdoor::v1::AuditRecord> records;
    records.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t outbox_id = rows[i]->outbox_id;
      st.Reset();
      st.Bind(1, outbox_id);
      st.Bind(2, ToMicros(at));
      if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "mark delivered");
      bool withdrawn = false;
      if (sqlite3_changes(db) == 0) {
        in_flight.Reset();
        in_flight.Bind(1, outbox_id);
        in_flight.Bind(2, ToMicros(at));
        if (int rc = in_flight.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "mark delivered");
        if (sqlite3_changes(db) == 0) continue;  // marked before: nothing to record again
        withdrawn = true;
      }
      if (prepared[i].has_value() && !withdrawn) {
        records.push_back(*prepared[i]);
        continue;
      }
      const OutboxItem* row = rows[i];
      absl::StatusOr<OutboxItem> read;
      if (!row->audit_context.has_value()) {
        read = ReadAcknowledgedRow(db, outbox_id);
        if (!read.ok()) return read.status();
        row = &*read;
      }
      records.push_back(AcknowledgementRecord(*row, withdrawn, at));
    }
    return AppendAuditInTransaction(db, &records);
  };
  return WriteShared(&write);
}

absl::StatusOr<bool> SqliteStore::RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                                  std::string_view error,
                                                                  const DeadLetterLimits& limits, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  // The limits count from when the row was queued or last replayed.
  Statement dead(writer_,
                 "UPDATE outbox SET state = 'dead', dead_us = ?2, attempts = attempts + 1, last_error = ?3"
                 " WHERE outbox_id = ?1 AND state = 'pending' AND ("
                 "   (?4 > 0 AND attempts + 1 - replay_base >= ?4)"
                 "   OR (?5 > 0 AND ?2 - COALESCE(replayed_us, created_us) >= ?5))");
  FRONTDOOR_RETURN_IF_ERROR(dead.status());
  dead.Bind(1, outbox_id);
  dead.Bind(2, ToMicros(now));
  dead.Bind(3, error.substr(0, 500));
  dead.Bind(4, static_cast<int64_t>(limits.max_attempts));
  dead.Bind(5, absl::ToInt64Microseconds(limits.max_age));
  if (int rc = dead.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "dead-letter");
  if (sqlite3_changes(writer_) > 0) return true;
  Statement st(writer_,
               "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = ?2, last_error = ?3"
               " WHERE outbox_id = ?1 AND state = 'pending'");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  st.Bind(2, ToMicros(next_attempt_at));
  st.Bind(3, error.substr(0, 500));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "record failed attempt");
  return false;
}

absl::StatusOr<int> SqliteStore::DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                                   absl::Time now) {
  if (limits.max_age <= absl::ZeroDuration()) return 0;
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE outbox SET state = 'dead', dead_us = ?2,"
               " last_error = CASE WHEN last_error = '' THEN 'endpoint unreachable (circuit open)' ELSE last_error END"
               " WHERE endpoint_id = ?1 AND state = 'pending' AND ?2 - COALESCE(replayed_us, created_us) >= ?3");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  st.Bind(2, ToMicros(now));
  st.Bind(3, absl::ToInt64Microseconds(limits.max_age));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "dead-letter expired rows");
  return sqlite3_changes(writer_);
}

}  // namespace frontdoor::gateway
