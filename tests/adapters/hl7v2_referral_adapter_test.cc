#include "adapters/hl7v2_referral_adapter.h"

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

ParsedReferral Parse(const std::string& er7) { return ParseHl7v2Referral(er7, Hl7Limits{}); }

std::string Sample17() { return ReadSample("17-hl7-tameside-hospital.hl7"); }

struct Hl7Sample {
  const char* file;
  const char* control_id;
  const char* sender;
  const char* nhs_number;
  const char* birth_date;
  const char* referral_date;
  const char* postcode;
  const char* practice;
  std::vector<std::string> reasons;
  const char* consents;  // P active permit, D active deny
  bool s_flag;
};

class Hl7SampleTest : public ::testing::TestWithParam<Hl7Sample> {};

TEST_P(Hl7SampleTest, ReadsTheReferralTheProfileDescribes) {
  const Hl7Sample& sample = GetParam();
  ParsedReferral parsed = Parse(ReadSample(sample.file));
  const frontdoor::v1::Referral& referral = parsed.referral;
  EXPECT_EQ(parsed.format, MessageFormat::kHl7v2);
  EXPECT_EQ(referral.message_id(), sample.control_id);
  EXPECT_EQ(parsed.reply.control_id, sample.control_id);
  EXPECT_EQ(referral.sender_ods(), sample.sender);
  EXPECT_EQ(parsed.reply.sending_facility, sample.sender);
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
  EXPECT_FALSE(referral.self_referral());
  EXPECT_EQ(parsed.reply.version, "2.5.1");
  EXPECT_EQ(parsed.reply.processing_id, "P");
  if (std::string(sample.nhs_number).empty()) {
    EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("MISSING_ELEMENT", "PID")));
  } else {
    EXPECT_THAT(parsed.issues, IsEmpty());
  }
}

INSTANTIATE_TEST_SUITE_P(Samples, Hl7SampleTest,
                         ::testing::Values(Hl7Sample{"17-hl7-tameside-hospital.hl7",
                                                     "TGH2502256530",
                                                     "R9T01",
                                                     "9991541594",
                                                     "1940-03-22",
                                                     "2025-02-25",
                                                     "OL6 7TP",
                                                     "P89901",
                                                     {"1912002", "105529008"},
                                                     "P",
                                                     false},
                                           Hl7Sample{"18-hl7-oldham-older-people.hl7",
                                                     "ROH2503183797",
                                                     "R9O02",
                                                     "9991234136",
                                                     "1944-12-12",
                                                     "2025-03-18",
                                                     "OL4 4PZ",
                                                     "P85905",
                                                     {"5913000"},
                                                     "P",
                                                     false},
                                           Hl7Sample{"19-hl7-ig2-consent-refused.hl7",
                                                     "ROH2504072030",
                                                     "R9O02",
                                                     "9991043381",
                                                     "1950-05-05",
                                                     "2025-04-07",
                                                     "OL1 1NE",
                                                     "P85913",
                                                     {"422650009"},
                                                     "D",
                                                     false},
                                           Hl7Sample{"20-hl7-ig1-no-con.hl7",
                                                     "TGH2504282680",
                                                     "R9T01",
                                                     "9991383603",
                                                     "1962-08-08",
                                                     "2025-04-28",
                                                     "M34 3HB",
                                                     "P89903",
                                                     {"413300002"},
                                                     "",
                                                     false},
                                           Hl7Sample{"21-hl7-missing-pid.hl7",
                                                     "TGH2505151142",
                                                     "R9T01",
                                                     "",
                                                     "",
                                                     "2025-05-15",
                                                     "",
                                                     "P89906",
                                                     {"105529008"},
                                                     "P",
                                                     false},
                                           Hl7Sample{"22-hl7-duplicate-resend.hl7",
                                                     "TGH2502256530",
                                                     "R9T01",
                                                     "9991541594",
                                                     "1940-03-22",
                                                     "2025-02-25",
                                                     "OL6 7TP",
                                                     "P89901",
                                                     {"1912002", "105529008"},
                                                     "P",
                                                     false},
                                           Hl7Sample{"23-hl7-s-flag.hl7",
                                                     "ROH2505278962",
                                                     "R9O02",
                                                     "9991875158",
                                                     "1975-01-19",
                                                     "2025-05-27",
                                                     "OL9 0QA",
                                                     "P85910",
                                                     {"160932005"},
                                                     "P",
                                                     true}),
                         [](const ::testing::TestParamInfo<Hl7Sample>& info) {
                           return "Sample" + std::string(info.param.file).substr(0, 2);
                         });

