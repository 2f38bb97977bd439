// Routing (shared/network/ROUTING.md): which connector team a referral goes to, from where the
// person lives and what kind of support they need. A pure function of (referral, network data):
// the same input and the same network data always give the same answer.
//
//   RoutingDecision r = RouteReferral(referral, network);
//   if (!r.routed) { /* REFUSED with r.out_of_area (code OUT_OF_AREA) */ }
//   else { /* r.team_id, r.endpoint_id, r.front_door, r.reason */ }
//
// Thread-safe; no I/O.
#ifndef FRONTDOOR_GATEWAY_DECISION_REFERRAL_ROUTING_H_
#define FRONTDOOR_GATEWAY_DECISION_REFERRAL_ROUTING_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {

inline constexpr char kOutOfArea[] = "OUT_OF_AREA";
inline constexpr char kFrontDoor[] = "FRONT_DOOR";
inline constexpr char kUnknownReasonCode[] = "UNKNOWN_REASON_CODE";

struct RoutingDecision {
  bool routed = false;
  std::string cluster_id;
  frontdoor::v1::ClusterSource cluster_source = frontdoor::v1::CLUSTER_SOURCE_UNSPECIFIED;
  std::string category_id;
  std::string team_id;      // connector_id of the answer
  std::string endpoint_id;  // the organisation endpoint it is delivered to
  bool accepts_nhs_number = false;
  bool front_door = false;
  // Why this team, in words (postcode sector or practice, category rule, paused team -> front door).
  // No patient data beyond the postcode sector.
  std::string reason;
  // When not routed: the OUT_OF_AREA issue (ERROR), saying which postcode sector and practice were tried.
  std::optional<frontdoor::v1::Issue> out_of_area;
  // Informational and warning issues: FRONT_DOOR (INFORMATION) when the front door took it;
  // UNKNOWN_REASON_CODE (WARNING) for each well-formed SNOMED CT reason not in reason_codes.csv.
  std::vector<frontdoor::v1::Issue> notes;
};

// ROUTING.md rule 1: upper case, inner spaces removed, one space before the 3-character inward code
// ("ol2  6lb" -> "OL2 6LB"). Returns nullopt when the text is not shaped like a UK postcode
// (outward code of 2..4 letters and digits starting with a letter, inward code digit + 2 letters).
std::optional<std::string> NormalisePostcode(std::string_view raw);
// The sector of a normalised postcode: outward code, one space, first inward digit ("OL2 6").
std::string PostcodeSector(std::string_view normalised_postcode);

// ROUTING.md rules 1-4. Reasons in a sensitive-* or procedure group, codes not in reason_codes.csv
// and codings in other systems count for no category. Age is judged in whole years on the referral
// date (65+ -> older-people). Precondition: the referral passed validation (dates parse).
RoutingDecision RouteReferral(const frontdoor::v1::Referral& referral, const network::NetworkDirectory& network);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DECISION_REFERRAL_ROUTING_H_
