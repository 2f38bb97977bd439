// SqliteStore's reads for outcome reports (gateway/store/report_reads.h).
#include <sqlite3.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "frontdoor/v1/referral.pb.h"
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

absl::StatusOr<std::vector<ReportRow>> SqliteStore::ReferralsReceived(absl::Time from, absl::Time to) {
  // Its own connection (WAL: it reads a snapshot beside the writer and the shared reader), closed
  // when the report is read: a year of a large store takes seconds, and nothing else waits for it.
  absl::StatusOr<sqlite3*> opened = sqlite::OpenConnection(path_, SQLITE_OPEN_READONLY);
  if (!opened.ok()) return opened.status();
  sqlite3* const db = *opened;
  absl::Cleanup close = [db] { sqlite::CloseConnection(db); };
  std::function<void()> hook;
  {
    absl::MutexLock lock(&report_mu_);
    hook = during_report_hook_;
  }
  std::vector<ReportRow> rows;
  std::map<std::string, size_t> index;  // referral_id -> rows
  {
    Statement st(db,
                 "SELECT referral_id, received_us, sender_ods, decision, referral FROM referrals"
                 " WHERE received_us >= ?1 AND received_us < ?2 ORDER BY received_us, referral_id");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    st.Bind(1, ToMicros(from));
    st.Bind(2, ToMicros(to));
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      ReportRow row;
      row.received_at = FromMicros(st.Int(1));
      row.sender_ods = st.Text(2);
      if (!row.decision.ParseFromString(st.Blob(3))) return absl::InternalError("a stored decision does not parse");
      frontdoor::v1::Referral referral;
      if (!referral.ParseFromString(st.Blob(4))) return absl::InternalError("a stored referral does not parse");
      row.self_referral = referral.self_referral();
      index.emplace(st.Text(0), rows.size());
      rows.push_back(std::move(row));
      if (rows.size() == 1 && hook) hook();
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "read referrals for a report");
  }
  Statement st(db,
               "SELECT f.referral_id, f.report FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id"
               " WHERE r.received_us >= ?1 AND r.received_us < ?2 ORDER BY f.seq");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(from));
  st.Bind(2, ToMicros(to));
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    auto it = index.find(st.Text(0));
    if (it == index.end()) continue;
    frontdoor::v1::ReportProgressRequest report;
    if (!report.ParseFromString(st.Blob(1))) return absl::InternalError("a stored progress report does not parse");
    rows[it->second].feedback.push_back(std::move(report));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "read feedback for a report");
  return rows;
}

}  // namespace frontdoor::gateway
