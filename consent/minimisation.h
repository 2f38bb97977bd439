// Minimum-necessary delivery (IG-4, IG-5, IG-6): builds what a connector receives from a referral
// and its consent decision, and nothing else.
//
//   v1::ConnectorReferral out = BuildConnectorReferral(referral, decision, *team, referral_id, network);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_CONSENT_MINIMISATION_H_
#define FRONTDOOR_CONSENT_MINIMISATION_H_

#include <string>
#include <vector>

#include "consent/consent_decision.h"
#include "frontdoor/v1/connector_service.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "network/network_directory.h"

namespace frontdoor::consent {

inline constexpr char kDiscussedWithReferrer[] = "discussed with referrer";

// Copies only the IG-4 elements: name, preferred name, contact details and preferred contact method,
// address, language and interpreter need, accessibility needs, SNOMED CT reasons that are not
// sensitive (IG-5) nor procedure codes, referrer text, what matters to the person, the requester's
// contact, registered practice, sender. The NHS number only when `team.accepts_nhs_number`.
// When decision.contact_via_referrer (IG-6): no address, no phone or SMS contact points, and the
// preferred contact method becomes CONTACT_VIA_REFERRER. When every reason was withheld: no reasons,
// and withheld_reason_note = "discussed with referrer". Never copies birth date, gender,
// consents or clinical_content. When decision.referrer_text_withheld (IG-5 withheld anything), the
// referrer's free text is replaced by "discussed with referrer" (it may restate what was withheld);
// what matters to the person still goes.
frontdoor::v1::ConnectorReferral BuildConnectorReferral(const frontdoor::v1::Referral& referral,
                                                        const ConsentDecision& decision,
                                                        const network::ConnectorTeam& team,
                                                        const std::string& referral_id,
                                                        const network::NetworkDirectory& network);

// One kind of data a recipient does not get, and why: what the decision and the audit record
// list (categories only, never the values).
struct WithheldItem {
  // sensitive reason category ("sexual-health", "hiv", "safeguarding", ...), or one of
  // "referrer-text", "address", "phone", "email", "nhs-number", "birth-date", "gender",
  // "clinical:medication", "clinical:condition", "clinical:observation", "clinical:flag",
  // "clinical:note", "clinical:other".
  std::string category;
  std::string recipient_endpoint;  // organisations.csv endpoint_id
  std::string rule_id;             // IG-4, IG-5 or IG-6
  std::string reason;              // in words, no patient data
};

// Everything `team`'s endpoint does not receive of this referral under `decision`, one item per
// category present in the referral, sorted by (rule_id, category). Agrees with
// BuildConnectorReferral by construction (tests check both against the delivered bytes). Pure.
std::vector<WithheldItem> WithheldFromConnector(const frontdoor::v1::Referral& referral,
                                                const ConsentDecision& decision, const network::ConnectorTeam& team);

}  // namespace frontdoor::consent

#endif  // FRONTDOOR_CONSENT_MINIMISATION_H_
