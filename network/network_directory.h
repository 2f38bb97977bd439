// NetworkDirectory: the reference network a gateway serves (shared/network/README.md): clusters,
// postcode sectors, GP practices, other referrers, service categories, SNOMED CT reason codes,
// connector organisations and their teams. Read-only after loading; routing (gateway/) and the
// consent decision (consent/) look things up in it.
//
//   absl::StatusOr<NetworkDirectory> net = NetworkDirectory::LoadFromDirectory("config/demo/network");
//   if (!net.ok()) return net.status();
//   const Cluster* c = net->ClusterForSector("OL2 6");   // Royton
//   const ConnectorTeam* t = net->FindTeam(c->id, "wellbeing");
//
// Thread-safety: const methods may be called from any number of threads at once. Pointers returned
// stay valid as long as the directory lives (it is move-only so they never dangle after a copy).
#ifndef FRONTDOOR_NETWORK_NETWORK_DIRECTORY_H_
#define FRONTDOOR_NETWORK_NETWORK_DIRECTORY_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace frontdoor::network {

struct Cluster {
  std::string id;       // oldham-north-royton
  std::string borough;  // oldham | tameside
  std::string name;
};

struct Practice {
  std::string ods_code;
  std::string name;
  std::string cluster_id;
};

// A referring organisation other than a GP practice (hospital, social care, ...).
struct Referrer {
  std::string ods_code;
  std::string name;
  std::string borough;
  std::string kind;  // hospital | social-care | mental-health | early-help | community
};

struct Category {
  std::string id;  // wellbeing | older-people | mental-health | all
  std::string borough;
  std::string name;
};

struct ReasonCode {
  std::string snomed_code;
  std::string display;
  std::string group;  // mental-health | social | ... | procedure | sensitive-<kind>

  bool IsSensitive() const;  // group starts with "sensitive-" (IG-5 withholds it)
  bool IsProcedure() const;  // group is "procedure": names the referral itself, never a reason
  // The IG-5 category withheld ("sexual-health" for group "sensitive-sexual-health"); empty when
  // not sensitive.
  std::string WithheldCategory() const;
};

struct Organisation {
  std::string endpoint_id;  // action-together-oldham
  std::string name;
  std::string ods_code;
};

struct ConnectorTeam {
  std::string team_id;
  std::string organisation;
  std::string endpoint_id;
  std::string cluster_id;   // "*" for a borough's front door
  std::string category_id;  // "*" for a borough's front door
  bool accepts_nhs_number = false;
  bool paused = false;

  bool IsFrontDoor() const { return cluster_id == "*"; }
  // The front door's borough: the first part of its team_id ("oldham" for "oldham-front-door").
  std::string FrontDoorBorough() const;
};

// The text of each CSV file, as shipped (comments and header included).
struct NetworkCsvTexts {
  std::string clusters;
  std::string postcode_sectors;
  std::string practices;
  std::string referrers;
  std::string categories;
  std::string reason_codes;
  std::string organisations;
  std::string connector_teams;
};

class NetworkDirectory {
 public:
  // Reads the eight CSV files (clusters.csv, postcode_sectors.csv, practices.csv, referrers.csv,
  // categories.csv, reason_codes.csv, organisations.csv, connector_teams.csv) from `dir`.
  // Returns NOT_FOUND naming a missing file, or what FromCsvTexts returns.
  static absl::StatusOr<NetworkDirectory> LoadFromDirectory(const std::string& dir);
  // The demo network the project ships (config/demo/network, compiled into the binary).
  static absl::StatusOr<NetworkDirectory> LoadDemo();
  // Parses the files' texts. Returns INVALID_ARGUMENT naming the file and line for a malformed row
  // (wrong column count, unknown header, bad status/yes-no value, duplicate key) or a broken
  // reference (a sector, practice or team naming an unknown cluster; a team naming an unknown
  // endpoint or category).
  static absl::StatusOr<NetworkDirectory> FromCsvTexts(const NetworkCsvTexts& texts);

  NetworkDirectory(NetworkDirectory&&) noexcept;
  NetworkDirectory& operator=(NetworkDirectory&&) noexcept;
  ~NetworkDirectory();

  // Each returns nullptr when there is no such entry.
  const Cluster* FindCluster(std::string_view cluster_id) const;
  // `sector` as ROUTING.md writes it: outward code, one space, first inward digit ("OL3 5").
  const Cluster* ClusterForSector(std::string_view sector) const;
  const Practice* FindPractice(std::string_view ods_code) const;
  const Referrer* FindReferrer(std::string_view ods_code) const;
  const ReasonCode* FindReasonCode(std::string_view snomed_code) const;
  // A borough's service category ("oldham", "wellbeing"); routing asks whether a borough has `all`.
  const Category* FindCategory(std::string_view borough, std::string_view category_id) const;
  const Organisation* FindOrganisation(std::string_view endpoint_id) const;
  const ConnectorTeam* FindTeamById(std::string_view team_id) const;
  // The team for (cluster, category), open or paused.
  const ConnectorTeam* FindTeam(std::string_view cluster_id, std::string_view category_id) const;
  // The borough's front-door triage team.
  const ConnectorTeam* FrontDoor(std::string_view borough) const;

  // True for an ODS code of a practice or of a referrer: an organisation that may submit.
  bool IsKnownReferringOrganisation(std::string_view ods_code) const;

  const std::vector<Organisation>& organisations() const;
  const std::vector<ConnectorTeam>& teams() const;

 private:
  struct Data;
  explicit NetworkDirectory(std::unique_ptr<Data> data);
  std::unique_ptr<Data> data_;
};

}  // namespace frontdoor::network

#endif  // FRONTDOOR_NETWORK_NETWORK_DIRECTORY_H_
