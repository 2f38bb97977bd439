#include "gateway/decision/referral_routing.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "network/demo_network_data.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {
namespace {

using ::frontdoor::v1::Issue;
using ::frontdoor::v1::Referral;
using network::NetworkDirectory;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSnomed[] = "http://snomed.info/sct";

// Reason codes used below (reason_codes.csv).
constexpr char kFeelingLonely[] = "267076002";                    // social
constexpr char kSocialIsolation[] = "422650009";                  // social
constexpr char kAnxiety[] = "48694002";                           // mental-health
constexpr char kStress[] = "73595000";                            // mental-health
constexpr char kChlamydia[] = "105629000";                        // sensitive-sexual-health
constexpr char kAdultSafeguarding[] = "766561000000109";          // sensitive-safeguarding
constexpr char kSocialPrescribingReferral[] = "871731000000106";  // procedure
constexpr char kUnknownButWellFormed[] = "1234567891";

const NetworkDirectory& Demo() {
  static const NetworkDirectory* const demo = [] {
    absl::StatusOr<NetworkDirectory> loaded = NetworkDirectory::LoadDemo();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new NetworkDirectory(std::move(loaded).value());
  }();
  return *demo;
}

struct ReferralSpec {
  std::string postcode;
  std::string practice;
  std::string birth_date;
  std::string referral_date;
  std::vector<std::string> snomed_reasons;
};

Referral MakeReferral(const ReferralSpec& spec) {
  Referral referral;
  referral.set_message_id("routing-test");
  referral.set_sender_ods("P85901");
  referral.set_referral_date(spec.referral_date);
  referral.mutable_person()->set_nhs_number("9991234136");
  referral.mutable_person()->set_birth_date(spec.birth_date);
  referral.mutable_person()->mutable_home_address()->set_postcode(spec.postcode);
  referral.mutable_person()->set_registered_practice_ods(spec.practice);
  for (const std::string& code : spec.snomed_reasons) {
    frontdoor::v1::Coding* coding = referral.add_reasons();
    coding->set_system(kSnomed);
    coding->set_code(code);
  }
  return referral;
}

// A 45-year-old in Royton with a social reason: the plain wellbeing case, varied per test.
ReferralSpec RoytonAdult() { return {"OL2 6LB", "P85901", "1979-08-14", "2025-02-03", {kFeelingLonely}}; }

std::vector<std::string> IssueCodes(const std::vector<Issue>& issues) {
  std::vector<std::string> codes;
  for (const Issue& i : issues) codes.push_back(i.code());
  return codes;
}

// --- The samples: /work/shared/samples/expected.json, routing part -----------------------------

struct SampleCase {
  const char* file;
  ReferralSpec spec;
  const char* connector_id;  // "" for OUT_OF_AREA
  const char* endpoint_id;
  const char* category;
  frontdoor::v1::ClusterSource cluster_source;
  bool front_door;
};

class SampleRoutingTest : public ::testing::TestWithParam<SampleCase> {};

TEST_P(SampleRoutingTest, RoutesAsExpectedJsonSays) {
  const SampleCase& c = GetParam();
  RoutingDecision d = RouteReferral(MakeReferral(c.spec), Demo());
  if (std::string_view(c.connector_id).empty()) {
    EXPECT_FALSE(d.routed);
    ASSERT_TRUE(d.out_of_area.has_value());
    EXPECT_EQ(d.out_of_area->code(), kOutOfArea);
    EXPECT_EQ(d.out_of_area->severity(), Issue::ERROR);
    EXPECT_EQ(d.team_id, "");
    EXPECT_FALSE(d.front_door);
    return;
  }
  EXPECT_TRUE(d.routed);
  EXPECT_FALSE(d.out_of_area.has_value());
  EXPECT_EQ(d.team_id, c.connector_id);
  EXPECT_EQ(d.endpoint_id, c.endpoint_id);
  EXPECT_EQ(d.category_id, c.category);
  EXPECT_EQ(d.cluster_source, c.cluster_source);
  EXPECT_EQ(d.front_door, c.front_door);
  // Samples carry only known codes, so the only possible note is the front door's.
  for (const Issue& note : d.notes) EXPECT_EQ(note.code(), kFrontDoor);
}

constexpr auto kPostcode = frontdoor::v1::CLUSTER_FROM_POSTCODE;
constexpr auto kPractice = frontdoor::v1::CLUSTER_FROM_PRACTICE;

INSTANTIATE_TEST_SUITE_P(
    Samples, SampleRoutingTest,
    ::testing::Values(SampleCase{"01",
                                 {"OL2 6LB", "P85901", "1979-08-14", "2025-02-03", {kFeelingLonely}},
                                 "oldham-north-royton-wellbeing",
                                 "action-together-oldham",
                                 "wellbeing",
                                 kPostcode,
                                 false},
                      SampleCase{"02",
                                 {"OL1 1JU", "P85913", "1948-11-02", "2025-02-11", {kSocialIsolation}},
                                 "oldham-central-st-marys-older-people",
                                 "ageuk-oldham",
                                 "older-people",
                                 kPostcode,
                                 false},
                      SampleCase{"03",
                                 {"OL4 4DN", "P85905", "1991-05-27", "2025-02-19", {kAnxiety, "413300002"}},
                                 "oldham-east-lees-springhead-mental-health",
                                 "mind-oldham",
                                 "mental-health",
                                 kPostcode,
                                 false},
                      SampleCase{"04",
                                 {"M34 3PL", "P89903", "1957-01-30", "2025-03-04", {"105529008"}},
                                 "tameside-denton-audenshaw-droylsden-all",
                                 "action-together-tameside",
                                 "all",
                                 kPostcode,
                                 false},
                      SampleCase{"05",
                                 {"M35 0HS", "P85910", "1985-09-09", "2025-03-12", {kAnxiety}},
                                 "oldham-front-door",
                                 "action-together-oldham",
                                 "mental-health",
                                 kPostcode,
                                 true},
                      SampleCase{"06",
                                 {"", "P85903", "1969-03-15", "2025-03-20", {"160932005"}},
                                 "oldham-north-derker-wellbeing",
                                 "action-together-oldham",
                                 "wellbeing",
                                 kPractice,
                                 false},
                      SampleCase{"07",
                                 {"M14 7HR", "P84034", "1972-06-21", "2025-03-27", {kFeelingLonely}},
                                 "",
                                 "",
                                 "",
                                 frontdoor::v1::CLUSTER_SOURCE_UNSPECIFIED,
                                 false},
                      SampleCase{"11",
                                 {"OL9 0LU", "P85910", "1996-02-14", "2025-04-23", {kFeelingLonely, kChlamydia}},
                                 "oldham-west-chadderton-north-wellbeing",
                                 "action-together-oldham",
                                 "wellbeing",
                                 kPostcode,
                                 false},
                      SampleCase{"12",
                                 {"OL2 6RQ", "P85901", "1955-07-07", "2025-04-29", {"1912002"}},
                                 "oldham-north-royton-older-people",
                                 "ageuk-oldham",
                                 "older-people",
                                 kPostcode,
                                 false},
                      SampleCase{"16",
                                 {"OL1 1LR", "P85913", "1988-04-04", "2025-05-20", {kSocialIsolation}},
                                 "oldham-central-st-marys-wellbeing",
                                 "action-together-oldham",
                                 "wellbeing",
                                 kPostcode,
                                 false},
                      SampleCase{"17",
                                 {"OL6 7TP", "P89901", "1940-03-22", "2025-02-25", {"1912002", "105529008"}},
                                 "tameside-ashton-all",
                                 "action-together-tameside",
                                 "all",
                                 kPostcode,
                                 false},
                      SampleCase{"18",
                                 {"OL4 4PZ", "P85905", "1944-12-12", "2025-03-18", {"5913000"}},
                                 "oldham-east-lees-springhead-older-people",
                                 "ageuk-oldham",
                                 "older-people",
                                 kPostcode,
                                 false},
                      SampleCase{"23",
                                 {"OL9 0QA", "P85910", "1975-01-19", "2025-05-27", {"160932005"}},
                                 "oldham-west-chadderton-north-wellbeing",
                                 "action-together-oldham",
                                 "wellbeing",
                                 kPostcode,
                                 false}),
    [](const ::testing::TestParamInfo<SampleCase>& info) { return std::string("Sample") + info.param.file; });

// --- Rule 1: postcodes ------------------------------------------------------------------------

TEST(NormalisePostcodeTest, UpperCasesAndPutsOneSpaceBeforeTheInwardCode) {
  EXPECT_EQ(NormalisePostcode("OL2 6LB"), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("ol2 6lb"), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("OL26LB"), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("  ol2   6Lb  "), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("OL2\t6LB"), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("O L 2 6 L B"), "OL2 6LB");
  EXPECT_EQ(NormalisePostcode("m11ae"), "M1 1AE");
  EXPECT_EQ(NormalisePostcode("SK14 1AA"), "SK14 1AA");
  EXPECT_EQ(NormalisePostcode("ec1a1bb"), "EC1A 1BB");
}

TEST(NormalisePostcodeTest, RejectsTextNotShapedLikeAPostcode) {
  for (std::string_view bad : {"", "   ", "OL2", "OL2 6", "OL2 6L", "12 6LB", "OLDH 6LB", "OL2 LLB", "OL2 66B",
                               "OL2-6LB", "OL2 6LB,", "OL2 6LBX", "OL223 6LB", "not a postcode", "\xC3\x96L2 6LB"}) {
    EXPECT_EQ(NormalisePostcode(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(PostcodeSectorTest, IsTheOutwardCodeAndTheFirstInwardDigit) {
  EXPECT_EQ(PostcodeSector("OL2 6LB"), "OL2 6");
  EXPECT_EQ(PostcodeSector("M1 1AE"), "M1 1");
  EXPECT_EQ(PostcodeSector("SK14 1AA"), "SK14 1");
}

TEST(ReferralRoutingTest, PostcodeVariantsFindTheSameCluster) {
  for (const char* postcode : {"OL2 6LB", "ol2 6lb", "OL26LB", "ol26lb", "  OL2    6LB ", "ol2\t6lb"}) {
    ReferralSpec spec = RoytonAdult();
    spec.postcode = postcode;
    spec.practice = "P89901";  // a Tameside practice: the postcode must win
    RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
    EXPECT_EQ(d.cluster_id, "oldham-north-royton") << postcode;
    EXPECT_EQ(d.cluster_source, frontdoor::v1::CLUSTER_FROM_POSTCODE) << postcode;
    EXPECT_EQ(d.team_id, "oldham-north-royton-wellbeing") << postcode;
  }
}

TEST(ReferralRoutingTest, AnUnknownSectorFallsBackToThePractice) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "OL11 1AA";  // Rochdale: not in the network
  spec.practice = "P85903";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  ASSERT_TRUE(d.routed);
  EXPECT_EQ(d.cluster_id, "oldham-north-derker");
  EXPECT_EQ(d.cluster_source, frontdoor::v1::CLUSTER_FROM_PRACTICE);
  EXPECT_EQ(d.team_id, "oldham-north-derker-wellbeing");
  EXPECT_THAT(d.reason, HasSubstr("registered practice P85903"));
  EXPECT_THAT(d.reason, HasSubstr("postcode sector OL11 1 is not in the network"));
}

TEST(ReferralRoutingTest, AMalformedPostcodeFallsBackToThePractice) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "OLDHAM";
  spec.practice = "P89906";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  ASSERT_TRUE(d.routed);
  EXPECT_EQ(d.cluster_id, "tameside-hyde-longdendale");
  EXPECT_EQ(d.cluster_source, frontdoor::v1::CLUSTER_FROM_PRACTICE);
  EXPECT_THAT(d.reason, HasSubstr("not shaped like a UK postcode"));
  EXPECT_THAT(d.reason, Not(HasSubstr("OLDHAM")));
}

TEST(ReferralRoutingTest, ThePracticeCodeIsTrimmedAndUpperCased) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "";
  spec.practice = " p85903 ";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  EXPECT_EQ(d.cluster_id, "oldham-north-derker");
}

TEST(ReferralRoutingTest, OutOfAreaNamesTheSectorAndPracticeTriedButNotThePostcode) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "m14 7hr";
  spec.practice = "P84034";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  EXPECT_FALSE(d.routed);
  ASSERT_TRUE(d.out_of_area.has_value());
  EXPECT_EQ(d.out_of_area->code(), "OUT_OF_AREA");
  EXPECT_EQ(d.out_of_area->severity(), Issue::ERROR);
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("postcode sector M14 7"));
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("practice P84034"));
  EXPECT_THAT(d.out_of_area->message(), Not(HasSubstr("7HR")));
  EXPECT_THAT(d.reason, Not(HasSubstr("7HR")));
  EXPECT_EQ(d.team_id, "");
  EXPECT_EQ(d.endpoint_id, "");
  EXPECT_EQ(d.cluster_id, "");
  EXPECT_THAT(d.notes, IsEmpty());
}

