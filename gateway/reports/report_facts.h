// What a stored referral tells an outcome report: a ReportRow (the store's report facts) ->
// ReferralFacts (reporting/referral_facts.h), with the network's words for where it came from (the
// borough of its cluster, or of its front-door team; its source: a GP practice, a self-referral,
// or the kind of referrer referrers.csv says). Identifiers stop here: the facts hold none.
//
//   ReportFactsReader reader(network, request);
//   FRONTDOOR_ASSIGN_OR_RETURN(const reporting::ReferralFacts* f, reader.FactsOf(row));
//   FRONTDOOR_RETURN_IF_ERROR(builder->Add(*f));
//
// A report reads up to a million rows, and a network has a few dozen clusters and a few hundred
// referrers: each borough and source is looked up once per reader and remembered. The facts'
// strings are views of the row's and of the reader's: valid while both are (a report counts each
// row's facts before the next row is read). Thread-compatible: one reader per report.
#ifndef FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_
#define FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_

#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "gateway/store/report_reads.h"
#include "network/network_directory.h"
#include "reporting/referral_facts.h"

namespace frontdoor::gateway {

class ReportFactsReader {
 public:
  // The borough and the source are looked up only when `request` counts or filters by them.
  ReportFactsReader(const network::NetworkDirectory& network, const frontdoor::v1::ReportRequest& request);

  // The row's facts, valid until the next call: one object filled again and again, so that its
  // lists keep their memory. INTERNAL when the row's bytes are not ReportFacts.
  absl::StatusOr<const reporting::ReferralFacts*> FactsOf(const ReportRow& row);
  // The same of facts already parsed; its strings are views of `stored`'s.
  const reporting::ReferralFacts& FactsOf(absl::Time received_at, const frontdoor::internal::ReportFacts& stored);

 private:
  const std::string& BoroughOf(const frontdoor::internal::ReportFacts& f);
  const std::string& SourceOf(const frontdoor::internal::ReportFacts& f);

  const network::NetworkDirectory& network_;
  const bool needs_borough_;
  const bool needs_source_;
  const std::string self_referral_ = reporting::kSourceSelfReferral;
  std::string key_;  // the borough cache's key, reused
  // Node maps: the strings returned stay where they are when the maps grow.
  absl::node_hash_map<std::string, std::string> borough_;  // cluster_id '\n' team_id -> borough
  absl::node_hash_map<std::string, std::string> source_;   // sender_ods -> source kind
  frontdoor::internal::ReportFacts stored_;
  reporting::ReferralFacts facts_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_
