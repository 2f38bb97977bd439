#include "network/network_directory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "network/csv_table.h"
#include "network/demo_network_data.h"

namespace frontdoor::network {
namespace {

using ::testing::HasSubstr;

// The eight files, by name and by their place in NetworkCsvTexts.
struct CsvFile {
  const char* name;
  std::string NetworkCsvTexts::*text;
};
constexpr CsvFile kCsvFiles[] = {
    {"clusters.csv", &NetworkCsvTexts::clusters},
    {"postcode_sectors.csv", &NetworkCsvTexts::postcode_sectors},
    {"practices.csv", &NetworkCsvTexts::practices},
    {"referrers.csv", &NetworkCsvTexts::referrers},
    {"categories.csv", &NetworkCsvTexts::categories},
    {"reason_codes.csv", &NetworkCsvTexts::reason_codes},
    {"organisations.csv", &NetworkCsvTexts::organisations},
    {"connector_teams.csv", &NetworkCsvTexts::connector_teams},
};

std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

const NetworkDirectory& Demo() {
  static const NetworkDirectory* const demo = [] {
    absl::StatusOr<NetworkDirectory> loaded = NetworkDirectory::LoadDemo();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new NetworkDirectory(std::move(loaded).value());
  }();
  return *demo;
}

// The data rows of one embedded file, parsed with the header the directory expects.
std::vector<CsvRow> DemoRows(std::string NetworkCsvTexts::*text, const std::vector<std::string_view>& header) {
  absl::StatusOr<CsvTable> table = ParseCsvTable("demo", DemoNetworkCsvTexts().*text, header);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? table->rows : std::vector<CsvRow>{};
}

// The 1-based number of the line a row appended to `text` gets (the demo files end with '\n').
int NextLine(const std::string& text) { return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1; }

// The 1-based line on which `needle` starts.
int LineOf(const std::string& text, std::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << needle;
  return static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')) + 1;
}

void ReplaceOnce(std::string& text, std::string_view from, std::string_view to) {
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << "test data lacks: " << from;
  text.replace(at, from.size(), to);
}

// Expects FromCsvTexts to fail with INVALID_ARGUMENT mentioning "<file>:<line>:" and `detail`.
void ExpectInvalid(const NetworkCsvTexts& texts, const std::string& file, int line, std::string_view detail) {
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.status().code(), absl::StatusCode::kInvalidArgument) << net.status();
  EXPECT_THAT(std::string(net.status().message()), HasSubstr(file + ":" + std::to_string(line) + ": "));
  EXPECT_THAT(std::string(net.status().message()), HasSubstr(std::string(detail)));
}

// --- The demo network -------------------------------------------------------------------------

TEST(NetworkDirectoryDemoTest, LoadsTheEmbeddedDemoNetwork) {
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadDemo();
  ASSERT_TRUE(net.ok()) << net.status();
}

TEST(NetworkDirectoryDemoTest, HasTheDocumentedNumberOfRows) {
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::clusters, {"cluster_id", "borough", "name"}).size(), 19u);
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::postcode_sectors, {"sector", "cluster_id"}).size(), 54u);
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::practices, {"ods_code", "name", "cluster_id"}).size(), 24u);
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::referrers, {"ods_code", "name", "borough", "kind"}).size(), 6u);
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::categories, {"category_id", "borough", "name", "rule"}).size(), 4u);
  EXPECT_EQ(DemoRows(&NetworkCsvTexts::reason_codes, {"snomed_code", "display", "group"}).size(), 33u);
  EXPECT_EQ(Demo().organisations().size(), 4u);
  EXPECT_EQ(Demo().teams().size(), 51u);
}

