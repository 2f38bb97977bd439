// The rules a connector's progress report (FeedbackService.ReportProgress) must keep, as pure
// functions so that they are unit-tested without a store or a network.
//
//   FRONTDOOR_RETURN_IF_ERROR(CheckProgressReport(request, clock.Now()));        // the report alone
//   ... then, in the recording transaction, with the referral and its history:
//   absl::StatusOr<std::optional<int64_t>> d = CheckProgressTransition(request, referral, history);
//
// The report alone (CheckProgressReport; INVALID_ARGUMENT, naming the field, never quoting text):
//  - referral_id 1..64 characters; idempotency_key 1..128 printable ASCII characters;
//  - status one of the ProgressStatus values other than UNSPECIFIED;
//  - occurred_at RFC 3339 with a time zone, not in the future (5 minutes' clock skew allowed);
//  - CONNECTED names at least one activity or service in connected_to (each 1..200 characters,
//    at most 50); DECLINED and CLOSED give a reason (1..1000 characters);
//  - outcome measures (at most 10, one per instrument) use a known instrument with scores in its
//    range: ONS4 items ONS4-SATISFACTION, ONS4-WORTHWHILE, ONS4-HAPPINESS, ONS4-ANXIETY are whole
//    numbers 0..10; ONS4 alone (the mean of the four) is 0..10; SWEMWBS (metric score) 7..35;
//    WEMWBS 14..70. start_score and end_score are both required;
//  - what_matters at most 2000 characters; every text valid UTF-8.
// Against the referral and what was reported before (CheckProgressTransition):
//  - FAILED_PRECONDITION unless the referral was ACCEPTED and DELIVERED to the connector (nothing
//    to report on a refused, pending or dead-lettered referral), and for an occurred_at before the
//    referral was received;
//  - nothing after CLOSED, except the same report again (returned as that event: recorded once);
//  - after DECLINED only CLOSED; UNABLE_TO_CONTACT not once a conversation was held; otherwise the
//    steps RECEIVED < CONTACTED/UNABLE_TO_CONTACT < FIRST_CONVERSATION_HELD < CONNECTED never go
//    back (repeating a step is fine: a second CONNECTED names more activities).
#ifndef FRONTDOOR_GATEWAY_FEEDBACK_PROGRESS_REPORT_RULES_H_
#define FRONTDOOR_GATEWAY_FEEDBACK_PROGRESS_REPORT_RULES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/feedback_log.h"

namespace frontdoor::gateway {

// OK, or INVALID_ARGUMENT saying which field breaks which rule.
absl::Status CheckProgressReport(const frontdoor::v1::ReportProgressRequest& report, absl::Time now);

// nullopt: record it; a seq: it repeats that earlier event (recorded once); FAILED_PRECONDITION
// when the referral's state or history does not allow it.
absl::StatusOr<std::optional<int64_t>> CheckProgressTransition(const frontdoor::v1::ReportProgressRequest& report,
                                                               const StoredReferral& referral,
                                                               const std::vector<StoredFeedback>& history);

// The parsed occurred_at of a report that passed CheckProgressReport.
absl::StatusOr<absl::Time> ParseOccurredAt(const std::string& text);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_FEEDBACK_PROGRESS_REPORT_RULES_H_
