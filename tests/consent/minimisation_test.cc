// Unit tests of consent/minimisation: what a connector receives (IG-4, IG-5, IG-6). Leaks are
// checked in the serialized bytes of the ConnectorReferral, not only in its fields, so a value
// that slipped into any field (present or future) is caught.
#include "consent/minimisation.h"

#include <string>

#include "consent/consent_decision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "network/network_directory.h"

namespace frontdoor::consent {
namespace {

using ::frontdoor::v1::ClinicalContent;
using ::frontdoor::v1::ConnectorReferral;
using ::frontdoor::v1::Consent;
using ::frontdoor::v1::ContactPoint;
using ::frontdoor::v1::Referral;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSnomed[] = "http://snomed.info/sct";
constexpr char kNhsNumber[] = "9991951024";
constexpr char kBirthDate[] = "1960-02-29";
constexpr char kPostcode[] = "OL2 6QR";
constexpr char kStreet[] = "14 Coalshaw Green Road";
constexpr char kPhone[] = "01619110001";
constexpr char kMobile[] = "07700900123";
constexpr char kEmail[] = "jean.w@example.org";
constexpr char kMedicationText[] = "Sertraline 50 mg tablets";
constexpr char kFlagText[] = "Adult safeguarding concern raised";
constexpr char kConsentId[] = "consent-7f3a";
constexpr char kGender[] = "female";
constexpr char kWellbeingTeam[] = "oldham-north-royton-wellbeing";       // accepts NHS numbers
constexpr char kOlderPeopleTeam[] = "oldham-north-royton-older-people";  // does not

const network::NetworkDirectory& Demo() {
  static const absl::StatusOr<network::NetworkDirectory>* const demo =
      new absl::StatusOr<network::NetworkDirectory>(network::NetworkDirectory::LoadDemo());
  return demo->value();
}

const network::ConnectorTeam& Team(const char* team_id) {
  const network::ConnectorTeam* team = Demo().FindTeamById(team_id);
  if (team == nullptr) {
    ADD_FAILURE() << "no team " << team_id;
    static const network::ConnectorTeam kNone;
    return kNone;
  }
  return *team;
}

void AddReason(Referral* r, const std::string& code, const std::string& display, const std::string& system = kSnomed) {
  v1::Coding* coding = r->add_reasons();
  coding->set_system(system);
  coding->set_code(code);
  coding->set_display(display);
}

ContactPoint* AddTelecom(v1::Person* person, ContactPoint::System system, const char* value) {
  ContactPoint* cp = person->add_telecom();
  cp->set_system(system);
  cp->set_value(value);
  return cp;
}

// A permitted referral carrying every kind of datum, forwardable and not.
Referral FullReferral() {
  Referral r;
  r.set_message_id("msg-42");
  r.set_sender_ods("P85901");
  r.set_referral_date("2025-06-10");
  r.set_referrer_text("Lonely since her husband died; would like a walking group.");
  r.set_what_matters("Getting out of the house and meeting people.");
  r.set_referrer_reference("GP-REF-778");

  v1::Person* person = r.mutable_person();
  person->set_nhs_number(kNhsNumber);
  person->mutable_name()->set_family("Whitworth");
  person->mutable_name()->add_given("Jean");
  person->mutable_name()->add_given("Mary");
  person->mutable_name()->set_prefix("Mrs");
  person->mutable_name()->set_preferred_name("Jeannie");
  person->set_birth_date(kBirthDate);
  person->set_gender(kGender);
  person->mutable_home_address()->add_lines(kStreet);
  person->mutable_home_address()->set_city("Oldham");
  person->mutable_home_address()->set_postcode(kPostcode);
  AddTelecom(person, ContactPoint::PHONE, kPhone)->set_use("home");
  AddTelecom(person, ContactPoint::SMS, kMobile)->set_use("mobile");
  AddTelecom(person, ContactPoint::EMAIL, kEmail);
  person->set_preferred_contact_method(v1::CONTACT_BY_SMS);
  person->set_language("pa");
  person->set_interpreter_required(true);
  person->add_accessibility_needs("uses a wheelchair");
  person->set_registered_practice_ods("P85901");

  AddReason(&r, "871731000000106", "Referral to social prescribing service");  // procedure
  AddReason(&r, "267076002", "Feeling lonely");
  AddReason(&r, "86406008", "Human immunodeficiency virus infection");
  AddReason(&r, "Z63.4", "Disappearance and death of family member", "http://hl7.org/fhir/sid/icd-10");

  Consent* consent = r.add_consents();
  consent->set_id(kConsentId);
  consent->set_status(Consent::ACTIVE);
  consent->set_provision(Consent::PERMIT);
  consent->set_date("2025-06-01");

  v1::Requester* requester = r.mutable_requester();
  requester->mutable_name()->set_family("Okafor");
  requester->set_role("General practitioner");
  requester->set_organisation_ods("P85901");
  requester->set_organisation_name("Royton Medical Centre");
  ContactPoint* gp_phone = requester->add_telecom();
  gp_phone->set_system(ContactPoint::PHONE);
  gp_phone->set_value("01619110999");

  ClinicalContent* medication = r.add_clinical_content();
  medication->set_kind(ClinicalContent::MEDICATION);
  medication->set_text(kMedicationText);
  medication->set_status("active");
  medication->set_source_type("MedicationStatement");
  ClinicalContent* flag = r.add_clinical_content();
  flag->set_kind(ClinicalContent::FLAG);
  flag->set_text(kFlagText);
  flag->set_status("active");
  flag->set_category("SG");
  flag->set_source_type("Flag");
  return r;
}

ConnectorReferral Build(const Referral& r, const char* team_id = kWellbeingTeam) {
  const ConsentDecision decision = DecideConsent(r, ConsentPolicy{}, Demo());
  EXPECT_TRUE(decision.permitted);
  return BuildConnectorReferral(r, decision, Team(team_id), "ref-0001", Demo());
}

std::string Bytes(const ConnectorReferral& out) { return out.SerializeAsString(); }

// --- IG-4: what is forwarded ---------------------------------------------------------------------

TEST(BuildConnectorReferralTest, CopiesTheIdentifiersOfTheDelivery) {
  const ConnectorReferral out = Build(FullReferral());
  EXPECT_EQ(out.referral_id(), "ref-0001");
  EXPECT_EQ(out.team_id(), kWellbeingTeam);
  EXPECT_EQ(out.referral_date(), "2025-06-10");
  EXPECT_EQ(out.sender_ods(), "P85901");
  EXPECT_FALSE(out.self_referral());
}

TEST(BuildConnectorReferralTest, CopiesNameAndPreferredName) {
  const ConnectorReferral out = Build(FullReferral());
  EXPECT_EQ(out.name().family(), "Whitworth");
  EXPECT_THAT(out.name().given(), ElementsAre("Jean", "Mary"));
  EXPECT_EQ(out.name().prefix(), "Mrs");
  EXPECT_EQ(out.name().preferred_name(), "Jeannie");
}

TEST(BuildConnectorReferralTest, CopiesAddressTelecomAndPreferredContactMethod) {
  const ConnectorReferral out = Build(FullReferral());
  EXPECT_EQ(out.home_address().postcode(), kPostcode);
  EXPECT_THAT(out.home_address().lines(), ElementsAre(kStreet));
  ASSERT_EQ(out.telecom_size(), 3);
  EXPECT_EQ(out.telecom(0).value(), kPhone);
  EXPECT_EQ(out.preferred_contact_method(), v1::CONTACT_BY_SMS);
  EXPECT_FALSE(out.contact_via_referrer());
}

TEST(BuildConnectorReferralTest, CopiesLanguageInterpreterAndAccessibility) {
  const ConnectorReferral out = Build(FullReferral());
  EXPECT_EQ(out.language(), "pa");
  EXPECT_TRUE(out.interpreter_required());
  EXPECT_THAT(out.accessibility_needs(), ElementsAre("uses a wheelchair"));
}

// Nothing sensitive in the referral: the referrer's text goes as written (see IG-5 below for when
// it does not).
Referral WithoutSensitiveContent(Referral r) {
  r.clear_reasons();
  AddReason(&r, "267076002", "Feeling lonely");
  r.clear_clinical_content();
  return r;
}

TEST(BuildConnectorReferralTest, CopiesReferrerTextWhatMattersRequesterAndPractice) {
  const Referral r = WithoutSensitiveContent(FullReferral());
  const ConnectorReferral out = Build(r);
  EXPECT_EQ(out.referrer_text(), r.referrer_text());
  EXPECT_EQ(out.what_matters(), r.what_matters());
  EXPECT_EQ(out.requester().name().family(), "Okafor");
  EXPECT_EQ(out.requester().organisation_ods(), "P85901");
  ASSERT_EQ(out.requester().telecom_size(), 1);
  EXPECT_EQ(out.requester().telecom(0).value(), "01619110999");
  EXPECT_EQ(out.registered_practice_ods(), "P85901");
}

TEST(BuildConnectorReferralTest, SelfReferralHasNoRequester) {
  Referral r = FullReferral();
  r.clear_requester();
  r.set_self_referral(true);
  const ConnectorReferral out = Build(r);
  EXPECT_TRUE(out.self_referral());
  EXPECT_FALSE(out.has_requester());
}

TEST(BuildConnectorReferralTest, NhsNumberForwardedWhenTeamAcceptsIt) {
  ASSERT_TRUE(Team(kWellbeingTeam).accepts_nhs_number);
  EXPECT_EQ(Build(FullReferral(), kWellbeingTeam).nhs_number(), kNhsNumber);
}

TEST(BuildConnectorReferralTest, NhsNumberNeverLeavesForATeamThatDoesNotAcceptIt) {
  ASSERT_FALSE(Team(kOlderPeopleTeam).accepts_nhs_number);
  const ConnectorReferral out = Build(FullReferral(), kOlderPeopleTeam);
  EXPECT_THAT(out.nhs_number(), IsEmpty());
  EXPECT_THAT(Bytes(out), Not(HasSubstr(kNhsNumber)));
}

TEST(BuildConnectorReferralTest, BirthDateNeverLeaves) {
  EXPECT_THAT(Bytes(Build(FullReferral())), Not(HasSubstr(kBirthDate)));
}

TEST(BuildConnectorReferralTest, GenderNeverLeaves) {
  EXPECT_THAT(Bytes(Build(FullReferral())), Not(HasSubstr(kGender)));
}

TEST(BuildConnectorReferralTest, ConsentsNeverLeave) {
  const std::string bytes = Bytes(Build(FullReferral()));
  EXPECT_THAT(bytes, Not(HasSubstr(kConsentId)));
  EXPECT_THAT(bytes, Not(HasSubstr("2025-06-01")));
}

TEST(BuildConnectorReferralTest, ClinicalContentNeverLeaves) {
  const std::string bytes = Bytes(Build(FullReferral()));
  EXPECT_THAT(bytes, Not(HasSubstr(kMedicationText)));
  EXPECT_THAT(bytes, Not(HasSubstr(kFlagText)));
  EXPECT_THAT(bytes, Not(HasSubstr("MedicationStatement")));
}

TEST(BuildConnectorReferralTest, MessageIdAndReferrerReferenceNeverLeave) {
  const std::string bytes = Bytes(Build(FullReferral()));
  EXPECT_THAT(bytes, Not(HasSubstr("msg-42")));
  EXPECT_THAT(bytes, Not(HasSubstr("GP-REF-778")));
}

// --- Reasons (IG-4, IG-5)
// ---------------------------------------------------------------------------

TEST(BuildConnectorReferralTest, KeepsOnlyNonSensitiveSnomedReasons) {
  const ConnectorReferral out = Build(FullReferral());
  ASSERT_EQ(out.reasons_size(), 1);
  EXPECT_EQ(out.reasons(0).code(), "267076002");
  EXPECT_EQ(out.reasons(0).system(), kSnomed);
  EXPECT_EQ(out.reasons(0).display(), "Feeling lonely");
  EXPECT_THAT(out.withheld_reason_note(), IsEmpty());
}

TEST(BuildConnectorReferralTest, SensitiveReasonCodeAndDisplayNeverLeave) {
  const std::string bytes = Bytes(Build(FullReferral()));
  EXPECT_THAT(bytes, Not(HasSubstr("86406008")));
  EXPECT_THAT(bytes, Not(HasSubstr("immunodeficiency")));
}

TEST(BuildConnectorReferralTest, ProcedureAndOtherSystemCodesAreNotForwardedAsReasons) {
  const std::string bytes = Bytes(Build(FullReferral()));
  EXPECT_THAT(bytes, Not(HasSubstr("871731000000106")));
  EXPECT_THAT(bytes, Not(HasSubstr("Z63.4")));
}

TEST(BuildConnectorReferralTest, UnknownSnomedReasonIsKept) {
  Referral r = FullReferral();
  r.clear_reasons();
  AddReason(&r, "22298006", "Some well-formed code not in the network's list");
  const ConnectorReferral out = Build(r);
  ASSERT_EQ(out.reasons_size(), 1);
  EXPECT_EQ(out.reasons(0).code(), "22298006");
}

TEST(BuildConnectorReferralTest, EverySensitiveReasonWithheldSaysDiscussedWithReferrer) {
  Referral r = FullReferral();
  r.clear_reasons();
  AddReason(&r, "105629000", "Chlamydial infection");
  AddReason(&r, "871731000000106", "Referral to social prescribing service");
  const ConnectorReferral out = Build(r);
  EXPECT_THAT(out.reasons(), IsEmpty());
  EXPECT_EQ(out.withheld_reason_note(), kDiscussedWithReferrer);
  const std::string bytes = Bytes(out);
  EXPECT_THAT(bytes, Not(HasSubstr("105629000")));
  EXPECT_THAT(bytes, Not(HasSubstr("Chlamydial")));
}

TEST(BuildConnectorReferralTest, SafeguardingReasonNeverLeaves) {
  Referral r = FullReferral();
  AddReason(&r, "836881000000105", "Child is cause for safeguarding concern");
  const std::string bytes = Bytes(Build(r));
  EXPECT_THAT(bytes, Not(HasSubstr("836881000000105")));
  EXPECT_THAT(bytes, Not(HasSubstr("safeguarding")));
}

TEST(BuildConnectorReferralTest, WithheldNoteFollowsTheDecision) {
  Referral r = FullReferral();
  ConsentDecision decision = DecideConsent(r, ConsentPolicy{}, Demo());
  decision.all_reasons_withheld = true;
  const ConnectorReferral out = BuildConnectorReferral(r, decision, Team(kWellbeingTeam), "ref-0001", Demo());
  EXPECT_THAT(out.reasons(), IsEmpty());
  EXPECT_EQ(out.withheld_reason_note(), kDiscussedWithReferrer);
}

// --- IG-6 ----------------------------------------------------------------------------------------

TEST(BuildConnectorReferralTest, SFlagSendsNoAddressOrPhone) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConnectorReferral out = Build(r);
  EXPECT_FALSE(out.has_home_address());
  const std::string bytes = Bytes(out);
  EXPECT_THAT(bytes, Not(HasSubstr(kPostcode)));
  EXPECT_THAT(bytes, Not(HasSubstr(kStreet)));
  EXPECT_THAT(bytes, Not(HasSubstr(kPhone)));
  EXPECT_THAT(bytes, Not(HasSubstr(kMobile)));
}

TEST(BuildConnectorReferralTest, SFlagSendsNoEmailEither) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConnectorReferral out = Build(r);
  EXPECT_THAT(out.telecom(), IsEmpty());
  EXPECT_THAT(Bytes(out), Not(HasSubstr(kEmail)));
}

