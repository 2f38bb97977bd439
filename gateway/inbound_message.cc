#include "gateway/inbound_message.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/referral_validation.h"
#include "adapters/sender_replies.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

absl::StatusOr<adapters::ParsedReferral> ParseSubmission(const v1::SubmitReferralRequest& request,
                                                         const InboundLimits& limits) {
  adapters::ParsedReferral parsed;
  switch (request.payload_case()) {
    case v1::SubmitReferralRequest::kReferral:
      if (request.referral().ByteSizeLong() > limits.max_message_bytes) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the referral is larger than the limit of ", limits.max_message_bytes, " bytes"));
      }
      parsed.format = adapters::MessageFormat::kTyped;
      parsed.referral = request.referral();
      parsed.paths = adapters::TypedReferralPaths(parsed.referral);
      return parsed;
    case v1::SubmitReferralRequest::kFhirJson: {
      adapters::FhirLimits fhir_limits;
      fhir_limits.max_bytes = limits.max_message_bytes;
      return adapters::ParseFhirReferral(request.fhir_json(), fhir_limits);
    }
    case v1::SubmitReferralRequest::kHl7V2: {
      adapters::Hl7Limits hl7_limits;
      hl7_limits.max_bytes = limits.max_message_bytes;
      return adapters::ParseHl7v2Referral(request.hl7v2(), hl7_limits);
    }
    case v1::SubmitReferralRequest::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the request has no payload: set one of referral, fhir_json, hl7v2");
}

void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now, v1::SubmitReferralResponse* response) {
  switch (parsed.format) {
    case adapters::MessageFormat::kTyped:
      return;
    case adapters::MessageFormat::kFhir:
      response->set_fhir_json(adapters::RenderFhirResponse(parsed.reply, *response, NewReferralId(), FormatRfc3339(now)));
      return;
    case adapters::MessageFormat::kHl7v2: {
      // MSH-10 of the ACK: unique per reply, within HL7's 20-character ST limit.
      std::string control_id = NewReferralId();
      control_id.erase(std::remove(control_id.begin(), control_id.end(), '-'), control_id.end());
      control_id.resize(20);
      response->set_hl7v2_ack(adapters::RenderHl7v2Ack(
          parsed.reply, *response, control_id, absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone())));
      return;
    }
  }
}

std::string NewReferralId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // OpenSSL's CSPRNG failing is not recoverable for id generation; fall back is worse than abort.
    std::fprintf(stderr, "fatal: RAND_bytes failed\n");
    std::abort();
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string FormatRfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

}  // namespace frontdoor::gateway
