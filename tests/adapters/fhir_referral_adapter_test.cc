#include "adapters/fhir_referral_adapter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/adapter_test_support.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::ClinicalContent;
using frontdoor::v1::Consent;
using frontdoor::v1::Issue;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::IssueIs;
using testing::ReadSample;
using testing::ReplaceOnce;
using ::testing::SizeIs;

ParsedReferral Parse(const std::string& json) { return ParseFhirReferral(json, FhirLimits{}); }

std::string Sample01() { return ReadSample("01-fhir-oldham-wellbeing.json"); }

// ---------------------------------------------------------------------------------------------
// Every FHIR sample reads into the referral PROFILE.md implies.

struct FhirSample {
  const char* file;
  const char* message_id;
  const char* sender;
  const char* nhs_number;
  const char* birth_date;
  const char* referral_date;
  const char* postcode;
  const char* practice;
  std::vector<std::string> reasons;
  const char* consents;  // One letter per consent in order: P permit, D deny.
  bool s_flag;
  bool self_referral;
};

class FhirSampleTest : public ::testing::TestWithParam<FhirSample> {};

TEST_P(FhirSampleTest, ReadsTheReferralTheProfileDescribes) {
  const FhirSample& sample = GetParam();
  ParsedReferral parsed = Parse(ReadSample(sample.file));
  const frontdoor::v1::Referral& referral = parsed.referral;

  EXPECT_EQ(parsed.format, MessageFormat::kFhir);
  EXPECT_EQ(referral.message_id(), sample.message_id);
  EXPECT_EQ(parsed.reply.bundle_id, sample.message_id);
  EXPECT_EQ(referral.sender_ods(), sample.sender);
  EXPECT_EQ(referral.person().nhs_number(), sample.nhs_number);
  EXPECT_EQ(referral.person().birth_date(), sample.birth_date);
  EXPECT_EQ(referral.referral_date(), sample.referral_date);
  EXPECT_EQ(referral.person().home_address().postcode(), sample.postcode);
  EXPECT_EQ(referral.person().registered_practice_ods(), sample.practice);
  std::vector<std::string> reasons;
  for (const auto& reason : referral.reasons()) {
    EXPECT_EQ(reason.system(), "http://snomed.info/sct");
    reasons.push_back(reason.code());
  }
  EXPECT_EQ(reasons, sample.reasons);
  std::string consents;
  for (const Consent& consent : referral.consents()) {
    EXPECT_EQ(consent.status(), Consent::ACTIVE);
    consents += consent.provision() == Consent::PERMIT ? "P" : consent.provision() == Consent::DENY ? "D" : "?";
  }
  EXPECT_EQ(consents, sample.consents);
  EXPECT_EQ(referral.person().demographics_restricted(), sample.s_flag);
  EXPECT_EQ(referral.self_referral(), sample.self_referral);
  EXPECT_EQ(parsed.paths.reasons.size(), static_cast<size_t>(referral.reasons_size()));
  EXPECT_EQ(parsed.paths.consent_dates.size(), static_cast<size_t>(referral.consents_size()));

  if (std::string(sample.birth_date).empty()) {
    EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.entry[2].resource.birthDate")));
  } else {
    EXPECT_THAT(parsed.issues, IsEmpty());
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, FhirSampleTest,
                         ::testing::Values(FhirSample{"01-fhir-oldham-wellbeing.json",
                                                      "416d4e4e-3f58-5660-a408-b2fa0b0e74a4",
                                                      "P85901",
                                                      "9991951024",
                                                      "1979-08-14",
                                                      "2025-02-03",
                                                      "OL2 6LB",
                                                      "P85901",
                                                      {"267076002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"02-fhir-oldham-older-people.json",
                                                      "f7e5e17f-a992-5c7f-a069-c1eaf5fa801f",
                                                      "P85913",
                                                      "9991830545",
                                                      "1948-11-02",
                                                      "2025-02-11",
                                                      "OL1 1JU",
                                                      "P85913",
                                                      {"422650009"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"03-fhir-oldham-mental-health.json",
                                                      "b0fd83db-f032-5df5-9782-a51a8b75043c",
                                                      "P85905",
                                                      "9991451110",
                                                      "1991-05-27",
                                                      "2025-02-19",
                                                      "OL4 4DN",
                                                      "P85905",
                                                      {"48694002", "413300002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"04-fhir-tameside-all.json",
                                                      "b0701950-c5f2-53eb-9443-64d24980b611",
                                                      "P89903",
                                                      "9991492496",
                                                      "1957-01-30",
                                                      "2025-03-04",
                                                      "M34 3PL",
                                                      "P89903",
                                                      {"105529008"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"05-fhir-paused-team-front-door.json",
                                                      "0aed37de-7b0e-5ae1-a5cc-85881925e4ba",
                                                      "P85910",
                                                      "9991139419",
                                                      "1985-09-09",
                                                      "2025-03-12",
                                                      "M35 0HS",
                                                      "P85910",
                                                      {"48694002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"06-fhir-practice-fallback.json",
                                                      "48022d67-c738-574a-ab88-bff6589067f6",
                                                      "P85903",
                                                      "9991832718",
                                                      "1969-03-15",
                                                      "2025-03-20",
                                                      "",
                                                      "P85903",
                                                      {"160932005"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"07-fhir-out-of-area.json",
                                                      "0cf18bb4-abf2-57e5-addd-709209a8b46d",
                                                      "L9O03",
                                                      "9991296506",
                                                      "1972-06-21",
                                                      "2025-03-27",
                                                      "M14 7HR",
                                                      "P84034",
                                                      {"267076002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"08-fhir-ig1-no-consent.json",
                                                      "9d15f097-6920-504c-a1f6-0c3acf0e6c70",
                                                      "P85915",
                                                      "9991414894",
                                                      "1983-12-05",
                                                      "2025-04-02",
                                                      "OL4 1QE",
                                                      "P85915",
                                                      {"422650009"},
                                                      "",
                                                      false,
                                                      false},
                                           FhirSample{"09-fhir-ig2-objection.json",
                                                      "552a623f-2727-568b-be13-ae6cfa154a4f",
                                                      "P89901",
                                                      "9991038787",
                                                      "1964-10-19",
                                                      "2025-04-09",
                                                      "OL6 7SR",
                                                      "P89901",
                                                      {"105529008"},
                                                      "PD",
                                                      false,
                                                      false},
                                           FhirSample{"10-fhir-ig3-under-18.json",
                                                      "b7dbaa2d-63b3-5367-949c-583ce9d250d2",
                                                      "P89906",
                                                      "9991278222",
                                                      "2008-09-30",
                                                      "2025-04-15",
                                                      "SK14 2NH",
                                                      "P89906",
                                                      {"413300002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"11-fhir-ig5-sensitive-withheld.json",
                                                      "48132fac-0955-55f7-9c27-ef59022694b3",
                                                      "P85910",
                                                      "9991040153",
                                                      "1996-02-14",
                                                      "2025-04-23",
                                                      "OL9 0LU",
                                                      "P85910",
                                                      {"267076002", "105629000"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"12-fhir-ig6-s-flag.json",
                                                      "f1d1f0ea-b0f3-50b0-8944-4f7db427106a",
                                                      "P85901",
                                                      "9991861297",
                                                      "1955-07-07",
                                                      "2025-04-29",
                                                      "OL2 6RQ",
                                                      "P85901",
                                                      {"1912002"},
                                                      "P",
                                                      true,
                                                      false},
                                           FhirSample{"13-fhir-invalid-nhs-number.json",
                                                      "65bc9241-4812-5105-9d95-90ff0c0ffdb8",
                                                      "P85903",
                                                      "9991282290",
                                                      "1976-10-23",
                                                      "2025-05-06",
                                                      "OL1 4HX",
                                                      "P85903",
                                                      {"422650009"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"14-fhir-missing-birth-date.json",
                                                      "8515cfc1-a3d4-5bdf-8a0f-9ca15e3d236c",
                                                      "P89903",
                                                      "9991334211",
                                                      "",
                                                      "2025-05-13",
                                                      "M34 3DU",
                                                      "P89903",
                                                      {"105529008"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"15-fhir-duplicate-resend.json",
                                                      "416d4e4e-3f58-5660-a408-b2fa0b0e74a4",
                                                      "P85901",
                                                      "9991951024",
                                                      "1979-08-14",
                                                      "2025-02-03",
                                                      "OL2 6LB",
                                                      "P85901",
                                                      {"267076002"},
                                                      "P",
                                                      false,
                                                      false},
                                           FhirSample{"16-fhir-self-referral.json",
                                                      "49efac50-d614-5947-a53b-2cb1626199a7",
                                                      "P85913",
                                                      "9991486461",
                                                      "1988-04-04",
                                                      "2025-05-20",
                                                      "OL1 1LR",
                                                      "P85913",
                                                      {"422650009"},
                                                      "",
                                                      false,
                                                      true}),
                         [](const ::testing::TestParamInfo<FhirSample>& info) {
                           return "Sample" + std::string(info.param.file).substr(0, 2);
                         });

TEST(FhirReferralAdapterTest, NamesEachDatumByItsFhirPath) {
  ParsedReferral parsed = Parse(Sample01());
  EXPECT_EQ(parsed.paths.message_id, "Bundle.id");
  EXPECT_EQ(parsed.paths.sender_ods, "Bundle.entry[6].resource.identifier[0].value");
  EXPECT_EQ(parsed.paths.referral_date, "Bundle.entry[1].resource.authoredOn");
  EXPECT_EQ(parsed.paths.nhs_number, "Bundle.entry[2].resource.identifier[0].value");
  EXPECT_EQ(parsed.paths.birth_date, "Bundle.entry[2].resource.birthDate");
  EXPECT_EQ(parsed.paths.postcode, "Bundle.entry[2].resource.address[0].postalCode");
  EXPECT_EQ(parsed.paths.registered_practice_ods, "Bundle.entry[6].resource.identifier[0].value");
  EXPECT_THAT(parsed.paths.reasons, ElementsAre("Bundle.entry[1].resource.reasonCode[0].coding[0].code"));
  EXPECT_THAT(parsed.paths.consent_dates, ElementsAre("Bundle.entry[3].resource.dateTime"));
  EXPECT_THAT(parsed.paths.consent_starts, ElementsAre("Bundle.entry[3].resource.provision.period.start"));
  EXPECT_THAT(parsed.paths.consent_ends, ElementsAre("Bundle.entry[3].resource.provision.period.end"));
}

TEST(FhirReferralAdapterTest, ReadsWhatAConnectorMayReceive) {
  ParsedReferral parsed = Parse(Sample01());
  const auto& referral = parsed.referral;
  const auto& person = referral.person();
  EXPECT_EQ(person.name().family(), "Pickup");
  EXPECT_THAT(person.name().given(), ElementsAre("Olivia"));
  EXPECT_EQ(person.name().prefix(), "Ms");
  EXPECT_EQ(person.gender(), "female");
  EXPECT_EQ(person.language(), "en");
  EXPECT_THAT(person.home_address().lines(), ElementsAre("51 Windmill Lane"));
  EXPECT_EQ(person.home_address().city(), "Royton");
  ASSERT_THAT(person.telecom(), SizeIs(2));
  EXPECT_EQ(person.telecom(1).value(), "07700 900363");
  EXPECT_EQ(person.telecom(1).use(), "mobile");
  EXPECT_EQ(person.telecom(1).rank(), 1u);
  EXPECT_EQ(person.telecom(1).system(), frontdoor::v1::ContactPoint::PHONE);
  EXPECT_THAT(referral.referrer_text(), ::testing::StartsWith("Feels lonely"));
  EXPECT_EQ(referral.what_matters(), "Finding something to do with other people at weekends.");
  EXPECT_EQ(referral.referrer_reference(), "REF-P85901-50614");
  EXPECT_EQ(referral.requester().name().family(), "Marsden");
  EXPECT_EQ(referral.requester().role(), "General practitioner");
  EXPECT_EQ(referral.requester().organisation_ods(), "P85901");
  EXPECT_EQ(referral.requester().organisation_name(), "Royton Health and Wellbeing Centre");
  ASSERT_THAT(referral.requester().telecom(), SizeIs(1));
  EXPECT_EQ(referral.consents(0).id(), "6e9eb699-fb91-59a7-b9f5-ed2650f1891f");
  EXPECT_EQ(referral.consents(0).date(), "2025-02-03");
  EXPECT_EQ(referral.consents(0).period_start(), "2025-02-03");
  EXPECT_EQ(referral.consents(0).category(), "DRC");
  EXPECT_EQ(parsed.reply.source_endpoint, "https://referrers.example.org/P85901/fhir");
  EXPECT_THAT(referral.clinical_content(), IsEmpty());
}

TEST(FhirReferralAdapterTest, SelfReferralHasNoRequester) {
  ParsedReferral parsed = Parse(ReadSample("16-fhir-self-referral.json"));
  EXPECT_TRUE(parsed.referral.self_referral());
  EXPECT_FALSE(parsed.referral.has_requester());
}

TEST(FhirReferralAdapterTest, ObjectionSampleKeepsBothConsentsInOrder) {
  ParsedReferral parsed = Parse(ReadSample("09-fhir-ig2-objection.json"));
  ASSERT_THAT(parsed.referral.consents(), SizeIs(2));
  EXPECT_EQ(parsed.referral.consents(0).provision(), Consent::PERMIT);
  EXPECT_EQ(parsed.referral.consents(0).date(), "2024-06-11");
  EXPECT_EQ(parsed.referral.consents(1).provision(), Consent::DENY);
  EXPECT_EQ(parsed.referral.consents(1).period_start(), "2025-04-08");
}

// ---------------------------------------------------------------------------------------------
// Content beyond the canonical fields, and the PROFILE's choices.

constexpr char kExtraEntries[] = R"(,
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000001",
     "resource": {"resourceType": "Flag", "id": "f1", "status": "active",
       "category": [{"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/flag-categories-bars", "code": "SG"}]}],
       "code": {"text": "Safeguarding concern"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000002",
     "resource": {"resourceType": "MedicationStatement", "status": "active",
       "medicationCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "322236009"}]}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000003",
     "resource": {"resourceType": "Condition",
       "code": {"coding": [{"system": "http://snomed.info/sct", "code": "86406008"}]}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000004",
     "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "BP"}}},
    {"fullUrl": "urn:uuid:aaaaaaaa-0000-0000-0000-000000000005",
     "resource": {"resourceType": "AllergyIntolerance"}}
  ]
})";

std::string WithExtraEntries(std::string json) {
  size_t end = json.rfind(']');
  return json.substr(0, end) + kExtraEntries;
}

TEST(FhirReferralAdapterTest, OtherResourcesBecomeClinicalContent) {
  ParsedReferral parsed = Parse(WithExtraEntries(Sample01()));
  ASSERT_THAT(parsed.issues, IsEmpty());
  const auto& content = parsed.referral.clinical_content();
  ASSERT_THAT(content, SizeIs(5));
  EXPECT_EQ(content[0].kind(), ClinicalContent::FLAG);
  EXPECT_EQ(content[0].category(), "SG");
  EXPECT_EQ(content[0].status(), "active");
  EXPECT_EQ(content[0].text(), "Safeguarding concern");
  EXPECT_EQ(content[1].kind(), ClinicalContent::MEDICATION);
  EXPECT_EQ(content[1].codes(0).code(), "322236009");
  EXPECT_EQ(content[2].kind(), ClinicalContent::CONDITION);
  EXPECT_EQ(content[2].codes(0).code(), "86406008");
  EXPECT_EQ(content[3].kind(), ClinicalContent::OBSERVATION);
  EXPECT_EQ(content[4].kind(), ClinicalContent::OTHER);
  EXPECT_EQ(content[4].source_type(), "AllergyIntolerance");
  // A Condition is never a reason.
  EXPECT_THAT(parsed.referral.reasons(), SizeIs(1));
}

TEST(FhirReferralAdapterTest, VeryRestrictedIsAnSFlagToo) {
  std::string json = ReplaceOnce(
      Sample01(), R"("resourceType": "Patient",)",
      R"("resourceType": "Patient", "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]},)");
  EXPECT_TRUE(Parse(json).referral.person().demographics_restricted());
}

TEST(FhirReferralAdapterTest, NonSnomedReasonCodingsAreIgnored) {
  std::string json = ReplaceOnce(Sample01(), R"("system": "http://snomed.info/sct",
                "code": "267076002")",
                                 R"("system": "http://read.info/ctv3",
                "code": "XaX1Y")");
  ParsedReferral parsed = Parse(json);
  EXPECT_THAT(parsed.referral.reasons(), IsEmpty());
  EXPECT_THAT(parsed.issues, IsEmpty());
}

TEST(FhirReferralAdapterTest, LogicalPracticeReferenceAsPdsSendsIt) {
  std::string json = ReplaceOnce(
      Sample01(), R"("generalPractitioner": [
          {
            "reference": "urn:uuid:b240c841-8ab0-566f-b67f-15c79c620c3e"
          }
        ])",
      R"("generalPractitioner": [{"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "P85913"}}])");
  ParsedReferral parsed = Parse(json);
  EXPECT_EQ(parsed.referral.person().registered_practice_ods(), "P85913");
  EXPECT_EQ(parsed.paths.registered_practice_ods, "Bundle.entry[2].resource.generalPractitioner[0].identifier.value");
}

TEST(FhirReferralAdapterTest, HomeIsTheHomeAddressNeverAnOldOne) {
  std::string json =
      ReplaceOnce(Sample01(), R"("address": [)",
                  R"("address": [{"use": "old", "postalCode": "M1 1AA"}, {"use": "work", "postalCode": "M2 2BB"},)");
  ParsedReferral parsed = Parse(json);
  EXPECT_EQ(parsed.referral.person().home_address().postcode(), "OL2 6LB");
  EXPECT_EQ(parsed.paths.postcode, "Bundle.entry[2].resource.address[2].postalCode");
}

TEST(FhirReferralAdapterTest, AddressWithoutUseIsTheHomeWhenNoneSaysHome) {
  std::string json = ReplaceOnce(Sample01(), R"("use": "home",
            "type": "both",)",
                                 R"("type": "both",)");
  json = ReplaceOnce(json, R"("address": [)", R"("address": [{"use": "temp", "postalCode": "M1 1AA"},)");
  ParsedReferral parsed = Parse(json);
  EXPECT_EQ(parsed.referral.person().home_address().postcode(), "OL2 6LB");
}

// ---------------------------------------------------------------------------------------------
// Format-specific errors, each with its path.

TEST(FhirReferralAdapterTest, AResourceOtherThanABundleIsUnsupported) {
  EXPECT_THAT(Parse(R"({"resourceType": "Patient", "id": "x"})").issues,
              ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "resourceType")));
  EXPECT_THAT(Parse(R"({"id": "x"})").issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "resourceType")));
}

