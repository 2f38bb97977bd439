// SqliteStore: dead letters for operators, and the connectors' progress reports.
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

namespace {

// " AND <column> = ?n" clauses for a DeadLetterFilter; binds start at `first_param`.
struct FilterSql {
  std::string where;
  std::vector<std::string> texts;
  std::vector<int64_t> ids;
};

FilterSql DeadLetterWhere(const DeadLetterFilter& filter, int first_param) {
  FilterSql out;
  int n = first_param;
  if (!filter.referral_id.empty()) {
    absl::StrAppend(&out.where, " AND referral_id = ?", n++);
    out.texts.push_back(filter.referral_id);
  }
  if (!filter.endpoint_id.empty()) {
    absl::StrAppend(&out.where, " AND endpoint_id = ?", n++);
    out.texts.push_back(filter.endpoint_id);
  }
  if (!filter.outbox_ids.empty()) {
    absl::StrAppend(&out.where, " AND outbox_id IN (");
    for (size_t i = 0; i < filter.outbox_ids.size(); ++i) {
      absl::StrAppend(&out.where, i == 0 ? "" : ", ", "?", n++);
      out.ids.push_back(filter.outbox_ids[i]);
    }
    absl::StrAppend(&out.where, ")");
  }
  return out;
}

void BindFilter(Statement& st, const FilterSql& f, int first_param) {
  int n = first_param;
  for (const std::string& t : f.texts) st.Bind(n++, t);
  for (int64_t id : f.ids) st.Bind(n++, id);
}

constexpr char kFeedbackColumns[] =
    "SELECT f.seq, f.referral_id, f.sender_ods, f.endpoint_id, r.connector_id, r.message_id, r.format,"
    " r.referral, f.report, f.recorded_us FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id ";

absl::StatusOr<std::vector<StoredFeedback>> ReadFeedbackRows(sqlite3* db, Statement& st) {
  std::vector<StoredFeedback> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    StoredFeedback f;
    f.seq = st.Int(0);
    f.referral_id = st.Text(1);
    f.sender_ods = st.Text(2);
    f.endpoint_id = st.Text(3);
    f.team_id = st.Text(4);
    f.message_id = st.Text(5);
    f.format = st.Text(6);
    frontdoor::v1::Referral referral;
    if (!referral.ParseFromString(st.Blob(7)) || !f.report.ParseFromString(st.Blob(8))) {
      return absl::InternalError(absl::StrCat("feedback event ", f.seq, " does not parse"));
    }
    f.nhs_number = referral.person().nhs_number();
    f.referrer_reference = referral.referrer_reference();
    f.recorded_at = FromMicros(st.Int(9));
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "read feedback");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<DeadLetterRow>> SqliteStore::ListDeadLetters(const DeadLetterFilter& filter, int limit) {
  const FilterSql where = DeadLetterWhere(filter, 2);
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, absl::StrCat("SELECT outbox_id, kind, referral_id, endpoint_id, attempts, last_error,"
                                     " created_us, dead_us FROM outbox WHERE state = 'dead'",
                                     where.where, " ORDER BY outbox_id LIMIT ?1")
                            .c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(limit));
  BindFilter(st, where, 2);
  std::vector<DeadLetterRow> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    DeadLetterRow row;
    row.outbox_id = st.Int(0);
    row.kind = OutboxKindNamed(st.Text(1)).value_or(OutboxKind::kDeliver);
    row.referral_id = st.Text(2);
    row.endpoint_id = st.Text(3);
    row.attempts = static_cast<uint32_t>(st.Int(4));
    row.last_error = st.Text(5);
    row.created_at = FromMicros(st.Int(6));
    row.dead_at = st.IsNull(7) ? row.created_at : FromMicros(st.Int(7));
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read dead letters");
  return out;
}

absl::StatusOr<int> SqliteStore::ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) {
  const FilterSql where = DeadLetterWhere(filter, 2);
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_, absl::StrCat("UPDATE outbox SET state = 'pending', next_attempt_us = ?1, replayed_us = ?1,"
                                     " replay_base = attempts, dead_us = NULL WHERE state = 'dead'",
                                     where.where)
                            .c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(now));
  BindFilter(st, where, 2);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "replay dead letters");
  return sqlite3_changes(writer_);
}