TEST(NetworkDirectoryDemoTest, EveryRowOfEveryFileCanBeLookedUp) {
  const NetworkDirectory& net = Demo();
  std::set<std::string> boroughs;
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::clusters, {"cluster_id", "borough", "name"})) {
    const Cluster* c = net.FindCluster(row.fields[0]);
    ASSERT_NE(c, nullptr) << row.fields[0];
    EXPECT_EQ(c->borough, row.fields[1]);
    EXPECT_EQ(c->name, row.fields[2]);
    boroughs.insert(c->borough);
  }
  EXPECT_EQ(boroughs, (std::set<std::string>{"oldham", "tameside"}));
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::postcode_sectors, {"sector", "cluster_id"})) {
    const Cluster* c = net.ClusterForSector(row.fields[0]);
    ASSERT_NE(c, nullptr) << row.fields[0];
    EXPECT_EQ(c->id, row.fields[1]);
  }
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::practices, {"ods_code", "name", "cluster_id"})) {
    const Practice* p = net.FindPractice(row.fields[0]);
    ASSERT_NE(p, nullptr) << row.fields[0];
    EXPECT_EQ(p->cluster_id, row.fields[2]);
    EXPECT_TRUE(net.IsKnownReferringOrganisation(row.fields[0]));
  }
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::referrers, {"ods_code", "name", "borough", "kind"})) {
    const Referrer* r = net.FindReferrer(row.fields[0]);
    ASSERT_NE(r, nullptr) << row.fields[0];
    EXPECT_EQ(r->kind, row.fields[3]);
    EXPECT_TRUE(net.IsKnownReferringOrganisation(row.fields[0]));
  }
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::reason_codes, {"snomed_code", "display", "group"})) {
    const ReasonCode* r = net.FindReasonCode(row.fields[0]);
    ASSERT_NE(r, nullptr) << row.fields[0];
    EXPECT_EQ(r->group, row.fields[2]);
  }
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::categories, {"category_id", "borough", "name", "rule"})) {
    EXPECT_NE(net.FindCategory(row.fields[1], row.fields[0]), nullptr) << row.fields[0];
  }
}

TEST(NetworkDirectoryDemoTest, EveryOldhamClusterHasThreeTeamsAndEveryTamesideClusterOne) {
  const NetworkDirectory& net = Demo();
  int oldham_clusters = 0;
  int tameside_clusters = 0;
  for (const CsvRow& row : DemoRows(&NetworkCsvTexts::clusters, {"cluster_id", "borough", "name"})) {
    const std::string& id = row.fields[0];
    if (row.fields[1] == "oldham") {
      ++oldham_clusters;
      for (const char* category : {"wellbeing", "older-people", "mental-health"}) {
        const ConnectorTeam* t = net.FindTeam(id, category);
        ASSERT_NE(t, nullptr) << id << " " << category;
        EXPECT_EQ(t->team_id, id + "-" + category);
      }
      EXPECT_EQ(net.FindTeam(id, "all"), nullptr);
    } else {
      ++tameside_clusters;
      ASSERT_NE(net.FindTeam(id, "all"), nullptr) << id;
      EXPECT_EQ(net.FindTeam(id, "wellbeing"), nullptr);
    }
  }
  EXPECT_EQ(oldham_clusters, 15);
  EXPECT_EQ(tameside_clusters, 4);
}

TEST(NetworkDirectoryDemoTest, ExactlyTwoTeamsArePausedAndTwoAreFrontDoors) {
  std::set<std::string> paused;
  std::set<std::string> front_doors;
  for (const ConnectorTeam& t : Demo().teams()) {
    if (t.paused) paused.insert(t.team_id);
    if (t.IsFrontDoor()) front_doors.insert(t.team_id);
  }
  EXPECT_EQ(paused,
            (std::set<std::string>{"oldham-east-saddleworth-older-people", "oldham-south-failsworth-mental-health"}));
  EXPECT_EQ(front_doors, (std::set<std::string>{"oldham-front-door", "tameside-front-door"}));
}

