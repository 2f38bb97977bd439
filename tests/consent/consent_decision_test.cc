// Unit tests of consent/consent_decision: IG-1, IG-2, IG-3 (with their date edges), IG-5 and IG-6,
// judged on the referral date against the demo network.
#include "consent/consent_decision.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "network/network_directory.h"

namespace frontdoor::consent {
namespace {

using ::frontdoor::v1::ClinicalContent;
using ::frontdoor::v1::Consent;
using ::frontdoor::v1::Issue;
using ::frontdoor::v1::Referral;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Property;

constexpr char kSnomed[] = "http://snomed.info/sct";
constexpr char kReferralDate[] = "2025-06-10";
constexpr char kBirthDate[] = "1960-02-29";

const network::NetworkDirectory& Demo() {
  static const absl::StatusOr<network::NetworkDirectory>* const demo =
      new absl::StatusOr<network::NetworkDirectory>(network::NetworkDirectory::LoadDemo());
  return demo->value();
}

Consent* AddConsent(Referral* r, const std::string& id, Consent::Provision provision, const std::string& date) {
  Consent* c = r->add_consents();
  c->set_id(id);
  c->set_status(Consent::ACTIVE);
  c->set_provision(provision);
  c->set_date(date);
  return c;
}

void AddReason(Referral* r, const std::string& code, const std::string& system = kSnomed) {
  v1::Coding* coding = r->add_reasons();
  coding->set_system(system);
  coding->set_code(code);
}

// A professional referral with one permit in force and one non-sensitive reason.
Referral PermittedReferral() {
  Referral r;
  r.set_message_id("msg-1");
  r.set_sender_ods("P85901");
  r.set_referral_date(kReferralDate);
  r.mutable_person()->set_nhs_number("9991951024");
  r.mutable_person()->set_birth_date(kBirthDate);
  r.mutable_person()->mutable_name()->set_family("Whitworth");
  AddConsent(&r, "consent-permit", Consent::PERMIT, "2025-06-01");
  AddReason(&r, "267076002");  // Feeling lonely (social).
  return r;
}

ConsentDecision Decide(const Referral& r) { return DecideConsent(r, ConsentPolicy{}, Demo()); }

std::vector<std::string> RefusalCodes(const ConsentDecision& d) {
  std::vector<std::string> codes;
  for (const Issue& issue : d.refusals) codes.push_back(issue.code());
  return codes;
}

auto RefusalIs(const std::string& code, const std::string& message_part) {
  return AllOf(Property(&Issue::code, Eq(code)), Property(&Issue::severity, Eq(Issue::ERROR)),
               Property(&Issue::message, HasSubstr(message_part)));
}

TEST(DemoNetworkTest, Loads) { ASSERT_TRUE(network::NetworkDirectory::LoadDemo().ok()); }

// --- IG-1 ------------------------------------------------------------------------------------

TEST(DecideConsentTest, PermitInForceIsPermittedAndRelied) {
  const ConsentDecision d = Decide(PermittedReferral());
  EXPECT_TRUE(d.permitted);
  EXPECT_THAT(d.refusals, IsEmpty());
  EXPECT_THAT(d.rules_fired, IsEmpty());
  EXPECT_EQ(d.relied_on_consent, "consent-permit");
  EXPECT_EQ(d.lawful_basis, kLawfulBasis);
}

TEST(DecideConsentTest, NoConsentRefusesIg1) {
  Referral r = PermittedReferral();
  r.clear_consents();
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(d.refusals, ElementsAre(RefusalIs("IG-1", "no consent in force on the referral date")));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-1"));
  EXPECT_THAT(d.relied_on_consent, IsEmpty());
}

TEST(DecideConsentTest, SelfReferralWithoutConsentIsPermitted) {
  Referral r = PermittedReferral();
  r.clear_consents();
  r.set_self_referral(true);
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_EQ(d.relied_on_consent, "self-referral");
}

TEST(DecideConsentTest, ConsentDatedOnReferralDateIsInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_date(kReferralDate);
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, ConsentDatedAfterReferralDateIsNotInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_date("2025-06-11");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, PermitDatedDecadesAheadIsNotInForceSoIg1Refuses) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_date("2090-06-10");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, DenyDatedDecadesAheadDoesNotCount) {
  Referral r = PermittedReferral();
  AddConsent(&r, "objection", Consent::DENY, "2090-06-10");
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_THAT(RefusalCodes(d), IsEmpty());
}

TEST(DecideConsentTest, ConsentWithoutDateIsInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->clear_date();
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, ConsentPeriodEndingOnReferralDateIsInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_start("2025-01-01");
  r.mutable_consents(0)->set_period_end(kReferralDate);
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, ConsentPeriodEndedTheDayBeforeIsNotInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_end("2025-06-09");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, ConsentPeriodStartingOnReferralDateIsInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_start(kReferralDate);
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, ConsentPeriodStartingTheNextDayIsNotInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_start("2025-06-11");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, InactivePermitIsNotInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_status(Consent::INACTIVE);
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, DraftOrProposedPermitIsNotInForce) {
  for (Consent::Status status :
       {Consent::DRAFT, Consent::PROPOSED, Consent::REJECTED, Consent::ENTERED_IN_ERROR, Consent::STATUS_UNSPECIFIED}) {
    Referral r = PermittedReferral();
    r.mutable_consents(0)->set_status(status);
    EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1")) << status;
  }
}

TEST(DecideConsentTest, ConsentWithoutProvisionIsNoPermit) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_provision(Consent::PROVISION_UNSPECIFIED);
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, ExpiredPermitDoesNotStopAnotherInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_end("2024-12-31");
  AddConsent(&r, "consent-current", Consent::PERMIT, "2025-01-01");
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_EQ(d.relied_on_consent, "consent-current");
}

