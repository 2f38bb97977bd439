#include "gateway/intake/sender_reply.h"

#include <algorithm>
#include <string>

#include "absl/time/time.h"
#include "adapters/sender_replies.h"
#include "common/time_text.h"
#include "gateway/intake/referral_ids.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

void AttachSenderReply(const adapters::ParsedReferral& parsed, absl::Time now, v1::SubmitReferralResponse* response) {
  switch (parsed.format) {
    case adapters::MessageFormat::kTyped:
      return;
    case adapters::MessageFormat::kFhir:
      response->set_fhir_json(
          adapters::RenderFhirResponse(parsed.reply, *response, NewReferralId(), FormatRfc3339Utc(now, 0)));
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

}  // namespace frontdoor::gateway