TEST(ReferralRoutingTest, OutOfAreaWithNeitherPostcodeNorPracticeSaysSo) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "";
  spec.practice = "";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  EXPECT_FALSE(d.routed);
  ASSERT_TRUE(d.out_of_area.has_value());
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("no home postcode"));
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("no registered practice"));
}

TEST(ReferralRoutingTest, OutOfAreaWhenThePostcodeIsMalformedAndThePracticeUnknown) {
  ReferralSpec spec = RoytonAdult();
  spec.postcode = "12345";
  spec.practice = "P00000";
  RoutingDecision d = RouteReferral(MakeReferral(spec), Demo());
  EXPECT_FALSE(d.routed);
  ASSERT_TRUE(d.out_of_area.has_value());
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("not shaped like a UK postcode"));
  EXPECT_THAT(d.out_of_area->message(), HasSubstr("practice P00000 is not in the network"));
  EXPECT_THAT(d.out_of_area->message(), Not(HasSubstr("12345")));
}

TEST(ReferralRoutingTest, TheReasonExplainsClusterCategoryAndTeamWithoutPatientData) {
  RoutingDecision d = RouteReferral(MakeReferral(RoytonAdult()), Demo());
  EXPECT_THAT(d.reason, HasSubstr("postcode sector OL2 6"));
  EXPECT_THAT(d.reason, HasSubstr("oldham-north-royton"));
  EXPECT_THAT(d.reason, HasSubstr("category wellbeing"));
  EXPECT_THAT(d.reason, HasSubstr("under 65"));
  EXPECT_THAT(d.reason, HasSubstr("team oldham-north-royton-wellbeing is open"));
  EXPECT_THAT(d.reason, Not(HasSubstr("6LB")));
  EXPECT_THAT(d.reason, Not(HasSubstr("1979")));
}

