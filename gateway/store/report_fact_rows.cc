#include "gateway/store/report_fact_rows.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/time_text.h"
#include "frontdoor/v1/referral.pb.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using frontdoor::internal::ReportFacts;

namespace {

template <typename Strings>
void AddOnce(Strings* names, const std::string& name) {
  if (std::find(names->begin(), names->end(), name) == names->end()) *names->Add() = name;
}

// The first time of a status: `us`, unless one was recorded (`has`) at `recorded` before it.
int64_t Earliest(bool has, int64_t recorded, int64_t us) { return has ? std::min(recorded, us) : us; }

}  // namespace

ReportFacts FactsOfReferral(std::string_view sender_ods, bool self_referral,
                            const v1::SubmitReferralResponse& decision) {
  ReportFacts f;
  f.set_disposition(decision.disposition());
  if (decision.disposition() == v1::REFUSED) {
    for (const v1::Issue& issue : decision.issues()) {
      if (issue.severity() == v1::Issue::ERROR) AddOnce(f.mutable_refusal_rule_ids(), issue.code());
    }
  }
  f.set_sender_ods(std::string(sender_ods));
  f.set_self_referral(self_referral);
  f.set_cluster_id(decision.cluster_id());
  f.set_category(decision.category());
  f.set_team_id(decision.connector_id());
  f.set_front_door(decision.front_door());
  return f;
}

void AddFeedbackToFacts(const v1::ReportProgressRequest& event, absl::Time received_at, ReportFacts* f) {
  absl::Time at;
  if (!ParseRfc3339(event.occurred_at(), &at) || at < received_at) at = received_at;
  const int64_t us = absl::ToUnixMicros(at);
  switch (event.status()) {
    case v1::PROGRESS_CONTACTED:
      f->set_contacted_us(Earliest(f->has_contacted_us(), f->contacted_us(), us));
      break;
    case v1::PROGRESS_FIRST_CONVERSATION_HELD:
      f->set_first_conversation_us(Earliest(f->has_first_conversation_us(), f->first_conversation_us(), us));
      break;
    case v1::PROGRESS_CONNECTED:
      f->set_connected_us(Earliest(f->has_connected_us(), f->connected_us(), us));
      for (const std::string& name : event.connected_to()) AddOnce(f->mutable_connected_to(), name);
      break;
    case v1::PROGRESS_DECLINED:
      f->set_declined(true);
      break;
    case v1::PROGRESS_UNABLE_TO_CONTACT:
      f->set_unable_to_contact(true);
      break;
    case v1::PROGRESS_CLOSED:
      f->set_closed_us(Earliest(f->has_closed_us(), f->closed_us(), us));
      for (const v1::OutcomeMeasure& m : event.outcome_measures()) *f->add_outcomes() = m;
      break;
    default:
      break;
  }
}

absl::StatusOr<std::string> FactsWithFeedback(std::string_view stored, const v1::ReportProgressRequest& event,
                                              absl::Time received_at) {
  ReportFacts facts;
  if (!facts.ParseFromArray(stored.data(), static_cast<int>(stored.size()))) {
    return absl::InternalError("stored report facts do not parse");
  }
  AddFeedbackToFacts(event, received_at, &facts);
  return facts.SerializeAsString();
}

absl::StatusOr<ReportFacts> FactsOfRecordedReferral(const std::string& referral_id, std::string_view sender_ods,
                                                    absl::Time received_at, std::string_view decision,
                                                    std::string_view referral,
                                                    const std::vector<std::string>& feedback_events) {
  v1::SubmitReferralResponse parsed_decision;
  v1::Referral parsed_referral;
  if (!parsed_decision.ParseFromArray(decision.data(), static_cast<int>(decision.size())) ||
      !parsed_referral.ParseFromArray(referral.data(), static_cast<int>(referral.size()))) {
    return absl::DataLossError(absl::StrCat("referral ", referral_id, " does not parse"));
  }
  ReportFacts facts = FactsOfReferral(sender_ods, parsed_referral.self_referral(), parsed_decision);
  for (const std::string& bytes : feedback_events) {
    v1::ReportProgressRequest event;
    if (!event.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat("a feedback event of referral ", referral_id, " does not parse"));
    }
    AddFeedbackToFacts(event, received_at, &facts);
  }
  return facts;
}

}  // namespace frontdoor::gateway