TEST(NetworkDirectoryDemoTest, LooksUpSectorsExactlyAsRoutingWritesThem) {
  const NetworkDirectory& net = Demo();
  ASSERT_NE(net.ClusterForSector("OL2 6"), nullptr);
  EXPECT_EQ(net.ClusterForSector("OL2 6")->id, "oldham-north-royton");
  EXPECT_EQ(net.ClusterForSector("M35 0")->id, "oldham-south-failsworth");
  EXPECT_EQ(net.ClusterForSector("SK14 2")->id, "tameside-hyde-longdendale");
  // Out of area, and not normalised here: routing normalises before it asks.
  EXPECT_EQ(net.ClusterForSector("M1 1"), nullptr);
  EXPECT_EQ(net.ClusterForSector("OL11 1"), nullptr);
  EXPECT_EQ(net.ClusterForSector("ol2 6"), nullptr);
  EXPECT_EQ(net.ClusterForSector("OL26"), nullptr);
  EXPECT_EQ(net.ClusterForSector(""), nullptr);
}

TEST(NetworkDirectoryDemoTest, FindsPracticesReferrersAndOrganisations) {
  const NetworkDirectory& net = Demo();
  ASSERT_NE(net.FindPractice("P85903"), nullptr);
  EXPECT_EQ(net.FindPractice("P85903")->cluster_id, "oldham-north-derker");
  EXPECT_EQ(net.FindPractice("P84034"), nullptr);
  ASSERT_NE(net.FindReferrer("R9T01"), nullptr);
  EXPECT_EQ(net.FindReferrer("R9T01")->borough, "tameside");
  EXPECT_EQ(net.FindReferrer("R9T01")->kind, "hospital");
  EXPECT_TRUE(net.IsKnownReferringOrganisation("L9O03"));
  EXPECT_FALSE(net.IsKnownReferringOrganisation("P84034"));
  EXPECT_FALSE(net.IsKnownReferringOrganisation("8AT01"));  // a connector, not a referrer
  ASSERT_NE(net.FindOrganisation("mind-oldham"), nullptr);
  EXPECT_EQ(net.FindOrganisation("mind-oldham")->ods_code, "8MD03");
  EXPECT_EQ(net.FindOrganisation("mind-tameside"), nullptr);
}

TEST(NetworkDirectoryDemoTest, ClassifiesReasonCodes) {
  const NetworkDirectory& net = Demo();
  const ReasonCode* anxiety = net.FindReasonCode("48694002");
  ASSERT_NE(anxiety, nullptr);
  EXPECT_EQ(anxiety->group, "mental-health");
  EXPECT_FALSE(anxiety->IsSensitive());
  EXPECT_FALSE(anxiety->IsProcedure());
  EXPECT_EQ(anxiety->WithheldCategory(), "");

  const ReasonCode* chlamydia = net.FindReasonCode("105629000");
  ASSERT_NE(chlamydia, nullptr);
  EXPECT_TRUE(chlamydia->IsSensitive());
  EXPECT_EQ(chlamydia->WithheldCategory(), "sexual-health");
  EXPECT_EQ(net.FindReasonCode("766561000000109")->WithheldCategory(), "safeguarding");

  const ReasonCode* referral = net.FindReasonCode("871731000000106");
  ASSERT_NE(referral, nullptr);
  EXPECT_TRUE(referral->IsProcedure());
  EXPECT_FALSE(referral->IsSensitive());

  EXPECT_EQ(net.FindReasonCode("123456789"), nullptr);
}