TEST(Hl7ReferralAdapterTest, NamesEachDatumByItsHl7Position) {
  ParsedReferral parsed = Parse(Sample17());
  EXPECT_EQ(parsed.paths.message_id, "MSH-10");
  EXPECT_EQ(parsed.paths.sender_ods, "MSH-4.1");
  EXPECT_EQ(parsed.paths.referral_date, "RF1-7");
  EXPECT_EQ(parsed.paths.nhs_number, "PID-3");
  EXPECT_EQ(parsed.paths.birth_date, "PID-7");
  EXPECT_EQ(parsed.paths.postcode, "PID-11.5");
  EXPECT_EQ(parsed.paths.registered_practice_ods, "PRD[3]-4.4");
  EXPECT_THAT(parsed.paths.reasons, ElementsAre("DG1[1]-3.1", "DG1[2]-3.1"));
  EXPECT_THAT(parsed.paths.consent_dates, ElementsAre("CON[1]-13"));
  EXPECT_THAT(parsed.paths.consent_starts, ElementsAre("CON[1]-14"));
  EXPECT_THAT(parsed.paths.consent_ends, ElementsAre("CON[1]-15"));
}

TEST(Hl7ReferralAdapterTest, ReadsWhatAConnectorMayReceive) {
  ParsedReferral parsed = Parse(Sample17());
  const auto& referral = parsed.referral;
  const auto& person = referral.person();
  EXPECT_EQ(person.name().family(), "CHOWDHURY");
  EXPECT_THAT(person.name().given(), ElementsAre("Megan"));
  EXPECT_EQ(person.name().prefix(), "Mrs");
  EXPECT_EQ(person.gender(), "female");
  EXPECT_EQ(person.language(), "pa");
  EXPECT_THAT(person.home_address().lines(), ElementsAre("157 Crescent Road"));
  EXPECT_EQ(person.home_address().city(), "Ashton-under-Lyne");
  ASSERT_THAT(person.telecom(), SizeIs(2));
  EXPECT_EQ(person.telecom(0).value(), "0161 496 0321");
  EXPECT_EQ(person.telecom(0).use(), "home");
  EXPECT_EQ(person.telecom(1).value(), "07700 900258");
  EXPECT_EQ(person.telecom(1).use(), "mobile");
  EXPECT_EQ(referral.referrer_text(), "Admitted after a fall, now medically fit. Lives alone, lost confidence.");
  EXPECT_EQ(referral.what_matters(), "Getting back to the luncheon club.");
  EXPECT_EQ(referral.referrer_reference(), "R9T01-918687");
  EXPECT_EQ(referral.requester().name().family(), "MAHMOOD");
  EXPECT_EQ(referral.requester().organisation_ods(), "R9T01");
  EXPECT_EQ(referral.requester().organisation_name(), "Ward 31 (Acute Medical Unit)");
  ASSERT_THAT(referral.requester().telecom(), SizeIs(1));
  EXPECT_EQ(referral.requester().telecom(0).value(), "0161 496 0674");
  EXPECT_EQ(referral.requester().telecom(0).use(), "work");
  ASSERT_THAT(referral.consents(), SizeIs(1));
  EXPECT_EQ(referral.consents(0).date(), "2025-02-25");
  EXPECT_EQ(referral.consents(0).period_start(), "2025-02-25");
  EXPECT_EQ(referral.consents(0).period_end(), "");
  EXPECT_EQ(referral.consents(0).category(), "DRC");
  EXPECT_EQ(referral.consents(0).id(), "1");
  EXPECT_EQ(parsed.reply.sending_application, "WARDWATCH");
  EXPECT_EQ(parsed.reply.receiving_application, "FRONTDOOR");
  EXPECT_EQ(parsed.reply.receiving_facility, "SPFRONTDOOR");
  EXPECT_THAT(referral.clinical_content(), IsEmpty());
}

