// The information-governance decision (shared/network/IG-RULES.md) for one valid referral: may it
// be shared with a connector at all, on what consent and lawful basis, and what must be withheld.
// A pure function of (referral, policy, network data): the referral date, not the wall clock,
// decides every date rule, so the same message always gets the same answer.
//
//   ConsentDecision d = DecideConsent(referral, ConsentPolicy{}, network);
//   if (!d.permitted) { /* REFUSED with d.refusals (codes IG-1, IG-2, IG-3) */ }
//
// Rules decided here: IG-1 (consent in force or self-referral), IG-2 (no objection in force),
// IG-3 (18+ on the referral date), IG-5 (which sensitive categories are withheld, and the
// referrer's free text with them), IG-6 (S-flag). Where the rules continue:
//   IG-4 (minimum necessary, per recipient): consent/minimisation.h, BuildConnectorReferral and
//        WithheldFromConnector (what a named endpoint does not get, by category, and why);
//   IG-7 (withdrawal): ReferralService.CancelReferral and ReferralStore::CancelReferral;
//   IG-8 (need-to-know): gateway/authorization.h;
//   IG-9 (accountability): audit/ (records, Merkle tree, signed checkpoints) and
//        gateway/audit_records.h (one record per decision, withheld item, delivery, withdrawal).
// Precondition: the referral passed adapters::ValidateReferral; a date the rules need that does not
// parse makes the decision refuse and say why (safe failure), never permit.
// Thread-safe; no I/O.
#ifndef FRONTDOOR_CONSENT_CONSENT_DECISION_H_
#define FRONTDOOR_CONSENT_CONSENT_DECISION_H_

#include <string>
#include <vector>

#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "network/network_directory.h"

namespace frontdoor::consent {

inline constexpr char kLawfulBasis[] = "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)";

struct ConsentPolicy {
  int minimum_age_years = 18;  // IG-3
};

struct ConsentDecision {
  // True when no rule refuses: the referral may be routed and delivered.
  bool permitted = false;
  // One issue per failing rule (IG-1, IG-2, IG-3), code = rule id, ERROR severity, message in words
  // without patient data. Every failing rule is listed, not only the first.
  std::vector<frontdoor::v1::Issue> refusals;
  // Every rule id that fired, refusing or shaping the delivery (e.g. IG-5, IG-6), sorted.
  std::vector<std::string> rules_fired;
  // The consent the decision relied on: its id, or "self-referral" (IG-1); empty when refused.
  std::string relied_on_consent;
  // The same in words, for the audit record and IG officers: "consent <id>: active permit in
  // force on the referral date" or "self-referral: the person's own request is their consent
  // (no Consent needed)"; empty when refused.
  std::string consent_basis;
  std::string lawful_basis = kLawfulBasis;
  // IG-5 categories withheld from the connector, sorted, unique ("hiv", "safeguarding", ...).
  std::vector<std::string> withheld_categories;
  // IG-5: every reason was withheld, so the connector is told "discussed with referrer".
  bool all_reasons_withheld = false;
  // IG-6: demographics-restricted; no address or phone leaves, contact via the referrer.
  bool contact_via_referrer = false;
  // IG-5: something was withheld (withheld_categories is not empty), so the referrer's free text
  // is withheld too: it may restate the withheld reason or concern in words ("Lonely since her
  // HIV diagnosis"), and no code list can find that. The connector gets "discussed with referrer"
  // instead; what matters to the person (their own words about their goals) still goes.
  bool referrer_text_withheld = false;
};

ConsentDecision DecideConsent(const frontdoor::v1::Referral& referral, const ConsentPolicy& policy,
                              const network::NetworkDirectory& network);

}  // namespace frontdoor::consent

#endif  // FRONTDOOR_CONSENT_CONSENT_DECISION_H_
