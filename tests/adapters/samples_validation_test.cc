// The adapters and ValidateReferral together, as the gateway runs them (format problems first,
// then the canonical checks with the adapter's paths): every sample is readable except those
// shared/samples/README.md says are REJECTED, and those name the sender's own element.
#include <string>
#include <vector>

#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/referral_validation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/adapter_test_support.h"

namespace frontdoor::adapters {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::IssueIs;
using testing::ReadSample;

std::vector<frontdoor::v1::Issue> Readable(const std::string& file) {
  std::string text = ReadSample(file);
  ParsedReferral parsed = file.find("-fhir-") != std::string::npos ? ParseFhirReferral(text, FhirLimits{})
                                                                   : ParseHl7v2Referral(text, Hl7Limits{});
  std::vector<frontdoor::v1::Issue> issues = parsed.issues;
  if (!HasErrors(issues)) {
    // After every sample's referral date, so no date is in the future.
    std::vector<frontdoor::v1::Issue> more =
        ValidateReferral(parsed.referral, parsed.paths, CalendarDate{2025, 12, 31});
    issues.insert(issues.end(), more.begin(), more.end());
  }
  std::vector<frontdoor::v1::Issue> errors;
  for (const auto& issue : issues) {
    if (issue.severity() == frontdoor::v1::Issue::ERROR) errors.push_back(issue);
  }
  return errors;
}

class ReadableSampleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReadableSampleTest, HasNoValidationErrors) { EXPECT_THAT(Readable(GetParam()), IsEmpty()); }

INSTANTIATE_TEST_SUITE_P(
    Samples, ReadableSampleTest,
    ::testing::Values("01-fhir-oldham-wellbeing.json", "02-fhir-oldham-older-people.json",
                      "03-fhir-oldham-mental-health.json", "04-fhir-tameside-all.json",
                      "05-fhir-paused-team-front-door.json", "06-fhir-practice-fallback.json",
                      "07-fhir-out-of-area.json", "08-fhir-ig1-no-consent.json", "09-fhir-ig2-objection.json",
                      "10-fhir-ig3-under-18.json", "11-fhir-ig5-sensitive-withheld.json", "12-fhir-ig6-s-flag.json",
                      "15-fhir-duplicate-resend.json", "16-fhir-self-referral.json", "17-hl7-tameside-hospital.hl7",
                      "18-hl7-oldham-older-people.hl7", "19-hl7-ig2-consent-refused.hl7", "20-hl7-ig1-no-con.hl7",
                      "22-hl7-duplicate-resend.hl7", "23-hl7-s-flag.hl7"),
    [](const ::testing::TestParamInfo<const char*>& info) { return "Sample" + std::string(info.param).substr(0, 2); });

TEST(RejectedSampleTest, InvalidNhsNumberNamesThePatientIdentifier) {
  EXPECT_THAT(Readable("13-fhir-invalid-nhs-number.json"),
              ElementsAre(IssueIs("INVALID_NHS_NUMBER", "Bundle.entry[2].resource.identifier[0].value")));
}

TEST(RejectedSampleTest, MissingBirthDateNamesWhereItBelongs) {
  EXPECT_THAT(Readable("14-fhir-missing-birth-date.json"),
              ElementsAre(IssueIs("MISSING_ELEMENT", "Bundle.entry[2].resource.birthDate")));
}

TEST(RejectedSampleTest, MissingPidIsMissing) {
  EXPECT_THAT(Readable("21-hl7-missing-pid.hl7"), ElementsAre(IssueIs("MISSING_ELEMENT", "PID")));
}

}  // namespace
}  // namespace frontdoor::adapters