TEST(Hl7ReferralAdapterTest, Con11ReadsAsTheProfileSays) {
  const std::string active = "|A^Active - consent has been granted^HL70498|";
  struct Case {
    const char* code;
    Consent::Status status;
    Consent::Provision provision;
  };
  for (const Case& c :
       {Case{"R", Consent::ACTIVE, Consent::DENY}, Case{"X", Consent::INACTIVE, Consent::PROVISION_UNSPECIFIED},
        Case{"P", Consent::DRAFT, Consent::PROVISION_UNSPECIFIED},
        Case{"B", Consent::PROPOSED, Consent::PROVISION_UNSPECIFIED}}) {
    ParsedReferral parsed = Parse(ReplaceOnce(Sample17(), active, std::string("|") + c.code + "^x^HL70498|"));
    ASSERT_THAT(parsed.referral.consents(), SizeIs(1));
    EXPECT_EQ(parsed.referral.consents(0).status(), c.status) << c.code;
    EXPECT_EQ(parsed.referral.consents(0).provision(), c.provision) << c.code;
    EXPECT_THAT(parsed.issues, IsEmpty());
  }
  EXPECT_THAT(Parse(ReplaceOnce(Sample17(), active, "|L^Limited^HL70498|")).issues,
              ElementsAre(IssueIs("INVALID_VALUE", "CON[1]-11")));
}

TEST(Hl7ReferralAdapterTest, NhsNumberIsTheNhRepetitionWhereverItIs) {
  std::string er7 =
      ReplaceOnce(Sample17(), "9991541594^^^NHS^NH~TG0705935^^^R9T01^MR", "TG0705935^^^R9T01^MR~9991541594^^^NHS^NH");
  ParsedReferral parsed = Parse(er7);
  EXPECT_EQ(parsed.referral.person().nhs_number(), "9991541594");
  EXPECT_EQ(parsed.paths.nhs_number, "PID-3[2].1");
}

TEST(Hl7ReferralAdapterTest, TwoNhsNumbersAreInvalid) {
  std::string er7 = ReplaceOnce(Sample17(), "TG0705935^^^R9T01^MR", "9991043381^^^NHS^NH");
  EXPECT_THAT(Parse(er7).issues, ElementsAre(IssueIs("INVALID_VALUE", "PID-3[2].1")));
}

// A second PID names a second person: the message is not a readable referral, whichever PID
// routing would have used.
TEST(Hl7ReferralAdapterTest, ASecondPidIsInvalidAndNamedByItsPosition) {
  const std::string sample = Sample17();
  const size_t pid = sample.find("\rPID|");
  const size_t end = sample.find('\r', pid + 1);
  ASSERT_NE(pid, std::string::npos);
  const std::string second = "\rPID|2||9434765919^^^NHS^NH||SMITH^Ann||19500101|F|||1 High St^^Oldham^^OL1 1AA^GBR^H";
  std::string er7 = sample.substr(0, end) + second + sample.substr(end);
  EXPECT_THAT(Parse(er7).issues, ElementsAre(IssueIs("INVALID_VALUE", "PID[2]")));
}

TEST(Hl7ReferralAdapterTest, ASecondRf1OrPd1IsInvalid) {
  const std::string sample = Sample17();
  const size_t rf1_end = sample.find('\r', sample.find("\rRF1|") + 1);
  EXPECT_THAT(Parse(sample.substr(0, rf1_end) + "\rRF1|P^Pending^HL70283|R^Routine^HL70280||||X-2|202502251015" +
                    sample.substr(rf1_end))
                  .issues,
              ElementsAre(IssueIs("INVALID_VALUE", "RF1[2]")));
  EXPECT_THAT(Parse(sample + "\rPD1|||||||||||N\rPD1|||||||||||Y").issues,
              ElementsAre(IssueIs("INVALID_VALUE", "PD1[2]")));
}

TEST(Hl7ReferralAdapterTest, NoNhsNumberIsMissing) {
  std::string er7 = ReplaceOnce(Sample17(), "9991541594^^^NHS^NH~", "");
  EXPECT_THAT(Parse(er7).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "PID-3")));
}

