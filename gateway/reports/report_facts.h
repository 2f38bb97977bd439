// What a stored referral tells an outcome report: ReportRow (the store's) -> ReferralFacts
// (reporting/referral_facts.h), with the network's words for where it came from (the borough of
// its cluster, or of its front-door team; its source: a GP practice, a self-referral, or the kind
// of referrer referrers.csv says). Identifiers stop here: the facts hold none.
//
//   reporting::ReferralFacts f = ReportFactsOf(row, network);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_
#define FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_

#include "gateway/store/report_reads.h"
#include "network/network_directory.h"
#include "reporting/referral_facts.h"

namespace frontdoor::gateway {

reporting::ReferralFacts ReportFactsOf(const ReportRow& row, const network::NetworkDirectory& network);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REPORTS_REPORT_FACTS_H_
