// SqliteStore's report facts (gateway/store/report_reads.h, report_fact_rows.h): folding feedback
// into them, and reading them for outcome reports.
#include <sqlite3.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/sqlite/sqlite_statements.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway {

using sqlite::SqliteError;
using sqlite::Statement;
using store_rows::FromMicros;
using store_rows::ToMicros;

void SqliteStore::SetDuringReportHookForTest(std::function<void()> hook) {
  absl::MutexLock lock(&report_mu_);
  during_report_hook_ = std::move(hook);
}

absl::Status SqliteStore::AddToReportFacts(sqlite3* db, const StoredReferral& referral,
                                           const frontdoor::v1::ReportProgressRequest& event) {
  Statement read(db, "SELECT facts FROM report_facts WHERE received_us = ?1 AND referral_id = ?2");
  FRONTDOOR_RETURN_IF_ERROR(read.status());
  read.Bind(1, ToMicros(referral.received_at));
  read.Bind(2, referral.referral_id);
  const int rc = read.Step();
  if (rc == SQLITE_DONE) return absl::InternalError("the referral has no report facts");
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read report facts");
  FRONTDOOR_ASSIGN_OR_RETURN(const std::string facts, FactsWithFeedback(read.BlobView(0), event, referral.received_at));
  Statement write(db, "UPDATE report_facts SET facts = ?3 WHERE received_us = ?1 AND referral_id = ?2");
  FRONTDOOR_RETURN_IF_ERROR(write.status());
  write.Bind(1, ToMicros(referral.received_at));
  write.Bind(2, referral.referral_id);
  write.BindBlob(3, facts);
  if (int w = write.Step(); w != SQLITE_DONE) return SqliteError(db, w, "update report facts");
  return absl::OkStatus();
}

absl::Status SqliteStore::RecordRejection(absl::Time received_at, const std::string& key,
                                          const frontdoor::internal::ReportFacts& facts) {
  // Rides on the next commit of referrals, as acknowledgements do: no fsync of its own under load.
  SharedWrite write;
  const std::string bytes = facts.SerializeAsString();
  write.apply = [&](sqlite3* db) -> absl::Status {
    Statement insert(db, "INSERT INTO report_facts (received_us, referral_id, facts) VALUES (?1, ?2, ?3)");
    FRONTDOOR_RETURN_IF_ERROR(insert.status());
    insert.Bind(1, ToMicros(received_at));
    insert.Bind(2, key);
    insert.BindBlob(3, bytes);
    if (int rc = insert.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "record a rejection");
    return absl::OkStatus();
  };
  return WriteShared(&write);
}

absl::Status SqliteStore::ForEachReferralReceived(absl::Time from, absl::Time to,
                                                  const std::function<void(const ReportRow&)>& each) {
  // Its own connection (WAL: it reads a snapshot beside the writer and the shared reader), closed
  // when the report is read: a year of a large store is a million rows, and nothing else waits for it.
  absl::StatusOr<sqlite3*> opened = sqlite::OpenConnection(path_, SQLITE_OPEN_READONLY);
  if (!opened.ok()) return opened.status();
  sqlite3* const db = *opened;
  absl::Cleanup close = [db] { sqlite::CloseConnection(db); };
  std::function<void()> hook;
  {
    absl::MutexLock lock(&report_mu_);
    hook = during_report_hook_;
  }
  Statement st(db,
               "SELECT received_us, facts FROM report_facts"
               " WHERE received_us >= ?1 AND received_us < ?2 ORDER BY received_us, referral_id");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(from));
  st.Bind(2, ToMicros(to));
  ReportRow row;  // filled again and again: its string keeps its memory
  bool first = true;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    row.received_at = FromMicros(st.Int(0));
    row.facts.assign(st.BlobView(1));
    each(row);
    if (first && hook) hook();
    first = false;
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "read report facts");
  return absl::OkStatus();
}

}  // namespace frontdoor::gateway
