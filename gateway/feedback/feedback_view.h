// How a stored feedback event looks to its referrer (frontdoor.v1.FeedbackEvent): the typed
// fields, plus the event in the referrer's own format (a FHIR R4 Task for FHIR referrers, an HL7 v2
// RRI^I12 for HL7 v2 referrers; adapters/feedback_messages.h), and the cursor to resume after it.
//
//   v1::FeedbackEvent event = FeedbackEventFor(stored);
//   absl::StatusOr<int64_t> after = DecodeFeedbackCursor(request.cursor());   // "" -> 0
//
// Cursors are opaque to clients; they encode the gateway-wide feedback sequence number, so a
// stream resumed from the last cursor it delivered continues with exactly the next event.
// Pure and thread-safe.
#ifndef FRONTDOOR_GATEWAY_FEEDBACK_FEEDBACK_VIEW_H_
#define FRONTDOOR_GATEWAY_FEEDBACK_FEEDBACK_VIEW_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/feedback_messages.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/delivery_outbox.h"
#include "gateway/store/feedback_log.h"

namespace frontdoor::gateway {

std::string EncodeFeedbackCursor(int64_t seq);
// The sequence number a cursor encodes (0 for the empty cursor: from the beginning), or
// INVALID_ARGUMENT for anything this gateway did not hand out.
absl::StatusOr<int64_t> DecodeFeedbackCursor(const std::string& cursor);

// The event id ReportProgress answers with (the sequence number in decimal).
std::string FeedbackEventId(int64_t seq);

frontdoor::v1::FeedbackEvent FeedbackEventFor(const StoredFeedback& stored);

// The feedback event a kFeedback outbox row stands for (its request is the event's seq), read from
// `feedback`: INVALID_ARGUMENT for a row that names no event and NOT_FOUND for an event the store
// does not have (neither can be sent, ever), or the store's error (it may be sent later).
absl::StatusOr<StoredFeedback> FeedbackEventOfRow(FeedbackLog& feedback, const OutboxItem& row);

// What rendering the event in the referrer's format needs (the same on every rendering).
adapters::FeedbackMessageContext FeedbackMessageContextFor(const StoredFeedback& stored);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_FEEDBACK_FEEDBACK_VIEW_H_