TEST(NetworkDirectoryDemoTest, FindsTeamsPausedOrOpenAndFrontDoors) {
  const NetworkDirectory& net = Demo();
  const ConnectorTeam* paused = net.FindTeam("oldham-south-failsworth", "mental-health");
  ASSERT_NE(paused, nullptr);
  EXPECT_TRUE(paused->paused);
  EXPECT_EQ(paused->endpoint_id, "mind-oldham");
  EXPECT_FALSE(paused->accepts_nhs_number);

  const ConnectorTeam* royton = net.FindTeamById("oldham-north-royton-wellbeing");
  ASSERT_NE(royton, nullptr);
  EXPECT_FALSE(royton->paused);
  EXPECT_TRUE(royton->accepts_nhs_number);
  EXPECT_EQ(royton, net.FindTeam("oldham-north-royton", "wellbeing"));

  const ConnectorTeam* oldham = net.FrontDoor("oldham");
  ASSERT_NE(oldham, nullptr);
  EXPECT_EQ(oldham->team_id, "oldham-front-door");
  EXPECT_TRUE(oldham->IsFrontDoor());
  EXPECT_EQ(oldham->FrontDoorBorough(), "oldham");
  EXPECT_EQ(oldham->endpoint_id, "action-together-oldham");
  ASSERT_NE(net.FrontDoor("tameside"), nullptr);
  EXPECT_EQ(net.FrontDoor("tameside")->endpoint_id, "action-together-tameside");
  EXPECT_EQ(net.FrontDoor("manchester"), nullptr);
  // The front door is not a (cluster, category) team.
  EXPECT_EQ(net.FindTeam("*", "*"), nullptr);
}

TEST(NetworkDirectoryDemoTest, OnlyActionTogetherTeamsAcceptNhsNumbers) {
  for (const ConnectorTeam& t : Demo().teams()) {
    const bool action_together = t.endpoint_id.rfind("action-together-", 0) == 0;
    EXPECT_EQ(t.accepts_nhs_number, action_together) << t.team_id;
  }
}

TEST(NetworkDirectoryDemoTest, FindsCategoriesPerBorough) {
  const NetworkDirectory& net = Demo();
  ASSERT_NE(net.FindCategory("tameside", "all"), nullptr);
  EXPECT_EQ(net.FindCategory("oldham", "all"), nullptr);
  ASSERT_NE(net.FindCategory("oldham", "older-people"), nullptr);
  EXPECT_EQ(net.FindCategory("oldham", "older-people")->name, "Older people");
  EXPECT_EQ(net.FindCategory("tameside", "wellbeing"), nullptr);
}

TEST(NetworkDirectoryDemoTest, PointersSurviveMovingTheDirectory) {
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadDemo();
  ASSERT_TRUE(net.ok());
  const Cluster* royton = net->FindCluster("oldham-north-royton");
  const ConnectorTeam* front_door = net->FrontDoor("oldham");
  NetworkDirectory moved = std::move(net).value();
  EXPECT_EQ(moved.FindCluster("oldham-north-royton"), royton);
  EXPECT_EQ(moved.FrontDoor("oldham"), front_door);
  EXPECT_EQ(royton->name, "Royton");
}

// --- Loading from a directory --------------------------------------------------------------------

TEST(NetworkDirectoryLoadTest, LoadsTheCommittedDemoDirectoryLikeTheEmbeddedCopy) {
  absl::StatusOr<NetworkDirectory> net =
      NetworkDirectory::LoadFromDirectory(FRONTDOOR_SOURCE_DIR "/config/demo/network");
  ASSERT_TRUE(net.ok()) << net.status();
  ASSERT_EQ(net->teams().size(), Demo().teams().size());
  for (size_t i = 0; i < net->teams().size(); ++i) {
    EXPECT_EQ(net->teams()[i].team_id, Demo().teams()[i].team_id);
  }
}

class NetworkDirectoryTempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("network_directory_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (const CsvFile& f : kCsvFiles) WriteFile(dir_ / f.name, DemoNetworkCsvTexts().*f.text);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(NetworkDirectoryTempDirTest, LoadsACopyOfTheDemoFiles) {
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadFromDirectory(dir_.string());
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_EQ(net->teams().size(), 51u);
}

TEST_F(NetworkDirectoryTempDirTest, AMissingFileIsNotFoundAndNamed) {
  std::filesystem::remove(dir_ / "referrers.csv");
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadFromDirectory(dir_.string());
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(net.status().message()), HasSubstr("referrers.csv"));
}