TEST(DecideConsentTest, ReliesOnTheFirstPermitInForce) {
  Referral r = PermittedReferral();
  AddConsent(&r, "consent-second", Consent::PERMIT, "2025-06-02");
  EXPECT_EQ(Decide(r).relied_on_consent, "consent-permit");
}

TEST(DecideConsentTest, ProfessionalReferralReliesOnPermitEvenWhenAlsoSelfReferral) {
  Referral r = PermittedReferral();
  r.set_self_referral(true);
  EXPECT_EQ(Decide(r).relied_on_consent, "consent-permit");
}

TEST(DecideConsentTest, PermitWithUnreadableDateIsNotInForce) {
  Referral r = PermittedReferral();
  r.mutable_consents(0)->set_period_end("2026-02-30");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

// --- IG-2 ------------------------------------------------------------------------------------

TEST(DecideConsentTest, DenyInForceOverridesPermit) {
  Referral r = PermittedReferral();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-05");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(d.refusals, ElementsAre(RefusalIs("IG-2", "an objection (deny) is in force")));
  EXPECT_THAT(d.relied_on_consent, IsEmpty());
}

TEST(DecideConsentTest, DenyRecordedBeforeAPermitStillWins) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-01-01");
  AddConsent(&r, "consent-permit", Consent::PERMIT, "2025-06-01");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-2"));
}

TEST(DecideConsentTest, LoneDenyFailsIg1AndIg2) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-01");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(RefusalCodes(d), ElementsAre("IG-1", "IG-2"));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-1", "IG-2"));
}

TEST(DecideConsentTest, DenyOnSelfReferralRefusesIg2Only) {
  Referral r = PermittedReferral();
  r.clear_consents();
  r.set_self_referral(true);
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-01");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-2"));
}

TEST(DecideConsentTest, ExpiredDenyDoesNotCount) {
  Referral r = PermittedReferral();
  Consent* deny = AddConsent(&r, "consent-deny", Consent::DENY, "2024-01-01");
  deny->set_period_end("2024-12-31");
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, InactiveDenyDoesNotCount) {
  Referral r = PermittedReferral();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-05")->set_status(Consent::INACTIVE);
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, DenyDatedAfterReferralDateDoesNotCount) {
  Referral r = PermittedReferral();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-11");
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, DenyWithUnreadableDateRefusesIg2) {
  Referral r = PermittedReferral();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(RefusalCodes(d), ElementsAre("IG-2"));
}

// --- IG-3 ------------------------------------------------------------------------------------

