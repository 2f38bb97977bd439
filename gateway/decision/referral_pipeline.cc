#include "gateway/decision/referral_pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "adapters/referral_validation.h"
#include "consent/minimisation.h"
#include "gateway/decision/referral_routing.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

std::string DeliveryIdempotencyKey(const std::string& referral_id) { return absl::StrCat("deliver:", referral_id); }

PipelineResult EvaluateReferral(const adapters::ParsedReferral& parsed, const std::string& referral_id,
                                const network::NetworkDirectory& network, const consent::ConsentPolicy& policy,
                                const CalendarDate& today) {
  PipelineResult result;
  v1::SubmitReferralResponse& response = result.response;

  // 1. Readable? Format problems first, then the canonical checks with the sender's own paths.
  std::vector<v1::Issue> issues = parsed.issues;
  if (!adapters::HasErrors(issues)) {
    std::vector<v1::Issue> validation = adapters::ValidateReferral(parsed.referral, parsed.paths, today);
    issues.insert(issues.end(), validation.begin(), validation.end());
  }
  if (adapters::HasErrors(issues)) {
    response.set_disposition(v1::REJECTED);
    for (v1::Issue& issue : issues) *response.add_issues() = std::move(issue);
    return result;
  }
  response.set_referral_id(referral_id);

  // 2. The IG rules, all of them, before where the person lives.
  // Decided into the result (the audit record's copy) and read from there: no second copy.
  const consent::ConsentDecision& consent =
      result.consent.emplace(consent::DecideConsent(parsed.referral, policy, network));
  if (!consent.permitted) {
    response.set_disposition(v1::REFUSED);
    for (const v1::Issue& issue : consent.refusals) *response.add_issues() = issue;
    return result;
  }

  // 3. Where the person lives and which team.
  const RoutingDecision routing = RouteReferral(parsed.referral, network);
  for (const v1::Issue& note : routing.notes) *response.add_issues() = note;
  if (!routing.routed) {
    response.set_disposition(v1::REFUSED);
    if (routing.out_of_area.has_value()) *response.add_issues() = *routing.out_of_area;
    return result;
  }
  const network::ConnectorTeam* team = network.FindTeamById(routing.team_id);
  if (team == nullptr) {
    // Routing named a team the directory does not have: never forward on a guess.
    response.set_disposition(v1::REFUSED);
    v1::Issue* issue = response.add_issues();
    issue->set_code(kOutOfArea);
    issue->set_severity(v1::Issue::ERROR);
    issue->set_message("routing named a team that is not in the network configuration");
    return result;
  }

  response.set_disposition(v1::ACCEPTED);
  response.set_connector_id(routing.team_id);
  response.set_endpoint_id(routing.endpoint_id);
  response.set_front_door(routing.front_door);
  response.set_routing_reason(routing.reason);
  response.set_category(routing.category_id);
  response.set_cluster_id(routing.cluster_id);
  response.set_cluster_source(routing.cluster_source);
  for (const std::string& category : consent.withheld_categories) response.add_withheld_categories(category);

  v1::DeliverReferralRequest delivery;
  delivery.set_idempotency_key(DeliveryIdempotencyKey(referral_id));
  *delivery.mutable_referral() = consent::BuildConnectorReferral(parsed.referral, consent, *team, referral_id, network);
  result.withheld = consent::WithheldFromConnector(parsed.referral, consent, *team);
  result.delivery = std::move(delivery);
  return result;
}

}  // namespace frontdoor::gateway