TEST(BuildConnectorReferralTest, SFlagContactsViaReferrer) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConnectorReferral out = Build(r);
  EXPECT_TRUE(out.contact_via_referrer());
  EXPECT_EQ(out.preferred_contact_method(), v1::CONTACT_VIA_REFERRER);
}

TEST(BuildConnectorReferralTest, SFlagKeepsTheReferrersContact) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConnectorReferral out = Build(r);
  ASSERT_EQ(out.requester().telecom_size(), 1);
  EXPECT_EQ(out.requester().telecom(0).value(), "01619110999");
}

TEST(BuildConnectorReferralTest, SFlagOnThePersonAppliesEvenIfTheDecisionMissedIt) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  ConsentDecision decision = DecideConsent(r, ConsentPolicy{}, Demo());
  decision.contact_via_referrer = false;
  const ConnectorReferral out = BuildConnectorReferral(r, decision, Team(kWellbeingTeam), "ref-0001", Demo());
  EXPECT_TRUE(out.contact_via_referrer());
  EXPECT_THAT(Bytes(out), Not(HasSubstr(kPostcode)));
}

// --- IG-5: the referrer's free text -------------------------------------------------------------

TEST(BuildConnectorReferralTest, ReferrerTextIsWithheldWhenASensitiveReasonIsWithheld) {
  Referral r = WithoutSensitiveContent(FullReferral());
  AddReason(&r, "86406008", "Human immunodeficiency virus infection");
  r.set_referrer_text("Isolated since her HIV diagnosis last year.");
  const ConnectorReferral out = Build(r);
  EXPECT_EQ(out.referrer_text(), kDiscussedWithReferrer);
  EXPECT_THAT(Bytes(out), Not(HasSubstr("HIV")));
  EXPECT_EQ(out.what_matters(), r.what_matters()) << "what matters to the person still goes";
  ASSERT_EQ(out.reasons_size(), 1) << "the non-sensitive reason still goes";
}

