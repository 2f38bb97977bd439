#include "gateway/reports/report_facts.h"

#include <algorithm>
#include <string>

#include "common/time_text.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// The earlier of `t` and the event's time (the first event of a status counts).
void First(std::optional<absl::Time>& t, absl::Time at) {
  if (!t.has_value() || at < *t) t = at;
}

std::string SourceOf(const ReportRow& row, const network::NetworkDirectory& network) {
  if (row.self_referral) return reporting::kSourceSelfReferral;
  if (network.FindPractice(row.sender_ods) != nullptr) return reporting::kSourceGpPractice;
  if (const network::Referrer* r = network.FindReferrer(row.sender_ods); r != nullptr) return r->kind;
  return "";
}

std::string BoroughOf(const ReportRow& row, const network::NetworkDirectory& network) {
  if (const network::Cluster* c = network.FindCluster(row.decision.cluster_id()); c != nullptr) return c->borough;
  if (const network::ConnectorTeam* t = network.FindTeamById(row.decision.connector_id());
      t != nullptr && t->IsFrontDoor()) {
    return t->FrontDoorBorough();
  }
  return "";
}

}  // namespace

reporting::ReferralFacts ReportFactsOf(const ReportRow& row, const network::NetworkDirectory& network) {
  reporting::ReferralFacts f;
  f.received_at = row.received_at;
  f.disposition = row.decision.disposition();
  if (f.disposition == v1::REFUSED) {
    for (const v1::Issue& issue : row.decision.issues()) {
      if (issue.severity() != v1::Issue::ERROR) continue;  // a warning decided nothing
      if (std::find(f.refusal_rule_ids.begin(), f.refusal_rule_ids.end(), issue.code()) == f.refusal_rule_ids.end()) {
        f.refusal_rule_ids.push_back(issue.code());
      }
    }
  }
  f.borough = BoroughOf(row, network);
  f.cluster_id = row.decision.cluster_id();
  f.category = row.decision.category();
  f.team_id = row.decision.connector_id();
  f.source_kind = SourceOf(row, network);
  f.front_door = row.decision.front_door();
  for (const v1::ReportProgressRequest& event : row.feedback) {
    absl::Time at;
    // A connector's time before the referral was received is its clock's error, not casework.
    if (!ParseRfc3339(event.occurred_at(), &at) || at < row.received_at) at = row.received_at;
    switch (event.status()) {
      case v1::PROGRESS_CONTACTED:
        First(f.contacted_at, at);
        break;
      case v1::PROGRESS_FIRST_CONVERSATION_HELD:
        First(f.first_conversation_at, at);
        break;
      case v1::PROGRESS_CONNECTED:
        First(f.connected_at, at);
        for (const std::string& name : event.connected_to()) {
          if (std::find(f.connected_to.begin(), f.connected_to.end(), name) == f.connected_to.end()) {
            f.connected_to.push_back(name);
          }
        }
        break;
      case v1::PROGRESS_DECLINED:
        f.declined = true;
        break;
      case v1::PROGRESS_UNABLE_TO_CONTACT:
        f.unable_to_contact = true;
        break;
      case v1::PROGRESS_CLOSED:
        First(f.closed_at, at);
        for (const v1::OutcomeMeasure& m : event.outcome_measures()) {
          f.outcomes.push_back({m.instrument(), m.start_score(), m.end_score()});
        }
        break;
      default:
        break;
    }
  }
  return f;
}

}  // namespace frontdoor::gateway