TEST(DecideConsentTest, EighteenthBirthdayOnReferralDateIsPermitted) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("2007-06-10");
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, DayBeforeEighteenthBirthdayRefusesIg3) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("2007-06-11");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(d.refusals, ElementsAre(RefusalIs("IG-3", "the person is under 18 on the referral date")));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-3"));
}

TEST(DecideConsentTest, BornOn29FebruaryIsStill17On28FebruaryOfNonLeapYear) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("2004-02-29");
  r.set_referral_date("2022-02-28");
  r.mutable_consents(0)->set_date("2022-02-01");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-3"));
}

TEST(DecideConsentTest, BornOn29FebruaryTurns18On1MarchOfNonLeapYear) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("2004-02-29");
  r.set_referral_date("2022-03-01");
  r.mutable_consents(0)->set_date("2022-02-01");
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, MinimumAgeComesFromThePolicy) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("2009-06-10");  // 16 on the referral date.
  ConsentPolicy policy;
  policy.minimum_age_years = 16;
  EXPECT_TRUE(DecideConsent(r, policy, Demo()).permitted);
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-3"));
}

TEST(DecideConsentTest, UnreadableBirthDateRefusesIg3AndSaysWhy) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_birth_date("1960-02-30");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(d.refusals, ElementsAre(RefusalIs("IG-3", "birth date")));
}

TEST(DecideConsentTest, MissingBirthDateRefusesIg3) {
  Referral r = PermittedReferral();
  r.mutable_person()->clear_birth_date();
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-3"));
}

TEST(DecideConsentTest, UnreadableReferralDateRefusesEveryDateRuleAndSaysWhy) {
  Referral r = PermittedReferral();
  r.set_referral_date("10/06/2025");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(RefusalCodes(d), ElementsAre("IG-1", "IG-2", "IG-3"));
  for (const Issue& refusal : d.refusals) {
    EXPECT_THAT(refusal.message(), HasSubstr("referral date")) << refusal.code();
  }
  EXPECT_THAT(d.relied_on_consent, IsEmpty());
}

TEST(DecideConsentTest, UnreadableReferralDateRefusesEvenASelfReferral) {
  Referral r = PermittedReferral();
  r.clear_referral_date();
  r.set_self_referral(true);
  EXPECT_FALSE(Decide(r).permitted);
}

// --- Every failing rule together ----------------------------------------------------------------

TEST(DecideConsentTest, MultipleFailuresAreReportedTogether) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-01");
  r.mutable_person()->set_birth_date("2010-01-01");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(RefusalCodes(d), ElementsAre("IG-1", "IG-2", "IG-3"));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-1", "IG-2", "IG-3"));
}

TEST(DecideConsentTest, RefusalMessagesNeverContainPatientData) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "consent-deny", Consent::DENY, "2025-06-01");
  r.mutable_person()->set_birth_date("2010-01-01");
  r.mutable_person()->mutable_name()->set_family("Whitworth");
  const ConsentDecision d = Decide(r);
  ASSERT_THAT(d.refusals, Not(IsEmpty()));
  for (const Issue& refusal : d.refusals) {
    EXPECT_THAT(refusal.message(), Not(HasSubstr("2010")));
    EXPECT_THAT(refusal.message(), Not(HasSubstr("Whitworth")));
    EXPECT_THAT(refusal.message(), Not(HasSubstr("9991951024")));
    EXPECT_THAT(refusal.message(), Not(HasSubstr("consent-deny")));
    EXPECT_THAT(refusal.path(), IsEmpty());
  }
}

// --- IG-5 ------------------------------------------------------------------------------------

TEST(DecideConsentTest, NoSensitiveContentWithholdsNothing) {
  const ConsentDecision d = Decide(PermittedReferral());
  EXPECT_THAT(d.withheld_categories, IsEmpty());
  EXPECT_FALSE(d.all_reasons_withheld);
  EXPECT_THAT(d.rules_fired, Not(Contains("IG-5")));
}

TEST(DecideConsentTest, WithheldCategoriesAreSortedAndUnique) {
  Referral r = PermittedReferral();
  AddReason(&r, "105629000");  // Chlamydial infection: sexual-health.
  AddReason(&r, "86406008");   // HIV: hiv.
  AddReason(&r, "15628003");   // Gonorrhoea: sexual-health again.
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_THAT(d.withheld_categories, ElementsAre("hiv", "sexual-health"));
  EXPECT_FALSE(d.all_reasons_withheld);  // Feeling lonely is still a reason.
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-5"));
}

