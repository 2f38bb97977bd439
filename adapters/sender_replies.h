// Replies in the sender's own format: a FHIR R4 response message Bundle for `fhir_json`
// requests, an HL7 v2 ACK for `hl7v2` requests (SubmitReferralResponse.fhir_json / .hl7v2_ack).
// Interface engines file or forward these as they are, so they must be valid in their format
// whatever the request held; the gateway's decision is already made when they are rendered.
//
//   ParsedReferral parsed = ParseHl7v2Referral(er7, Hl7Limits{});
//   ...decide, fill `response`...
//   response.set_hl7v2_ack(RenderHl7v2Ack(parsed.reply, response, NewControlId(), "20250225101501"));
//
// FHIR response Bundle (type `message`, id `response_bundle_id`, timestamp `timestamp_rfc3339`):
//  - entry[0] MessageHeader: eventCoding BaRS `servicerequest-request`; source = this gateway;
//    destination = the request's MessageHeader.source.endpoint (when known); response.identifier
//    = the request Bundle.id and response.code `ok` (ACCEPTED) or `fatal-error` (REJECTED,
//    REFUSED); focus = the entries below. `response` is left out when the request had no usable
//    Bundle.id (MessageHeader.response.identifier must be a FHIR id), as for an unreadable message.
//  - an OperationOutcome, always: one issue per response issue (severity error/warning/information;
//    code a FHIR issue-type: structure, not-supported, required, value, code-invalid,
//    business-rule, informational, processing; details.coding = our code in
//    https://frontdoor.example.org/CodeSystem/issue-code; diagnostics = the message; expression =
//    [path] when there is one), or a single `informational` issue when there are none.
//  - a Task when the referral was recorded (ACCEPTED or REFUSED, i.e. referral_id non-empty):
//    Task.identifier = referral_id in https://frontdoor.example.org/Id/referral-id (the id to
//    quote in GetReferral/CancelReferral), status `accepted` or `rejected` (`cancelled` when the
//    message withdrew the referral: an issue WITHDRAWN), intent `order`,
//    owner = the connector team (identifier in https://frontdoor.example.org/Id/connector-team)
//    when routed, businessStatus.text "duplicate" for a resend, statusReason.text = the routing
//    reason. Task is the FHIR resource for "a request being acted on by someone": BaRS answers
//    a referral with its status the same way.
// Entry fullUrls are `urn:uuid:` UUIDs derived deterministically from `response_bundle_id`.
//
// HL7 v2 ACK (segments separated by CR, delimiters |^~\&, text escaped with \F\ \S\ \T\ \R\ \E\):
//  - MSH: sending and receiving application/facility swapped from the request (this gateway's
//    own names when the request gave none), MSH-7 `timestamp_hl7`, MSH-9 ACK^I12^ACK, MSH-10
//    `control_id`, MSH-11 and MSH-12 echoed (else P and 2.5.1).
//  - MSA: MSA-1 AA when ACCEPTED; AR when REJECTED with MALFORMED or UNSUPPORTED_MESSAGE (resending
//    the same message cannot help); AE otherwise (other validation errors, REFUSED). MSA-2 = the
//    request's MSH-10. (This is the gRPC answer's hl7v2_ack whatever MSH-15 says: gRPC is not an HL7
//    transport. Over MLLP a request whose MSH-15 asks for enhanced mode gets the accept ACK below.)
//  - ERR per issue: ERR-2 the location when the path is an HL7 position (`PID-7`, `DG1[2]-3.1`),
//    ERR-3 HL7 table 0357 (101 required field missing, 102 data type error, 103 table value not
//    found, 200 unsupported message type, 207 application error for business rules), ERR-4 E/W/I,
//    ERR-5 our code (`IG-1^^L`), ERR-8 the message.
//
// Pure, thread-safe, never fail: invalid UTF-8 in any input is replaced by U+FFFD so the output
// stays valid JSON / UTF-8.
#ifndef FRONTDOOR_ADAPTERS_SENDER_REPLIES_H_
#define FRONTDOOR_ADAPTERS_SENDER_REPLIES_H_

#include <string>
#include <string_view>

#include "adapters/fhir_outcome_issues.h"  // kIssueCodeSystem
#include "adapters/parsed_referral.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

inline constexpr char kReferralIdSystem[] = "https://frontdoor.example.org/Id/referral-id";
inline constexpr char kConnectorTeamSystem[] = "https://frontdoor.example.org/Id/connector-team";

// A FHIR R4 response message Bundle as JSON (see above).
std::string RenderFhirResponse(const ReplyContext& request, const frontdoor::v1::SubmitReferralResponse& response,
                               std::string_view response_bundle_id, std::string_view timestamp_rfc3339);

// An HL7 v2.5.1 ACK^I12 in ER7 (see above). `timestamp_hl7` is a DTM such as 20250225101501.
std::string RenderHl7v2Ack(const ReplyContext& request, const frontdoor::v1::SubmitReferralResponse& response,
                           std::string_view control_id, std::string_view timestamp_hl7);

// True when the request's MSH-15 (AL, ER, SU) asks for enhanced-mode acknowledgment.
bool WantsAcceptAck(const ReplyContext& request);

// The enhanced-mode accept acknowledgment, for a transport that carries HL7 v2 (MLLP): MSA-1 CA
// when the message was committed to the gateway's store (accepted or refused: referral_id set),
// CR when it was not taken and sending it again cannot help (rejected); the same MSH and ERR
// segments as RenderHl7v2Ack, so the decision and its findings still travel.
std::string RenderHl7v2AcceptAck(const ReplyContext& request, const frontdoor::v1::SubmitReferralResponse& response,
                                 std::string_view control_id, std::string_view timestamp_hl7);

// A NAK for a message the gateway did not take at all (the caller may not send it, the gateway is
// busy): MSA AE when sending it again later may help, AR when it cannot (CE/CR when the request
// asks for enhanced mode),
// and one ERR 207 with `text`.
std::string RenderHl7v2Refusal(const ReplyContext& request, bool resend_may_help, std::string_view text,
                               std::string_view control_id, std::string_view timestamp_hl7);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_SENDER_REPLIES_H_
