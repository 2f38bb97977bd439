// Unit tests of adapters/referral_validation: one validation rule per test, each code and path.
#include "adapters/referral_validation.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace frontdoor::adapters {
namespace {

using ::frontdoor::v1::Issue;
using ::frontdoor::v1::Referral;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Property;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kValidNhs[] = "9991951024";  // NHS test range; check digit 4.

const CalendarDate kToday{2025, 6, 15};

Referral ValidReferral() {
  Referral r;
  r.set_message_id("msg-0001");
  r.set_sender_ods("P85901");
  r.set_referral_date("2025-06-10");
  r.mutable_person()->set_nhs_number(kValidNhs);
  r.mutable_person()->set_birth_date("1960-02-29");
  r.mutable_person()->set_registered_practice_ods("P85901");
  v1::Coding* reason = r.add_reasons();
  reason->set_system(kSnomedSystem);
  reason->set_code("267076002");
  v1::Consent* consent = r.add_consents();
  consent->set_id("c1");
  consent->set_status(v1::Consent::ACTIVE);
  consent->set_provision(v1::Consent::PERMIT);
  consent->set_date("2025-06-01");
  return r;
}

std::vector<Issue> Validate(const Referral& r) { return ValidateReferral(r, TypedReferralPaths(r), kToday); }

auto IssueIs(const std::string& code, const std::string& path) {
  return AllOf(Property(&Issue::code, Eq(code)), Property(&Issue::path, Eq(path)),
               Property(&Issue::severity, Eq(Issue::ERROR)), Property(&Issue::message, Not(IsEmpty())));
}

// --- The baseline -------------------------------------------------------------------------------

TEST(ValidateReferralTest, ValidReferralHasNoIssues) {
  const std::vector<Issue> issues = Validate(ValidReferral());
  EXPECT_THAT(issues, IsEmpty());
  EXPECT_FALSE(HasErrors(issues));
}

TEST(ValidateReferralTest, HasErrorsIsTrueForAnErrorIssue) {
  Referral r = ValidReferral();
  r.clear_message_id();
  EXPECT_TRUE(HasErrors(Validate(r)));
}

TEST(ValidateReferralTest, HasErrorsIgnoresWarnings) {
  Issue warning;
  warning.set_code("UNKNOWN_REASON_CODE");
  warning.set_severity(Issue::WARNING);
  EXPECT_FALSE(HasErrors({warning}));
}

// --- Typed paths
// ----------------------------------------------------------------------------------

TEST(TypedReferralPathsTest, NamesProtoFieldPaths) {
  Referral r = ValidReferral();
  r.add_reasons();
  r.add_reasons();
  r.add_consents();
  const ReferralSourcePaths paths = TypedReferralPaths(r);
  EXPECT_EQ(paths.message_id, "referral.message_id");
  EXPECT_EQ(paths.sender_ods, "referral.sender_ods");
  EXPECT_EQ(paths.referral_date, "referral.referral_date");
  EXPECT_EQ(paths.nhs_number, "referral.person.nhs_number");
  EXPECT_EQ(paths.birth_date, "referral.person.birth_date");
  EXPECT_EQ(paths.postcode, "referral.person.home_address.postcode");
  EXPECT_EQ(paths.registered_practice_ods, "referral.person.registered_practice_ods");
  ASSERT_THAT(paths.reasons, SizeIs(3));
  EXPECT_EQ(paths.reasons[2], "referral.reasons[2].code");
  ASSERT_THAT(paths.consent_dates, SizeIs(2));
  EXPECT_EQ(paths.consent_dates[1], "referral.consents[1].date");
  EXPECT_EQ(paths.consent_starts[0], "referral.consents[0].period_start");
  EXPECT_EQ(paths.consent_ends[1], "referral.consents[1].period_end");
}

TEST(ValidateReferralTest, UsesTheAdaptersPathsNotTheTypedOnes) {
  Referral r = ValidReferral();
  r.mutable_person()->clear_birth_date();
  ReferralSourcePaths paths = TypedReferralPaths(r);
  paths.birth_date = "PID-7";
  EXPECT_THAT(ValidateReferral(r, paths, kToday), UnorderedElementsAre(IssueIs(kMissingElement, "PID-7")));
}

TEST(ValidateReferralTest, FallsBackToTypedPathWhenAdapterGaveTooFewReasonPaths) {
  Referral r = ValidReferral();
  r.mutable_reasons(0)->set_code("267076003");
  ReferralSourcePaths paths = TypedReferralPaths(r);
  paths.reasons.clear();
  EXPECT_THAT(ValidateReferral(r, paths, kToday),
              UnorderedElementsAre(IssueIs(kInvalidValue, "referral.reasons[0].code")));
}

// --- MISSING_ELEMENT -----------------------------------------------------------------------------

TEST(ValidateReferralTest, MissingMessageIdIsMissingElement) {
  Referral r = ValidReferral();
  r.clear_message_id();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.message_id")));
}

TEST(ValidateReferralTest, MissingSenderOdsIsMissingElement) {
  Referral r = ValidReferral();
  r.clear_sender_ods();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.sender_ods")));
}

TEST(ValidateReferralTest, MissingReferralDateIsMissingElement) {
  Referral r = ValidReferral();
  r.clear_referral_date();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.referral_date")));
}

TEST(ValidateReferralTest, MissingNhsNumberIsMissingElement) {
  Referral r = ValidReferral();
  r.mutable_person()->clear_nhs_number();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.person.nhs_number")));
}

TEST(ValidateReferralTest, MissingPersonReportsNhsNumberAndBirthDateWhereExpected) {
  Referral r = ValidReferral();
  r.clear_person();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.person.nhs_number"),
                                                IssueIs(kMissingElement, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, MissingBirthDateIsMissingElement) {
  Referral r = ValidReferral();
  r.mutable_person()->clear_birth_date();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, EveryProblemIsReportedNotOnlyTheFirst) {
  Referral r = ValidReferral();
  r.clear_message_id();
  r.clear_sender_ods();
  r.mutable_person()->set_nhs_number("9991951025");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kMissingElement, "referral.message_id"),
                                                IssueIs(kMissingElement, "referral.sender_ods"),
                                                IssueIs(kInvalidNhsNumber, "referral.person.nhs_number")));
}

