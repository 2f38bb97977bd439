// PostgresStore: referrals and the delivery outbox (ReferralRecords, DeliveryOutbox).
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
#include "gateway/store/report_fact_rows.h"
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

namespace {

absl::Status RecordDecisionAudit(Connection& c, const std::string& referral_id, const std::string& sender_ods,
                                 std::vector<frontdoor::v1::AuditRecord> records) {
  if (records.empty()) return absl::OkStatus();
  const frontdoor::v1::AuditRecord& decision = records.front();
  Params p;
  p.Text(referral_id)
      .Text(decision.nhs_number())
      .Text(decision.consent_reference())
      .Text(sender_ods)
      .Text(absl::StrJoin(decision.rule_ids(), ","));
  FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO audit_context (referral_id, nhs_number, consent_reference,"
                                   " referrer_ods, rule_ids) VALUES ($1, $2, $3, $4, $5)",
                                   p, "insert audit context")
                                .status());
  return AppendAuditLocked(c, &records);
}

// An acknowledged outbox row's referral, endpoint, kind and audit context (none: recorded before
// the audit log existed, and the record cites nothing).
absl::StatusOr<OutboxItem> ReadAcknowledgedRow(Connection& c, int64_t outbox_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c.Exec("SELECT o.referral_id, o.endpoint_id, o.kind, c.nhs_number, c.consent_reference,"
                                    " c.referrer_ods, c.rule_ids FROM outbox o LEFT JOIN audit_context c"
                                    " ON c.referral_id = o.referral_id WHERE o.outbox_id = $1",
                                    Params().Int(outbox_id), "read acknowledged outbox row"));
  if (r.rows() != 1) return absl::InternalError("the acknowledged outbox row is missing");
  OutboxItem row;
  row.outbox_id = outbox_id;
  row.referral_id = r.Text(0, 0);
  row.endpoint_id = r.Text(0, 1);
  row.kind = OutboxKindNamed(r.Text(0, 2)).value_or(OutboxKind::kDeliver);
  row.audit_context = ReferralAuditContext{r.Text(0, 3), r.Text(0, 4), r.Text(0, 5), r.Text(0, 6)};
  return row;
}

