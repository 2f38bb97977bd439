// PostgresStore's reads for outcome reports (gateway/store/report_reads.h).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status_macros.h"
#include "frontdoor/v1/referral.pb.h"
#include "gateway/store/postgres/postgres_connection.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway {

using pg::Lease;
using pg::Params;
using pg::Result;
using store_rows::FromMicros;
using store_rows::ToMicros;

absl::StatusOr<std::vector<ReportRow>> PostgresStore::ReferralsReceived(absl::Time from, absl::Time to) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  const Params range = Params().Int(ToMicros(from)).Int(ToMicros(to));
  FRONTDOOR_ASSIGN_OR_RETURN(Result referrals,
                             c->Exec("SELECT referral_id, received_us, sender_ods, decision, referral FROM referrals"
                                     " WHERE received_us >= $1 AND received_us < $2 ORDER BY received_us, referral_id",
                                     range, "read referrals for a report"));
  std::vector<ReportRow> rows;
  rows.reserve(referrals.rows());
  std::map<std::string, size_t> index;  // referral_id -> rows
  for (int i = 0; i < referrals.rows(); ++i) {
    ReportRow row;
    row.received_at = FromMicros(referrals.Int(i, 1));
    row.sender_ods = referrals.Text(i, 2);
    if (!row.decision.ParseFromString(referrals.Bytes(i, 3))) {
      return absl::InternalError("a stored decision does not parse");
    }
    frontdoor::v1::Referral referral;
    if (!referral.ParseFromString(referrals.Bytes(i, 4)))
      return absl::InternalError("a stored referral does not parse");
    row.self_referral = referral.self_referral();
    index.emplace(referrals.Text(i, 0), rows.size());
    rows.push_back(std::move(row));
  }
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result feedback,
      c->Exec("SELECT f.referral_id, f.report FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id"
              " WHERE r.received_us >= $1 AND r.received_us < $2 ORDER BY f.seq",
              range, "read feedback for a report"));
  for (int i = 0; i < feedback.rows(); ++i) {
    auto it = index.find(feedback.Text(i, 0));
    if (it == index.end()) continue;
    frontdoor::v1::ReportProgressRequest report;
    if (!report.ParseFromString(feedback.Bytes(i, 1))) {
      return absl::InternalError("a stored progress report does not parse");
    }
    rows[it->second].feedback.push_back(std::move(report));
  }
  return rows;
}

}  // namespace frontdoor::gateway