// --- Rule 2: categories -----------------------------------------------------------------------

RoutingDecision RouteOldhamAdult(const std::string& birth_date, const std::string& referral_date,
                                 std::vector<std::string> reasons = {kFeelingLonely}) {
  return RouteReferral(MakeReferral({"OL2 6LB", "P85901", birth_date, referral_date, std::move(reasons)}), Demo());
}

TEST(ReferralRoutingCategoryTest, The65thBirthdayOnTheReferralDateIsOlderPeople) {
  RoutingDecision d = RouteOldhamAdult("1960-03-12", "2025-03-12");
  EXPECT_EQ(d.category_id, "older-people");
  EXPECT_EQ(d.team_id, "oldham-north-royton-older-people");
  EXPECT_EQ(d.endpoint_id, "ageuk-oldham");
  EXPECT_FALSE(d.accepts_nhs_number);
  EXPECT_THAT(d.reason, HasSubstr("65 or over"));
}

TEST(ReferralRoutingCategoryTest, TheDayBeforeThe65thBirthdayIsWellbeing) {
  RoutingDecision d = RouteOldhamAdult("1960-03-12", "2025-03-11");
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_EQ(d.team_id, "oldham-north-royton-wellbeing");
  EXPECT_TRUE(d.accepts_nhs_number);
}