absl::Status ReadCancellation(Connection& c, StoredReferral* out) {
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c.Exec("SELECT c.reason, c.cancelled_us,"
                       " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'cease'"
                       "  ORDER BY outbox_id LIMIT 1),"
                       " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'deliver'"
                       "  ORDER BY outbox_id LIMIT 1)"
                       " FROM cancellations c WHERE c.referral_id = $1",
                       Params().Text(out->referral_id), "read cancellation"));
  if (r.rows() == 0) return absl::OkStatus();
  out->cancel_reason = static_cast<frontdoor::v1::CancelReason>(r.Int(0, 0));
  out->cancelled_at = FromMicros(r.Int(0, 1));
  out->cease_processing_sent = !r.IsNull(0, 2);
  out->cease_processing_acknowledged = r.Text(0, 2) == "delivered";
  if (r.Text(0, 3) == "cancelled") out->delivery_state = frontdoor::v1::DELIVERY_CANCELLED;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<RecordOutcome>> PostgresStore::RecordReferrals(std::vector<NewReferral> batch) {
  std::vector<RecordOutcome> outcomes;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    outcomes.clear();
    outcomes.reserve(batch.size());
    // The audit head first: referral transactions of all replicas then queue in one order, so a
    // duplicate's unique-index wait can never deadlock against the audit lock.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    for (const NewReferral& r : batch) {
      Params p;
      p.Text(r.referral_id)
          .Text(r.sender_ods)
          .Text(r.message_id)
          .Text(r.format)
          .Int(ToMicros(r.received_at))
          .Int(static_cast<int64_t>(r.decision.disposition()))
          .Text(r.decision.connector_id())
          .Text(r.decision.endpoint_id())
          .Bytes(r.decision.SerializeAsString())
          .Bytes(r.referral.SerializeAsString())
          .Text(r.content_fingerprint);
      FRONTDOOR_ASSIGN_OR_RETURN(
          Result inserted,
          c.Exec("INSERT INTO referrals (referral_id, sender_ods, message_id, format, received_us, disposition,"
                 " connector_id, endpoint_id, decision, referral, content_fingerprint)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                 " ON CONFLICT (sender_ods, message_id) DO NOTHING",
                 p, "insert referral"));
      if (inserted.Affected() == 0) {
        // Recorded before (by any replica, or earlier in this batch): a resend, or a reused id.
        FRONTDOOR_ASSIGN_OR_RETURN(
            Result first, c.Exec("SELECT decision, COALESCE(content_fingerprint, ''), received_us FROM referrals"
                                 " WHERE sender_ods = $1 AND message_id = $2",
                                 Params().Text(r.sender_ods).Text(r.message_id), "look up duplicate"));
        if (first.rows() != 1) return absl::InternalError("the recorded message is missing");
        FRONTDOOR_ASSIGN_OR_RETURN(
            RecordOutcome out,
            store_rows::OutcomeForRecordedId(r, first.Text(0, 1), first.Bytes(0, 0), FromMicros(first.Int(0, 2))));
        outcomes.push_back(std::move(out));
        continue;
      }
      FRONTDOOR_RETURN_IF_ERROR(
          c.Exec("INSERT INTO report_facts (received_us, referral_id, facts) VALUES ($1, $2, $3)",
                 Params()
                     .Int(ToMicros(r.received_at))
                     .Text(r.referral_id)
                     .Bytes(FactsOfReferral(r.sender_ods, r.referral.self_referral(), r.decision).SerializeAsString()),
                 "insert report facts")
              .status());
      if (r.delivery.has_value()) {
        Params o;
        o.Text(r.referral_id)
            .Text(r.delivery->endpoint_id)
            .Text(r.delivery->request.idempotency_key())
            .Bytes(r.delivery->request.SerializeAsString())
            .Int(ToMicros(r.received_at));
        FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key,"
                                         " payload, state, next_attempt_us, created_us)"
                                         " VALUES ($1, $2, 'deliver', $3, $4, 'pending', $5, $5)",
                                         o, "insert outbox row")
                                      .status());
      }
      FRONTDOOR_RETURN_IF_ERROR(RecordDecisionAudit(c, r.referral_id, r.sender_ods, r.audit));
      RecordOutcome out;
      out.decision = r.decision;
      outcomes.push_back(std::move(out));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return outcomes;
}

absl::StatusOr<std::optional<StoredReferral>> PostgresStore::GetReferral(std::string_view referral_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT r.referral_id, r.sender_ods, r.message_id, r.format, r.received_us, r.decision,"
                        " o.state, o.delivered_us, o.attempts, o.outbox_id"
                        " FROM referrals r LEFT JOIN outbox o ON o.referral_id = r.referral_id AND o.kind = 'deliver'"
                        " WHERE r.referral_id = $1",
                        Params().Text(referral_id), "read referral"));
  if (r.rows() == 0) return std::nullopt;
  StoredReferral out;
  out.referral_id = r.Text(0, 0);
  out.sender_ods = r.Text(0, 1);
  out.message_id = r.Text(0, 2);
  out.format = r.Text(0, 3);
  out.received_at = FromMicros(r.Int(0, 4));
  if (!out.decision.ParseFromString(r.Bytes(0, 5))) return absl::InternalError("stored decision does not parse");
  const bool has_outbox = !r.IsNull(0, 9);
  out.delivery_state =
      store_rows::DeliveryStateFor(out.decision, has_outbox ? std::optional<std::string>(r.Text(0, 6)) : std::nullopt);
  if (!r.IsNull(0, 7)) out.delivered_at = FromMicros(r.Int(0, 7));
  out.delivery_attempts = has_outbox ? static_cast<uint32_t>(r.Int(0, 8)) : 0;
  FRONTDOOR_RETURN_IF_ERROR(ReadCancellation(*c, &out));
  return out;
}