// --- INVALID_NHS_NUMBER
// ----------------------------------------------------------------------------

TEST(ValidateReferralTest, NhsNumberFailingModulus11IsInvalidNhsNumber) {
  Referral r = ValidReferral();
  r.mutable_person()->set_nhs_number("9991951025");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidNhsNumber, "referral.person.nhs_number")));
}

TEST(ValidateReferralTest, NhsNumberWithNonDigitIsInvalidNhsNumber) {
  Referral r = ValidReferral();
  r.mutable_person()->set_nhs_number("999195102A");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidNhsNumber, "referral.person.nhs_number")));
}

TEST(ValidateReferralTest, NhsNumberWithSpacesIsInvalidNhsNumber) {
  Referral r = ValidReferral();
  r.mutable_person()->set_nhs_number("999 195 1024");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidNhsNumber, "referral.person.nhs_number")));
}

TEST(ValidateReferralTest, NhsNumberOfNineDigitsIsInvalidNhsNumber) {
  Referral r = ValidReferral();
  r.mutable_person()->set_nhs_number("999195102");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidNhsNumber, "referral.person.nhs_number")));
}

TEST(ValidateReferralTest, NhsNumberIssueMessagesNeverContainTheNumber) {
  for (const std::string nhs : {"9991951025", "999195102A", "99919510241", "9990000000"}) {
    Referral r = ValidReferral();
    r.mutable_person()->set_nhs_number(nhs);
    const std::vector<Issue> issues = Validate(r);
    ASSERT_THAT(issues, SizeIs(1)) << "case " << nhs;
    EXPECT_THAT(issues[0].message(), Not(HasSubstr(nhs)));
    EXPECT_THAT(issues[0].message(), Not(HasSubstr(nhs.substr(0, 6))));
  }
}

TEST(IsValidNhsNumberTest, AcceptsTestRangeNumbers) {
  EXPECT_TRUE(IsValidNhsNumber("9991951024"));
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_TRUE(IsValidNhsNumber("4010232137"));
}