TEST(FhirReferralAdapterTest, ABundleThatIsNotAMessageIsUnsupported) {
  std::string json = ReplaceOnce(Sample01(), R"("type": "message")", R"("type": "collection")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "Bundle.type")));
}

TEST(FhirReferralAdapterTest, AnotherEventIsUnsupported) {
  std::string json =
      ReplaceOnce(Sample01(), R"("code": "servicerequest-request")", R"("code": "servicerequest-cancel")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "Bundle.entry[0].resource.eventCoding")));
}

TEST(FhirReferralAdapterTest, NoBundleIdIsMissing) {
  std::string json = ReplaceOnce(Sample01(), R"("id": "416d4e4e-3f58-5660-a408-b2fa0b0e74a4",)", "");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.id")));
}

TEST(FhirReferralAdapterTest, FirstEntryMustBeTheMessageHeader) {
  std::string json = ReplaceOnce(Sample01(), R"("resourceType": "MessageHeader")", R"("resourceType": "Basic")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.entry[0].resource")));
}

TEST(FhirReferralAdapterTest, AFocusThatResolvesToNothingIsMissing) {
  std::string json = ReplaceOnce(Sample01(), R"("focus": [
          {
            "reference": "urn:uuid:107d5a76-e798-5574-81ae-1234894d063a")",
                                 R"("focus": [
          {
            "reference": "urn:uuid:00000000-0000-0000-0000-000000000000")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.entry[0].resource.focus[0]")));
}

TEST(FhirReferralAdapterTest, ASubjectThatIsNotAPatientIsMissing) {
  std::string json = ReplaceOnce(Sample01(), R"("subject": {
          "reference": "urn:uuid:0cf0bce9-f267-5a8e-98e6-7e965ad8ecbe")",
                                 R"("subject": {
          "reference": "urn:uuid:b240c841-8ab0-566f-b67f-15c79c620c3e")");
  EXPECT_THAT(Parse(json).issues, Contains(IssueIs("MISSING_ELEMENT", "Bundle.entry[1].resource.subject")));
}

