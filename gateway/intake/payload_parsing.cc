#include "gateway/intake/payload_parsing.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/referral_validation.h"
#include "common/time_text.h"
#include "common/utf8.h"
#include "common/uuid.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

adapters::ParsedReferral ParseTyped(const v1::Referral& referral) {
  adapters::ParsedReferral parsed;
  parsed.format = adapters::MessageFormat::kTyped;
  parsed.referral = referral;
  parsed.paths = adapters::TypedReferralPaths(parsed.referral);
  return parsed;
}

// FHIR JSON or HL7 v2 ER7 as received, which may not be UTF-8. Never an error status; the StatusOr
// is ParseSubmission's, built here so the parsed message is moved once on its way out, not twice.
absl::StatusOr<adapters::ParsedReferral> ParseText(adapters::MessageFormat format, std::string_view bytes,
                                                   const InboundLimits& limits) {
  adapters::FhirLimits fhir_limits;
  fhir_limits.max_bytes = limits.max_message_bytes;
  if (format == adapters::MessageFormat::kFhir) {
    // ParseFhirReferral split in two around the UTF-8 pass: what the fast path accepts it has
    // checked to be UTF-8 in full, so the pass below would find nothing (a pass saved per referral).
    if (std::optional<adapters::ParsedReferral> parsed = adapters::ParseFhirReferralWithSimdjson(bytes, fhir_limits)) {
      return std::move(*parsed);
    }
  }
  const std::optional<size_t> bad = FirstInvalidUtf8Offset(bytes);
  std::string repaired;
  std::string_view text = bytes;
  if (bad.has_value()) {
    repaired = ToValidUtf8(bytes);
    text = repaired;
  }
  adapters::ParsedReferral parsed;
  if (format == adapters::MessageFormat::kFhir) {
    // The fast path declined these bytes; ParseFhirReferral's answer is the RapidJSON reader's.
    parsed = adapters::ParseFhirReferralWithRapidJson(text, fhir_limits);
  } else {
    adapters::Hl7Limits hl7_limits;
    hl7_limits.max_bytes = limits.max_message_bytes;
    parsed = adapters::ParseHl7v2Referral(text, hl7_limits);
  }
  if (bad.has_value()) {
    v1::Issue issue;
    issue.set_code(adapters::kMalformed);
    issue.set_severity(v1::Issue::ERROR);
    issue.set_message(absl::StrCat("the message is not valid UTF-8 (first invalid byte at offset ", *bad,
                                   "); send it encoded as UTF-8"));
    parsed.issues.insert(parsed.issues.begin(), std::move(issue));
  }
  return parsed;
}

absl::StatusOr<adapters::ParsedReferral> CheckTypedSize(const v1::Referral& referral, const InboundLimits& limits) {
  if (referral.ByteSizeLong() > limits.max_message_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the referral is larger than the limit of ", limits.max_message_bytes, " bytes"));
  }
  return ParseTyped(referral);
}

constexpr char kNoPayload[] = "the request has no payload: set one of referral, fhir_json, hl7v2";

}  // namespace

absl::StatusOr<SubmissionPayload> PayloadFrom(frontdoor::internal::SubmitReferralRequestWire request) {
  using Wire = frontdoor::internal::SubmitReferralRequestWire;
  SubmissionPayload payload;
  switch (request.payload_case()) {
    case Wire::kReferral:
      payload.format = adapters::MessageFormat::kTyped;
      payload.typed = std::move(*request.mutable_referral());
      return payload;
    case Wire::kFhirJson:
      payload.format = adapters::MessageFormat::kFhir;
      payload.text = std::move(*request.mutable_fhir_json());
      return payload;
    case Wire::kHl7V2:
      payload.format = adapters::MessageFormat::kHl7v2;
      payload.text = std::move(*request.mutable_hl7v2());
      return payload;
    case Wire::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(kNoPayload);
}

absl::StatusOr<SubmissionPayload> PayloadFrom(const v1::SubmitReferralRequest& request) {
  SubmissionPayload payload;
  switch (request.payload_case()) {
    case v1::SubmitReferralRequest::kReferral:
      payload.format = adapters::MessageFormat::kTyped;
      payload.typed = request.referral();
      return payload;
    case v1::SubmitReferralRequest::kFhirJson:
      payload.format = adapters::MessageFormat::kFhir;
      payload.text = request.fhir_json();
      return payload;
    case v1::SubmitReferralRequest::kHl7V2:
      payload.format = adapters::MessageFormat::kHl7v2;
      payload.text = request.hl7v2();
      return payload;
    case v1::SubmitReferralRequest::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(kNoPayload);
}

absl::StatusOr<adapters::ParsedReferral> ParsePayload(const SubmissionPayload& payload, const InboundLimits& limits) {
  if (payload.format == adapters::MessageFormat::kTyped) {
    absl::StatusOr<adapters::ParsedReferral> parsed = CheckTypedSize(payload.typed, limits);
    if (parsed.ok() && payload.repeated_field.has_value()) {
      // Bytes that carried a field twice were merged by the protobuf parser (two persons into one):
      // not a readable referral.
      v1::Issue issue;
      issue.set_code(adapters::kInvalidValue);
      issue.set_severity(v1::Issue::ERROR);
      issue.set_path(*payload.repeated_field);
      issue.set_message(
          "this field occurs more than once in the message; a referral is about one person, each of its data given "
          "once");
      parsed->issues.insert(parsed->issues.begin(), std::move(issue));
    }
    return parsed;
  }
  return ParseText(payload.format, payload.text, limits);
}

}  // namespace frontdoor::gateway
