// A submitted message, as a door hands it to the intake, read by the adapter of its format. The
// doors differ in how a message arrives (a gRPC request's payload, an HTTP body, an MLLP frame);
// from here on it is one SubmissionPayload.
//
//   absl::StatusOr<SubmissionPayload> payload = PayloadFrom(std::move(wire_request));   // gRPC
//   SubmissionPayload payload{adapters::MessageFormat::kFhir, std::move(body)};          // HTTP
//   absl::StatusOr<adapters::ParsedReferral> parsed = ParsePayload(*payload, limits);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_INTAKE_PAYLOAD_PARSING_H_
#define FRONTDOOR_GATEWAY_INTAKE_PAYLOAD_PARSING_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "adapters/parsed_referral.h"
#include "frontdoor/internal/submit_wire.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

struct InboundLimits {
  size_t max_message_bytes = 1 << 20;  // PROFILE.md: 1 MiB
};

// One submitted message.
struct SubmissionPayload {
  adapters::MessageFormat format = adapters::MessageFormat::kTyped;
  std::string text;               // kFhir, kHl7v2: the bytes as received (not yet known to be UTF-8)
  frontdoor::v1::Referral typed;  // kTyped
  // kTyped: the first field its wire bytes carried more than once (gateway/intake/wire_fields.h),
  // which the protobuf parser merged: the message is then not a readable referral.
  std::optional<std::string> repeated_field;
};

// The payload of a gRPC request as the gateway reads it (its wire mirror, so a text payload that
// is not UTF-8 still reaches the adapter), or of an in-process request. INVALID_ARGUMENT when the
// request has no payload.
absl::StatusOr<SubmissionPayload> PayloadFrom(frontdoor::internal::SubmitReferralRequestWire request);
absl::StatusOr<SubmissionPayload> PayloadFrom(const frontdoor::v1::SubmitReferralRequest& request);

// Returns the parsed message (format problems are issues inside it, answered REJECTED; a FHIR or
// HL7 payload that is not UTF-8 is MALFORMED, its reply built from a U+FFFD-repaired copy so it is
// valid itself), or RESOURCE_EXHAUSTED when a typed referral exceeds the limits (the adapters
// reject oversized text payloads as MALFORMED).
absl::StatusOr<adapters::ParsedReferral> ParsePayload(const SubmissionPayload& payload, const InboundLimits& limits);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_PAYLOAD_PARSING_H_