TEST(FhirReferralAdapterTest, NoNhsNumberIsMissingWhereExpected) {
  std::string json = ReplaceOnce(Sample01(), R"("system": "https://fhir.nhs.uk/Id/nhs-number",)",
                                 R"("system": "https://example.org/other",)");
  ParsedReferral parsed = Parse(json);
  EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.entry[2].resource.identifier")));
  EXPECT_EQ(parsed.paths.nhs_number, "Bundle.entry[2].resource.identifier");
}

TEST(FhirReferralAdapterTest, TwoNhsNumbersAreInvalid) {
  std::string json = ReplaceOnce(Sample01(), R"("system": "https://fhir.emis-web.example.org/Id/patient-number",)",
                                 R"("system": "https://fhir.nhs.uk/Id/nhs-number",)");
  EXPECT_THAT(Parse(json).issues,
              ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[2].resource.identifier[1].value")));
}

// Sample 01 with one more entry (entry[7]) holding `resource`.
std::string Sample01WithEntry(const std::string& resource) {
  std::string json = Sample01();
  const size_t end = json.rfind(']');
  return json.substr(0, end) +
         ", {\"fullUrl\": \"urn:uuid:6f1c2d9e-0000-4000-8000-000000000007\", \"resource\": " + resource + "}\n" +
         json.substr(end);
}

TEST(FhirReferralAdapterTest, ASecondPatientIsInvalidAndNamedByItsEntry) {
  const std::string json = Sample01WithEntry(
      R"({"resourceType": "Patient", "id": "p2", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
          "value": "9434765919"}], "birthDate": "1950-01-01"})");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[7].resource")));
}