TEST(ReferralRoutingCategoryTest, A29FebruaryBirthdayTurns65On1MarchInACommonYear) {
  EXPECT_EQ(RouteOldhamAdult("1960-02-29", "2025-02-28").category_id, "wellbeing");
  EXPECT_EQ(RouteOldhamAdult("1960-02-29", "2025-03-01").category_id, "older-people");
}

TEST(ReferralRoutingCategoryTest, LeapDaysCountLikeAnyOtherDay) {
  // Someone born on 29 February 1964 is still 64 on 28 February 2029 and 65 the next day.
  EXPECT_EQ(RouteOldhamAdult("1964-02-29", "2029-02-28").category_id, "wellbeing");
  EXPECT_EQ(RouteOldhamAdult("1964-02-29", "2029-03-01").category_id, "older-people");
  // A referral dated 29 February: 65 for a 28 February 1963 birthday, 64 for 1 March 1963.
  EXPECT_EQ(RouteOldhamAdult("1963-02-28", "2028-02-29").category_id, "older-people");
  EXPECT_EQ(RouteOldhamAdult("1963-03-01", "2028-02-29").category_id, "wellbeing");
}

TEST(ReferralRoutingCategoryTest, AMentalHealthReasonWinsOverAge) {
  RoutingDecision d = RouteOldhamAdult("1955-01-01", "2025-06-01", {kFeelingLonely, kStress});
  EXPECT_EQ(d.category_id, "mental-health");
  EXPECT_EQ(d.team_id, "oldham-north-royton-mental-health");
  EXPECT_EQ(d.endpoint_id, "mind-oldham");
  EXPECT_THAT(d.reason, HasSubstr("group mental-health"));
}