absl::StatusOr<std::vector<OutboxItem>> PostgresStore::DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                                     int limit) {
  // Claim: rows leased by another replica are skipped until their lease expires; SKIP LOCKED
  // leaves rows another replica is claiming at this instant to it. A row behind an earlier pending
  // or dead row of its referral to the same endpoint (even one leased elsewhere) is not due.
  Params p;
  p.Text(replica_id_).Text(endpoint_id).Int(ToMicros(now)).Int(limit).Int(absl::ToInt64Microseconds(outbox_lease_));
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("UPDATE outbox AS o SET lease_owner = $1, lease_until_us = $3 + $5"
              " WHERE o.outbox_id IN ("
              "   SELECT d.outbox_id FROM outbox AS d"
              "   WHERE d.endpoint_id = $2 AND d.state = 'pending' AND d.next_attempt_us <= $3"
              "   AND (d.lease_until_us IS NULL OR d.lease_until_us <= $3 OR d.lease_owner = $1)"
              "   AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = d.referral_id"
              "                   AND earlier.endpoint_id = d.endpoint_id"
              "                   AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < d.outbox_id)"
              "   ORDER BY d.outbox_id LIMIT $4 FOR UPDATE SKIP LOCKED)"
              " RETURNING o.outbox_id, o.referral_id, o.attempts, o.payload, o.kind, o.created_us",
              p, "claim outbox rows"));
  std::vector<OutboxItem> items;
  items.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    OutboxItem item;
    item.outbox_id = r.Int(i, 0);
    item.referral_id = r.Text(i, 1);
    item.endpoint_id = std::string(endpoint_id);
    item.attempts = static_cast<uint32_t>(r.Int(i, 2));
    if (!r.IsNull(i, 5)) item.created_at = FromMicros(r.Int(i, 5));  // delivery latency (metrics)
    FRONTDOOR_RETURN_IF_ERROR(store_rows::SetOutboxRequest(r.Text(i, 4), r.Bytes(i, 3), &item));
    items.push_back(std::move(item));
  }
  // RETURNING has no order: oldest first, as promised.
  std::sort(items.begin(), items.end(),
            [](const OutboxItem& a, const OutboxItem& b) { return a.outbox_id < b.outbox_id; });
  return items;
}

absl::StatusOr<std::optional<absl::Time>> PostgresStore::NextDeliveryDue(std::string_view endpoint_id) {
  // A row leased by another replica is due when its lease runs out (that replica may have died).
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("SELECT MIN(CASE WHEN o.lease_until_us IS NOT NULL AND o.lease_owner <> $2"
              "           THEN GREATEST(o.next_attempt_us, o.lease_until_us) ELSE o.next_attempt_us END)"
              " FROM outbox AS o WHERE o.endpoint_id = $1 AND o.state = 'pending'"
              " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
              "                 AND earlier.endpoint_id = o.endpoint_id"
              "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)",
              Params().Text(endpoint_id).Text(replica_id_), "read next due"));
  if (r.rows() != 1 || r.IsNull(0, 0)) return std::nullopt;
  return FromMicros(r.Int(0, 0));
}

absl::StatusOr<std::vector<OutboxDepth>> PostgresStore::OutboxDepths() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec("SELECT endpoint_id, COUNT(*) FILTER (WHERE state = 'pending'),"
                                     " COUNT(*) FILTER (WHERE state = 'dead'),"
                                     " MIN(created_us) FILTER (WHERE state = 'pending') FROM outbox"
                                     " WHERE state IN ('pending', 'dead') GROUP BY endpoint_id ORDER BY endpoint_id",
                                     Params(), "read outbox depth"));
  std::vector<OutboxDepth> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(OutboxDepth{r.Text(i, 0), r.Int(i, 1), r.Int(i, 2)});
    if (!r.IsNull(i, 3)) out.back().oldest_pending = FromMicros(r.Int(i, 3));
  }
  return out;
}

