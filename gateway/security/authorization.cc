#include "gateway/security/authorization.h"

#include "absl/strings/str_cat.h"

namespace frontdoor::gateway {

const char* CallerKindName(CallerKind kind) {
  switch (kind) {
    case CallerKind::kReferrer:
      return "referring organisation";
    case CallerKind::kConnector:
      return "connector organisation";
    case CallerKind::kIgOfficer:
      return "IG officer";
    case CallerKind::kOperator:
      return "operator";
    case CallerKind::kCommissioner:
      return "commissioner";
  }
  return "unknown";
}

Authorizer::Authorizer(const network::NetworkDirectory* network, std::vector<std::string> ig_officers,
                       std::vector<std::string> operators, std::vector<std::string> commissioners)
    : network_(network),
      ig_officers_(ig_officers.begin(), ig_officers.end()),
      operators_(operators.begin(), operators.end()),
      commissioners_(commissioners.begin(), commissioners.end()) {}

absl::StatusOr<Caller> Authorizer::Identify(std::string_view identity) const {
  Caller caller;
  caller.identity = std::string(identity);
  if (network_->IsKnownReferringOrganisation(identity)) {
    caller.kind = CallerKind::kReferrer;
  } else if (network_->FindOrganisation(identity) != nullptr) {
    caller.kind = CallerKind::kConnector;
  } else if (ig_officers_.count(identity) > 0) {
    caller.kind = CallerKind::kIgOfficer;
  } else if (operators_.count(identity) > 0) {
    caller.kind = CallerKind::kOperator;
  } else if (commissioners_.count(identity) > 0) {
    caller.kind = CallerKind::kCommissioner;
  } else {
    return absl::PermissionDeniedError(
        absl::StrCat("'", std::string(identity),
                     "' is not a referring organisation, connector organisation, IG officer, "
                     "operator or commissioner of this network"));
  }
  return caller;
}

namespace {

// "an IG officer", "a connector organisation".
std::string WithArticle(CallerKind kind) {
  return absl::StrCat(kind == CallerKind::kIgOfficer || kind == CallerKind::kOperator ? "an " : "a ",
                      CallerKindName(kind));
}

absl::Status Require(const Caller& caller, CallerKind kind, std::string_view what) {
  if (caller.kind == kind) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("only ", WithArticle(kind), " may ", std::string(what), "; '",
                                                  caller.identity, "' is ", WithArticle(caller.kind)));
}

}  // namespace

absl::Status Authorizer::MaySubmit(const Caller& caller) const {
  return Require(caller, CallerKind::kReferrer, "submit referrals");
}

absl::Status Authorizer::MayActOnReferral(const Caller& caller, std::string_view sender_ods) const {
  if (absl::Status s = Require(caller, CallerKind::kReferrer, "read or withdraw referrals"); !s.ok()) return s;
  if (caller.identity != sender_ods) {
    return absl::PermissionDeniedError("that referral was sent by another organisation");
  }
  return absl::OkStatus();
}

absl::Status Authorizer::MayReportOn(const Caller& caller, std::string_view routed_endpoint_id) const {
  if (absl::Status s = Require(caller, CallerKind::kConnector, "report progress"); !s.ok()) return s;
  if (caller.identity != routed_endpoint_id) {
    return absl::PermissionDeniedError("that referral was not routed to your organisation");
  }
  return absl::OkStatus();
}

absl::Status Authorizer::MayReadAudit(const Caller& caller) const {
  return Require(caller, CallerKind::kIgOfficer, "read the audit log");
}

absl::Status Authorizer::MayOperate(const Caller& caller) const {
  return Require(caller, CallerKind::kOperator, "operate deliveries");
}

absl::Status Authorizer::MayReadReports(const Caller& caller) const {
  if (caller.kind == CallerKind::kIgOfficer) return absl::OkStatus();
  return Require(caller, CallerKind::kCommissioner, "read outcome reports");
}

std::string ActorOrganisation(const Caller& caller) {
  switch (caller.kind) {
    case CallerKind::kReferrer:
    case CallerKind::kConnector:
      return caller.identity;
    case CallerKind::kIgOfficer:
      return "ig-officer";
    case CallerKind::kOperator:
      return "operator";
    case CallerKind::kCommissioner:
      return "commissioner";
  }
  return "";
}

}  // namespace frontdoor::gateway