TEST(FhirReferralAdapterTest, ASecondServiceRequestOrMessageHeaderIsInvalid) {
  EXPECT_THAT(Parse(Sample01WithEntry(R"({"resourceType": "ServiceRequest", "id": "sr2", "status": "active"})")).issues,
              ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[7].resource")));
  EXPECT_THAT(Parse(Sample01WithEntry(R"({"resourceType": "MessageHeader", "id": "mh2"})")).issues,
              ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[7].resource")));
}

TEST(FhirReferralAdapterTest, DuplicateFullUrlIsInvalid) {
  std::string json = ReplaceOnce(Sample01(), R"("fullUrl": "urn:uuid:f683f8fc-7ff7-5383-b9a0-824ccec424d6")",
                                 R"("fullUrl": "urn:uuid:b7a65851-ddc3-5d0f-b768-2f461d8b90fa")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[5].fullUrl")));
}

TEST(FhirReferralAdapterTest, PartialDatesAreInvalid) {
  std::string json = ReplaceOnce(Sample01(), R"("birthDate": "1979-08-14")", R"("birthDate": "1979-08")");
  json = ReplaceOnce(json, R"("authoredOn": "2025-02-03T10:15:00+00:00")", R"("authoredOn": "2025")");
  json = ReplaceOnce(json, R"("dateTime": "2025-02-03T09:00:00+00:00")", R"("dateTime": "2025-02")");
  ParsedReferral parsed = Parse(json);
  EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[1].resource.authoredOn"),
                                         IssueIs("INVALID_VALUE", "Bundle.entry[2].resource.birthDate"),
                                         IssueIs("INVALID_VALUE", "Bundle.entry[3].resource.dateTime")));
  EXPECT_EQ(parsed.referral.person().birth_date(), "1979-08");
}

