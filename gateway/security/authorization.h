// Authorizer: who may do what (IG-8), in one place for every method. An authenticated identity
// (gateway/caller_identity.h) is known as exactly one kind of caller:
//   - a referring organisation: the ODS code of a practice (practices.csv) or a referrer
//     (referrers.csv); it submits referrals and reads only its own referrals and their feedback;
//   - a connector organisation: an endpoint_id of organisations.csv; it reports progress only on
//     referrals routed to its teams;
//   - an IG officer: a name the configuration lists (ig_officers); only they read the audit log;
//   - an operator: a name the configuration lists (operators); dead letters and replay.
// Anything else is PERMISSION_DENIED.
//
//   Authorizer authz(&network, config.ig_officers(), config.operators());
//   absl::StatusOr<Caller> caller = authz.Identify(identity);
//   FRONTDOOR_RETURN_IF_ERROR(authz.MayReadReferral(*caller, stored.sender_ods));
//
// Thread-safe (immutable after construction). `network` must outlive it.
#ifndef FRONTDOOR_GATEWAY_SECURITY_AUTHORIZATION_H_
#define FRONTDOOR_GATEWAY_SECURITY_AUTHORIZATION_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {

enum class CallerKind { kReferrer, kConnector, kIgOfficer, kOperator, kCommissioner };

struct Caller {
  std::string identity;  // the certificate CN (or x-frontdoor-client in plaintext mode)
  CallerKind kind = CallerKind::kReferrer;
};

const char* CallerKindName(CallerKind kind);

// The organisation an identity acts for (audit records' actor_organisation): its own ODS code or
// endpoint for organisations, and "ig-officer" / "operator" for the configured people.
std::string ActorOrganisation(const Caller& caller);

class Authorizer {
 public:
  Authorizer(const network::NetworkDirectory* network, std::vector<std::string> ig_officers,
             std::vector<std::string> operators, std::vector<std::string> commissioners = {});

  // The caller an identity is, or PERMISSION_DENIED when the network and configuration do not know it.
  absl::StatusOr<Caller> Identify(std::string_view identity) const;

  // Each returns OK or PERMISSION_DENIED with a message saying what was refused (no patient data).
  absl::Status MaySubmit(const Caller& caller) const;
  // Reading or withdrawing a referral, and its feedback: only the organisation that sent it.
  absl::Status MayActOnReferral(const Caller& caller, std::string_view sender_ods) const;
  // Reporting progress: only the connector organisation whose endpoint the referral was routed to.
  absl::Status MayReportOn(const Caller& caller, std::string_view routed_endpoint_id) const;
  absl::Status MayReadAudit(const Caller& caller) const;
  absl::Status MayOperate(const Caller& caller) const;
  // Outcome reports (aggregates only): commissioners, and IG officers who answer for them.
  absl::Status MayReadReports(const Caller& caller) const;

 private:
  const network::NetworkDirectory* const network_;
  const std::set<std::string, std::less<>> ig_officers_;
  const std::set<std::string, std::less<>> operators_;
  const std::set<std::string, std::less<>> commissioners_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SECURITY_AUTHORIZATION_H_