TEST_F(NetworkDirectoryTempDirTest, ErrorsNameThePathOfTheBrokenFile) {
  std::string teams = DemoNetworkCsvTexts().connector_teams;
  ReplaceOnce(teams, "mind-oldham,oldham-north-royton,mental-health,no,open",
              "mind-oldham,oldham-north-royton,mental-health,no,closed");
  WriteFile(dir_ / "connector_teams.csv", teams);
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadFromDirectory(dir_.string());
  ASSERT_FALSE(net.ok());
  EXPECT_EQ(net.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string where = (dir_ / "connector_teams.csv").string() + ":" +
                            std::to_string(LineOf(teams, "oldham-north-royton-mental-health")) + ": ";
  EXPECT_THAT(std::string(net.status().message()), HasSubstr(where));
}

// --- Tolerated variations ----------------------------------------------------------------------

std::string WithCrlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

TEST(NetworkDirectoryCsvTest, AcceptsCrlfLineEndings) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  for (const CsvFile& f : kCsvFiles) texts.*f.text = WithCrlf(texts.*f.text);
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_TRUE(net.ok()) << net.status();
  ASSERT_NE(net->FindTeamById("tameside-front-door"), nullptr);  // last field of the last line
  EXPECT_FALSE(net->FindTeamById("tameside-front-door")->paused);
  EXPECT_EQ(net->ClusterForSector("OL5 9")->id, "tameside-stalybridge-dukinfield-mossley");
}

TEST(NetworkDirectoryCsvTest, AcceptsAMissingFinalNewlineBlankLinesAndAByteOrderMark) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ASSERT_EQ(texts.organisations.back(), '\n');
  texts.organisations.pop_back();
  texts.clusters = "\xEF\xBB\xBF" + texts.clusters + "\n\n";
  texts.practices += "# a trailing comment\n";
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_EQ(net->organisations().back().ods_code, "8AT04");
}

TEST(NetworkDirectoryCsvTest, CommentsMayStandBetweenRows) {
  // reason_codes.csv already has them; they must not count as rows.
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.clusters, "oldham-north-derker,", "# Derker next\noldham-north-derker,");
  absl::StatusOr<NetworkDirectory> net = NetworkDirectory::FromCsvTexts(texts);
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_NE(net->FindCluster("oldham-north-derker"), nullptr);
}

// --- Malformed files: each error names the file and the line ----------------------------------

TEST(NetworkDirectoryCsvTest, RejectsAnUnexpectedHeader) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.practices, "ods_code,name,cluster_id", "ods,name,cluster_id");
  ExpectInvalid(texts, "practices.csv", LineOf(texts.practices, "ods,name,cluster_id"),
                "expected the header row 'ods_code,name,cluster_id'");
}

TEST(NetworkDirectoryCsvTest, RejectsAFileWithNoHeader) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  texts.referrers = "# nothing here\n";
  ExpectInvalid(texts, "referrers.csv", 1, "no header row");
}

TEST(NetworkDirectoryCsvTest, RejectsTooManyColumns) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.clusters);
  texts.clusters += "oldham-extra,oldham,Extra,one too many\n";
  ExpectInvalid(texts, "clusters.csv", line, "expected 3 columns");
}

TEST(NetworkDirectoryCsvTest, RejectsTooFewColumns) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.postcode_sectors, "OL3 6,oldham-east-saddleworth", "OL3 6");
  ExpectInvalid(texts, "postcode_sectors.csv", LineOf(texts.postcode_sectors, "OL3 6\n"),
                "expected 2 columns (sector,cluster_id), found 1");
}

TEST(NetworkDirectoryCsvTest, RejectsAnEmptyField) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.organisations, "Age UK Oldham,8AU02", "Age UK Oldham,");
  ExpectInvalid(texts, "organisations.csv", LineOf(texts.organisations, "ageuk-oldham"), "column ods_code is empty");
}

