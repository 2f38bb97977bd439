// Who is calling. With mutual TLS the identity is the client certificate's Subject CN (the ODS code
// of a referring organisation, the endpoint_id of a connector organisation, or an IG officer's
// name). With --insecure-plaintext, for local development only, it is the `x-frontdoor-client`
// request metadata.
//
//   absl::StatusOr<std::string> who = AuthenticatedCaller(*ctx, IdentitySource::kPlaintextMetadata);
//   if (!who.ok()) return reactor->Finish(ToGrpcStatus(who.status()));
#ifndef FRONTDOOR_GATEWAY_SECURITY_CALLER_IDENTITY_H_
#define FRONTDOOR_GATEWAY_SECURITY_CALLER_IDENTITY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace frontdoor::gateway {

inline constexpr char kClientMetadataKey[] = "x-frontdoor-client";

enum class IdentitySource {
  kTlsCertificate,     // the peer certificate's Subject CN (mutual TLS)
  kPlaintextMetadata,  // x-frontdoor-client (--insecure-plaintext only)
};

// True for 1..64 characters of [A-Za-z0-9._-]: the shape every identity of the network has.
bool IsWellFormedIdentity(std::string_view identity);

// Returns the caller's identity, or UNAUTHENTICATED when there is none or it is not well-formed.
absl::StatusOr<std::string> AuthenticatedCaller(const grpc::ServerContextBase& context, IdentitySource source);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SECURITY_CALLER_IDENTITY_H_
