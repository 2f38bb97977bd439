#include "gateway/intake/decision_audit_records.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/audit_records.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

v1::AuditRecord Base(const Caller& caller, absl::Time at) {
  v1::AuditRecord r;
  r.set_time(AuditTimeText(at));
  r.set_actor(caller.identity);
  r.set_actor_organisation(ActorOrganisation(caller));
  return r;
}

}  // namespace

std::vector<v1::AuditRecord> DecisionAuditRecords(const v1::Referral& referral, const PipelineResult& result,
                                                  const Caller& caller, absl::Time at) {
  std::vector<v1::AuditRecord> out;
  const v1::SubmitReferralResponse& response = result.response;
  if (response.disposition() != v1::ACCEPTED && response.disposition() != v1::REFUSED) return out;
  const bool accepted = response.disposition() == v1::ACCEPTED;

  v1::AuditRecord decide = Base(caller, at);
  decide.set_nhs_number(referral.person().nhs_number());
  decide.set_referral_id(response.referral_id());
  decide.set_referrer_ods(caller.identity);
  decide.set_action("decide");
  decide.set_outcome(accepted ? "permit" : "refuse");
  std::set<std::string> rules;
  if (result.consent.has_value()) rules.insert(result.consent->rules_fired.begin(), result.consent->rules_fired.end());
  for (const v1::Issue& issue : response.issues()) {
    if (issue.severity() == v1::Issue::ERROR) rules.insert(issue.code());  // IG-n, OUT_OF_AREA
  }
  for (const consent::WithheldItem& item : result.withheld) rules.insert(item.rule_id);
  rules.insert("IG-9");
  for (const std::string& rule : rules) decide.add_rule_ids(rule);
  if (result.consent.has_value()) {
    decide.set_consent_reference(result.consent->relied_on_consent);
    decide.set_lawful_basis(result.consent->lawful_basis);
    for (const std::string& c : result.consent->withheld_categories) decide.add_withheld_categories(c);
  }
  decide.set_recipient_endpoint(response.endpoint_id());
  if (accepted) {
    decide.set_detail(absl::StrCat("routed to team ", response.connector_id(), "; ",
                                   result.consent.has_value() ? result.consent->consent_basis : ""));
  } else {
    std::vector<std::string> codes;
    for (const v1::Issue& issue : response.issues()) {
      if (issue.severity() == v1::Issue::ERROR) codes.push_back(absl::StrCat(issue.code(), ": ", issue.message()));
    }
    decide.set_detail(absl::StrCat("refused; nothing forwarded (", absl::StrJoin(codes, "; "), ")"));
  }
  out.push_back(decide);

  for (const consent::WithheldItem& item : result.withheld) {
    v1::AuditRecord w = Base(caller, at);
    w.set_nhs_number(decide.nhs_number());
    w.set_referral_id(decide.referral_id());
    w.set_referrer_ods(decide.referrer_ods());
    w.set_action("withhold");
    w.set_outcome("withhold");
    w.add_rule_ids(item.rule_id);
    w.set_consent_reference(decide.consent_reference());
    w.set_recipient_endpoint(item.recipient_endpoint);
    w.add_withheld_categories(item.category);
    w.set_detail(item.reason);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace frontdoor::gateway
