#include "network/network_directory.h"

#include <cstddef>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "network/csv_table.h"
#include "network/demo_network_data.h"

namespace frontdoor::network {
namespace {

constexpr std::string_view kSensitivePrefix = "sensitive-";
constexpr std::string_view kFrontDoorMarker = "*";

// A map keyed by std::string that can be searched with a std::string_view.
template <typename V>
using ByName = std::map<std::string, V, std::less<>>;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Ids are lower-case words joined by single hyphens ("oldham-north-royton", "older-people").
bool IsSlug(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  char previous = 0;
  for (char c : s) {
    if (!(IsLower(c) || IsDigit(c) || c == '-')) return false;
    if (c == '-' && previous == '-') return false;
    previous = c;
  }
  return true;
}

// ODS codes: 3..10 upper-case letters and digits ("P85901", "R9T01", "8AT01").
bool IsOdsCode(std::string_view s) {
  if (s.size() < 3 || s.size() > 10) return false;
  for (char c : s) {
    if (!(IsUpper(c) || IsDigit(c))) return false;
  }
  return true;
}

// SNOMED CT concept ids: 6..18 digits, no leading zero.
bool IsSnomedConceptId(std::string_view s) {
  if (s.size() < 6 || s.size() > 18 || s.front() == '0') return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// A postcode sector as ROUTING.md writes it: an upper-case outward code (one or two letters, a
// digit, then optionally a letter or digit), one space, one digit ("OL3 5", "SK14 1", "M35 0").
bool IsPostcodeSector(std::string_view s) {
  size_t space = s.find(' ');
  if (space == std::string_view::npos || space + 2 != s.size() || !IsDigit(s.back())) return false;
  std::string_view outward = s.substr(0, space);
  size_t letters = 0;
  while (letters < outward.size() && IsUpper(outward[letters])) ++letters;
  if (letters < 1 || letters > 2) return false;
  std::string_view rest = outward.substr(letters);
  if (rest.empty() || rest.size() > 2 || !IsDigit(rest[0])) return false;
  return rest.size() == 1 || IsDigit(rest[1]) || IsUpper(rest[1]);
}

bool IsKnownReferrerKind(std::string_view kind) {
  return kind == "hospital" || kind == "social-care" || kind == "mental-health" || kind == "early-help" ||
         kind == "community";
}

bool IsKnownReasonGroup(std::string_view group) {
  if (group.substr(0, kSensitivePrefix.size()) == kSensitivePrefix) {
    return IsSlug(group.substr(kSensitivePrefix.size()));
  }
  return group == "mental-health" || group == "social" || group == "lifestyle" || group == "life-event" ||
         group == "long-term-condition" || group == "practical" || group == "procedure";
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

absl::Status DuplicateError(const CsvTable& table, int line, std::string_view what, std::string_view key,
                            int first_line) {
  return CsvError(
      table.file_name, line,
      "duplicate " + std::string(what) + " " + Quoted(key) + " (first on line " + std::to_string(first_line) + ")");
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("network file " + path + " not found or not readable");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError("could not read network file " + path);
  return text.str();
}

// A connector_teams.csv row's ids and names into `team`, the team_id checked to be a lower-case id.
absl::Status ReadTeamIds(const CsvRow& row, const std::string& file, ConnectorTeam* team) {
  team->team_id = row.fields[0];
  team->organisation = row.fields[1];
  team->endpoint_id = row.fields[2];
  team->cluster_id = row.fields[3];
  team->category_id = row.fields[4];
  if (!IsSlug(team->team_id)) {
    return CsvError(file, row.line, "team_id " + Quoted(team->team_id) + " is not a lower-case id");
  }
  return absl::OkStatus();
}

// A connector_teams.csv row's accepts_nhs_number (yes or no) and status (open or paused) into `team`.
absl::Status ReadTeamFlags(const CsvRow& row, const std::string& file, ConnectorTeam* team) {
  const std::string& accepts = row.fields[5];
  const std::string& status = row.fields[6];
  if (accepts == "yes") {
    team->accepts_nhs_number = true;
  } else if (accepts != "no") {
    return CsvError(file, row.line, "accepts_nhs_number is " + Quoted(accepts) + "; expected yes or no");
  }
  if (status == "paused") {
    team->paused = true;
  } else if (status != "open") {
    return CsvError(file, row.line, "status is " + Quoted(status) + "; expected open or paused");
  }
  return absl::OkStatus();
}

}  // namespace

bool ReasonCode::IsSensitive() const {
  return group.size() > kSensitivePrefix.size() &&
         std::string_view(group).substr(0, kSensitivePrefix.size()) == kSensitivePrefix;
}

bool ReasonCode::IsProcedure() const { return group == "procedure"; }

std::string ReasonCode::WithheldCategory() const {
  return IsSensitive() ? group.substr(kSensitivePrefix.size()) : std::string();
}

std::string ConnectorTeam::FrontDoorBorough() const { return team_id.substr(0, team_id.find('-')); }

// Everything is parsed once and then only read, so plain ordered maps do: lookups are by string
// view, and iteration order (never relied on for answers) is at least stable.
struct NetworkDirectory::Data {
  ByName<Cluster> clusters;
  ByName<std::string> cluster_of_sector;
  ByName<Practice> practices;
  ByName<Referrer> referrers;
  ByName<ByName<Category>> categories;  // borough -> category_id -> category
  ByName<ReasonCode> reason_codes;
  std::vector<Organisation> organisations;
  ByName<size_t> organisation_index;
  std::vector<ConnectorTeam> teams;
  ByName<size_t> team_index;
  ByName<ByName<size_t>> team_of_cluster_category;  // cluster_id -> category_id -> index
  ByName<size_t> front_door_of_borough;

  // Parses and cross-checks the eight files. `path_prefix` is put before each file name in
  // errors ("config/demo/network/" when loading a directory, empty for texts).
  static absl::StatusOr<std::unique_ptr<Data>> Parse(const NetworkCsvTexts& texts, std::string_view path_prefix);

 private:
  absl::Status ParseClusters(const CsvTable& table);
  absl::Status ParseOrganisations(const CsvTable& table);
  absl::Status ParseCategories(const CsvTable& table);
  absl::Status ParseSectors(const CsvTable& table);
  absl::Status ParsePractices(const CsvTable& table);
  absl::Status ParseReferrers(const CsvTable& table);
  absl::Status ParseReasonCodes(const CsvTable& table);
  absl::Status ParseTeams(const CsvTable& table);
  // That the team's endpoint is in organisations.csv, under the organisation the team names.
  absl::Status CheckTeamOrganisation(const ConnectorTeam& team, const std::string& file, int line) const;
  // Indexes a front-door team (cluster_id and category_id *), to be teams[teams.size()], as its
  // borough's front door; `front_door_line` (borough -> line) refuses a second for a borough.
  absl::Status IndexFrontDoorTeam(const ConnectorTeam& team, const CsvTable& table, int line,
                                  ByName<int>* front_door_line);
  // Indexes a cluster's team, to be teams[teams.size()], by its cluster and category (both checked
  // to exist); `cluster_category_line` ("cluster/category" -> line) refuses a second for a pair.
  absl::Status IndexClusterTeam(const ConnectorTeam& team, const CsvTable& table, int line,
                                ByName<int>* cluster_category_line);
  absl::Status CheckEveryBoroughHasAFrontDoor(const CsvTable& clusters_table) const;

  bool IsKnownBorough(std::string_view borough) const { return boroughs_.find(borough) != boroughs_.end(); }

  ByName<int> borough_first_line_;  // borough -> first clusters.csv line naming it
  std::set<std::string, std::less<>> boroughs_;
};

absl::Status NetworkDirectory::Data::ParseClusters(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& id = row.fields[0];
    const std::string& borough = row.fields[1];
    if (!IsSlug(id)) return CsvError(table.file_name, row.line, "cluster_id " + Quoted(id) + " is not a lower-case id");
    if (!IsSlug(borough) || borough.find('-') != std::string::npos) {
      return CsvError(table.file_name, row.line, "borough " + Quoted(borough) + " is not a lower-case single word");
    }
    if (auto [it, inserted] = first_line.emplace(id, row.line); !inserted) {
      return DuplicateError(table, row.line, "cluster_id", id, it->second);
    }
    clusters.emplace(id, Cluster{id, borough, row.fields[2]});
    boroughs_.insert(borough);
    borough_first_line_.emplace(borough, row.line);
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseOrganisations(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& endpoint_id = row.fields[0];
    if (!IsSlug(endpoint_id)) {
      return CsvError(table.file_name, row.line, "endpoint_id " + Quoted(endpoint_id) + " is not a lower-case id");
    }
    if (!IsOdsCode(row.fields[2])) {
      return CsvError(table.file_name, row.line, "ods_code " + Quoted(row.fields[2]) + " is not an ODS code");
    }
    if (auto [it, inserted] = first_line.emplace(endpoint_id, row.line); !inserted) {
      return DuplicateError(table, row.line, "endpoint_id", endpoint_id, it->second);
    }
    organisation_index.emplace(endpoint_id, organisations.size());
    organisations.push_back(Organisation{endpoint_id, row.fields[1], row.fields[2]});
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseCategories(const CsvTable& table) {
  ByName<int> first_line;  // "borough/category_id"
  for (const CsvRow& row : table.rows) {
    const std::string& id = row.fields[0];
    const std::string& borough = row.fields[1];
    if (!IsSlug(id)) {
      return CsvError(table.file_name, row.line, "category_id " + Quoted(id) + " is not a lower-case id");
    }
    if (!IsKnownBorough(borough)) {
      return CsvError(table.file_name, row.line, "borough " + Quoted(borough) + " has no cluster in clusters.csv");
    }
    if (auto [it, inserted] = first_line.emplace(borough + "/" + id, row.line); !inserted) {
      return DuplicateError(table, row.line, "category_id for borough " + borough, id, it->second);
    }
    // The rule column is documentation for people; routing implements ROUTING.md rule 2 itself.
    categories[borough].emplace(id, Category{id, borough, row.fields[2]});
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseSectors(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& sector = row.fields[0];
    const std::string& cluster_id = row.fields[1];
    if (!IsPostcodeSector(sector)) {
      return CsvError(
          table.file_name, row.line,
          "sector " + Quoted(sector) + " is not an upper-case outward code, a space and one digit (like OL3 5)");
    }
    if (auto [it, inserted] = first_line.emplace(sector, row.line); !inserted) {
      return DuplicateError(table, row.line, "sector", sector, it->second);
    }
    if (clusters.find(cluster_id) == clusters.end()) {
      return CsvError(table.file_name, row.line, "cluster_id " + Quoted(cluster_id) + " is not in clusters.csv");
    }
    cluster_of_sector.emplace(sector, cluster_id);
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParsePractices(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& ods = row.fields[0];
    const std::string& cluster_id = row.fields[2];
    if (!IsOdsCode(ods)) {
      return CsvError(table.file_name, row.line, "ods_code " + Quoted(ods) + " is not an ODS code");
    }
    if (auto [it, inserted] = first_line.emplace(ods, row.line); !inserted) {
      return DuplicateError(table, row.line, "ods_code", ods, it->second);
    }
    if (clusters.find(cluster_id) == clusters.end()) {
      return CsvError(table.file_name, row.line, "cluster_id " + Quoted(cluster_id) + " is not in clusters.csv");
    }
    practices.emplace(ods, Practice{ods, row.fields[1], cluster_id});
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseReferrers(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& ods = row.fields[0];
    const std::string& borough = row.fields[2];
    const std::string& kind = row.fields[3];
    if (!IsOdsCode(ods)) {
      return CsvError(table.file_name, row.line, "ods_code " + Quoted(ods) + " is not an ODS code");
    }
    if (auto [it, inserted] = first_line.emplace(ods, row.line); !inserted) {
      return DuplicateError(table, row.line, "ods_code", ods, it->second);
    }
    // One ODS code must mean one organisation, whichever file lists it.
    if (practices.find(ods) != practices.end()) {
      return CsvError(table.file_name, row.line, "ods_code " + Quoted(ods) + " is already a practice in practices.csv");
    }
    if (!IsKnownBorough(borough)) {
      return CsvError(table.file_name, row.line, "borough " + Quoted(borough) + " has no cluster in clusters.csv");
    }
    if (!IsKnownReferrerKind(kind)) {
      return CsvError(table.file_name, row.line,
                      "kind " + Quoted(kind) +
                          " is not one of hospital, social-care, mental-health, early-help, "
                          "community");
    }
    referrers.emplace(ods, Referrer{ods, row.fields[1], borough, kind});
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseReasonCodes(const CsvTable& table) {
  ByName<int> first_line;
  for (const CsvRow& row : table.rows) {
    const std::string& code = row.fields[0];
    const std::string& group = row.fields[2];
    if (!IsSnomedConceptId(code)) {
      return CsvError(table.file_name, row.line, "snomed_code " + Quoted(code) + " is not a SNOMED CT concept id");
    }
    if (auto [it, inserted] = first_line.emplace(code, row.line); !inserted) {
      return DuplicateError(table, row.line, "snomed_code", code, it->second);
    }
    if (!IsKnownReasonGroup(group)) {
      return CsvError(table.file_name, row.line,
                      "group " + Quoted(group) +
                          " is not one of mental-health, social, lifestyle, life-event, "
                          "long-term-condition, practical, procedure, sensitive-<kind>");
    }
    reason_codes.emplace(code, ReasonCode{code, row.fields[1], group});
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::CheckTeamOrganisation(const ConnectorTeam& team, const std::string& file,
                                                           int line) const {
  auto organisation = organisation_index.find(team.endpoint_id);
  if (organisation == organisation_index.end()) {
    return CsvError(file, line, "endpoint_id " + Quoted(team.endpoint_id) + " is not in organisations.csv");
  }
  if (organisations[organisation->second].name != team.organisation) {
    return CsvError(file, line,
                    "organisation " + Quoted(team.organisation) + " differs from " +
                        Quoted(organisations[organisation->second].name) + ", the organisation of endpoint " +
                        team.endpoint_id + " in organisations.csv");
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::IndexFrontDoorTeam(const ConnectorTeam& team, const CsvTable& table, int line,
                                                        ByName<int>* front_door_line) {
  const std::string& file = table.file_name;
  const std::string borough = team.FrontDoorBorough();
  if (!IsKnownBorough(borough)) {
    return CsvError(file, line,
                    "front-door team " + Quoted(team.team_id) + " names borough " + Quoted(borough) +
                        " (the first part of its team_id), which has no "
                        "cluster in clusters.csv");
  }
  if (auto [it, inserted] = front_door_line->emplace(borough, line); !inserted) {
    return DuplicateError(table, line, "front-door team for borough", borough, it->second);
  }
  // Paused teams' referrals go to the front door, so it has nowhere to pass them on.
  if (team.paused) {
    return CsvError(file, line, "front-door team " + Quoted(team.team_id) + " cannot be paused");
  }
  front_door_of_borough.emplace(borough, teams.size());
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::IndexClusterTeam(const ConnectorTeam& team, const CsvTable& table, int line,
                                                      ByName<int>* cluster_category_line) {
  const std::string& file = table.file_name;
  auto cluster = clusters.find(team.cluster_id);
  if (cluster == clusters.end()) {
    return CsvError(file, line, "cluster_id " + Quoted(team.cluster_id) + " is not in clusters.csv");
  }
  const std::string& borough = cluster->second.borough;
  auto borough_categories = categories.find(borough);
  if (borough_categories == categories.end() ||
      borough_categories->second.find(team.category_id) == borough_categories->second.end()) {
    return CsvError(
        file, line,
        "category_id " + Quoted(team.category_id) + " is not a category of borough " + borough + " in categories.csv");
  }
  std::string pair_key = team.cluster_id + "/" + team.category_id;
  if (auto [it, inserted] = cluster_category_line->emplace(pair_key, line); !inserted) {
    return DuplicateError(table, line, "team for (cluster_id, category_id)", team.cluster_id + ", " + team.category_id,
                          it->second);
  }
  team_of_cluster_category[team.cluster_id].emplace(team.category_id, teams.size());
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::ParseTeams(const CsvTable& table) {
  ByName<int> first_line;
  ByName<int> front_door_line;        // borough -> line
  ByName<int> cluster_category_line;  // "cluster/category" -> line
  for (const CsvRow& row : table.rows) {
    const std::string& file = table.file_name;
    ConnectorTeam team;
    FRONTDOOR_RETURN_IF_ERROR(ReadTeamIds(row, file, &team));
    if (auto [it, inserted] = first_line.emplace(team.team_id, row.line); !inserted) {
      return DuplicateError(table, row.line, "team_id", team.team_id, it->second);
    }
    FRONTDOOR_RETURN_IF_ERROR(ReadTeamFlags(row, file, &team));
    FRONTDOOR_RETURN_IF_ERROR(CheckTeamOrganisation(team, file, row.line));

    const bool front_door_cluster = team.cluster_id == kFrontDoorMarker;
    const bool front_door_category = team.category_id == kFrontDoorMarker;
    if (front_door_cluster != front_door_category) {
      return CsvError(file, row.line, "cluster_id and category_id must both be * (a front-door team) or neither");
    }
    if (front_door_cluster) {
      FRONTDOOR_RETURN_IF_ERROR(IndexFrontDoorTeam(team, table, row.line, &front_door_line));
    } else {
      FRONTDOOR_RETURN_IF_ERROR(IndexClusterTeam(team, table, row.line, &cluster_category_line));
    }
    team_index.emplace(team.team_id, teams.size());
    teams.push_back(std::move(team));
  }
  return absl::OkStatus();
}

absl::Status NetworkDirectory::Data::CheckEveryBoroughHasAFrontDoor(const CsvTable& clusters_table) const {
  // Routing relies on it: a paused or missing team always has somewhere to go.
  for (const auto& [borough, line] : borough_first_line_) {
    if (front_door_of_borough.find(borough) == front_door_of_borough.end()) {
      return CsvError(clusters_table.file_name, line,
                      "borough " + Quoted(borough) +
                          " has no front-door team (cluster_id * and category_id *, team_id "
                          "starting " +
                          borough + "-) in connector_teams.csv");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NetworkDirectory::Data>> NetworkDirectory::Data::Parse(const NetworkCsvTexts& texts,
                                                                                      std::string_view path_prefix) {
  auto name = [&](std::string_view file) { return std::string(path_prefix) + std::string(file); };
  // Every file is parsed before any is cross-checked, so a syntax error anywhere is reported as
  // such rather than as a broken reference it causes elsewhere.
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable clusters_table,
                             ParseCsvTable(name("clusters.csv"), texts.clusters, {"cluster_id", "borough", "name"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable sectors_table, ParseCsvTable(name("postcode_sectors.csv"), texts.postcode_sectors,
                                                                   {"sector", "cluster_id"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable practices_table,
                             ParseCsvTable(name("practices.csv"), texts.practices, {"ods_code", "name", "cluster_id"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable referrers_table, ParseCsvTable(name("referrers.csv"), texts.referrers,
                                                                     {"ods_code", "name", "borough", "kind"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable categories_table, ParseCsvTable(name("categories.csv"), texts.categories,
                                                                      {"category_id", "borough", "name", "rule"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable reason_codes_table, ParseCsvTable(name("reason_codes.csv"), texts.reason_codes,
                                                                        {"snomed_code", "display", "group"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable organisations_table, ParseCsvTable(name("organisations.csv"), texts.organisations,
                                                                         {"endpoint_id", "organisation", "ods_code"}));
  FRONTDOOR_ASSIGN_OR_RETURN(CsvTable teams_table,
                             ParseCsvTable(name("connector_teams.csv"), texts.connector_teams,
                                           {"team_id", "organisation", "endpoint_id", "cluster_id", "category_id",
                                            "accepts_nhs_number", "status"}));

  auto data = std::make_unique<Data>();
  FRONTDOOR_RETURN_IF_ERROR(data->ParseClusters(clusters_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseOrganisations(organisations_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseCategories(categories_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseSectors(sectors_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParsePractices(practices_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseReferrers(referrers_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseReasonCodes(reason_codes_table));
  FRONTDOOR_RETURN_IF_ERROR(data->ParseTeams(teams_table));
  FRONTDOOR_RETURN_IF_ERROR(data->CheckEveryBoroughHasAFrontDoor(clusters_table));
  return data;
}

NetworkDirectory::NetworkDirectory(std::unique_ptr<Data> data) : data_(std::move(data)) {}
NetworkDirectory::NetworkDirectory(NetworkDirectory&&) noexcept = default;
NetworkDirectory& NetworkDirectory::operator=(NetworkDirectory&&) noexcept = default;
NetworkDirectory::~NetworkDirectory() = default;

absl::StatusOr<NetworkDirectory> NetworkDirectory::LoadFromDirectory(const std::string& dir) {
  std::string prefix = dir;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  NetworkCsvTexts texts;
  const std::pair<const char*, std::string*> files[] = {
      {"clusters.csv", &texts.clusters},           {"postcode_sectors.csv", &texts.postcode_sectors},
      {"practices.csv", &texts.practices},         {"referrers.csv", &texts.referrers},
      {"categories.csv", &texts.categories},       {"reason_codes.csv", &texts.reason_codes},
      {"organisations.csv", &texts.organisations}, {"connector_teams.csv", &texts.connector_teams},
  };
  for (const auto& [file, text] : files) {
    FRONTDOOR_ASSIGN_OR_RETURN(*text, ReadWholeFile(prefix + file));
  }
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<Data> data, Data::Parse(texts, prefix));
  return NetworkDirectory(std::move(data));
}

absl::StatusOr<NetworkDirectory> NetworkDirectory::LoadDemo() { return FromCsvTexts(DemoNetworkCsvTexts()); }

absl::StatusOr<NetworkDirectory> NetworkDirectory::FromCsvTexts(const NetworkCsvTexts& texts) {
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<Data> data, Data::Parse(texts, ""));
  return NetworkDirectory(std::move(data));
}

namespace {

template <typename V>
const V* FindIn(const ByName<V>& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

const Cluster* NetworkDirectory::FindCluster(std::string_view cluster_id) const {
  return FindIn(data_->clusters, cluster_id);
}

const Cluster* NetworkDirectory::ClusterForSector(std::string_view sector) const {
  const std::string* cluster_id = FindIn(data_->cluster_of_sector, sector);
  return cluster_id == nullptr ? nullptr : FindCluster(*cluster_id);
}

const Practice* NetworkDirectory::FindPractice(std::string_view ods_code) const {
  return FindIn(data_->practices, ods_code);
}

const Referrer* NetworkDirectory::FindReferrer(std::string_view ods_code) const {
  return FindIn(data_->referrers, ods_code);
}

const ReasonCode* NetworkDirectory::FindReasonCode(std::string_view snomed_code) const {
  return FindIn(data_->reason_codes, snomed_code);
}

const Category* NetworkDirectory::FindCategory(std::string_view borough, std::string_view category_id) const {
  const ByName<Category>* of_borough = FindIn(data_->categories, borough);
  return of_borough == nullptr ? nullptr : FindIn(*of_borough, category_id);
}

const Organisation* NetworkDirectory::FindOrganisation(std::string_view endpoint_id) const {
  const size_t* index = FindIn(data_->organisation_index, endpoint_id);
  return index == nullptr ? nullptr : &data_->organisations[*index];
}

const ConnectorTeam* NetworkDirectory::FindTeamById(std::string_view team_id) const {
  const size_t* index = FindIn(data_->team_index, team_id);
  return index == nullptr ? nullptr : &data_->teams[*index];
}

const ConnectorTeam* NetworkDirectory::FindTeam(std::string_view cluster_id, std::string_view category_id) const {
  const ByName<size_t>* of_cluster = FindIn(data_->team_of_cluster_category, cluster_id);
  if (of_cluster == nullptr) return nullptr;
  const size_t* index = FindIn(*of_cluster, category_id);
  return index == nullptr ? nullptr : &data_->teams[*index];
}

const ConnectorTeam* NetworkDirectory::FrontDoor(std::string_view borough) const {
  const size_t* index = FindIn(data_->front_door_of_borough, borough);
  return index == nullptr ? nullptr : &data_->teams[*index];
}

bool NetworkDirectory::IsKnownReferringOrganisation(std::string_view ods_code) const {
  return FindPractice(ods_code) != nullptr || FindReferrer(ods_code) != nullptr;
}

const std::vector<Organisation>& NetworkDirectory::organisations() const { return data_->organisations; }

const std::vector<ConnectorTeam>& NetworkDirectory::teams() const { return data_->teams; }

}  // namespace frontdoor::network
