// A feedback event as the BaRS message frontdoor POSTs to a referrer's own $process-message (BaRS
// "role reversal": the receiver answers by sending to the sender). A FHIR R4 message Bundle:
//  - id: the event's message id, BarsFeedbackMessageId(event id): the same on every resend, so the
//    referrer recognises a resend (and answers 409 REC_CONFLICT, which counts as delivered);
//  - entry[0] MessageHeader: eventCoding https://fhir.nhs.uk/CodeSystem/message-events-bars
//    `servicerequest-response`; reason `new`; destination = the referrer's endpoint; source = this
//    gateway; response.identifier = the referrer's own message id (the Bundle.id it referred with)
//    and response.code `ok`, as BaRS links a response to its request; focus = the Task; definition
//    bars-message-servicerequest-response-referral;
//  - entry[1] the Task, exactly as WatchFeedback carries it (feedback_messages.h).
//
//   std::string bundle = RenderBarsFeedbackMessage(context, report, "https://gp.example/FHIR/R4", "2025-...Z");
//
// Pure and thread-safe.
#ifndef FRONTDOOR_ADAPTERS_BARS_FEEDBACK_MESSAGE_H_
#define FRONTDOOR_ADAPTERS_BARS_FEEDBACK_MESSAGE_H_

#include <string>
#include <string_view>

#include "adapters/feedback_messages.h"
#include "frontdoor/v1/feedback_service.pb.h"

namespace frontdoor::adapters {

// The message id (a UUID) of the BaRS message for feedback event `event_id`.
std::string BarsFeedbackMessageId(std::string_view event_id);

std::string RenderBarsFeedbackMessage(const FeedbackMessageContext& context,
                                      const frontdoor::v1::ReportProgressRequest& report,
                                      std::string_view destination_endpoint, std::string_view timestamp_rfc3339);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_BARS_FEEDBACK_MESSAGE_H_