namespace {

// The referrer takes its feedback pushed: the event's outbox row, queued in the event's transaction
// so it is sent however the gateway stops; the transport renders the event when it sends it.
absl::Status QueueFeedbackPush(sqlite3* db, const std::string& referral_id, const NewFeedback& feedback, int64_t seq) {
  if (feedback.push_endpoint.empty()) return absl::OkStatus();
  Statement queue(db,
                  "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                  " next_attempt_us, created_us) VALUES (?1, ?2, 'feedback', ?3, ?4, 'pending', ?5, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(queue.status());
  queue.Bind(1, referral_id);
  queue.Bind(2, feedback.push_endpoint);
  queue.Bind(3, absl::StrCat("feedback-", seq));
  queue.BindBlob(4, absl::StrCat(seq));
  queue.Bind(5, ToMicros(feedback.recorded_at));
  if (int rc = queue.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "queue feedback push");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FeedbackRecordOutcome> SqliteStore::RecordFeedback(const NewFeedback& feedback,
                                                                  const StoredReferral& referral,
                                                                  const FeedbackCheck& check) {
  const std::string report_bytes = feedback.report.SerializeAsString();
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Run(db, "ROLLBACK").IgnoreError();
    return s;
  };
  auto read_where = [db](const std::string& where, auto bind) -> absl::StatusOr<std::vector<StoredFeedback>> {
    Statement st(db, absl::StrCat(kFeedbackColumns, where).c_str());
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    bind(st);
    return ReadFeedbackRows(db, st);
  };

  // A resend of the same report (same connector, same key) is recorded once.
  absl::StatusOr<std::vector<StoredFeedback>> same_key =
      read_where("WHERE f.endpoint_id = ?1 AND f.idempotency_key = ?2", [&](Statement& st) {
        st.Bind(1, feedback.endpoint_id);
        st.Bind(2, feedback.report.idempotency_key());
      });
  if (!same_key.ok()) return fail(same_key.status());
  if (!same_key->empty()) {
    Run(db, "ROLLBACK").IgnoreError();
    if (same_key->front().report.SerializeAsString() != report_bytes) {
      return absl::AlreadyExistsError("that idempotency_key was already used for a different report");
    }
    return FeedbackRecordOutcome{true, std::move(same_key->front())};
  }

  absl::StatusOr<std::vector<StoredFeedback>> history =
      read_where("WHERE f.referral_id = ?1 ORDER BY f.seq", [&](Statement& st) { st.Bind(1, referral.referral_id); });
  if (!history.ok()) return fail(history.status());
  absl::StatusOr<std::optional<int64_t>> decision = check(FeedbackContext{&referral, &*history});
  if (!decision.ok()) return fail(decision.status());
  if (decision->has_value()) {
    Run(db, "ROLLBACK").IgnoreError();
    for (StoredFeedback& earlier : *history) {
      if (earlier.seq == **decision) return FeedbackRecordOutcome{true, std::move(earlier)};
    }
    return absl::InternalError("the repeated feedback event is not in the history");
  }

  Statement insert(db,
                   "INSERT INTO feedback_events (referral_id, sender_ods, endpoint_id, idempotency_key, status,"
                   " report, recorded_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!insert.status().ok()) return fail(insert.status());
  insert.Bind(1, referral.referral_id);
  insert.Bind(2, referral.sender_ods);
  insert.Bind(3, feedback.endpoint_id);
  insert.Bind(4, feedback.report.idempotency_key());
  insert.Bind(5, static_cast<int64_t>(feedback.report.status()));
  insert.BindBlob(6, report_bytes);
  insert.Bind(7, ToMicros(feedback.recorded_at));
  if (int rc = insert.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert feedback event"));
  const int64_t seq = sqlite3_last_insert_rowid(db);
  if (absl::Status queued = QueueFeedbackPush(db, referral.referral_id, feedback, seq); !queued.ok()) {
    return fail(queued);
  }
  if (absl::Status s = AddToReportFacts(db, referral, feedback.report); !s.ok()) return fail(s);
  {
    // IG-9: feedback is accountable too, one audit record in the same transaction.
    absl::StatusOr<std::optional<ReferralAuditContext>> context = ReadAuditContext(db, referral.referral_id);
    if (!context.ok()) return fail(context.status());
    frontdoor::v1::AuditRecord r =
        FeedbackRecord(referral.referral_id, feedback.endpoint_id, referral.sender_ods,
                       context->has_value() ? &**context : nullptr, feedback.report.status(), feedback.recorded_at);
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    if (absl::Status s = AppendAuditInTransaction(db, &records); !s.ok()) return fail(s);
  }
  if (absl::Status s = Run(db, "COMMIT"); !s.ok()) return fail(s);

  FeedbackRecordOutcome out;
  out.event = store_rows::RecordedFeedback(seq, feedback, referral);
  return out;
}

absl::StatusOr<std::optional<StoredFeedback>> SqliteStore::FeedbackBySeq(int64_t seq) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, absl::StrCat(kFeedbackColumns, "WHERE f.seq = ?1").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, seq);
  FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> rows, ReadFeedbackRows(reader_, st));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

absl::StatusOr<std::vector<StoredFeedback>> SqliteStore::FeedbackForReferral(std::string_view referral_id) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = ?1 ORDER BY f.seq").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  return ReadFeedbackRows(reader_, st);
}

absl::StatusOr<std::vector<StoredFeedback>> SqliteStore::FeedbackAfter(std::string_view sender_ods, int64_t after_seq,
                                                                       int limit) {
  absl::MutexLock lock(&read_mu_);
  Statement st(
      reader_,
      absl::StrCat(kFeedbackColumns, "WHERE f.sender_ods = ?1 AND f.seq > ?2 ORDER BY f.seq LIMIT ?3").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, sender_ods);
  st.Bind(2, after_seq);
  st.Bind(3, static_cast<int64_t>(limit));
  return ReadFeedbackRows(reader_, st);
}

}  // namespace frontdoor::gateway
