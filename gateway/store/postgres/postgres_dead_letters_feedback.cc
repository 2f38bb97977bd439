// PostgresStore: dead letters for operators, and the connectors' progress reports.
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

namespace {

// " AND <column> = $n" clauses for a DeadLetterFilter, appended to `params`.
std::string DeadLetterWhere(const DeadLetterFilter& filter, Params* params) {
  std::string where;
  if (!filter.referral_id.empty()) {
    params->Text(filter.referral_id);
    absl::StrAppend(&where, " AND referral_id = $", params->size());
  }
  if (!filter.endpoint_id.empty()) {
    params->Text(filter.endpoint_id);
    absl::StrAppend(&where, " AND endpoint_id = $", params->size());
  }
  if (!filter.outbox_ids.empty()) {
    absl::StrAppend(&where, " AND outbox_id IN (");
    for (size_t i = 0; i < filter.outbox_ids.size(); ++i) {
      params->Int(filter.outbox_ids[i]);
      absl::StrAppend(&where, i == 0 ? "" : ", ", "$", params->size());
    }
    absl::StrAppend(&where, ")");
  }
  return where;
}

constexpr char kFeedbackColumns[] =
    "SELECT f.seq, f.referral_id, f.sender_ods, f.endpoint_id, r.connector_id, r.message_id, r.format,"
    " r.referral, f.report, f.recorded_us FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id ";

absl::StatusOr<std::vector<StoredFeedback>> ReadFeedbackRows(const Result& r) {
  std::vector<StoredFeedback> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    StoredFeedback f;
    f.seq = r.Int(i, 0);
    f.referral_id = r.Text(i, 1);
    f.sender_ods = r.Text(i, 2);
    f.endpoint_id = r.Text(i, 3);
    f.team_id = r.Text(i, 4);
    f.message_id = r.Text(i, 5);
    f.format = r.Text(i, 6);
    frontdoor::v1::Referral referral;
    if (!referral.ParseFromString(r.Bytes(i, 7)) || !f.report.ParseFromString(r.Bytes(i, 8))) {
      return absl::InternalError(absl::StrCat("feedback event ", f.seq, " does not parse"));
    }
    f.nhs_number = referral.person().nhs_number();
    f.referrer_reference = referral.referrer_reference();
    f.recorded_at = FromMicros(r.Int(i, 9));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<DeadLetterRow>> PostgresStore::ListDeadLetters(const DeadLetterFilter& filter, int limit) {
  Params p;
  p.Int(limit);
  const std::string where = DeadLetterWhere(filter, &p);
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec(absl::StrCat("SELECT outbox_id, kind, referral_id, endpoint_id, attempts, last_error,"
                                     " created_us, dead_us FROM outbox WHERE state = 'dead'",
                                     where, " ORDER BY outbox_id LIMIT $1"),
                        p, "read dead letters"));
  std::vector<DeadLetterRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    DeadLetterRow row;
    row.outbox_id = r.Int(i, 0);
    row.kind = OutboxKindNamed(r.Text(i, 1)).value_or(OutboxKind::kDeliver);
    row.referral_id = r.Text(i, 2);
    row.endpoint_id = r.Text(i, 3);
    row.attempts = static_cast<uint32_t>(r.Int(i, 4));
    row.last_error = r.Text(i, 5);
    row.created_at = FromMicros(r.Int(i, 6));
    row.dead_at = r.IsNull(i, 7) ? row.created_at : FromMicros(r.Int(i, 7));
    out.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<int> PostgresStore::ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) {
  Params p;
  p.Int(ToMicros(now));
  const std::string where = DeadLetterWhere(filter, &p);
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec(absl::StrCat("UPDATE outbox SET state = 'pending', next_attempt_us = $1, replayed_us = $1,"
                                     " replay_base = attempts, dead_us = NULL, lease_owner = NULL,"
                                     " lease_until_us = NULL WHERE state = 'dead'",
                                     where),
                        p, "replay dead letters"));
  return static_cast<int>(r.Affected());
}

namespace {

// The referrer takes its feedback pushed: the event's outbox row, queued in the event's transaction
// so it is sent however the gateway stops; the transport renders the event when it sends it.
absl::Status QueueFeedbackPush(Connection& c, const std::string& referral_id, const NewFeedback& feedback,
                               int64_t seq) {
  if (feedback.push_endpoint.empty()) return absl::OkStatus();
  Params q;
  q.Text(referral_id)
      .Text(feedback.push_endpoint)
      .Text(absl::StrCat("feedback-", seq))
      .Bytes(absl::StrCat(seq))
      .Int(ToMicros(feedback.recorded_at));
  return c
      .Exec(
          "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
          " next_attempt_us, created_us) VALUES ($1, $2, 'feedback', $3, $4, 'pending', $5, $5)",
          q, "queue feedback push")
      .status();
}

}  // namespace

