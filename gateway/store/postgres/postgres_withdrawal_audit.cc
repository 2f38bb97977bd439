// PostgresStore: withdrawals (IG-7) and the audit log (IG-9).
#include <libpq-fe.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "audit/audit_record.h"
#include "audit/search_columns.h"
#include "common/status_macros.h"
#include "gateway/store/audit_records.h"
#include "gateway/store/audit_search.h"
#include "gateway/store/postgres/postgres_connection.h"
#include "gateway/store/postgres/postgres_rows.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway {

using pg::AppendAuditLocked;
using pg::Connection;
using pg::InTransaction;
using pg::Lease;
using pg::LockAuditHead;
using pg::Params;
using pg::ReadAuditContext;
using pg::Result;
using store_rows::FromMicros;
using store_rows::ParseRecord;
using store_rows::ToMicros;

absl::StatusOr<CancelOutcome> PostgresStore::CancelReferral(std::string_view referral_id,
                                                            const frontdoor::v1::CeaseProcessingRequest& cease,
                                                            const AuditActor& by, absl::Time at) {
  const std::string id(referral_id);
  CancelOutcome out;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool* rollback) -> absl::Status {
    out = CancelOutcome();
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    FRONTDOOR_ASSIGN_OR_RETURN(Result earlier, c.Exec("SELECT response FROM cancellations WHERE referral_id = $1",
                                                      Params().Text(id), "read cancellation"));
    if (earlier.rows() > 0) {
      out.duplicate = true;
      if (!out.response.ParseFromString(earlier.Bytes(0, 0))) {
        return absl::InternalError("stored cancellation does not parse");
      }
      *rollback = true;
      return absl::OkStatus();
    }
    FRONTDOOR_ASSIGN_OR_RETURN(Result referral,
                               c.Exec("SELECT disposition, endpoint_id FROM referrals WHERE referral_id = $1",
                                      Params().Text(id), "read referral"));
    if (referral.rows() == 0) return absl::NotFoundError("no referral with that id");
    if (referral.Int(0, 0) != frontdoor::v1::ACCEPTED) {
      return absl::FailedPreconditionError(
          "that referral was not accepted, so nothing was or will be sent; there is nothing to withdraw");
    }
    const std::string endpoint_id = referral.Text(0, 1);
    frontdoor::v1::CancelReferralResponse response;
    response.set_referral_id(id);
    // A dead-lettered delivery is stopped too: otherwise the cease would wait behind it.
    FRONTDOOR_ASSIGN_OR_RETURN(Result stopped, c.Exec("UPDATE outbox SET state = 'cancelled' WHERE referral_id = $1"
                                                      " AND kind = 'deliver' AND state IN ('pending', 'dead')",
                                                      Params().Text(id), "stop pending delivery"));
    response.set_delivery_state(stopped.Affected() > 0 ? frontdoor::v1::DELIVERY_CANCELLED : frontdoor::v1::DELIVERED);
    Params q;
    q.Text(id).Text(endpoint_id).Text(cease.idempotency_key()).Bytes(cease.SerializeAsString()).Int(ToMicros(at));
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key,"
                                     " payload, state, next_attempt_us, created_us)"
                                     " VALUES ($1, $2, 'cease', $3, $4, 'pending', $5, $5)",
                                     q, "queue cease processing")
                                  .status());
    response.set_cease_processing_sent(true);
    Params rec;
    rec.Text(id)
        .Int(static_cast<int64_t>(cease.reason()))
        .Int(ToMicros(at))
        .Text(by.identity)
        .Bytes(response.SerializeAsString());
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO cancellations (referral_id, reason, cancelled_us, actor, response)"
                                     " VALUES ($1, $2, $3, $4, $5)",
                                     rec, "record cancellation")
                                  .status());
    FRONTDOOR_ASSIGN_OR_RETURN(std::optional<ReferralAuditContext> context, ReadAuditContext(c, id));
    frontdoor::v1::AuditRecord r =
        WithdrawalRecord(by, id, endpoint_id, context.has_value() ? &*context : nullptr, cease.reason(),
                         response.delivery_state() == frontdoor::v1::DELIVERY_CANCELLED, at);
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    FRONTDOOR_RETURN_IF_ERROR(AppendAuditLocked(c, &records));
    out.response = std::move(response);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> PostgresStore::AppendAudit(
    std::vector<frontdoor::v1::AuditRecord> records) {
  std::vector<frontdoor::v1::AuditRecord> appended;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    appended = records;
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    return AppendAuditLocked(c, &appended);
  });
  if (!s.ok()) return s;
  return appended;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> PostgresStore::QueryAudit(const AuditQuery& q,
                                                                                  int64_t after_index, int limit) {
  // The records themselves are searched (gateway/audit_search.h), a chunk at a time.
  return SearchAuditLog(
      q, after_index, limit, [this](int64_t after, int n) -> absl::StatusOr<std::vector<StoredAuditRow>> {
        FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
        FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                                   c->Exec("SELECT leaf_index, leaf_hash, record FROM audit_log WHERE leaf_index > $1"
                                           " AND record IS NOT NULL ORDER BY leaf_index LIMIT $2",
                                           Params().Int(after).Int(n), "query audit log"));
        std::vector<StoredAuditRow> rows;
        rows.reserve(r.rows());
        for (int i = 0; i < r.rows(); ++i) rows.push_back(StoredAuditRow{r.Int(i, 0), r.Text(i, 1), r.Bytes(i, 2)});
        return rows;
      });
}