TEST(NetworkDirectoryCsvTest, RejectsPaddedFields) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.clusters, "oldham-north-royton,oldham", "oldham-north-royton, oldham");
  ExpectInvalid(texts, "clusters.csv", LineOf(texts.clusters, "oldham-north-royton,"),
                "leading or trailing whitespace");
}

TEST(NetworkDirectoryCsvTest, RejectsABadYesNo) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "oldham-north-royton,wellbeing,yes,open",
              "oldham-north-royton,wellbeing,true,open");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "oldham-north-royton-wellbeing"),
                "accepts_nhs_number is 'true'; expected yes or no");
}

TEST(NetworkDirectoryCsvTest, RejectsABadStatus) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "tameside-ashton,all,yes,open", "tameside-ashton,all,yes,Open");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "tameside-ashton-all"),
                "status is 'Open'; expected open or paused");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateCluster) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int first = LineOf(texts.clusters, "oldham-north-royton,");
  const int line = NextLine(texts.clusters);
  texts.clusters += "oldham-north-royton,oldham,Royton again\n";
  ExpectInvalid(texts, "clusters.csv", line,
                "duplicate cluster_id 'oldham-north-royton' (first on line " + std::to_string(first) + ")");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateSector) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.postcode_sectors);
  texts.postcode_sectors += "OL2 6,oldham-north-derker\n";
  ExpectInvalid(texts, "postcode_sectors.csv", line, "duplicate sector 'OL2 6'");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicatePractice) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.practices);
  texts.practices += "P85901,Another Royton Practice,oldham-north-royton\n";
  ExpectInvalid(texts, "practices.csv", line, "duplicate ods_code 'P85901'");
}

TEST(NetworkDirectoryCsvTest, RejectsAReferrerThatIsAlsoAPractice) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.referrers);
  texts.referrers += "P85901,Royton Hospital,oldham,hospital\n";
  ExpectInvalid(texts, "referrers.csv", line, "already a practice");
}

TEST(NetworkDirectoryCsvTest, RejectsAnUnknownReferrerKind) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.referrers);
  texts.referrers += "R9X99,A Pharmacy,oldham,pharmacy\n";
  ExpectInvalid(texts, "referrers.csv", line, "kind 'pharmacy'");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateReasonCode) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.reason_codes);
  texts.reason_codes += "48694002,Anxiety again,social\n";
  ExpectInvalid(texts, "reason_codes.csv", line, "duplicate snomed_code '48694002'");
}

TEST(NetworkDirectoryCsvTest, RejectsAnUnknownReasonGroupOrMalformedCode) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  int line = NextLine(texts.reason_codes);
  texts.reason_codes += "1234567,Something,spiritual\n";
  ExpectInvalid(texts, "reason_codes.csv", line, "group 'spiritual'");

  texts = DemoNetworkCsvTexts();
  line = NextLine(texts.reason_codes);
  texts.reason_codes += "12AB,Something,social\n";
  ExpectInvalid(texts, "reason_codes.csv", line, "not a SNOMED CT concept id");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateTeam) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.connector_teams);
  texts.connector_teams +=
      "tameside-ashton-all,Action Together CIO (Tameside),action-together-tameside,"
      "tameside-hyde-longdendale,all,yes,open\n";
  ExpectInvalid(texts, "connector_teams.csv", line, "duplicate team_id 'tameside-ashton-all'");
}

TEST(NetworkDirectoryCsvTest, RejectsASecondTeamForTheSameClusterAndCategory) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.connector_teams);
  texts.connector_teams +=
      "tameside-ashton-all-2,Action Together CIO (Tameside),action-together-tameside,"
      "tameside-ashton,all,yes,open\n";
  ExpectInvalid(texts, "connector_teams.csv", line, "duplicate team for (cluster_id, category_id)");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateOrganisation) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.organisations);
  texts.organisations += "mind-oldham,Mind (Oldham),8MD09\n";
  ExpectInvalid(texts, "organisations.csv", line, "duplicate endpoint_id 'mind-oldham'");
}