TEST(ReferralRoutingCategoryTest, SensitiveReasonsNeverCount) {
  // A 40-year-old referred only for a withheld reason: wellbeing, as if there were no reason.
  RoutingDecision d = RouteOldhamAdult("1985-01-01", "2025-06-01", {kChlamydia});
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_THAT(IssueCodes(d.notes), IsEmpty());
  // And beside a 70-year-old's safeguarding code, age still decides.
  EXPECT_EQ(RouteOldhamAdult("1955-01-01", "2025-06-01", {kAdultSafeguarding}).category_id, "older-people");
}

TEST(ReferralRoutingCategoryTest, TheSocialPrescribingProcedureCodeNeverCounts) {
  RoutingDecision d = RouteOldhamAdult("1985-01-01", "2025-06-01", {kSocialPrescribingReferral});
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_THAT(IssueCodes(d.notes), IsEmpty());  // known, so no unknown-code warning
  EXPECT_EQ(RouteOldhamAdult("1985-01-01", "2025-06-01", {"871711000000103"}).category_id, "wellbeing");
}

TEST(ReferralRoutingCategoryTest, NoReasonsAtAllIsDecidedByAge) {
  EXPECT_EQ(RouteOldhamAdult("1985-01-01", "2025-06-01", {}).category_id, "wellbeing");
  EXPECT_EQ(RouteOldhamAdult("1945-01-01", "2025-06-01", {}).category_id, "older-people");
}

TEST(ReferralRoutingCategoryTest, CodingsInOtherSystemsAreNotReasons) {
  Referral referral = MakeReferral({"OL2 6LB", "P85901", "1985-01-01", "2025-06-01", {}});
  frontdoor::v1::Coding* coding = referral.add_reasons();
  coding->set_system("http://read.info/ctv3");
  coding->set_code(kAnxiety);
  coding = referral.add_reasons();
  coding->set_system("http://snomed.info/sct/");  // not the SNOMED CT system URI
  coding->set_code(kAnxiety);
  coding = referral.add_reasons();
  coding->set_system("http://example.org/local");
  coding->set_code(kUnknownButWellFormed);
  RoutingDecision d = RouteReferral(referral, Demo());
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_THAT(d.notes, IsEmpty());
}

TEST(ReferralRoutingCategoryTest, AnUnknownWellFormedCodeWarnsAndCountsForNothing) {
  RoutingDecision d =
      RouteOldhamAdult("1985-01-01", "2025-06-01", {kUnknownButWellFormed, kFeelingLonely, "987654321"});
  EXPECT_TRUE(d.routed);
  EXPECT_EQ(d.category_id, "wellbeing");
  ASSERT_EQ(d.notes.size(), 2u);
  EXPECT_EQ(d.notes[0].code(), kUnknownReasonCode);
  EXPECT_EQ(d.notes[0].severity(), Issue::WARNING);
  EXPECT_THAT(d.notes[0].message(), HasSubstr(kUnknownButWellFormed));
  EXPECT_EQ(d.notes[1].code(), kUnknownReasonCode);
  EXPECT_THAT(d.notes[1].message(), HasSubstr("987654321"));
}

TEST(ReferralRoutingCategoryTest, AnUnknownCodeRepeatedWarnsOnce) {
  RoutingDecision d = RouteOldhamAdult("1985-01-01", "2025-06-01", {kUnknownButWellFormed, kUnknownButWellFormed});
  EXPECT_EQ(IssueCodes(d.notes), std::vector<std::string>{kUnknownReasonCode});
}

TEST(ReferralRoutingCategoryTest, MalformedCodesGetNoUnknownCodeWarning) {
  // The validator rejects these; routing neither warns nor counts them.
  RoutingDecision d = RouteOldhamAdult("1985-01-01", "2025-06-01", {"anxiety", "12", "0048694002"});
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_THAT(d.notes, IsEmpty());
}

