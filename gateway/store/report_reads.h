// ReportReads: what outcome reports read from the store: every recorded referral received in a
// range, with its decision and its feedback, for reporting/ to count (gateway/reports/). Nothing
// here leaves the gateway as it is: the reports' facts keep no identifier (reporting/referral_facts.h).
//
//   absl::StatusOr<std::vector<ReportRow>> rows = store->ReferralsReceived(from, to);
#ifndef FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_
#define FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

struct ReportRow {
  absl::Time received_at;
  std::string sender_ods;
  frontdoor::v1::SubmitReferralResponse decision;
  bool self_referral = false;
  std::vector<frontdoor::v1::ReportProgressRequest> feedback;  // in the order it was recorded
};

class ReportReads {
 public:
  virtual ~ReportReads() = default;

  // Every recorded referral received in [from, to), oldest first, with its feedback. (A REJECTED
  // message is not recorded: it has no referral.)
  virtual absl::StatusOr<std::vector<ReportRow>> ReferralsReceived(absl::Time from, absl::Time to) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_REPORT_READS_H_
