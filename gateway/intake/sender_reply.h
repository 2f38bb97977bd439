// The reply in the sender's own format, attached to an answer: a FHIR R4 response message Bundle
// for a FHIR message, an HL7 v2 ACK for a REF^I12, nothing for a typed referral.
//
//   AttachSenderReply(parsed, now, &response);   // sets response.fhir_json or response.hl7v2_ack
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_INTAKE_SENDER_REPLY_H_
#define FRONTDOOR_GATEWAY_INTAKE_SENDER_REPLY_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "adapters/parsed_referral.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

// Sets response->fhir_json or response->hl7v2_ack to the reply the sender's system expects
// (nothing for typed referrals), each with fresh ids of its own.
void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now,
                       frontdoor::v1::SubmitReferralResponse* response);

// The enhanced-mode accept acknowledgment of an answer (adapters::RenderHl7v2AcceptAck), for an
// HL7 transport whose sender asked for it (MSH-15), with fresh ids of its own.
std::string Hl7v2AcceptAck(const adapters::ReplyContext& request, const frontdoor::v1::SubmitReferralResponse& response,
                           absl::Time now);

// An HL7 v2 NAK for a message a door could not hand in (adapters::RenderHl7v2Refusal), with fresh
// ids of its own: the refusal's words, AE when sending it again later may help, AR otherwise.
std::string Hl7v2Refusal(const adapters::ReplyContext& request, bool resend_may_help, std::string_view text,
                         absl::Time now);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_SENDER_REPLY_H_