TEST(ReferralRoutingCategoryTest, TamesideIsAlwaysAll) {
  for (const auto& [birth, reasons] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"1985-01-01", {kAnxiety}}, {"1940-01-01", {kFeelingLonely}}, {"2000-01-01", {}}}) {
    RoutingDecision d = RouteReferral(MakeReferral({"SK14 2NH", "P89906", birth, "2025-06-01", reasons}), Demo());
    EXPECT_EQ(d.category_id, "all") << birth;
    EXPECT_EQ(d.team_id, "tameside-hyde-longdendale-all") << birth;
    EXPECT_EQ(d.endpoint_id, "action-together-tameside");
    EXPECT_TRUE(d.accepts_nhs_number);
    EXPECT_THAT(d.reason, HasSubstr("every Tameside referral"));
  }
}

TEST(ReferralRoutingCategoryTest, TamesideStillWarnsAboutUnknownCodes) {
  RoutingDecision d =
      RouteReferral(MakeReferral({"OL6 7TP", "P89901", "1940-03-22", "2025-02-25", {kUnknownButWellFormed}}), Demo());
  EXPECT_EQ(d.team_id, "tameside-ashton-all");
  EXPECT_EQ(IssueCodes(d.notes), std::vector<std::string>{kUnknownReasonCode});
}

// --- Rule 3: paused and missing teams ---------------------------------------------------------

TEST(ReferralRoutingTeamTest, APausedMentalHealthTeamSendsItToTheFrontDoor) {
  RoutingDecision d =
      RouteReferral(MakeReferral({"M35 0HS", "P85910", "1985-09-09", "2025-03-12", {kAnxiety}}), Demo());
  ASSERT_TRUE(d.routed);
  EXPECT_EQ(d.cluster_id, "oldham-south-failsworth");
  EXPECT_EQ(d.category_id, "mental-health");
  EXPECT_EQ(d.team_id, "oldham-front-door");
  EXPECT_EQ(d.endpoint_id, "action-together-oldham");
  EXPECT_TRUE(d.front_door);
  EXPECT_TRUE(d.accepts_nhs_number);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].code(), kFrontDoor);
  EXPECT_EQ(d.notes[0].severity(), Issue::INFORMATION);
  EXPECT_EQ(d.notes[0].message(),
            "team oldham-south-failsworth-mental-health is paused; the Oldham front door "
            "triages it");
  EXPECT_THAT(d.reason, HasSubstr("is paused"));
}

TEST(ReferralRoutingTeamTest, APausedOlderPeopleTeamSendsItToTheFrontDoor) {
  RoutingDecision d =
      RouteReferral(MakeReferral({"OL3 5AB", "P85904", "1950-05-05", "2025-06-01", {kFeelingLonely}}), Demo());
  ASSERT_TRUE(d.routed);
  EXPECT_EQ(d.cluster_id, "oldham-east-saddleworth");
  EXPECT_EQ(d.category_id, "older-people");
  EXPECT_EQ(d.team_id, "oldham-front-door");
  EXPECT_TRUE(d.front_door);
  ASSERT_EQ(IssueCodes(d.notes), std::vector<std::string>{kFrontDoor});
  EXPECT_THAT(d.notes[0].message(), HasSubstr("oldham-east-saddleworth-older-people is paused"));
}

TEST(ReferralRoutingTeamTest, TheOpenTeamsOfAPausedTeamsClusterStillTakeTheirReferrals) {
  RoutingDecision d =
      RouteReferral(MakeReferral({"OL3 5AB", "P85904", "1985-05-05", "2025-06-01", {kFeelingLonely}}), Demo());
  EXPECT_EQ(d.team_id, "oldham-east-saddleworth-wellbeing");
  EXPECT_FALSE(d.front_door);
  EXPECT_THAT(d.notes, IsEmpty());
}

