#include "consent/minimisation.h"

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace frontdoor::consent {
namespace {

using ::frontdoor::v1::ConnectorReferral;
using ::frontdoor::v1::Referral;

constexpr char kSnomedSystem[] = "http://snomed.info/sct";

// A reason the connector may see: a SNOMED CT coding that is neither a procedure code (it names
// the referral itself) nor in a sensitive group (IG-5). Codes not in reason_codes.csv are kept: a
// well-formed unknown code is a reason that counts for no category (IG-RULES.md, "Codes").
bool IsForwardableReason(const v1::Coding& reason, const network::NetworkDirectory& network) {
  if (reason.system() != kSnomedSystem) return false;
  const network::ReasonCode* known = network.FindReasonCode(reason.code());
  if (known == nullptr) return true;
  return !known->IsSensitive() && !known->IsProcedure();
}

}  // namespace

// Built field by field from an empty message, never by copying the Referral and clearing: a field
// added to Referral later must not leak to connectors by default (IG-4).
ConnectorReferral BuildConnectorReferral(const Referral& referral, const ConsentDecision& decision,
                                         const network::ConnectorTeam& team, const std::string& referral_id,
                                         const network::NetworkDirectory& network) {
  const v1::Person& person = referral.person();
  // IG-6 also when the decision somehow missed the S-flag: the person's record is the authority.
  const bool restricted = decision.contact_via_referrer || person.demographics_restricted();

  ConnectorReferral out;
  out.set_referral_id(referral_id);
  out.set_team_id(team.team_id);
  out.set_referral_date(referral.referral_date());
  if (team.accepts_nhs_number) out.set_nhs_number(person.nhs_number());

  v1::HumanName* name = out.mutable_name();
  name->set_family(person.name().family());
  name->mutable_given()->CopyFrom(person.name().given());
  name->set_prefix(person.name().prefix());
  name->set_preferred_name(person.name().preferred_name());

  if (restricted) {
    // IG-6: no address, no phone. Email goes too, deliberately: every contact detail of an S-flag
    // person is restricted on PDS, and the connector is told to make contact through the referrer,
    // so it needs none of them.
    out.set_preferred_contact_method(v1::CONTACT_VIA_REFERRER);
  } else {
    if (person.has_home_address()) {
      const v1::Address& home = person.home_address();
      v1::Address* address = out.mutable_home_address();
      address->mutable_lines()->CopyFrom(home.lines());
      address->set_city(home.city());
      address->set_district(home.district());
      address->set_postcode(home.postcode());
    }
    out.mutable_telecom()->CopyFrom(person.telecom());
    out.set_preferred_contact_method(person.preferred_contact_method());
  }
  out.set_contact_via_referrer(restricted);

  out.set_language(person.language());
  out.set_interpreter_required(person.interpreter_required());
  out.mutable_accessibility_needs()->CopyFrom(person.accessibility_needs());

  bool withheld_any = false;
  for (const v1::Coding& reason : referral.reasons()) {
    if (IsForwardableReason(reason, network)) {
      *out.add_reasons() = reason;
      continue;
    }
    const network::ReasonCode* known =
        reason.system() == kSnomedSystem ? network.FindReasonCode(reason.code()) : nullptr;
    if (known != nullptr && known->IsSensitive()) withheld_any = true;
  }
  if (decision.all_reasons_withheld || (withheld_any && out.reasons_size() == 0)) {
    out.clear_reasons();
    out.set_withheld_reason_note(kDiscussedWithReferrer);
  }

  // IG-5: the referrer's words may restate a withheld reason; withheld with it (see the header).
  const bool withhold_text = decision.referrer_text_withheld || !decision.withheld_categories.empty() || withheld_any;
  if (withhold_text && !referral.referrer_text().empty()) {
    out.set_referrer_text(kDiscussedWithReferrer);
  } else if (!withhold_text) {
    out.set_referrer_text(referral.referrer_text());
  }
  out.set_what_matters(referral.what_matters());
  if (referral.has_requester()) *out.mutable_requester() = referral.requester();
  out.set_registered_practice_ods(person.registered_practice_ods());
  out.set_sender_ods(referral.sender_ods());
  out.set_self_referral(referral.self_referral());
  return out;
}

namespace {

const char* ClinicalCategory(v1::ClinicalContent::Kind kind) {
  switch (kind) {
    case v1::ClinicalContent::MEDICATION:
      return "clinical:medication";
    case v1::ClinicalContent::CONDITION:
      return "clinical:condition";
    case v1::ClinicalContent::OBSERVATION:
      return "clinical:observation";
    case v1::ClinicalContent::FLAG:
      return "clinical:flag";
    case v1::ClinicalContent::NOTE:
      return "clinical:note";
    default:
      return "clinical:other";
  }
}

}  // namespace

std::vector<WithheldItem> WithheldFromConnector(const Referral& referral, const ConsentDecision& decision,
                                                const network::ConnectorTeam& team) {
  const std::string& to = team.endpoint_id;
  std::vector<WithheldItem> items;
  auto add = [&](std::string category, const char* rule, std::string reason) {
    items.push_back(WithheldItem{std::move(category), to, rule, std::move(reason)});
  };
  // IG-5 first: the sensitive categories and the free text that may restate them.
  for (const std::string& category : decision.withheld_categories) {
    add(category, "IG-5", "sensitive or legally restricted category; never leaves the gateway");
  }
  if ((decision.referrer_text_withheld || !decision.withheld_categories.empty()) && !referral.referrer_text().empty()) {
    add("referrer-text", "IG-5",
        "the referrer's free text may restate a withheld category; replaced by \"discussed with referrer\"");
  }
  // IG-6: a demographics-restricted person's contact details.
  const v1::Person& person = referral.person();
  const bool restricted = decision.contact_via_referrer || person.demographics_restricted();
  if (restricted) {
    if (person.has_home_address()) add("address", "IG-6", "demographics-restricted (S-flag): contact via the referrer");
    std::set<std::string> kinds;
    for (const v1::ContactPoint& t : person.telecom()) {
      kinds.insert(t.system() == v1::ContactPoint::EMAIL ? "email" : "phone");
    }
    for (const std::string& kind : kinds)
      add(kind, "IG-6", "demographics-restricted (S-flag): contact via the referrer");
  }
  // IG-4: what no connector's role needs, and the NHS number where the endpoint does not take it.
  if (!team.accepts_nhs_number && !person.nhs_number().empty()) {
    add("nhs-number", "IG-4", "this endpoint is not configured to receive NHS numbers (connector_teams.csv)");
  }
  if (!person.birth_date().empty()) add("birth-date", "IG-4", "not needed by a connector's role");
  if (!person.gender().empty()) add("gender", "IG-4", "not needed by a connector's role");
  std::set<std::string> clinical;
  for (const v1::ClinicalContent& content : referral.clinical_content())
    clinical.insert(ClinicalCategory(content.kind()));
  for (const std::string& category : clinical) {
    add(category, "IG-4", "clinical content is not needed by a connector's role; kept in the gateway only");
  }
  std::sort(items.begin(), items.end(), [](const WithheldItem& a, const WithheldItem& b) {
    return std::tie(a.rule_id, a.category) < std::tie(b.rule_id, b.category);
  });
  return items;
}

}  // namespace frontdoor::consent
