// SqliteStore: withdrawals (IG-7) and the audit log (IG-9).
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

absl::StatusOr<std::optional<ReferralAuditContext>> SqliteStore::ReadAuditContext(sqlite3* db,
                                                                                  const std::string& referral_id) {
  Statement st(db,
               "SELECT nhs_number, consent_reference, referrer_ods, rule_ids FROM audit_context"
               " WHERE referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read audit context");
  return ReferralAuditContext{st.Text(0), st.Text(1), st.Text(2), st.Text(3)};
}

absl::Status SqliteStore::AppendAuditInTransaction(sqlite3* db, std::vector<frontdoor::v1::AuditRecord>* records) {
  if (records->empty()) return absl::OkStatus();
  Statement next(db, "SELECT COALESCE(MAX(leaf_index), -1) + 1 FROM audit_log");
  FRONTDOOR_RETURN_IF_ERROR(next.status());
  if (int rc = next.Step(); rc != SQLITE_ROW) return SqliteError(db, rc, "next audit index");
  int64_t index = next.Int(0);
  Statement insert(db,
                   "INSERT INTO audit_log (leaf_index, leaf_hash, time_us, record, referral_id, nhs_number,"
                   " recipient_endpoint, referrer_ods, outcome, rule_ids)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  for (frontdoor::v1::AuditRecord& r : *records) {
    FRONTDOOR_ASSIGN_OR_RETURN(store_rows::SealedAuditRecord sealed, store_rows::SealAuditRecord(index, &r));
    const audit::AuditSearchColumns& columns = sealed.columns;
    insert.Reset();
    insert.Bind(1, index);
    insert.Bind(2, sealed.leaf_hash);
    insert.Bind(3, columns.time_us);
    insert.BindBlob(4, sealed.body);
    insert.Bind(5, columns.referral_id);
    insert.Bind(6, columns.nhs_number);
    insert.Bind(7, columns.recipient_endpoint);
    insert.Bind(8, columns.referrer_ods);
    insert.Bind(9, columns.outcome);
    insert.Bind(10, columns.rule_ids);
    if (int rc = insert.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "append audit record");
    r.set_leaf_hash_hex(sealed.leaf_hash);
    ++index;
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::RecordDecisionAudit(sqlite3* db, const std::string& referral_id,
                                              const std::string& sender_ods,
                                              std::vector<frontdoor::v1::AuditRecord> records) {
  if (records.empty()) return absl::OkStatus();
  const frontdoor::v1::AuditRecord& decision = records.front();
  Statement context(db,
                    "INSERT INTO audit_context (referral_id, nhs_number, consent_reference, referrer_ods, rule_ids)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(context.status());
  context.Bind(1, referral_id);
  context.Bind(2, decision.nhs_number());
  context.Bind(3, decision.consent_reference());
  context.Bind(4, sender_ods);
  context.Bind(5, absl::StrJoin(decision.rule_ids(), ","));
  if (int rc = context.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "insert audit context");
  return AppendAuditInTransaction(db, &records);
}

absl::StatusOr<OutboxItem> SqliteStore::ReadAcknowledgedRow(sqlite3* db, int64_t outbox_id) {
  Statement st(db,
               "SELECT o.referral_id, o.endpoint_id, o.kind, c.nhs_number, c.consent_reference, c.referrer_ods,"
               " c.rule_ids FROM outbox AS o LEFT JOIN audit_context AS c ON c.referral_id = o.referral_id"
               " WHERE o.outbox_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqliteError(db, rc, "read acknowledged outbox row");
  OutboxItem row;
  row.outbox_id = outbox_id;
  row.referral_id = st.Text(0);
  row.endpoint_id = st.Text(1);
  row.kind = OutboxKindNamed(st.Text(2)).value_or(OutboxKind::kDeliver);
  // No context row: recorded before the audit log existed; the record cites nothing.
  row.audit_context = ReferralAuditContext{st.Text(3), st.Text(4), st.Text(5), st.Text(6)};
  return row;
}

absl::Status SqliteStore::ReadCancellation(sqlite3* db, StoredReferral* out) {
  Statement st(db,
               "SELECT c.reason, c.cancelled_us,"
               " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'cease'"
               "  ORDER BY outbox_id LIMIT 1),"
               " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'deliver'"
               "  ORDER BY outbox_id LIMIT 1)"
               " FROM cancellations c WHERE c.referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, out->referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return absl::OkStatus();
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read cancellation");
  out->cancel_reason = static_cast<frontdoor::v1::CancelReason>(st.Int(0));
  out->cancelled_at = FromMicros(st.Int(1));
  out->cease_processing_sent = !st.IsNull(2);
  out->cease_processing_acknowledged = st.Text(2) == "delivered";
  if (st.Text(3) == "cancelled") out->delivery_state = frontdoor::v1::DELIVERY_CANCELLED;
  return absl::OkStatus();
}

namespace {

// The answer a withdrawal of `id` was given before, if there was one (a withdrawal sent again).
absl::StatusOr<std::optional<CancelOutcome>> EarlierCancellation(sqlite3* db, const std::string& id) {
  Statement earlier(db, "SELECT response FROM cancellations WHERE referral_id = ?1");
  if (!earlier.status().ok()) return earlier.status();
  earlier.Bind(1, id);
  const int rc = earlier.Step();
  if (rc == SQLITE_DONE) return std::optional<CancelOutcome>();
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read cancellation");
  CancelOutcome out;
  out.duplicate = true;
  if (!out.response.ParseFromString(earlier.Blob(0))) return absl::InternalError("stored cancellation does not parse");
  return std::optional<CancelOutcome>(std::move(out));
}

// The endpoint an accepted referral went (or goes) to; NOT_FOUND or FAILED_PRECONDITION otherwise.
absl::StatusOr<std::string> WithdrawableEndpoint(sqlite3* db, const std::string& id) {
  Statement referral(db, "SELECT disposition, endpoint_id FROM referrals WHERE referral_id = ?1");
  if (!referral.status().ok()) return referral.status();
  referral.Bind(1, id);
  const int rc = referral.Step();
  if (rc == SQLITE_DONE) return absl::NotFoundError("no referral with that id");
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read referral");
  if (referral.Int(0) != frontdoor::v1::ACCEPTED) {
    return absl::FailedPreconditionError(
        "that referral was not accepted, so nothing was or will be sent; there is nothing to withdraw");
  }
  return referral.Text(1);
}

// Stops the referral's delivery if it has not gone, a dead-lettered one too (otherwise the cease
// would wait behind it, and an operator's replay would send a withdrawn referral); the response
// says which.
absl::Status StopPendingDelivery(sqlite3* db, const std::string& id, frontdoor::v1::CancelReferralResponse* response) {
  Statement stop(db,
                 "UPDATE outbox SET state = 'cancelled' WHERE referral_id = ?1 AND kind = 'deliver'"
                 " AND state IN ('pending', 'dead')");
  if (!stop.status().ok()) return stop.status();
  stop.Bind(1, id);
  if (int rc = stop.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "stop pending delivery");
  response->set_delivery_state(sqlite3_changes(db) > 0 ? frontdoor::v1::DELIVERY_CANCELLED : frontdoor::v1::DELIVERED);
  return absl::OkStatus();
}

// Queues the cease-processing message to the endpoint the referral went to.
absl::Status QueueCease(sqlite3* db, const std::string& id, const std::string& endpoint_id,
                        const frontdoor::v1::CeaseProcessingRequest& cease, absl::Time at,
                        frontdoor::v1::CancelReferralResponse* response) {
  Statement queue(db,
                  "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                  " next_attempt_us, created_us) VALUES (?1, ?2, 'cease', ?3, ?4, 'pending', ?5, ?5)");
  if (!queue.status().ok()) return queue.status();
  queue.Bind(1, id);
  queue.Bind(2, endpoint_id);
  queue.Bind(3, cease.idempotency_key());
  queue.BindBlob(4, cease.SerializeAsString());
  queue.Bind(5, ToMicros(at));
  if (int rc = queue.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "queue cease processing");
  response->set_cease_processing_sent(true);
  return absl::OkStatus();
}

// Records the withdrawal with the response it was given, the answer to a withdrawal sent again.
absl::Status RecordCancellation(sqlite3* db, const std::string& id, frontdoor::v1::CancelReason reason,
                                const AuditActor& by, absl::Time at,
                                const frontdoor::v1::CancelReferralResponse& response) {
  Statement record(db,
                   "INSERT INTO cancellations (referral_id, reason, cancelled_us, actor, response)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!record.status().ok()) return record.status();
  record.Bind(1, id);
  record.Bind(2, static_cast<int64_t>(reason));
  record.Bind(3, ToMicros(at));
  record.Bind(4, by.identity);
  record.BindBlob(5, response.SerializeAsString());
  if (int rc = record.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "record cancellation");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CancelOutcome> SqliteStore::CancelReferral(std::string_view referral_id,
                                                          const frontdoor::v1::CeaseProcessingRequest& cease,
                                                          const AuditActor& by, absl::Time at) {
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Run(db, "ROLLBACK").IgnoreError();
    return s;
  };
  const std::string id(referral_id);
  absl::StatusOr<std::optional<CancelOutcome>> earlier = EarlierCancellation(db, id);
  if (!earlier.ok()) return fail(earlier.status());
  if (earlier->has_value()) {
    Run(db, "ROLLBACK").IgnoreError();
    return **std::move(earlier);
  }
  absl::StatusOr<std::string> endpoint_id = WithdrawableEndpoint(db, id);
  if (!endpoint_id.ok()) return fail(endpoint_id.status());
  frontdoor::v1::CancelReferralResponse response;
  response.set_referral_id(id);
  if (absl::Status s = StopPendingDelivery(db, id, &response); !s.ok()) return fail(s);
  if (absl::Status s = QueueCease(db, id, *endpoint_id, cease, at, &response); !s.ok()) return fail(s);
  if (absl::Status s = RecordCancellation(db, id, cease.reason(), by, at, response); !s.ok()) return fail(s);
  absl::StatusOr<std::optional<ReferralAuditContext>> context = ReadAuditContext(db, id);
  if (!context.ok()) return fail(context.status());
  frontdoor::v1::AuditRecord r =
      WithdrawalRecord(by, id, *endpoint_id, context->has_value() ? &**context : nullptr, cease.reason(),
                       response.delivery_state() == frontdoor::v1::DELIVERY_CANCELLED, at);
  std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
  if (absl::Status s = AppendAuditInTransaction(db, &records); !s.ok()) return fail(s);
  if (absl::Status s = Run(db, "COMMIT"); !s.ok()) return fail(s);
  CancelOutcome out;
  out.response = std::move(response);
  return out;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> SqliteStore::AppendAudit(
    std::vector<frontdoor::v1::AuditRecord> records) {
  absl::MutexLock lock(&write_mu_);
  FRONTDOOR_RETURN_IF_ERROR(Run(writer_, "BEGIN IMMEDIATE"));
  if (absl::Status s = AppendAuditInTransaction(writer_, &records); !s.ok()) {
    Run(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  if (absl::Status s = Run(writer_, "COMMIT"); !s.ok()) {
    Run(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  return records;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> SqliteStore::QueryAudit(const AuditQuery& q,
                                                                                int64_t after_index, int limit) {
  // The records themselves are searched (gateway/audit_search.h), a chunk at a time, so the shared
  // reader is never held for a whole scan.
  return SearchAuditLog(
      q, after_index, limit, [this](int64_t after, int n) -> absl::StatusOr<std::vector<StoredAuditRow>> {
        absl::MutexLock lock(&read_mu_);
        Statement st(reader_,
                     "SELECT leaf_index, leaf_hash, record FROM audit_log WHERE leaf_index > ?1 AND record IS NOT NULL"
                     " ORDER BY leaf_index LIMIT ?2");
        FRONTDOOR_RETURN_IF_ERROR(st.status());
        st.Bind(1, after);
        st.Bind(2, static_cast<int64_t>(n));
        std::vector<StoredAuditRow> rows;
        int rc;
        while ((rc = st.Step()) == SQLITE_ROW) rows.push_back(StoredAuditRow{st.Int(0), st.Text(1), st.Blob(2)});
        if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "query audit log");
        return rows;
      });
}

absl::StatusOr<uint64_t> SqliteStore::AuditTreeSize() {
  absl::MutexLock lock(&read_mu_);
  // Leaf indexes run from 0 without gaps (rows are never deleted, only their bodies pruned), so
  // the size is the largest index + 1: a lookup on the primary key. COUNT(*) would walk the whole
  // log, and the checkpointer asks after every group commit.
  Statement st(reader_, "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM audit_log");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqliteError(reader_, rc, "count audit log");
  return static_cast<uint64_t>(st.Int(0));
}

absl::StatusOr<std::vector<audit::Hash>> SqliteStore::AuditLeafHashes(uint64_t from, uint64_t to) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT leaf_index, leaf_hash FROM audit_log WHERE leaf_index >= ?1 AND leaf_index < ?2"
               " ORDER BY leaf_index");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(from));
  st.Bind(2, static_cast<int64_t>(to));
  std::vector<audit::Hash> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    std::optional<audit::Hash> h = audit::HashFromHex(st.Text(1));
    if (!h.has_value() || st.Int(0) != static_cast<int64_t>(from + out.size())) {
      return absl::DataLossError(absl::StrCat("audit record ", from + out.size(), " is missing or damaged"));
    }
    out.push_back(*h);
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read audit leaf hashes");
  if (out.size() != to - from) return absl::DataLossError("audit records are missing");
  return out;
}

absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> SqliteStore::GetAuditRecord(uint64_t index) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, "SELECT leaf_hash, record, time_us FROM audit_log WHERE leaf_index = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(index));
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read audit record");
  if (st.IsNull(1)) return store_rows::PrunedRecord(index, st.Int(2), st.Text(0));
  FRONTDOOR_ASSIGN_OR_RETURN(frontdoor::v1::AuditRecord r,
                             ParseRecord(st.Blob(1), static_cast<int64_t>(index), st.Text(0)));
  return r;
}

absl::StatusOr<std::vector<audit::StoredLeaf>> SqliteStore::ReadAuditLeaves() {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT leaf_index, leaf_hash, record, time_us, referral_id, nhs_number, recipient_endpoint,"
               " referrer_ods, outcome, rule_ids FROM audit_log ORDER BY leaf_index");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  std::vector<audit::StoredLeaf> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    audit::StoredLeaf leaf;
    leaf.index = static_cast<uint64_t>(st.Int(0));
    leaf.leaf_hash_hex = st.Text(1);
    leaf.columns =
        audit::AuditSearchColumns{st.Int(3), st.Text(4), st.Text(5), st.Text(6), st.Text(7), st.Text(8), st.Text(9)};
    if (!st.IsNull(2)) {
      frontdoor::v1::AuditRecord r;
      if (r.ParseFromString(st.Blob(2))) {
        leaf.record = std::move(r);
      } else {
        leaf.body_unreadable = true;
      }
    }
    out.push_back(std::move(leaf));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read audit log");
  return out;
}

absl::Status SqliteStore::RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) {
  // A checkpoint only states what is already committed, so it may share the next commit's fsync.
  SharedWrite write;
  write.apply = [&checkpoint](sqlite3* db) -> absl::Status {
    Statement st(db, "INSERT OR IGNORE INTO audit_checkpoints (tree_size, checkpoint) VALUES (?1, ?2)");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    st.Bind(1, static_cast<int64_t>(checkpoint.tree_size()));
    st.BindBlob(2, checkpoint.SerializeAsString());
    if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "record checkpoint");
    return absl::OkStatus();
  };
  return WriteShared(&write);
}

absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> SqliteStore::AuditCheckpoints() {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, "SELECT tree_size, checkpoint FROM audit_checkpoints ORDER BY tree_size");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  std::vector<frontdoor::v1::SignedCheckpoint> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    frontdoor::v1::SignedCheckpoint cp;
    // An unreadable checkpoint is kept as an empty one: verification then reports it as unsigned.
    if (!cp.ParseFromString(st.Blob(1))) cp.Clear();
    if (cp.tree_size() == 0) cp.set_tree_size(static_cast<uint64_t>(st.Int(0)));
    out.push_back(std::move(cp));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read checkpoints");
  return out;
}

absl::StatusOr<int64_t> SqliteStore::PruneAuditBefore(absl::Time cutoff) {
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE audit_log SET record = NULL, referral_id = '', nhs_number = '', recipient_endpoint = '',"
               " referrer_ods = '', outcome = '', rule_ids = ''"
               " WHERE record IS NOT NULL AND time_us < ?1"
               " AND leaf_index < (SELECT COALESCE(MAX(tree_size), 0) FROM audit_checkpoints)");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(cutoff));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "prune audit log");
  return static_cast<int64_t>(sqlite3_changes(writer_));
}

}  // namespace frontdoor::gateway