TEST(DecideConsentTest, ActiveSafeguardingFlagWithholdsSafeguarding) {
  Referral r = PermittedReferral();
  ClinicalContent* flag = r.add_clinical_content();
  flag->set_kind(ClinicalContent::FLAG);
  flag->set_status("active");
  flag->set_category("SG");
  flag->set_text("Child protection plan in place");
  const ConsentDecision d = Decide(r);
  EXPECT_THAT(d.withheld_categories, ElementsAre("safeguarding"));
  EXPECT_FALSE(d.all_reasons_withheld);
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-5"));
}

TEST(DecideConsentTest, SafeguardingReasonAndFlagGiveOneCategory) {
  Referral r = PermittedReferral();
  AddReason(&r, "836881000000105");  // Child is cause for safeguarding concern.
  ClinicalContent* flag = r.add_clinical_content();
  flag->set_kind(ClinicalContent::FLAG);
  flag->set_status("active");
  flag->set_category("SG");
  EXPECT_THAT(Decide(r).withheld_categories, ElementsAre("safeguarding"));
}

TEST(DecideConsentTest, InactiveOrOtherFlagsWithholdNothing) {
  Referral r = PermittedReferral();
  ClinicalContent* inactive = r.add_clinical_content();
  inactive->set_kind(ClinicalContent::FLAG);
  inactive->set_status("inactive");
  inactive->set_category("SG");
  ClinicalContent* other = r.add_clinical_content();
  other->set_kind(ClinicalContent::FLAG);
  other->set_status("active");
  other->set_category("ADM");
  ClinicalContent* note = r.add_clinical_content();
  note->set_kind(ClinicalContent::NOTE);
  note->set_status("active");
  note->set_category("SG");
  EXPECT_THAT(Decide(r).withheld_categories, IsEmpty());
}

TEST(DecideConsentTest, OnlySensitiveReasonsAreAllWithheld) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  AddReason(&r, "105629000");
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_TRUE(d.all_reasons_withheld);
  EXPECT_THAT(d.withheld_categories, ElementsAre("sexual-health"));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-5"));
}

TEST(DecideConsentTest, ProcedureCodeDoesNotCountAsAReason) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  AddReason(&r, "871731000000106");  // Referral to social prescribing service.
  AddReason(&r, "86406008");
  EXPECT_TRUE(Decide(r).all_reasons_withheld);
}

TEST(DecideConsentTest, ProcedureCodeAloneWithholdsNothing) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  AddReason(&r, "871731000000106");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.all_reasons_withheld);
  EXPECT_THAT(d.rules_fired, IsEmpty());
}

TEST(DecideConsentTest, NoReasonsIsNotAllWithheld) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  EXPECT_FALSE(Decide(r).all_reasons_withheld);
}

TEST(DecideConsentTest, UnknownSnomedCodeCountsAsAReason) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  AddReason(&r, "86406008");
  AddReason(&r, "22298006");  // Well-formed, not in reason_codes.csv.
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.all_reasons_withheld);
  EXPECT_THAT(d.withheld_categories, ElementsAre("hiv"));
}

TEST(DecideConsentTest, CodingsInOtherSystemsAreNotReasons) {
  Referral r = PermittedReferral();
  r.clear_reasons();
  AddReason(&r, "86406008");
  AddReason(&r, "F41.1", "http://hl7.org/fhir/sid/icd-10");
  AddReason(&r, "86406008", "http://example.org/local");  // Same digits, another system.
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.all_reasons_withheld);
  EXPECT_THAT(d.withheld_categories, ElementsAre("hiv"));
}

TEST(DecideConsentTest, WithholdingIsDecidedEvenWhenRefused) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddReason(&r, "86406008");
  const ConsentDecision d = Decide(r);
  EXPECT_FALSE(d.permitted);
  EXPECT_THAT(d.withheld_categories, ElementsAre("hiv"));
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-1", "IG-5"));
}

// --- IG-6 ------------------------------------------------------------------------------------

