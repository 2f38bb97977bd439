#include "gateway/inbound_message.h"

#include <openssl/rand.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "adapters/referral_validation.h"

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
    case v1::SubmitReferralRequest::kFhirJson:
    case v1::SubmitReferralRequest::kHl7V2:
      return absl::UnimplementedError("FHIR and HL7 v2 payloads are not accepted yet; send a typed referral");
    case v1::SubmitReferralRequest::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("the request has no payload: set one of referral, fhir_json, hl7v2");
}

void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now, v1::SubmitReferralResponse* response) {
  (void)parsed;
  (void)now;
  (void)response;
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