TEST(NetworkDirectoryCsvTest, RejectsADuplicateCategoryInABorough) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.categories);
  texts.categories += "wellbeing,oldham,Wellbeing again,Twice\n";
  ExpectInvalid(texts, "categories.csv", line, "duplicate category_id");
}

TEST(NetworkDirectoryCsvTest, RejectsASectorOfAnUnknownCluster) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.postcode_sectors);
  texts.postcode_sectors += "M1 1,manchester-city-centre\n";
  ExpectInvalid(texts, "postcode_sectors.csv", line, "cluster_id 'manchester-city-centre' is not in clusters.csv");
}

TEST(NetworkDirectoryCsvTest, RejectsAMalformedSector) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.postcode_sectors);
  texts.postcode_sectors += "ol2 9,oldham-north-royton\n";
  ExpectInvalid(texts, "postcode_sectors.csv", line, "sector 'ol2 9'");
}

TEST(NetworkDirectoryCsvTest, RejectsAPracticeOfAnUnknownCluster) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.practices, "Derker Family Surgery,oldham-north-derker",
              "Derker Family Surgery,oldham-north-dereker");
  ExpectInvalid(texts, "practices.csv", LineOf(texts.practices, "P85903"),
                "cluster_id 'oldham-north-dereker' is not in clusters.csv");
}

TEST(NetworkDirectoryCsvTest, RejectsATeamOfAnUnknownCluster) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "action-together-tameside,tameside-ashton,all",
              "action-together-tameside,tameside-ashtn,all");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "tameside-ashton-all"),
                "cluster_id 'tameside-ashtn' is not in clusters.csv");
}

TEST(NetworkDirectoryCsvTest, RejectsATeamOfAnUnknownEndpoint) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "Age UK Oldham,ageuk-oldham,oldham-north-royton",
              "Age UK Oldham,age-uk-oldham,oldham-north-royton");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "oldham-north-royton-older-people"),
                "endpoint_id 'age-uk-oldham' is not in organisations.csv");
}

TEST(NetworkDirectoryCsvTest, RejectsATeamWhoseOrganisationDiffersFromItsEndpoint) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "Age UK Oldham,ageuk-oldham,oldham-north-royton",
              "Age UK,ageuk-oldham,oldham-north-royton");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "oldham-north-royton-older-people"),
                "organisation 'Age UK' differs");
}

TEST(NetworkDirectoryCsvTest, RejectsATeamOfAnUnknownCategory) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "oldham-north-royton,older-people,no,open", "oldham-north-royton,elderly,no,open");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "oldham-north-royton-older-people"),
                "category_id 'elderly' is not a category of borough oldham");
}

TEST(NetworkDirectoryCsvTest, RejectsATeamWithAnotherBoroughsCategory) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "tameside-ashton,all,yes,open", "tameside-ashton,wellbeing,yes,open");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "tameside-ashton-all"),
                "category_id 'wellbeing' is not a category of borough tameside");
}

TEST(NetworkDirectoryCsvTest, RejectsACategoryOfAnUnknownBorough) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.categories);
  texts.categories += "all,manchester,All needs,Everything\n";
  ExpectInvalid(texts, "categories.csv", line, "borough 'manchester' has no cluster");
}

TEST(NetworkDirectoryCsvTest, RejectsAHalfMarkedFrontDoor) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "action-together-oldham,*,*,yes,open",
              "action-together-oldham,*,wellbeing,yes,open");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "oldham-front-door"), "must both be *");
}

TEST(NetworkDirectoryCsvTest, RejectsAPausedFrontDoor) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams, "action-together-tameside,*,*,yes,open",
              "action-together-tameside,*,*,yes,paused");
  ExpectInvalid(texts, "connector_teams.csv", LineOf(texts.connector_teams, "tameside-front-door"), "cannot be paused");
}

