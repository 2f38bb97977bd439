#include "consent/consent_decision.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/calendar_date.h"

namespace frontdoor::consent {
namespace {

using ::frontdoor::v1::ClinicalContent;
using ::frontdoor::v1::Consent;
using ::frontdoor::v1::Issue;
using ::frontdoor::v1::Referral;

constexpr char kIg1[] = "IG-1";
constexpr char kIg2[] = "IG-2";
constexpr char kIg3[] = "IG-3";
constexpr char kIg5[] = "IG-5";
constexpr char kIg6[] = "IG-6";

constexpr char kSelfReferral[] = "self-referral";
constexpr char kSafeguardingCategory[] = "safeguarding";
// The reason system; kept here rather than depending on adapters/ (its kSnomedSystem is the same).
constexpr char kSnomedSystem[] = "http://snomed.info/sct";

// Messages say which rule fails in words; they never carry patient data (dates, names, codes).
Issue Refusal(std::string_view rule, std::string message) {
  Issue issue;
  issue.set_code(std::string(rule));
  issue.set_message(std::move(message));
  issue.set_severity(Issue::ERROR);
  return issue;
}

enum class InForce { kYes, kNo, kUnreadable };

// A consent is in force on `on` when it is active, dated on or before `on`, and its period (if
// any) contains `on`. A date that is present but unreadable makes the answer kUnreadable: the
// caller decides what is safe (a permit that cannot be read is no permit; an objection that
// cannot be read still refuses).
InForce ConsentInForce(const Consent& consent, const CalendarDate& on) {
  if (consent.status() != Consent::ACTIVE) return InForce::kNo;
  bool unreadable = false;
  bool in_force = true;
  auto check = [&](const std::string& text, bool must_be_on_or_before) {
    if (text.empty()) return;
    std::optional<CalendarDate> date = CalendarDate::Parse(text);
    if (!date.has_value()) {
      unreadable = true;
      return;
    }
    if (must_be_on_or_before ? *date > on : *date < on) in_force = false;
  };
  check(consent.date(), /*must_be_on_or_before=*/true);
  check(consent.period_start(), /*must_be_on_or_before=*/true);
  check(consent.period_end(), /*must_be_on_or_before=*/false);
  if (!in_force) return InForce::kNo;  // A readable date already rules it out.
  return unreadable ? InForce::kUnreadable : InForce::kYes;
}

// The id the decision cites for a consent; its position when the sender gave it no id.
std::string ConsentCitation(const Consent& consent, int index) {
  if (!consent.id().empty()) return consent.id();
  return absl::StrCat("consents[", index, "]");
}

bool IsSafeguardingFlag(const ClinicalContent& content) {
  return content.kind() == ClinicalContent::FLAG && absl::EqualsIgnoreCase(content.status(), "active") &&
         absl::EqualsIgnoreCase(content.category(), "SG");
}

// IG-1 and IG-2, judged on the referral date.
void DecideConsentRules(const Referral& referral, const std::optional<CalendarDate>& referral_date,
                        ConsentDecision* decision) {
  if (!referral_date.has_value()) {
    decision->refusals.push_back(
        Refusal(kIg1, "consent cannot be checked: the referral date is missing or not a valid date"));
    decision->refusals.push_back(
        Refusal(kIg2, "objections cannot be checked: the referral date is missing or not a valid date"));
    return;
  }
  std::string permit_in_force;
  bool deny_in_force = false;
  bool deny_unreadable = false;
  for (int i = 0; i < referral.consents_size(); ++i) {
    const Consent& consent = referral.consents(i);
    const InForce in_force = ConsentInForce(consent, *referral_date);
    if (consent.provision() == Consent::PERMIT) {
      if (in_force == InForce::kYes && permit_in_force.empty()) {
        permit_in_force = ConsentCitation(consent, i);
      }
    } else if (consent.provision() == Consent::DENY) {
      if (in_force == InForce::kYes) deny_in_force = true;
      if (in_force == InForce::kUnreadable) deny_unreadable = true;
    }
  }

  if (permit_in_force.empty() && !referral.self_referral()) {
    decision->refusals.push_back(Refusal(kIg1, "no consent in force on the referral date"));
  }
  if (deny_in_force) {
    decision->refusals.push_back(Refusal(kIg2, "an objection (deny) is in force"));
  } else if (deny_unreadable) {
    decision->refusals.push_back(
        Refusal(kIg2, "an objection (deny) has dates that are not valid, so it cannot be ruled out"));
  }
  decision->relied_on_consent = permit_in_force.empty() ? kSelfReferral : permit_in_force;
  decision->consent_basis =
      permit_in_force.empty()
          ? "self-referral: the person's own request is their consent (no Consent needed)"
          : absl::StrCat("consent ", permit_in_force, ": active permit in force on the referral date");
}

// IG-3: whole years on the referral date.
void DecideAge(const Referral& referral, const std::optional<CalendarDate>& referral_date, const ConsentPolicy& policy,
               ConsentDecision* decision) {
  const std::optional<CalendarDate> born = CalendarDate::Parse(referral.person().birth_date());
  if (!born.has_value()) {
    decision->refusals.push_back(
        Refusal(kIg3, "the age cannot be checked: the birth date is missing or not a valid date"));
    return;
  }
  if (!referral_date.has_value()) {
    decision->refusals.push_back(
        Refusal(kIg3, "the age cannot be checked: the referral date is missing or not a valid date"));
    return;
  }
  if (WholeYearsBetween(*born, *referral_date) < policy.minimum_age_years) {
    decision->refusals.push_back(
        Refusal(kIg3, absl::StrCat("the person is under ", policy.minimum_age_years, " on the referral date")));
  }
}

// IG-5: the sensitive categories among the SNOMED CT reasons, and safeguarding flags.
//
// What counts as a reason: a SNOMED CT coding that is not a procedure code (procedure codes name
// the referral itself, e.g. 871731000000106 "Referral to social prescribing service"). A
// well-formed code not in reason_codes.csv counts as a (non-sensitive) reason. Codings in other
// systems never count. So `all_reasons_withheld` is set when at least one reason was withheld and
// no reason is left to forward; a referral whose only codes are procedures has nothing withheld.
void DecideWithholding(const Referral& referral, const network::NetworkDirectory& network, ConsentDecision* decision) {
  std::vector<std::string> categories;
  int withheld_reasons = 0;
  int kept_reasons = 0;
  for (const v1::Coding& reason : referral.reasons()) {
    if (reason.system() != kSnomedSystem) continue;
    const network::ReasonCode* known = network.FindReasonCode(reason.code());
    if (known != nullptr && known->IsProcedure()) continue;
    if (known != nullptr && known->IsSensitive()) {
      categories.push_back(known->WithheldCategory());
      ++withheld_reasons;
    } else {
      ++kept_reasons;
    }
  }
  for (const ClinicalContent& content : referral.clinical_content()) {
    if (IsSafeguardingFlag(content)) categories.push_back(kSafeguardingCategory);
  }
  std::sort(categories.begin(), categories.end());
  categories.erase(std::unique(categories.begin(), categories.end()), categories.end());
  decision->withheld_categories = std::move(categories);
  decision->all_reasons_withheld = withheld_reasons > 0 && kept_reasons == 0;
}

}  // namespace

ConsentDecision DecideConsent(const Referral& referral, const ConsentPolicy& policy,
                              const network::NetworkDirectory& network) {
  ConsentDecision decision;
  const std::optional<CalendarDate> referral_date = CalendarDate::Parse(referral.referral_date());

  DecideConsentRules(referral, referral_date, &decision);
  DecideAge(referral, referral_date, policy, &decision);
  DecideWithholding(referral, network, &decision);
  decision.contact_via_referrer = referral.person().demographics_restricted();

  for (const Issue& refusal : decision.refusals) decision.rules_fired.push_back(refusal.code());
  if (!decision.withheld_categories.empty() || decision.all_reasons_withheld) {
    decision.rules_fired.push_back(kIg5);
  }
  if (decision.contact_via_referrer) decision.rules_fired.push_back(kIg6);
  std::sort(decision.rules_fired.begin(), decision.rules_fired.end());
  decision.rules_fired.erase(std::unique(decision.rules_fired.begin(), decision.rules_fired.end()),
                             decision.rules_fired.end());

  decision.referrer_text_withheld = !decision.withheld_categories.empty();
  decision.permitted = decision.refusals.empty();
  if (!decision.permitted) {
    decision.relied_on_consent.clear();
    decision.consent_basis.clear();
  }
  return decision;
}

}  // namespace frontdoor::consent