TEST(ReferralRoutingTeamTest, AMissingTeamSendsItToTheFrontDoor) {
  network::NetworkCsvTexts texts = network::DemoNetworkCsvTexts();
  const std::string line =
      "oldham-north-royton-wellbeing,Action Together CIO (Oldham),action-together-oldham,"
      "oldham-north-royton,wellbeing,yes,open\n";
  size_t at = texts.connector_teams.find(line);
  ASSERT_NE(at, std::string::npos);
  texts.connector_teams.erase(at, line.size());
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_TRUE(net.ok()) << net.status();

  RoutingDecision d = RouteReferral(MakeReferral(RoytonAdult()), *net);
  ASSERT_TRUE(d.routed);
  EXPECT_EQ(d.category_id, "wellbeing");
  EXPECT_EQ(d.team_id, "oldham-front-door");
  EXPECT_TRUE(d.front_door);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].code(), kFrontDoor);
  EXPECT_EQ(d.notes[0].message(),
            "there is no wellbeing team for cluster oldham-north-royton; the Oldham front door "
            "triages it");
}

TEST(ReferralRoutingTeamTest, APausedTamesideTeamGoesToTheTamesideFrontDoor) {
  network::NetworkCsvTexts texts = network::DemoNetworkCsvTexts();
  const std::string open = "tameside-ashton,all,yes,open";
  size_t at = texts.connector_teams.find(open);
  ASSERT_NE(at, std::string::npos);
  texts.connector_teams.replace(at, open.size(), "tameside-ashton,all,yes,paused");
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_TRUE(net.ok()) << net.status();

  RoutingDecision d =
      RouteReferral(MakeReferral({"OL6 7TP", "P89901", "1940-03-22", "2025-02-25", {kFeelingLonely}}), *net);
  EXPECT_EQ(d.team_id, "tameside-front-door");
  EXPECT_EQ(d.endpoint_id, "action-together-tameside");
  EXPECT_TRUE(d.front_door);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_EQ(d.notes[0].message(), "team tameside-ashton-all is paused; the Tameside front door triages it");
}

TEST(ReferralRoutingTeamTest, UnknownCodeWarningsComeBeforeTheFrontDoorNote) {
  RoutingDecision d = RouteReferral(
      MakeReferral({"M35 0HS", "P85910", "1985-09-09", "2025-03-12", {kUnknownButWellFormed, kAnxiety}}), Demo());
  EXPECT_EQ(IssueCodes(d.notes), (std::vector<std::string>{kUnknownReasonCode, kFrontDoor}));
}

// --- Rule 4: determinism ----------------------------------------------------------------------

TEST(ReferralRoutingTest, TheSameInputAndNetworkGiveTheSameAnswer) {
  absl::StatusOr<NetworkDirectory> other = NetworkDirectory::LoadDemo();
  ASSERT_TRUE(other.ok());
  for (const ReferralSpec& spec :
       {RoytonAdult(),
        ReferralSpec{"M35 0HS", "P85910", "1985-09-09", "2025-03-12", {kUnknownButWellFormed, kAnxiety, kChlamydia}},
        ReferralSpec{"M14 7HR", "P84034", "1972-06-21", "2025-03-27", {kFeelingLonely}}}) {
    const Referral referral = MakeReferral(spec);
    const RoutingDecision first = RouteReferral(referral, Demo());
    for (const NetworkDirectory* net : {&Demo(), static_cast<const NetworkDirectory*>(&*other)}) {
      const RoutingDecision again = RouteReferral(referral, *net);
      EXPECT_EQ(again.routed, first.routed);
      EXPECT_EQ(again.cluster_id, first.cluster_id);
      EXPECT_EQ(again.cluster_source, first.cluster_source);
      EXPECT_EQ(again.category_id, first.category_id);
      EXPECT_EQ(again.team_id, first.team_id);
      EXPECT_EQ(again.endpoint_id, first.endpoint_id);
      EXPECT_EQ(again.accepts_nhs_number, first.accepts_nhs_number);
      EXPECT_EQ(again.front_door, first.front_door);
      EXPECT_EQ(again.reason, first.reason);
      EXPECT_EQ(again.out_of_area.has_value(), first.out_of_area.has_value());
      if (again.out_of_area && first.out_of_area) {
        EXPECT_EQ(again.out_of_area->SerializeAsString(), first.out_of_area->SerializeAsString());
      }
      ASSERT_EQ(again.notes.size(), first.notes.size());
      for (size_t i = 0; i < again.notes.size(); ++i) {
        EXPECT_EQ(again.notes[i].SerializeAsString(), first.notes[i].SerializeAsString());
      }
    }
  }
}

}  // namespace
}  // namespace frontdoor::gateway