TEST(BuildConnectorReferralTest, ReferrerTextIsWithheldWhenASafeguardingFlagIsWithheld) {
  Referral r = WithoutSensitiveContent(FullReferral());
  ClinicalContent* flag = r.add_clinical_content();
  flag->set_kind(ClinicalContent::FLAG);
  flag->set_status("active");
  flag->set_category("SG");
  r.set_referrer_text("Lonely; social care involved after a safeguarding concern.");
  const ConnectorReferral out = Build(r);
  EXPECT_EQ(out.referrer_text(), kDiscussedWithReferrer);
  EXPECT_THAT(Bytes(out), Not(HasSubstr("safeguarding")));
}

TEST(BuildConnectorReferralTest, EmptyReferrerTextStaysEmptyWhenWithheld) {
  Referral r = FullReferral();
  r.clear_referrer_text();
  EXPECT_THAT(Build(r).referrer_text(), IsEmpty());
}

// --- WithheldFromConnector: what a recipient does not get, by category, and why -------------------

std::vector<std::string> Items(const std::vector<WithheldItem>& items) {
  std::vector<std::string> out;
  for (const WithheldItem& i : items) out.push_back(i.rule_id + " " + i.category + " " + i.recipient_endpoint);
  return out;
}

TEST(WithheldFromConnectorTest, NamesEveryCategoryRecipientAndRule) {
  Referral r = FullReferral();
  r.mutable_person()->set_demographics_restricted(true);
  const ConsentDecision d = DecideConsent(r, ConsentPolicy{}, Demo());
  EXPECT_THAT(
      Items(WithheldFromConnector(r, d, Team(kOlderPeopleTeam))),
      ElementsAre("IG-4 birth-date ageuk-oldham", "IG-4 clinical:flag ageuk-oldham",
                  "IG-4 clinical:medication ageuk-oldham", "IG-4 gender ageuk-oldham", "IG-4 nhs-number ageuk-oldham",
                  "IG-5 hiv ageuk-oldham", "IG-5 referrer-text ageuk-oldham", "IG-5 safeguarding ageuk-oldham",
                  "IG-6 address ageuk-oldham", "IG-6 email ageuk-oldham", "IG-6 phone ageuk-oldham"));
}

TEST(WithheldFromConnectorTest, NhsNumberIsNotWithheldFromAnEndpointThatAcceptsIt) {
  const Referral r = WithoutSensitiveContent(FullReferral());
  const ConsentDecision d = DecideConsent(r, ConsentPolicy{}, Demo());
  EXPECT_THAT(Items(WithheldFromConnector(r, d, Team(kWellbeingTeam))),
              ElementsAre("IG-4 birth-date action-together-oldham", "IG-4 gender action-together-oldham"));
}

TEST(WithheldFromConnectorTest, ReasonsNeverCarryValues) {
  Referral r = FullReferral();
  const ConsentDecision d = DecideConsent(r, ConsentPolicy{}, Demo());
  for (const WithheldItem& item : WithheldFromConnector(r, d, Team(kOlderPeopleTeam))) {
    EXPECT_THAT(item.reason, Not(HasSubstr(kNhsNumber)));
    EXPECT_THAT(item.reason, Not(HasSubstr(kMedicationText)));
    EXPECT_FALSE(item.reason.empty()) << item.category;
  }
}

}  // namespace
}  // namespace frontdoor::consent