absl::StatusOr<FeedbackRecordOutcome> PostgresStore::RecordFeedback(const NewFeedback& feedback,
                                                                    const StoredReferral& referral,
                                                                    const FeedbackCheck& check) {
  const std::string report_bytes = feedback.report.SerializeAsString();
  FeedbackRecordOutcome out;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool* rollback) -> absl::Status {
    out = FeedbackRecordOutcome();
    // Feedback appends an audit record, and its seq is handed out under the same lock: a reader
    // never sees a later seq committed before an earlier one.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    // A resend of the same report (same connector, same key) is recorded once.
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result same,
        c.Exec(absl::StrCat(kFeedbackColumns, "WHERE f.endpoint_id = $1 AND f.idempotency_key = $2"),
               Params().Text(feedback.endpoint_id).Text(feedback.report.idempotency_key()), "read feedback"));
    FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> same_key, ReadFeedbackRows(same));
    if (!same_key.empty()) {
      *rollback = true;
      if (same_key.front().report.SerializeAsString() != report_bytes) {
        return absl::AlreadyExistsError("that idempotency_key was already used for a different report");
      }
      out = FeedbackRecordOutcome{true, std::move(same_key.front())};
      return absl::OkStatus();
    }
    FRONTDOOR_ASSIGN_OR_RETURN(Result hist,
                               c.Exec(absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = $1 ORDER BY f.seq"),
                                      Params().Text(referral.referral_id), "read feedback"));
    FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> history, ReadFeedbackRows(hist));
    FRONTDOOR_ASSIGN_OR_RETURN(std::optional<int64_t> repeat, check(FeedbackContext{&referral, &history}));
    if (repeat.has_value()) {
      *rollback = true;
      for (StoredFeedback& earlier : history) {
        if (earlier.seq == *repeat) {
          out = FeedbackRecordOutcome{true, std::move(earlier)};
          return absl::OkStatus();
        }
      }
      return absl::InternalError("the repeated feedback event is not in the history");
    }
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result seq_row, c.Exec("UPDATE feedback_head SET next_seq = next_seq + 1 RETURNING next_seq - 1", Params(),
                               "next feedback seq"));
    if (seq_row.rows() != 1) return absl::InternalError("the feedback head row is missing");
    const int64_t seq = seq_row.Int(0, 0);
    Params p;
    p.Int(seq)
        .Text(referral.referral_id)
        .Text(referral.sender_ods)
        .Text(feedback.endpoint_id)
        .Text(feedback.report.idempotency_key())
        .Int(static_cast<int64_t>(feedback.report.status()))
        .Bytes(report_bytes)
        .Int(ToMicros(feedback.recorded_at));
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO feedback_events (seq, referral_id, sender_ods, endpoint_id,"
                                     " idempotency_key, status, report, recorded_us)"
                                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                     p, "insert feedback event")
                                  .status());
    FRONTDOOR_RETURN_IF_ERROR(QueueFeedbackPush(c, referral.referral_id, feedback, seq));
    FRONTDOOR_RETURN_IF_ERROR(pg::AddToReportFacts(c, referral, feedback.report));
    // IG-9: one audit record in the same transaction, naming the status only.
    FRONTDOOR_ASSIGN_OR_RETURN(std::optional<ReferralAuditContext> context, ReadAuditContext(c, referral.referral_id));
    frontdoor::v1::AuditRecord r =
        FeedbackRecord(referral.referral_id, feedback.endpoint_id, referral.sender_ods,
                       context.has_value() ? &*context : nullptr, feedback.report.status(), feedback.recorded_at);
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    FRONTDOOR_RETURN_IF_ERROR(AppendAuditLocked(c, &records));

    out.event = store_rows::RecordedFeedback(seq, feedback, referral);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<StoredFeedback>> PostgresStore::FeedbackBySeq(int64_t seq) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec(absl::StrCat(kFeedbackColumns, "WHERE f.seq = $1"), Params().Int(seq), "read feedback"));
  FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> rows, ReadFeedbackRows(r));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

absl::StatusOr<std::vector<StoredFeedback>> PostgresStore::FeedbackForReferral(std::string_view referral_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec(absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = $1 ORDER BY f.seq"),
                                     Params().Text(referral_id), "read feedback"));
  return ReadFeedbackRows(r);
}

absl::StatusOr<std::vector<StoredFeedback>> PostgresStore::FeedbackAfter(std::string_view sender_ods, int64_t after_seq,
                                                                         int limit) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec(absl::StrCat(kFeedbackColumns, "WHERE f.sender_ods = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3"),
              Params().Text(sender_ods).Int(after_seq).Int(limit), "read feedback"));
  return ReadFeedbackRows(r);
}

}  // namespace frontdoor::gateway
