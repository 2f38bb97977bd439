// The referral counters every door's submissions feed (docs/METRICS.md: frontdoor_referrals_total,
// frontdoor_referral_rules_total, frontdoor_routing_total), counted in one place.
//
//   CountSubmission(metrics, network, response, /*duplicate=*/false, sender, "fhir");
//
// Thread-safe when `metrics` is.
#ifndef FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COUNTS_H_
#define FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COUNTS_H_

#include <string>

#include "frontdoor/v1/referral_service.pb.h"
#include "network/network_directory.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

// Counts one submission's outcome (disposition, rule, borough, format; an accepted one's route).
// `metrics` may be null (nothing counted).
void CountSubmission(observability::GatewayMetrics* metrics, const network::NetworkDirectory& network,
                     const frontdoor::v1::SubmitReferralResponse& response, bool duplicate, const std::string& sender,
                     const std::string& format);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COUNTS_H_
