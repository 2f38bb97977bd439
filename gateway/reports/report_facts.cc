#include "gateway/reports/report_facts.h"

#include <optional>
#include <string>
#include <utility>

namespace frontdoor::gateway {

ReportFactsReader::ReportFactsReader(const network::NetworkDirectory& network,
                                     const frontdoor::v1::ReportRequest& request)
    : network_(network),
      needs_borough_(request.breakdown() == frontdoor::v1::ReportRequest::BOROUGH || !request.boroughs().empty()),
      needs_source_(request.breakdown() == frontdoor::v1::ReportRequest::SOURCE || !request.sources().empty()) {}

const std::string& ReportFactsReader::SourceOf(const frontdoor::internal::ReportFacts& f) {
  if (f.self_referral()) return self_referral_;
  auto it = source_.find(f.sender_ods());
  if (it != source_.end()) return it->second;
  std::string source;
  if (network_.FindPractice(f.sender_ods()) != nullptr) {
    source = reporting::kSourceGpPractice;
  } else if (const network::Referrer* r = network_.FindReferrer(f.sender_ods()); r != nullptr) {
    source = r->kind;
  }
  return source_.emplace(f.sender_ods(), std::move(source)).first->second;
}

const std::string& ReportFactsReader::BoroughOf(const frontdoor::internal::ReportFacts& f) {
  key_.assign(f.cluster_id()).append("\n").append(f.team_id());
  auto it = borough_.find(key_);
  if (it != borough_.end()) return it->second;
  std::string borough;
  if (const network::Cluster* c = network_.FindCluster(f.cluster_id()); c != nullptr) {
    borough = c->borough;
  } else if (const network::ConnectorTeam* t = network_.FindTeamById(f.team_id()); t != nullptr && t->IsFrontDoor()) {
    borough = t->FrontDoorBorough();
  }
  return borough_.emplace(key_, std::move(borough)).first->second;
}

namespace {

std::optional<absl::Time> TimeOf(bool has, int64_t us) {
  if (!has) return std::nullopt;
  return absl::FromUnixMicros(us);
}

}  // namespace

absl::StatusOr<const reporting::ReferralFacts*> ReportFactsReader::FactsOf(const ReportRow& row) {
  if (!row.ParseFacts(&stored_)) return absl::InternalError("stored report facts do not parse");
  return &FactsOf(row.received_at, stored_);
}

const reporting::ReferralFacts& ReportFactsReader::FactsOf(absl::Time received_at,
                                                           const frontdoor::internal::ReportFacts& stored) {
  reporting::ReferralFacts& f = facts_;
  f.received_at = received_at;
  f.disposition = stored.disposition();
  f.refusal_rule_ids.assign(stored.refusal_rule_ids().begin(), stored.refusal_rule_ids().end());
  f.borough = needs_borough_ ? absl::string_view(BoroughOf(stored)) : absl::string_view();
  f.cluster_id = stored.cluster_id();
  f.category = stored.category();
  f.team_id = stored.team_id();
  f.source_kind = needs_source_ ? absl::string_view(SourceOf(stored)) : absl::string_view();
  f.front_door = stored.front_door();
  f.contacted_at = TimeOf(stored.has_contacted_us(), stored.contacted_us());
  f.first_conversation_at = TimeOf(stored.has_first_conversation_us(), stored.first_conversation_us());
  f.connected_at = TimeOf(stored.has_connected_us(), stored.connected_us());
  f.closed_at = TimeOf(stored.has_closed_us(), stored.closed_us());
  f.declined = stored.declined();
  f.unable_to_contact = stored.unable_to_contact();
  f.connected_to.assign(stored.connected_to().begin(), stored.connected_to().end());
  f.outcomes.resize(stored.outcomes_size());
  for (int i = 0; i < stored.outcomes_size(); ++i) {
    const frontdoor::v1::OutcomeMeasure& m = stored.outcomes(i);
    f.outcomes[i].instrument = m.instrument();
    f.outcomes[i].start_score = m.start_score();
    f.outcomes[i].end_score = m.end_score();
  }
  return f;
}

}  // namespace frontdoor::gateway