TEST(IsValidNhsNumberTest, RejectsWrongCheckDigit) {
  EXPECT_FALSE(IsValidNhsNumber("9991951020"));
  EXPECT_FALSE(IsValidNhsNumber("9434765910"));
}

TEST(IsValidNhsNumberTest, RemainderElevenMeansCheckDigitZero) {
  // 9*10 + 9*9 + 9*8 + 5*2 = 253 = 11*23: 11 - 0 = 11, so the check digit is 0.
  EXPECT_TRUE(IsValidNhsNumber("9990000050"));
  EXPECT_FALSE(IsValidNhsNumber("9990000051"));
}

TEST(IsValidNhsNumberTest, RemainderTenIsNeverValid) {
  // 9*10 + 9*9 + 9*8 = 243 = 11*22 + 1: 11 - 1 = 10, so no check digit makes it valid.
  for (char check = '0'; check <= '9'; ++check) {
    EXPECT_FALSE(IsValidNhsNumber(std::string("999000000") + check)) << check;
  }
}

TEST(IsValidNhsNumberTest, RejectsWrongLengths) {
  EXPECT_FALSE(IsValidNhsNumber(""));
  EXPECT_FALSE(IsValidNhsNumber("999195102"));
  EXPECT_FALSE(IsValidNhsNumber("99919510240"));
}

TEST(IsValidNhsNumberTest, RejectsNonAsciiDigits) {
  EXPECT_FALSE(IsValidNhsNumber("999195102a"));
  EXPECT_FALSE(IsValidNhsNumber("-991951024"));
  EXPECT_FALSE(IsValidNhsNumber("999195102\xd9"));
  // Arabic-Indic digit four (U+0664) in place of the check digit: not ASCII, not 10 bytes.
  EXPECT_FALSE(IsValidNhsNumber("999195102\xd9\xa4"));
}

// --- ODS codes ---------------------------------------------------------------------------------

TEST(IsWellFormedOdsCodeTest, AcceptsOdsShapes) {
  EXPECT_TRUE(IsWellFormedOdsCode("P85901"));
  EXPECT_TRUE(IsWellFormedOdsCode("R9T01"));
  EXPECT_TRUE(IsWellFormedOdsCode("8AT01"));
  EXPECT_TRUE(IsWellFormedOdsCode("RXX"));
}

TEST(IsWellFormedOdsCodeTest, RejectsTooShortOrTooLong) {
  EXPECT_FALSE(IsWellFormedOdsCode(""));
  EXPECT_FALSE(IsWellFormedOdsCode("RX"));
  EXPECT_FALSE(IsWellFormedOdsCode("P859012"));
}

TEST(IsWellFormedOdsCodeTest, RejectsLowerCaseAndPunctuation) {
  EXPECT_FALSE(IsWellFormedOdsCode("p85901"));
  EXPECT_FALSE(IsWellFormedOdsCode("P85 01"));
  EXPECT_FALSE(IsWellFormedOdsCode("P85-01"));
}

TEST(ValidateReferralTest, MalformedSenderOdsIsInvalidValue) {
  Referral r = ValidReferral();
  r.set_sender_ods("p85901");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.sender_ods")));
}

TEST(ValidateReferralTest, MalformedPracticeOdsIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_person()->set_registered_practice_ods("NOT-AN-ODS");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.person.registered_practice_ods")));
}

TEST(ValidateReferralTest, AbsentPracticeOdsIsFine) {
  Referral r = ValidReferral();
  r.mutable_person()->clear_registered_practice_ods();
  EXPECT_THAT(Validate(r), IsEmpty());
}

// --- Message id
// -------------------------------------------------------------------------------------

TEST(ValidateReferralTest, MessageIdWithAllowedPunctuationIsValid) {
  Referral r = ValidReferral();
  r.set_message_id("Msg_2025.06-10");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, MessageIdOf64CharactersIsValid) {
  Referral r = ValidReferral();
  r.set_message_id(std::string(64, 'a'));
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, MessageIdOf65CharactersIsInvalidValue) {
  Referral r = ValidReferral();
  r.set_message_id(std::string(65, 'a'));
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.message_id")));
}

