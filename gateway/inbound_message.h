// The gateway's side of the adapters: picks the adapter for a SubmitReferralRequest's payload, and
// renders the answer in the format the sender used (FHIR response Bundle, HL7 v2 ACK).
//
//   absl::StatusOr<adapters::ParsedReferral> parsed = ParseSubmission(request, limits);
//   ...
//   AttachSenderReply(*parsed, now, &response);
#ifndef FRONTDOOR_GATEWAY_INBOUND_MESSAGE_H_
#define FRONTDOOR_GATEWAY_INBOUND_MESSAGE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "adapters/parsed_referral.h"
#include "frontdoor/internal/submit_wire.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

struct InboundLimits {
  size_t max_message_bytes = 1 << 20;  // PROFILE.md: 1 MiB
};

// Returns the parsed message (format problems are issues inside it, answered REJECTED; a FHIR or
// HL7 payload that is not UTF-8 is MALFORMED, its reply built from a U+FFFD-repaired copy so it is
// valid itself), or INVALID_ARGUMENT when the request has no payload, RESOURCE_EXHAUSTED when a
// typed referral exceeds the limits (the adapters reject oversized text payloads as MALFORMED).
absl::StatusOr<adapters::ParsedReferral> ParseSubmission(const frontdoor::internal::SubmitReferralRequestWire& request,
                                                         const InboundLimits& limits);
// The same for a request already parsed as the public message (in-process callers, tools).
absl::StatusOr<adapters::ParsedReferral> ParseSubmission(const frontdoor::v1::SubmitReferralRequest& request,
                                                         const InboundLimits& limits);

// Sets response->fhir_json or response->hl7v2_ack to the reply the sender's system expects
// (nothing for typed referrals).
void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now,
                       frontdoor::v1::SubmitReferralResponse* response);

// A new referral id: a UUID version 7 (RFC 9562), the Unix time in milliseconds then 74 bits from
// OpenSSL's CSPRNG. Ids made later sort after earlier ones (to the millisecond), so the store's
// indexes keyed by referral id grow at their right-hand end instead of dirtying a random page per
// referral; the random bits keep ids unguessable.
std::string NewReferralId();

// RFC 3339 in UTC, seconds precision.
std::string FormatRfc3339(absl::Time t);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INBOUND_MESSAGE_H_