TEST(FhirReferralAdapterTest, ANumberWhereAStringBelongsIsInvalid) {
  std::string json = ReplaceOnce(Sample01(), R"("birthDate": "1979-08-14")", R"("birthDate": 19790814)");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[2].resource.birthDate"),
                                              IssueIs("MISSING_ELEMENT", "Bundle.entry[2].resource.birthDate")));
  json = ReplaceOnce(Sample01(), R"("value": "9991951024")", R"("value": ["9991951024"])");
  EXPECT_THAT(Parse(json).issues, Contains(IssueIs("INVALID_VALUE", "Bundle.entry[2].resource.identifier[0].value")));
  json = ReplaceOnce(Sample01(), R"("type": "message")", R"("type": 7)");
  EXPECT_THAT(Parse(json).issues, Contains(IssueIs("INVALID_VALUE", "Bundle.type")));
}

TEST(FhirReferralAdapterTest, WrongJsonTypesForContainersAreInvalid) {
  std::string json = ReplaceOnce(Sample01(), R"("reasonCode": [)", R"("reasonCode": {"x": [)");
  json = ReplaceOnce(json, R"(],
        "authoredOn")",
                     R"(]},
        "authoredOn")");
  EXPECT_THAT(Parse(json).issues, ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[1].resource.reasonCode")));
  EXPECT_THAT(Parse(R"({"resourceType": "Bundle", "id": "a", "type": "message", "entry": {}})").issues,
              ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry")));
  EXPECT_THAT(Parse(R"({"resourceType": "Bundle", "id": "a", "type": "message", "entry": [1]})").issues,
              ElementsAre(IssueIs("INVALID_VALUE", "Bundle.entry[0]")));
  EXPECT_THAT(Parse(R"({"resourceType": 1})").issues, ElementsAre(IssueIs("INVALID_VALUE", "resourceType")));
}

TEST(FhirReferralAdapterTest, PathsNameIndexesOfMoreThanOneDigit) {
  std::string entries = "1";
  for (int i = 1; i < 12; ++i) entries += ", 1";
  const ParsedReferral parsed =
      Parse(R"({"resourceType": "Bundle", "id": "a", "type": "message", "entry": [)" + entries + "]}");
  ASSERT_THAT(parsed.issues, SizeIs(12));
  EXPECT_THAT(parsed.issues[9], IssueIs("INVALID_VALUE", "Bundle.entry[9]"));
  EXPECT_THAT(parsed.issues[10], IssueIs("INVALID_VALUE", "Bundle.entry[10]"));
  EXPECT_THAT(parsed.issues[11], IssueIs("INVALID_VALUE", "Bundle.entry[11]"));
}

TEST(FhirReferralAdapterTest, IssueMessagesCarryNoPatientData) {
  std::string json = ReplaceOnce(Sample01(), R"("birthDate": "1979-08-14")", R"("birthDate": "1979-08")");
  json = ReplaceOnce(json, R"("system": "https://fhir.emis-web.example.org/Id/patient-number",)",
                     R"("system": "https://fhir.nhs.uk/Id/nhs-number",)");
  for (const Issue& issue : Parse(json).issues) {
    EXPECT_EQ(issue.message().find("1979"), std::string::npos) << issue.message();
    EXPECT_EQ(issue.message().find("999"), std::string::npos) << issue.message();
    EXPECT_EQ(issue.message().find("EMIS"), std::string::npos) << issue.message();
    EXPECT_EQ(issue.severity(), Issue::ERROR);
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile input: one MALFORMED issue, no crash, nothing mapped.

void ExpectMalformed(const std::string& input, const FhirLimits& limits = FhirLimits{}) {
  ParsedReferral parsed = ParseFhirReferral(input, limits);
  ASSERT_THAT(parsed.issues, ElementsAre(IssueIs("MALFORMED", ""))) << parsed.issues.size();
  EXPECT_FALSE(parsed.issues[0].message().empty());
  EXPECT_EQ(parsed.referral.message_id(), "");
}

TEST(FhirHostileInputTest, InvalidUtf8InAStringIsMalformed) {
  std::string json = ReplaceOnce(Sample01(), "Olivia", "Oli\xC3\x28via");
  ExpectMalformed(json);
  EXPECT_THAT(Parse(json).issues[0].message(), ::testing::HasSubstr("UTF-8"));
}

TEST(FhirHostileInputTest, InvalidUtf8OutsideStringsIsMalformed) { ExpectMalformed("\xFF{}"); }

TEST(FhirHostileInputTest, OverlongAndSurrogateEncodingsAreMalformed) {
  ExpectMalformed("{\"resourceType\": \"\xC0\xAF\"}");
  ExpectMalformed("{\"resourceType\": \"\xED\xA0\x80\"}");
  ExpectMalformed(R"({"resourceType": "\ud800"})");
}

TEST(FhirHostileInputTest, NulByteIsMalformed) {
  ExpectMalformed(std::string("{\"resourceType\": \"Bun\0dle\"}", 26));
  ExpectMalformed(R"({"resourceType": "Bun\u0000dle"})");
  ExpectMalformed(R"({"resourceType": "Bundle", "a\u0000b": 1})");                     // in a key
  ExpectMalformed(R"({"resourceType": "Bundle", "id": "x", "b": ["ok", "\u0000"]})");  // a later string
}

TEST(FhirHostileInputTest, AnUnescapedControlCharacterInAStringIsMalformed) {
  // JSON strings must escape U+0000..U+001F. Long strings too: the SIMD scan takes 16 bytes at a time.
  ExpectMalformed(
      std::string("{\"resourceType\": \"Bun\x1a"
                  "dle\"}"));
  ExpectMalformed(
      std::string("{\"resourceType\": \"Bundle\", \"id\": \"https://referrers.example.or\x1a/P85903/fhir\"}"));
  ExpectMalformed(std::string("{\"resourceType\": \"Bundle\", \"id\": \"") + std::string(40, 'a') + "\x01" +
                  std::string(40, 'b') + "\"}");
  ExpectMalformed(std::string("{\"resourceType\": \"Bundle\", \"k\x1f\": 1}"));
}

TEST(FhirHostileInputTest, DuplicateKeyAtTheTopIsMalformed) {
  ParsedReferral parsed = Parse(R"({"resourceType": "Bundle", "resourceType": "Patient"})");
  ASSERT_THAT(parsed.issues, ElementsAre(IssueIs("MALFORMED", "")));
  EXPECT_THAT(parsed.issues[0].message(), ::testing::HasSubstr("duplicate JSON key"));
  // The key is not echoed: it could be patient data.
  ParsedReferral with_data_key = Parse(R"({"9991951024": 1, "9991951024": 2})");
  ASSERT_THAT(with_data_key.issues, ElementsAre(IssueIs("MALFORMED", "")));
  EXPECT_EQ(with_data_key.issues[0].message().find("999"), std::string::npos);
}

TEST(FhirHostileInputTest, DuplicateKeyDeepInsideIsMalformed) {
  ExpectMalformed(ReplaceOnce(Sample01(), R"("birthDate": "1979-08-14")",
                              R"("birthDate": "1979-08-14", "birthDate": "2010-01-01")"));
}

TEST(FhirHostileInputTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_THAT(Parse(R"({"a": {"x": 1}, "b": {"x": 1}, "resourceType": "Patient"})").issues,
              ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "resourceType")));
}

TEST(FhirHostileInputTest, NestingDeeperThanTheLimitIsMalformed) {
  ExpectMalformed(std::string(10000, '[') + std::string(10000, ']'));
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(10000, '}');
  ExpectMalformed(objects);
  // Exactly at the limit is readable JSON (then not a Bundle).
  std::string at_limit = R"({"x":)" + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_THAT(Parse(at_limit).issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "resourceType")));
  ExpectMalformed(R"({"x":)" + std::string(64, '[') + std::string(64, ']') + "}");
}