TEST(Hl7ReferralAdapterTest, AnotherMessageTypeIsUnsupported) {
  std::string er7 = ReplaceOnce(Sample17(), "REF^I12^REF_I12", "ADT^A01^ADT_A01");
  ParsedReferral parsed = Parse(er7);
  EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "MSH-9")));
  EXPECT_EQ(parsed.reply.control_id, "TGH2502256530");
  EXPECT_THAT(Parse(ReplaceOnce(Sample17(), "REF^I12^REF_I12", "REF^I13")).issues,
              ElementsAre(IssueIs("UNSUPPORTED_MESSAGE", "MSH-9")));
}

TEST(Hl7ReferralAdapterTest, NoControlIdIsMissing) {
  std::string er7 = ReplaceOnce(Sample17(), "|TGH2502256530|", "||");
  EXPECT_THAT(Parse(er7).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "MSH-10")));
}

TEST(Hl7ReferralAdapterTest, NoSendingFacilityIsMissing) {
  std::string er7 = ReplaceOnce(Sample17(), "|WARDWATCH|R9T01|", "|WARDWATCH||");
  EXPECT_THAT(Parse(er7).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "MSH-4.1")));
}

TEST(Hl7ReferralAdapterTest, NoRf1IsMissingTheReferralDate) {
  std::string rf1 =
      "RF1|P^Pending^HL70283|R^Routine^HL70280||||R9T01-918687|202502251015|||O^Provider Ordered^HL70336\r";
  EXPECT_THAT(Parse(ReplaceOnce(Sample17(), rf1, "")).issues, ElementsAre(IssueIs("MISSING_ELEMENT", "RF1-7")));
}

TEST(Hl7ReferralAdapterTest, PartialDatesAreInvalid) {
  std::string er7 = ReplaceOnce(Sample17(), "|19400322|", "|1940|");
  er7 = ReplaceOnce(er7, "|202502251015|", "|202502|");
  er7 = ReplaceOnce(er7, "||202502250900|202502250900|", "||2025|202502250900|");
  ParsedReferral parsed = Parse(er7);
  EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("INVALID_VALUE", "RF1-7"), IssueIs("INVALID_VALUE", "PID-7"),
                                         IssueIs("INVALID_VALUE", "CON[1]-13")));
  EXPECT_EQ(parsed.referral.person().birth_date(), "1940");
}

TEST(Hl7ReferralAdapterTest, NoBirthDateIsMissing) {
  EXPECT_THAT(Parse(ReplaceOnce(Sample17(), "|19400322|", "||")).issues,
              ElementsAre(IssueIs("MISSING_ELEMENT", "PID-7")));
}

TEST(Hl7ReferralAdapterTest, HomeAddressIsTheHRepetition) {
  std::string er7 =
      ReplaceOnce(Sample17(), "|157 Crescent Road^^", "|1 Work St^^Oldham^^OL1 1AA^GBR^O~157 Crescent Road^^");
  ParsedReferral parsed = Parse(er7);
  EXPECT_EQ(parsed.referral.person().home_address().postcode(), "OL6 7TP");
  EXPECT_EQ(parsed.paths.postcode, "PID-11[2].5");
}

TEST(Hl7ReferralAdapterTest, OtherSegmentsBecomeClinicalContent) {
  std::string er7 = Sample17() +
                    "DG1|3||K57.3^Diverticular disease^I10||202502250900|W\r"
                    "OBX|1|NM|8480-6^Systolic BP^LN||150|mm[Hg]|||||F\r"
                    "RXE|1|322236009^Paracetamol^SCT\r"
                    "NTE|3|P|On warfarin.|RE^Remark^HL70364\r"
                    "ZXY|1|local\r";
  ParsedReferral parsed = Parse(er7);
  ASSERT_THAT(parsed.issues, IsEmpty());
  EXPECT_THAT(parsed.referral.reasons(), SizeIs(2));
  const auto& content = parsed.referral.clinical_content();
  ASSERT_THAT(content, SizeIs(5));
  EXPECT_EQ(content[0].kind(), ClinicalContent::CONDITION);
  EXPECT_EQ(content[0].codes(0).system(), "I10");
  EXPECT_EQ(content[1].kind(), ClinicalContent::NOTE);
  EXPECT_EQ(content[1].text(), "On warfarin.");
  EXPECT_EQ(content[2].kind(), ClinicalContent::OBSERVATION);
  EXPECT_EQ(content[2].codes(0).code(), "8480-6");
  EXPECT_EQ(content[3].kind(), ClinicalContent::MEDICATION);
  EXPECT_EQ(content[3].codes(0).system(), "http://snomed.info/sct");
  EXPECT_EQ(content[4].kind(), ClinicalContent::OTHER);
  EXPECT_EQ(content[4].source_type(), "ZXY");
  EXPECT_EQ(parsed.referral.referrer_text(), "Admitted after a fall, now medically fit. Lives alone, lost confidence.");
}

