#include "gateway/inbound_message.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/referral_validation.h"
#include "adapters/sender_replies.h"
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

absl::StatusOr<adapters::ParsedReferral> ParseSubmission(const frontdoor::internal::SubmitReferralRequestWire& request,
                                                         const InboundLimits& limits) {
  using Wire = frontdoor::internal::SubmitReferralRequestWire;
  switch (request.payload_case()) {
    case Wire::kReferral:
      return CheckTypedSize(request.referral(), limits);
    case Wire::kFhirJson:
      return ParseText(adapters::MessageFormat::kFhir, request.fhir_json(), limits);
    case Wire::kHl7V2:
      return ParseText(adapters::MessageFormat::kHl7v2, request.hl7v2(), limits);
    case Wire::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(kNoPayload);
}

absl::StatusOr<adapters::ParsedReferral> ParseSubmission(const v1::SubmitReferralRequest& request,
                                                         const InboundLimits& limits) {
  switch (request.payload_case()) {
    case v1::SubmitReferralRequest::kReferral:
      return CheckTypedSize(request.referral(), limits);
    case v1::SubmitReferralRequest::kFhirJson:
      return ParseText(adapters::MessageFormat::kFhir, request.fhir_json(), limits);
    case v1::SubmitReferralRequest::kHl7V2:
      return ParseText(adapters::MessageFormat::kHl7v2, request.hl7v2(), limits);
    case v1::SubmitReferralRequest::PAYLOAD_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(kNoPayload);
}

void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now, v1::SubmitReferralResponse* response) {
  switch (parsed.format) {
    case adapters::MessageFormat::kTyped:
      return;
    case adapters::MessageFormat::kFhir:
      response->set_fhir_json(
          adapters::RenderFhirResponse(parsed.reply, *response, NewReferralId(), FormatRfc3339(now)));
      return;
    case adapters::MessageFormat::kHl7v2: {
      // MSH-10 of the ACK: unique per reply, within HL7's 20-character ST limit.
      std::string control_id = NewReferralId();
      control_id.erase(std::remove(control_id.begin(), control_id.end(), '-'), control_id.end());
      control_id.resize(20);
      response->set_hl7v2_ack(adapters::RenderHl7v2Ack(parsed.reply, *response, control_id,
                                                       absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone())));
      return;
    }
  }
}

namespace {

// Random bytes from OpenSSL's CSPRNG, drawn 4 KiB at a time per thread: a RAND_bytes call costs
// about 6k instructions whatever its size, and each FHIR referral needs two ids.
void FillRandom(unsigned char* out, size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    size_t used = sizeof bytes;
  };
  thread_local Pool pool;
  if (pool.used + n > sizeof pool.bytes) {
    if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1) {
      // OpenSSL's CSPRNG failing is not recoverable for id generation; a fallback is worse than abort.
      std::fprintf(stderr, "fatal: RAND_bytes failed\n");
      std::abort();
    }
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, n);  // each byte handed out once
  pool.used += n;
}

}  // namespace

std::string NewReferralId() {
  unsigned char b[16];
  FillRandom(b, sizeof b);
  const int64_t unix_ms = absl::ToUnixMillis(absl::Now());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(static_cast<uint64_t>(unix_ms) >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;  // version 7
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 9562 variant
  return FormatUuid(b);
}

std::string FormatRfc3339(absl::Time t) { return FormatRfc3339Utc(t, 0); }

}  // namespace frontdoor::gateway
