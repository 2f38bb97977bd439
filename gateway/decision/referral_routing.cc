#include "gateway/decision/referral_routing.h"

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/calendar_date.h"

namespace frontdoor::gateway {
namespace {

using frontdoor::v1::Issue;
using network::Cluster;
using network::ConnectorTeam;
using network::NetworkDirectory;

constexpr std::string_view kSnomedSystem = "http://snomed.info/sct";
constexpr int kOlderPeopleAge = 65;

bool IsAsciiLetter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string TrimAndUpper(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && IsAsciiSpace(s[begin])) ++begin;
  while (end > begin && IsAsciiSpace(s[end - 1])) --end;
  std::string out;
  for (char c : s.substr(begin, end - begin)) out += ToUpper(c);
  return out;
}

// "oldham" -> "Oldham": boroughs are single lower-case words in clusters.csv.
std::string BoroughName(std::string_view borough) {
  std::string name(borough);
  if (!name.empty()) name[0] = ToUpper(name[0]);
  return name;
}

// A SNOMED CT concept id: 6..18 digits, no leading zero. Malformed codes are the validator's
// business (it rejects them); routing only warns about well-formed codes it does not know.
bool IsSnomedConceptId(std::string_view s) {
  if (s.size() < 6 || s.size() > 18 || s.front() == '0') return false;
  for (char c : s) {
    if (!IsAsciiDigit(c)) return false;
  }
  return true;
}

Issue MakeIssue(std::string_view code, Issue::Severity severity, std::string message) {
  Issue issue;
  issue.set_code(std::string(code));
  issue.set_severity(severity);
  issue.set_message(std::move(message));
  return issue;
}

// Rule 1: where the person lives. Records what was tried in words without the full postcode
// (patient data): only its sector, or that it was missing or malformed.
struct ClusterChoice {
  const Cluster* cluster = nullptr;
  frontdoor::v1::ClusterSource source = frontdoor::v1::CLUSTER_SOURCE_UNSPECIFIED;
  std::string postcode_tried;  // "postcode sector OL2 6 is not in the network", ...
  std::string practice_tried;  // "registered practice P84034 is not in the network", ...
};

ClusterChoice ChooseCluster(const frontdoor::v1::Person& person, const NetworkDirectory& network) {
  ClusterChoice choice;
  const std::string& raw_postcode = person.home_address().postcode();
  bool postcode_blank = true;
  for (char c : raw_postcode) postcode_blank = postcode_blank && IsAsciiSpace(c);
  if (postcode_blank) {
    choice.postcode_tried = "no home postcode was given";
  } else if (std::optional<std::string> postcode = NormalisePostcode(raw_postcode); !postcode) {
    choice.postcode_tried = "the home postcode is not shaped like a UK postcode";
  } else {
    const std::string sector = PostcodeSector(*postcode);
    if (const Cluster* cluster = network.ClusterForSector(sector); cluster != nullptr) {
      choice.cluster = cluster;
      choice.source = frontdoor::v1::CLUSTER_FROM_POSTCODE;
      choice.postcode_tried = "postcode sector " + sector;
      return choice;
    }
    choice.postcode_tried = "postcode sector " + sector + " is not in the network";
  }

  const std::string practice_ods = TrimAndUpper(person.registered_practice_ods());
  if (practice_ods.empty()) {
    choice.practice_tried = "no registered practice was given";
  } else if (const network::Practice* practice = network.FindPractice(practice_ods); practice == nullptr) {
    choice.practice_tried = "registered practice " + practice_ods + " is not in the network";
  } else if (const Cluster* cluster = network.FindCluster(practice->cluster_id); cluster != nullptr) {
    choice.cluster = cluster;
    choice.source = frontdoor::v1::CLUSTER_FROM_PRACTICE;
    choice.practice_tried = "registered practice " + practice_ods;
  }
  return choice;
}

// Rule 2 (and the reason notes): which kind of support, and why in words.
struct CategoryChoice {
  std::string category_id;
  std::string why;
};

CategoryChoice ChooseCategory(const frontdoor::v1::Referral& referral, const std::string& borough,
                              const NetworkDirectory& network, std::vector<Issue>& notes) {
  // Every SNOMED CT reason is looked at (so each unknown code gets its note, in any borough);
  // only known, non-withheld, non-procedure codes count.
  bool mental_health_reason = false;
  std::set<std::string, std::less<>> warned;
  for (const frontdoor::v1::Coding& coding : referral.reasons()) {
    if (coding.system() != kSnomedSystem || !IsSnomedConceptId(coding.code())) continue;
    const network::ReasonCode* reason = network.FindReasonCode(coding.code());
    if (reason == nullptr) {
      if (warned.insert(coding.code()).second) {
        notes.push_back(MakeIssue(kUnknownReasonCode, Issue::WARNING,
                                  "SNOMED CT reason code " + coding.code() +
                                      " is not in the network's reason codes; it counts for no "
                                      "category"));
      }
      continue;
    }
    if (reason->IsSensitive() || reason->IsProcedure()) continue;
    if (reason->group == "mental-health") mental_health_reason = true;
  }

  const std::string borough_name = BoroughName(borough);
  if (network.FindCategory(borough, "all") != nullptr) {
    return {"all", "category all: every " + borough_name + " referral, whatever its reasons or age"};
  }
  if (mental_health_reason) {
    return {"mental-health", "category mental-health: a reason code is in group mental-health"};
  }
  std::optional<CalendarDate> born = CalendarDate::Parse(referral.person().birth_date());
  std::optional<CalendarDate> on = CalendarDate::Parse(referral.referral_date());
  if (born && on && WholeYearsBetween(*born, *on) >= kOlderPeopleAge) {
    return {"older-people", "category older-people: no mental-health reason and 65 or over on the referral date"};
  }
  if (!born || !on) {
    // Validation guarantees both dates; if it ever did not, the general service is the safe choice.
    return {"wellbeing", "category wellbeing: no mental-health reason and the age is unknown"};
  }
  return {"wellbeing", "category wellbeing: no mental-health reason and under 65 on the referral date"};
}

}  // namespace

