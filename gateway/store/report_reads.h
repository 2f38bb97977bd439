// ReportReads: what outcome reports read from the store: the report facts of every recorded
// referral received in a range (one narrow row each, kept at commit time: report_fact_rows.h), and
// of every rejected message, for reporting/ to count (gateway/reports/). The facts keep no
// identifier.
//
//   FRONTDOOR_RETURN_IF_ERROR(store->ForEachReferralReceived(from, to, [&](const ReportRow& row) { ... }));
#ifndef FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_
#define FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/internal/report_facts.pb.h"

namespace frontdoor::gateway {

struct ReportRow {
  absl::Time received_at;
  // A serialized frontdoor.internal.ReportFacts, with every feedback event recorded so far. Left
  // as bytes for the report to parse where it counts: on a large report the thread that reads the
  // store is the busier one (gateway/reports/report_row_pipeline.h).
  std::string facts;

  // The facts, parsed into `out`; false when the bytes are not ReportFacts.
  bool ParseFacts(frontdoor::internal::ReportFacts* out) const { return out->ParseFromString(facts); }
};

class ReportReads {
 public:
  virtual ~ReportReads() = default;

  // Calls `each` with the facts of every recorded referral received in [from, to), oldest first,
  // as they are read (a year of a large network is a million rows: none is kept). The row is valid
  // only during the call. (A REJECTED message is not recorded: it has no referral.)
  virtual absl::Status ForEachReferralReceived(absl::Time from, absl::Time to,
                                               const std::function<void(const ReportRow&)>& each) = 0;

  // What reports count of a rejected message (it has no referral, and nothing else of it is
  // recorded): `facts` (FactsOfReferral of its REJECTED answer) under `key`, "rejected:" and a
  // fresh id. Ordinary durability; nobody waits for it.
  virtual absl::Status RecordRejection(absl::Time received_at, const std::string& key,
                                       const frontdoor::internal::ReportFacts& facts) = 0;

  // The same rows, collected.
  absl::StatusOr<std::vector<ReportRow>> ReferralsReceived(absl::Time from, absl::Time to) {
    std::vector<ReportRow> rows;
    absl::Status s = ForEachReferralReceived(from, to, [&rows](const ReportRow& row) { rows.push_back(row); });
    if (!s.ok()) return s;
    return rows;
  }
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_
