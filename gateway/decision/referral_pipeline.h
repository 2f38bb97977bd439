// The decision for one submitted message, before anything is stored: validation (REJECTED),
// the IG decision (REFUSED with rule ids), routing (REFUSED OUT_OF_AREA, or ACCEPTED with a team),
// and, when accepted, the minimum-necessary copy to deliver. PROFILE.md fixes the order: readable
// first, then IG rules, then where the person lives.
//
//   PipelineResult r = EvaluateReferral(parsed, referral_id, network, ConsentPolicy{}, today);
//   // r.response.disposition(), r.delivery (set when ACCEPTED)
//
// Pure: a function of its arguments (today's date is passed in). Thread-safe.
#ifndef FRONTDOOR_GATEWAY_DECISION_REFERRAL_PIPELINE_H_
#define FRONTDOOR_GATEWAY_DECISION_REFERRAL_PIPELINE_H_

#include <optional>
#include <string>
#include <vector>

#include "adapters/parsed_referral.h"
#include "common/calendar_date.h"
#include "consent/consent_decision.h"
#include "consent/minimisation.h"
#include "frontdoor/v1/connector_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {

struct PipelineResult {
  // The answer (referral_id set unless REJECTED; no sender-format reply yet).
  frontdoor::v1::SubmitReferralResponse response;
  // Set when ACCEPTED: what to deliver, and where.
  std::optional<frontdoor::v1::DeliverReferralRequest> delivery;
  // The IG decision (unset when REJECTED: no rule could be read), for the audit record (IG-9).
  std::optional<consent::ConsentDecision> consent;
  // When ACCEPTED: what the recipient endpoint does not get, by category and rule (IG-4..IG-6).
  std::vector<consent::WithheldItem> withheld;
};

// `referral_id` is the id this referral gets if it is recorded (ACCEPTED or REFUSED); the delivery's
// idempotency key is derived from it, so every retry carries the same key.
PipelineResult EvaluateReferral(const adapters::ParsedReferral& parsed, const std::string& referral_id,
                                const network::NetworkDirectory& network, const consent::ConsentPolicy& policy,
                                const CalendarDate& today);

// The idempotency key of a referral's delivery.
std::string DeliveryIdempotencyKey(const std::string& referral_id);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DECISION_REFERRAL_PIPELINE_H_