TEST(ValidateReferralTest, MessageIdWithSpaceOrSlashIsInvalidValue) {
  for (const std::string id : {"msg 1", "msg/1", "msg|1", "urn:uuid:1"}) {
    Referral r = ValidReferral();
    r.set_message_id(id);
    EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.message_id"))) << id;
  }
}

// --- Dates -------------------------------------------------------------------------------------

TEST(ValidateReferralTest, ReferralDateOnTodayIsValid) {
  Referral r = ValidReferral();
  r.set_referral_date("2025-06-15");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, ReferralDateAfterInjectedTodayIsInvalidValue) {
  Referral r = ValidReferral();
  r.set_referral_date("2025-06-16");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.referral_date")));
}

TEST(ValidateReferralTest, FutureIsJudgedAgainstTheInjectedToday) {
  Referral r = ValidReferral();
  r.set_referral_date("2030-01-01");
  r.mutable_consents(0)->set_date("2029-12-31");
  EXPECT_THAT(ValidateReferral(r, TypedReferralPaths(r), CalendarDate{2030, 1, 1}), IsEmpty());
}

TEST(ValidateReferralTest, PartialReferralDateIsInvalidValue) {
  Referral r = ValidReferral();
  r.set_referral_date("2025-06");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.referral_date")));
}

TEST(ValidateReferralTest, ReferralDateWithTimeIsInvalidValue) {
  Referral r = ValidReferral();
  r.set_referral_date("2025-06-10T09:00:00Z");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.referral_date")));
}

TEST(ValidateReferralTest, BirthDateOn29FebruaryOfNonLeapYearIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("1961-02-29");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, BirthDateOn29FebruaryOfLeapYearIsValid) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("2000-02-29");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, ImpossibleBirthDateIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("1960-13-01");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, BirthDateAfterTodayIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("2025-06-16");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, BirthDateAfterReferralDateIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("2025-06-11");  // Not after today, but after the referral.
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.person.birth_date")));
}

TEST(ValidateReferralTest, BirthDateOnReferralDateIsValid) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("2025-06-10");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, DateIssueMessagesNeverContainTheDate) {
  Referral r = ValidReferral();
  r.mutable_person()->set_birth_date("1961-02-29");
  const std::vector<Issue> issues = Validate(r);
  ASSERT_THAT(issues, SizeIs(1));
  EXPECT_THAT(issues[0].message(), Not(HasSubstr("1961")));
}

TEST(ValidateReferralTest, MalformedConsentDateIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_consents(0)->set_date("2025-02-30");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.consents[0].date")));
}

// A consent dated after the referral date, however far ahead, is readable: it is simply not in
// force on the referral date, which the IG decision answers (IG-1), not validation.
TEST(ValidateReferralTest, ConsentDatedAfterTodayEvenDecadesAheadIsReadable) {
  for (const char* date : {"2025-06-16", "2075-01-01", "9999-12-31"}) {
    Referral r = ValidReferral();
    r.mutable_consents(0)->set_date(date);
    EXPECT_THAT(Validate(r), IsEmpty()) << date;
  }
}

TEST(ValidateReferralTest, MalformedConsentPeriodStartIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_consents(0)->set_period_start("2025/06/01");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.consents[0].period_start")));
}

TEST(ValidateReferralTest, MalformedConsentPeriodEndIsInvalidValue) {
  Referral r = ValidReferral();
  r.add_consents()->set_period_end("2026");
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.consents[1].period_end")));
}