TEST(FhirHostileInputTest, AVeryHighDepthLimitStillParsesDeepNestingWithoutRecursing) {
  // Past 256 levels the reader switches to RapidJSON's iterative parser: a million levels would
  // overflow the stack of a recursive one.
  FhirLimits limits;
  limits.max_depth = 2'000'000;
  limits.max_bytes = 4 << 20;
  const std::string deep = R"({"x":)" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}";
  // Read in full (no stack overflow, no MALFORMED), then found not to be a Bundle.
  EXPECT_THAT(ParseFhirReferral(deep, limits).issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "resourceType")));
}

TEST(FhirHostileInputTest, NumbersThatOverflowAreMalformed) {
  ExpectMalformed(R"({"resourceType": "Bundle", "n": 1e999})");
  ExpectMalformed(R"({"resourceType": "Bundle", "n": -1e999})");
  ExpectMalformed(R"({"resourceType": "Bundle", "n": )" + std::string(400, '9') + "}");
  ExpectMalformed(R"({"resourceType": "Bundle", "n": NaN})");
}

TEST(FhirHostileInputTest, OverTheSizeLimitIsMalformed) {
  std::string huge = R"({"resourceType": ")" + std::string((1 << 20) + 10, 'a') + R"("})";
  ExpectMalformed(huge);
  FhirLimits small;
  small.max_bytes = 100;
  ExpectMalformed(Sample01(), small);
}

TEST(FhirHostileInputTest, EmptyAndWhitespaceAreMalformed) {
  ExpectMalformed("");
  ExpectMalformed("   \n");
}

TEST(FhirHostileInputTest, AJsonArrayOrScalarIsMalformed) {
  ExpectMalformed(R"([{"resourceType": "Bundle"}])");
  ExpectMalformed(R"("Bundle")");
  ExpectMalformed("null");
}

TEST(FhirHostileInputTest, NotJsonAndTrailingContentAreMalformed) {
  ExpectMalformed(ReadSample("17-hl7-tameside-hospital.hl7"));
  ExpectMalformed(Sample01() + "{}");
  ExpectMalformed(R"({"resourceType": "Bundle",})");
  ExpectMalformed(R"({"resourceType": "Bundle" // comment
})");
  ExpectMalformed(Sample01().substr(0, 500));
}

}  // namespace
}  // namespace frontdoor::adapters