absl::StatusOr<uint64_t> PostgresStore::AuditTreeSize() {
  // Gapless leaf indexes (handed out under the audit_head lock, never deleted): the primary key's
  // last entry gives the size without counting the log.
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM audit_log", Params(), "audit log size"));
  return static_cast<uint64_t>(r.Int(0, 0));
}

absl::StatusOr<std::vector<audit::Hash>> PostgresStore::AuditLeafHashes(uint64_t from, uint64_t to) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("SELECT leaf_index, leaf_hash FROM audit_log WHERE leaf_index >= $1 AND leaf_index < $2"
              " ORDER BY leaf_index",
              Params().Int(static_cast<int64_t>(from)).Int(static_cast<int64_t>(to)), "read audit leaf hashes"));
  std::vector<audit::Hash> out;
  for (int i = 0; i < r.rows(); ++i) {
    std::optional<audit::Hash> h = audit::HashFromHex(r.Text(i, 1));
    if (!h.has_value() || r.Int(i, 0) != static_cast<int64_t>(from + out.size())) {
      return absl::DataLossError(absl::StrCat("audit record ", from + out.size(), " is missing or damaged"));
    }
    out.push_back(*h);
  }
  if (out.size() != to - from) return absl::DataLossError("audit records are missing");
  return out;
}

absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> PostgresStore::GetAuditRecord(uint64_t index) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT leaf_hash, record, time_us FROM audit_log"
                                               " WHERE leaf_index = $1",
                                               Params().Int(static_cast<int64_t>(index)), "read audit record"));
  if (r.rows() == 0) return std::nullopt;
  if (r.IsNull(0, 1)) return store_rows::PrunedRecord(index, r.Int(0, 2), r.Text(0, 0));
  FRONTDOOR_ASSIGN_OR_RETURN(frontdoor::v1::AuditRecord rec,
                             ParseRecord(r.Bytes(0, 1), static_cast<int64_t>(index), r.Text(0, 0)));
  return rec;
}

absl::StatusOr<std::vector<audit::StoredLeaf>> PostgresStore::ReadAuditLeaves() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT leaf_index, leaf_hash, record, time_us, referral_id, nhs_number, recipient_endpoint,"
                        " referrer_ods, outcome, rule_ids FROM audit_log ORDER BY leaf_index",
                        Params(), "read audit log"));
  std::vector<audit::StoredLeaf> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    audit::StoredLeaf leaf;
    leaf.index = static_cast<uint64_t>(r.Int(i, 0));
    leaf.leaf_hash_hex = r.Text(i, 1);
    leaf.columns = audit::AuditSearchColumns{r.Int(i, 3),  r.Text(i, 4), r.Text(i, 5), r.Text(i, 6),
                                             r.Text(i, 7), r.Text(i, 8), r.Text(i, 9)};
    if (!r.IsNull(i, 2)) {
      frontdoor::v1::AuditRecord rec;
      if (rec.ParseFromString(r.Bytes(i, 2))) {
        leaf.record = std::move(rec);
      } else {
        leaf.body_unreadable = true;
      }
    }
    out.push_back(std::move(leaf));
  }
  return out;
}

absl::Status PostgresStore::RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // Idempotent by tree size: two replicas signing the same size keep the first.
  return c
      ->Exec(
          "INSERT INTO audit_checkpoints (tree_size, checkpoint) VALUES ($1, $2)"
          " ON CONFLICT (tree_size) DO NOTHING",
          Params().Int(static_cast<int64_t>(checkpoint.tree_size())).Bytes(checkpoint.SerializeAsString()),
          "record checkpoint")
      .status();
}

absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> PostgresStore::AuditCheckpoints() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT tree_size, checkpoint FROM audit_checkpoints"
                                               " ORDER BY tree_size",
                                               Params(), "read checkpoints"));
  std::vector<frontdoor::v1::SignedCheckpoint> out;
  for (int i = 0; i < r.rows(); ++i) {
    frontdoor::v1::SignedCheckpoint cp;
    // An unreadable checkpoint is kept as an empty one: verification then reports it as unsigned.
    if (!cp.ParseFromString(r.Bytes(i, 1))) cp.Clear();
    if (cp.tree_size() == 0) cp.set_tree_size(static_cast<uint64_t>(r.Int(i, 0)));
    out.push_back(std::move(cp));
  }
  return out;
}

absl::StatusOr<int64_t> PostgresStore::PruneAuditBefore(absl::Time cutoff) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec("UPDATE audit_log SET record = NULL, referral_id = '', nhs_number = '',"
                                     " recipient_endpoint = '', referrer_ods = '', outcome = '', rule_ids = ''"
                                     " WHERE record IS NOT NULL AND time_us < $1"
                                     " AND leaf_index < (SELECT COALESCE(MAX(tree_size), 0) FROM audit_checkpoints)",
                                     Params().Int(ToMicros(cutoff)), "prune audit log"));
  return r.Affected();
}

}  // namespace frontdoor::gateway