TEST(ValidateReferralTest, ConsentPeriodEndingAfterTodayIsValid) {
  Referral r = ValidReferral();
  r.mutable_consents(0)->set_period_start("2025-06-01");
  r.mutable_consents(0)->set_period_end("2026-06-01");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(ValidateReferralTest, AbsentConsentDatesAreFine) {
  Referral r = ValidReferral();
  r.mutable_consents(0)->clear_date();
  EXPECT_THAT(Validate(r), IsEmpty());
}

// --- SNOMED CT reasons -----------------------------------------------------------------------

TEST(ValidateReferralTest, MalformedSnomedReasonIsInvalidValueAtItsPath) {
  Referral r = ValidReferral();
  for (const char* code : {"48694002", "871731000000107"}) {
    v1::Coding* reason = r.add_reasons();
    reason->set_system(kSnomedSystem);
    reason->set_code(code);
  }
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.reasons[2].code")));
}

TEST(ValidateReferralTest, EmptySnomedReasonCodeIsInvalidValue) {
  Referral r = ValidReferral();
  r.mutable_reasons(0)->clear_code();
  EXPECT_THAT(Validate(r), UnorderedElementsAre(IssueIs(kInvalidValue, "referral.reasons[0].code")));
}

TEST(ValidateReferralTest, CodingsInOtherSystemsAreNotChecked) {
  Referral r = ValidReferral();
  v1::Coding* reason = r.add_reasons();
  reason->set_system("http://hl7.org/fhir/sid/icd-10");
  reason->set_code("F41.1");
  EXPECT_THAT(Validate(r), IsEmpty());
}

TEST(IsWellFormedSnomedConceptIdTest, AcceptsRealConceptIds) {
  for (const char* code : {"267076002", "871731000000106", "836881000000105", "48694002", "105629000", "86406008",
                           "138875005", "404684003"}) {
    EXPECT_TRUE(IsWellFormedSnomedConceptId(code)) << code;
  }
}

TEST(IsWellFormedSnomedConceptIdTest, RejectsAFlippedCheckDigit) {
  for (const char* code : {"267076003", "871731000000107", "836881000000106", "48694003", "105629001"}) {
    EXPECT_FALSE(IsWellFormedSnomedConceptId(code)) << code;
  }
}

TEST(IsWellFormedSnomedConceptIdTest, AcceptsSixAndEighteenDigits) {
  EXPECT_TRUE(IsWellFormedSnomedConceptId("123008"));              // Verhoeff-valid, partition 00.
  EXPECT_TRUE(IsWellFormedSnomedConceptId("111111111111111000"));  // 18 digits.
}

TEST(IsWellFormedSnomedConceptIdTest, RejectsFiveAndNineteenDigits) {
  ASSERT_TRUE(VerhoeffCheck("12006"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("12006"));
  ASSERT_TRUE(VerhoeffCheck("1111111111111111008"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("1111111111111111008"));
}

TEST(IsWellFormedSnomedConceptIdTest, RejectsLeadingZero) {
  ASSERT_TRUE(VerhoeffCheck("0123006"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("0123006"));
}

TEST(IsWellFormedSnomedConceptIdTest, RejectsDescriptionPartitions) {
  // Verhoeff-valid ids in the description partitions (01 short, 11 long format).
  ASSERT_TRUE(VerhoeffCheck("1000001012"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("1000001012"));
  ASSERT_TRUE(VerhoeffCheck("1000001110"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("1000001110"));
}

TEST(IsWellFormedSnomedConceptIdTest, RejectsNonDigits) {
  EXPECT_FALSE(IsWellFormedSnomedConceptId("2670760O2"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId(" 267076002"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId("-267076002"));
  EXPECT_FALSE(IsWellFormedSnomedConceptId(""));
}

TEST(VerhoeffCheckTest, AcceptsTheClassicExample) { EXPECT_TRUE(VerhoeffCheck("2363")); }

TEST(VerhoeffCheckTest, RejectsEverySingleDigitError) {
  const std::string valid = "871731000000106";
  for (size_t i = 0; i < valid.size(); ++i) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == valid[i]) continue;
      std::string changed = valid;
      changed[i] = d;
      EXPECT_FALSE(VerhoeffCheck(changed)) << changed;
    }
  }
}

TEST(VerhoeffCheckTest, RejectsAdjacentTransposition) {
  EXPECT_TRUE(VerhoeffCheck("267076002"));
  EXPECT_FALSE(VerhoeffCheck("627076002"));
  EXPECT_FALSE(VerhoeffCheck("276076002"));
}

TEST(VerhoeffCheckTest, RejectsEmptyAndNonDigits) {
  EXPECT_FALSE(VerhoeffCheck(""));
  EXPECT_FALSE(VerhoeffCheck("23a3"));
}

}  // namespace
}  // namespace frontdoor::adapters
