#include "gateway/intake/submission_counts.h"

#include <vector>

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// The borough a referral is about, for metrics: its cluster's, else its front door's, else the
// sender's (a practice's cluster, or a referrer's borough). "" when none is known.
std::string BoroughOf(const v1::SubmitReferralResponse& response, const std::string& sender,
                      const network::NetworkDirectory& network) {
  if (!response.cluster_id().empty()) {
    if (const network::Cluster* c = network.FindCluster(response.cluster_id())) return c->borough;
  }
  if (!response.connector_id().empty()) {
    const network::ConnectorTeam* team = network.FindTeamById(response.connector_id());
    if (team != nullptr && team->IsFrontDoor()) return team->FrontDoorBorough();
  }
  if (const network::Practice* p = network.FindPractice(sender)) {
    if (const network::Cluster* c = network.FindCluster(p->cluster_id)) return c->borough;
  }
  if (const network::Referrer* r = network.FindReferrer(sender)) return r->borough;
  return "";
}

}  // namespace

void CountSubmission(observability::GatewayMetrics* metrics, const network::NetworkDirectory& network,
                     const v1::SubmitReferralResponse& response, bool duplicate, const std::string& sender,
                     const std::string& format) {
  if (metrics == nullptr) return;
  observability::ReferralLabels labels;
  labels.disposition = duplicate ? "DUPLICATE" : v1::Disposition_Name(response.disposition());
  labels.borough = BoroughOf(response, sender, network);
  labels.format = format;
  std::vector<std::string> rules;
  for (const v1::Issue& issue : response.issues()) {
    if (issue.severity() != v1::Issue::ERROR) continue;
    if (labels.rule.empty()) labels.rule = issue.code();
    if (!duplicate) rules.push_back(issue.code());
  }
  metrics->CountReferral(labels, rules);
  if (!duplicate && response.disposition() == v1::ACCEPTED) {
    metrics->CountRouting(response.connector_id(), labels.borough, response.front_door());
  }
}

}  // namespace frontdoor::gateway
