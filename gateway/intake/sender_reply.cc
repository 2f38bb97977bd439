#include "gateway/intake/sender_reply.h"

#include <algorithm>
#include <string>

#include "absl/time/time.h"
#include "adapters/sender_replies.h"
#include "common/time_text.h"
#include "gateway/intake/referral_ids.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// MSH-10 of an ACK: unique per reply, within HL7's 20-character ST limit.
std::string AckControlId() {
  std::string control_id = NewReferralId();
  control_id.erase(std::remove(control_id.begin(), control_id.end(), '-'), control_id.end());
  control_id.resize(20);
  return control_id;
}

std::string Hl7Now(absl::Time now) { return absl::FormatTime("%Y%m%d%H%M%S", now, absl::UTCTimeZone()); }

}  // namespace

std::string Hl7v2AcceptAck(const adapters::ReplyContext& request, const v1::SubmitReferralResponse& response,
                           absl::Time now) {
  return adapters::RenderHl7v2AcceptAck(request, response, AckControlId(), Hl7Now(now));
}

std::string Hl7v2Refusal(const adapters::ReplyContext& request, bool resend_may_help, std::string_view text,
                         absl::Time now) {
  return adapters::RenderHl7v2Refusal(request, resend_may_help, text, AckControlId(), Hl7Now(now));
}

void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now, v1::SubmitReferralResponse* response) {
  switch (parsed.format) {
    case adapters::MessageFormat::kTyped:
      return;
    case adapters::MessageFormat::kFhir:
      response->set_fhir_json(
          adapters::RenderFhirResponse(parsed.reply, *response, NewReferralId(), FormatRfc3339Utc(now, 0)));
      return;
    case adapters::MessageFormat::kHl7v2: {
      response->set_hl7v2_ack(adapters::RenderHl7v2Ack(parsed.reply, *response, AckControlId(), Hl7Now(now)));
      return;
    }
  }
}

}  // namespace frontdoor::gateway