std::optional<std::string> NormalisePostcode(std::string_view raw) {
  std::string compact;
  for (char c : raw) {
    if (IsAsciiSpace(c)) continue;
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c)) return std::nullopt;
    compact += ToUpper(c);
  }
  // Inward code: a digit and two letters. Outward code: one or two letters, a digit, and
  // optionally one more letter or digit ("M1", "OL2", "SK14", "EC1A").
  if (compact.size() < 5 || compact.size() > 7) return std::nullopt;
  const std::string_view inward = std::string_view(compact).substr(compact.size() - 3);
  const std::string_view outward = std::string_view(compact).substr(0, compact.size() - 3);
  if (!IsAsciiDigit(inward[0]) || !IsAsciiLetter(inward[1]) || !IsAsciiLetter(inward[2])) {
    return std::nullopt;
  }
  size_t letters = 0;
  while (letters < outward.size() && IsAsciiLetter(outward[letters])) ++letters;
  if (letters < 1 || letters > 2) return std::nullopt;
  const std::string_view rest = outward.substr(letters);
  if (rest.empty() || rest.size() > 2 || !IsAsciiDigit(rest[0])) return std::nullopt;
  return std::string(outward) + " " + std::string(inward);
}

std::string PostcodeSector(std::string_view normalised_postcode) {
  const size_t space = normalised_postcode.rfind(' ');
  if (space == std::string_view::npos || space + 1 >= normalised_postcode.size()) return "";
  return std::string(normalised_postcode.substr(0, space + 2));
}

RoutingDecision RouteReferral(const frontdoor::v1::Referral& referral, const NetworkDirectory& network) {
  RoutingDecision decision;

  // Rule 1: the cluster.
  const ClusterChoice where = ChooseCluster(referral.person(), network);
  if (where.cluster == nullptr) {
    decision.out_of_area = MakeIssue(kOutOfArea, Issue::ERROR,
                                     "Out of area: " + where.postcode_tried + ", and " + where.practice_tried + ".");
    decision.reason = "no cluster: " + where.postcode_tried + "; " + where.practice_tried;
    return decision;
  }
  const Cluster& cluster = *where.cluster;
  decision.cluster_id = cluster.id;
  decision.cluster_source = where.source;
  std::string cluster_why = "cluster " + cluster.id + " (" + cluster.name + ") from ";
  if (where.source == frontdoor::v1::CLUSTER_FROM_POSTCODE) {
    cluster_why += where.postcode_tried;
  } else {
    cluster_why += where.practice_tried + ", because " + where.postcode_tried;
  }

  // Rule 2: the category.
  const CategoryChoice what = ChooseCategory(referral, cluster.borough, network, decision.notes);
  decision.category_id = what.category_id;

  // Rule 3: the team, or the borough's front door.
  const ConnectorTeam* team = network.FindTeam(cluster.id, what.category_id);
  std::string team_why;
  if (team != nullptr && !team->paused) {
    team_why = "team " + team->team_id + " is open";
  } else {
    const std::string because = team != nullptr ? "team " + team->team_id + " is paused"
                                                : "there is no " + what.category_id + " team for cluster " + cluster.id;
    const ConnectorTeam* front_door = network.FrontDoor(cluster.borough);
    if (front_door == nullptr) {
      // NetworkDirectory refuses to load a borough without a front door, so this is a broken
      // invariant; refusing is the only answer that forwards nothing to the wrong place.
      decision.out_of_area =
          MakeIssue(kOutOfArea, Issue::ERROR, because + " and borough " + cluster.borough + " has no front-door team.");
      decision.reason = cluster_why + "; " + what.why + "; " + because + "; no front door";
      return decision;
    }
    const std::string triage = because + "; the " + BoroughName(cluster.borough) + " front door triages it";
    decision.notes.push_back(MakeIssue(kFrontDoor, Issue::INFORMATION, triage));
    decision.front_door = true;
    team = front_door;
    team_why = triage + " (" + front_door->team_id + ")";
  }

  // Rule 4: the answer.
  decision.routed = true;
  decision.team_id = team->team_id;
  decision.endpoint_id = team->endpoint_id;
  decision.accepts_nhs_number = team->accepts_nhs_number;
  decision.reason = cluster_why + "; " + what.why + "; " + team_why + ".";
  return decision;
}

}  // namespace frontdoor::gateway