TEST(NetworkDirectoryCsvTest, RejectsAFrontDoorOfAnUnknownBorough) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  const int line = NextLine(texts.connector_teams);
  texts.connector_teams += "bury-front-door,Action Together CIO (Oldham),action-together-oldham,*,*,yes,open\n";
  ExpectInvalid(texts, "connector_teams.csv", line, "borough 'bury'");
}

TEST(NetworkDirectoryCsvTest, RejectsABoroughWithoutAFrontDoor) {
  NetworkCsvTexts texts = DemoNetworkCsvTexts();
  ReplaceOnce(texts.connector_teams,
              "tameside-front-door,Action Together CIO (Tameside),action-together-tameside,*,*,yes,"
              "open\n",
              "");
  ExpectInvalid(texts, "clusters.csv", LineOf(texts.clusters, "tameside-ashton"),
                "borough 'tameside' has no front-door team");
}

// --- ParseCsvTable on its own ------------------------------------------------------------------

TEST(CsvTableTest, KeepsLineNumbersOfRows) {
  absl::StatusOr<CsvTable> t = ParseCsvTable("t.csv", "# c\r\na,b\r\n\r\n1,2\r\n# c\r\n3,4", {"a", "b"});
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0].line, 4);
  EXPECT_EQ(t->rows[0].fields, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(t->rows[1].line, 6);
  EXPECT_EQ(t->rows[1].fields, (std::vector<std::string>{"3", "4"}));
}

TEST(CsvTableTest, AnEmptyTextHasNoHeader) {
  absl::StatusOr<CsvTable> t = ParseCsvTable("t.csv", "", {"a"});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("t.csv:1: no header row"));
}

TEST(CsvTableTest, AQuotedFieldIsNotSpecial) {
  // The dialect has no quoting, so a quote-protected comma still splits.
  absl::StatusOr<CsvTable> t = ParseCsvTable("t.csv", "a,b\n\"x,y\",z\n", {"a", "b"});
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("t.csv:2: expected 2 columns"));
}

// --- Drift: the embedded copy is the shared reference ------------------------------------------

TEST(NetworkDirectoryDriftTest, EmbeddedAndCommittedCopiesEqualTheSharedReference) {
  const std::filesystem::path shared = FRONTDOOR_SOURCE_DIR "/../shared/network";
  if (!std::filesystem::is_directory(shared)) {
    GTEST_SKIP() << "no shared reference data at " << shared
                 << "; drift can only be checked in a checkout beside /work/shared";
  }
  const std::filesystem::path committed = FRONTDOOR_SOURCE_DIR "/config/demo/network";
  for (const CsvFile& f : kCsvFiles) {
    SCOPED_TRACE(f.name);
    const std::string reference = ReadFileOrDie(shared / f.name);
    ASSERT_FALSE(reference.empty());
    EXPECT_TRUE(ReadFileOrDie(committed / f.name) == reference)
        << "config/demo/network/" << f.name << " differs from " << (shared / f.name)
        << "; copy the shared file over it";
    EXPECT_TRUE(DemoNetworkCsvTexts().*f.text == reference)
        << "the embedded " << f.name << " differs from " << (shared / f.name)
        << "; re-run CMake to re-embed config/demo/network";
  }
}

TEST(NetworkDirectoryDriftTest, EmbeddedCopyEqualsTheCommittedFiles) {
  // Holds without /work/shared too: the build embedded what is committed.
  const std::filesystem::path committed = FRONTDOOR_SOURCE_DIR "/config/demo/network";
  for (const CsvFile& f : kCsvFiles) {
    SCOPED_TRACE(f.name);
    EXPECT_TRUE(DemoNetworkCsvTexts().*f.text == ReadFileOrDie(committed / f.name));
  }
}

}  // namespace
}  // namespace frontdoor::network
