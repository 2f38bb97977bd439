// The report facts of a referral (frontdoor.internal.ReportFacts): what both stores write in
// report_facts when they record a referral, and fold each recorded feedback event into, so that
// an outcome report reads one narrow row per referral (gateway/store/report_reads.h).
//
//   frontdoor::internal::ReportFacts facts = FactsOfReferral(r.sender_ods, r.referral.self_referral(), r.decision);
//   AddFeedbackToFacts(event, received_at, &facts);   // in the transaction recording the event
//   absl::StatusOr<std::string> stored_again = FactsWithFeedback(stored, event, received_at);
#ifndef FRONTDOOR_GATEWAY_STORE_REPORT_FACT_ROWS_H_
#define FRONTDOOR_GATEWAY_STORE_REPORT_FACT_ROWS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/internal/report_facts.pb.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

// The facts of a decided referral before any feedback: its disposition, the rules that refused it
// (errors only: a warning decided nothing), where it was routed and who sent it.
frontdoor::internal::ReportFacts FactsOfReferral(std::string_view sender_ods, bool self_referral,
                                                 const frontdoor::v1::SubmitReferralResponse& decision);

// Folds one feedback event into `facts`: the first time of each status (a time that does not
// parse, or is before `received_at`, is the connector's clock's error and counts as received_at),
// the activity names connected to, each once, and the outcome measures reported at closure.
void AddFeedbackToFacts(const frontdoor::v1::ReportProgressRequest& event, absl::Time received_at,
                        frontdoor::internal::ReportFacts* facts);

// Stored facts (their bytes) with one more feedback event folded in, as bytes to store again.
// INTERNAL when the stored bytes are not ReportFacts.
absl::StatusOr<std::string> FactsWithFeedback(std::string_view stored,
                                              const frontdoor::v1::ReportProgressRequest& event,
                                              absl::Time received_at);

// The facts of a referral recorded before the stores kept them (the migration that adds them),
// from the bytes the store holds: its decision, its referral and its feedback events in the order
// they were recorded. DATA_LOSS naming the referral when any of them does not parse.
absl::StatusOr<frontdoor::internal::ReportFacts> FactsOfRecordedReferral(
    const std::string& referral_id, std::string_view sender_ods, absl::Time received_at, std::string_view decision,
    std::string_view referral, const std::vector<std::string>& feedback_events);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_REPORT_FACT_ROWS_H_