TEST(DecideConsentTest, DemographicsRestrictedContactsViaReferrer) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_TRUE(d.contact_via_referrer);
  EXPECT_THAT(d.rules_fired, ElementsAre("IG-6"));
}

TEST(DecideConsentTest, UnrestrictedPersonIsContactedDirectly) {
  const ConsentDecision d = Decide(PermittedReferral());
  EXPECT_FALSE(d.contact_via_referrer);
  EXPECT_THAT(d.rules_fired, Not(Contains("IG-6")));
}

TEST(DecideConsentTest, ConsentBasisNamesTheConsentReliedOn) {
  const ConsentDecision d = Decide(PermittedReferral());
  EXPECT_THAT(d.consent_basis, HasSubstr("consent-permit"));
  EXPECT_THAT(d.consent_basis, HasSubstr("in force on the referral date"));
}

TEST(DecideConsentTest, SelfReferralWithoutConsentSaysWhyNoneWasNeeded) {
  Referral r = PermittedReferral();
  r.clear_consents();
  r.set_self_referral(true);
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_THAT(d.consent_basis, HasSubstr("self-referral"));
  EXPECT_THAT(d.consent_basis, HasSubstr("no Consent needed"));
}

TEST(DecideConsentTest, RefusalReliesOnNoConsent) {
  Referral r = PermittedReferral();
  r.clear_consents();
  const ConsentDecision d = Decide(r);
  EXPECT_THAT(d.relied_on_consent, IsEmpty());
  EXPECT_THAT(d.consent_basis, IsEmpty());
}

TEST(DecideConsentTest, EveryDecisionRecordsTheLawfulBasis) {
  Referral r = PermittedReferral();
  EXPECT_EQ(Decide(r).lawful_basis, "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)");
  r.clear_consents();
  EXPECT_EQ(Decide(r).lawful_basis, "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)");
}

TEST(DecideConsentTest, ConsentPeriodEndingTodayAndAnotherStartingTomorrow) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "ends-today", Consent::PERMIT, "2025-01-01")->set_period_end(kReferralDate);
  AddConsent(&r, "starts-tomorrow", Consent::PERMIT, "2025-01-01")->set_period_start("2025-06-11");
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_EQ(d.relied_on_consent, "ends-today");
}

TEST(DecideConsentTest, OnlyAConsentStartingTomorrowRefusesIg1) {
  Referral r = PermittedReferral();
  r.clear_consents();
  AddConsent(&r, "starts-tomorrow", Consent::PERMIT, "2025-06-10")->set_period_start("2025-06-11");
  EXPECT_THAT(RefusalCodes(Decide(r)), ElementsAre("IG-1"));
}

TEST(DecideConsentTest, DenyStartingTomorrowDoesNotOverrideAPermitToday) {
  Referral r = PermittedReferral();
  AddConsent(&r, "deny-later", Consent::DENY, "2025-06-10")->set_period_start("2025-06-11");
  EXPECT_TRUE(Decide(r).permitted);
}

TEST(DecideConsentTest, SelfReferralWithAnOnlySensitiveReasonIsPermittedAndWithheld) {
  Referral r = PermittedReferral();
  r.clear_consents();
  r.set_self_referral(true);
  r.clear_reasons();
  AddReason(&r, "407376001");  // gender
  const ConsentDecision d = Decide(r);
  EXPECT_TRUE(d.permitted);
  EXPECT_TRUE(d.all_reasons_withheld);
  EXPECT_TRUE(d.referrer_text_withheld);
  EXPECT_THAT(d.withheld_categories, ElementsAre("gender"));
}

TEST(DecideConsentTest, NothingWithheldKeepsTheReferrerText) {
  EXPECT_FALSE(Decide(PermittedReferral()).referrer_text_withheld);
}

TEST(DecideConsentTest, RulesFiredAreSorted) {
  Referral r = PermittedReferral();
  r.mutable_person()->set_demographics_restricted(true);
  r.mutable_person()->set_birth_date("2010-01-01");
  AddReason(&r, "86406008");
  EXPECT_THAT(Decide(r).rules_fired, ElementsAre("IG-3", "IG-5", "IG-6"));
}

}  // namespace
}  // namespace frontdoor::consent