TEST(Hl7ReferralAdapterTest, EscapedTextIsDecoded) {
  std::string er7 = ReplaceOnce(Sample17(), "Getting back to the luncheon club.", "Tea \\T\\ cake\\.br\\at 3\\F\\4");
  EXPECT_EQ(Parse(er7).referral.what_matters(), "Tea & cake\nat 3|4");
}

TEST(Hl7ReferralAdapterTest, CustomDelimitersAndLineEndings) {
  std::string er7 = Sample17();
  std::string custom;
  for (char c : er7) {
    switch (c) {
      case '|':
        custom += '#';
        break;
      case '^':
        custom += '!';
        break;
      case '\r':
        custom += "\r\n";
        break;
      default:
        custom += c;
    }
  }
  ParsedReferral parsed = Parse(custom);
  EXPECT_THAT(parsed.issues, IsEmpty());
  EXPECT_EQ(parsed.referral.person().nhs_number(), "9991541594");
  EXPECT_EQ(parsed.referral.person().home_address().postcode(), "OL6 7TP");
  EXPECT_THAT(parsed.referral.reasons(), SizeIs(2));
}

TEST(Hl7HostileInputTest, UnreadableMessagesAreMalformed) {
  std::string many = Sample17();
  for (int i = 0; i < 100000; ++i) many += "NTE|1\r";
  const std::string cases[] = {
      "",
      "PID|1\r",
      "MSH|^~|\r",
      "MSH|^~\\&|A\xFF|\r",
      std::string("MSH|^~\\&|A\0|\r", 12),
      "{\"resourceType\": \"Bundle\"}",
      ReadSample("01-fhir-oldham-wellbeing.json"),
      many.substr(0, 1 << 20),
      ReplaceOnce(Sample17(), "|pa^Panjabi^ISO6391", "|" + std::string(70000, 'x')),
  };
  for (const std::string& er7 : cases) {
    ParsedReferral parsed = Parse(er7);
    ASSERT_THAT(parsed.issues, ElementsAre(IssueIs("MALFORMED", ""))) << er7.substr(0, 40);
    EXPECT_FALSE(parsed.issues[0].message().empty());
    EXPECT_EQ(parsed.referral.message_id(), "");
  }
}

TEST(Hl7HostileInputTest, MalformedBodyStillAnswersTheControlId) {
  std::string er7 = Sample17();
  for (int i = 0; i < 2000; ++i) er7 += "NTE|1\r";
  ParsedReferral parsed = Parse(er7);
  ASSERT_THAT(parsed.issues, ElementsAre(IssueIs("MALFORMED", "")));
  EXPECT_EQ(parsed.reply.control_id, "TGH2502256530");
  EXPECT_EQ(parsed.reply.sending_facility, "R9T01");
}

TEST(Hl7HostileInputTest, IssueMessagesCarryNoPatientData) {
  std::string er7 = ReplaceOnce(Sample17(), "|19400322|", "|1940|");
  er7 = ReplaceOnce(er7, "TG0705935^^^R9T01^MR", "9991043381^^^NHS^NH");
  for (const Issue& issue : Parse(er7).issues) {
    EXPECT_EQ(issue.message().find("1940"), std::string::npos);
    EXPECT_EQ(issue.message().find("999"), std::string::npos);
  }
}

}  // namespace
}  // namespace frontdoor::adapters