absl::Status PostgresStore::MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) {
  if (rows.empty()) return absl::OkStatus();
  return InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    // The acknowledgements and their audit records (IG-9) commit together, in one commit.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    std::vector<frontdoor::v1::AuditRecord> records;
    for (const OutboxItem* row : rows) {
      const Params p = Params().Int(row->outbox_id).Int(ToMicros(at));
      FRONTDOOR_ASSIGN_OR_RETURN(
          Result done, c.Exec("UPDATE outbox SET state = 'delivered', delivered_us = $2, attempts = attempts + 1,"
                              " last_error = '', lease_owner = NULL, lease_until_us = NULL"
                              " WHERE outbox_id = $1 AND state = 'pending'",
                              p, "mark delivered"));
      bool withdrawn = false;
      if (done.Affected() == 0) {
        // A delivery in flight when it was withdrawn (IG-7) still reached the connector: keep its time.
        FRONTDOOR_ASSIGN_OR_RETURN(
            Result in_flight, c.Exec("UPDATE outbox SET delivered_us = $2, lease_owner = NULL, lease_until_us = NULL"
                                     " WHERE outbox_id = $1 AND state = 'cancelled' AND delivered_us IS NULL",
                                     p, "mark delivered"));
        if (in_flight.Affected() == 0) continue;  // marked before: nothing to record again
        withdrawn = true;
      }
      absl::StatusOr<OutboxItem> read;
      if (!row->audit_context.has_value()) {
        read = ReadAcknowledgedRow(c, row->outbox_id);
        if (!read.ok()) return read.status();
        row = &*read;
      }
      records.push_back(AcknowledgementRecord(*row, withdrawn, at));
    }
    return AppendAuditLocked(c, &records);
  });
}

absl::StatusOr<bool> PostgresStore::RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                                    std::string_view error,
                                                                    const DeadLetterLimits& limits, absl::Time now) {
  bool dead_lettered = false;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    dead_lettered = false;
    const std::string text(error.substr(0, 500));
    // The limits count from when the row was queued or last replayed.
    Params p;
    p.Int(outbox_id)
        .Int(ToMicros(now))
        .Text(text)
        .Int(static_cast<int64_t>(limits.max_attempts))
        .Int(absl::ToInt64Microseconds(limits.max_age))
        .Text(replica_id_);
    FRONTDOOR_ASSIGN_OR_RETURN(Result dead,
                               c.Exec("UPDATE outbox SET state = 'dead', dead_us = $2, attempts = attempts + 1,"
                                      " last_error = $3, lease_owner = NULL, lease_until_us = NULL"
                                      " WHERE outbox_id = $1 AND state = 'pending'"
                                      " AND (lease_owner IS NULL OR lease_owner = $6) AND ("
                                      "   ($4 > 0 AND attempts + 1 - replay_base >= $4)"
                                      "   OR ($5 > 0 AND $2 - COALESCE(replayed_us, created_us) >= $5))",
                                      p, "dead-letter"));
    if (dead.Affected() > 0) {
      dead_lettered = true;
      return absl::OkStatus();
    }
    return c
        .Exec(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = $2, last_error = $3,"
            " lease_owner = NULL, lease_until_us = NULL WHERE outbox_id = $1 AND state = 'pending'"
            " AND (lease_owner IS NULL OR lease_owner = $4)",
            Params().Int(outbox_id).Int(ToMicros(next_attempt_at)).Text(text).Text(replica_id_),
            "record failed attempt")
        .status();
  });
  if (!s.ok()) return s;
  return dead_lettered;
}

absl::StatusOr<int> PostgresStore::DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                                     absl::Time now) {
  if (limits.max_age <= absl::ZeroDuration()) return 0;
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // Not a row another replica is sending right now: its outcome is that replica's to record.
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("UPDATE outbox SET state = 'dead', dead_us = $2, lease_owner = NULL, lease_until_us = NULL,"
              " last_error = CASE WHEN last_error = '' THEN 'endpoint unreachable (circuit open)' ELSE last_error END"
              " WHERE endpoint_id = $1 AND state = 'pending' AND $2 - COALESCE(replayed_us, created_us) >= $3"
              " AND (lease_until_us IS NULL OR lease_until_us <= $2 OR lease_owner = $4)",
              Params()
                  .Text(endpoint_id)
                  .Int(ToMicros(now))
                  .Int(absl::ToInt64Microseconds(limits.max_age))
                  .Text(replica_id_),
              "dead-letter expired rows"));
  return static_cast<int>(r.Affected());
}

}  // namespace frontdoor::gateway
