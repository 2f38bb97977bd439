#include "gateway/security/caller_identity.h"

#include "grpcpp/security/auth_context.h"

namespace frontdoor::gateway {

bool IsWellFormedIdentity(std::string_view identity) {
  if (identity.empty() || identity.size() > 64) return false;
  for (char c : identity) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<std::string> AuthenticatedCaller(const grpc::ServerContextBase& context, IdentitySource source) {
  std::string identity;
  if (source == IdentitySource::kPlaintextMetadata) {
    const auto& metadata = context.client_metadata();
    const auto [begin, end] = metadata.equal_range(kClientMetadataKey);
    if (begin == end) {
      return absl::UnauthenticatedError(
          "no client identity: send x-frontdoor-client metadata (plaintext development mode)");
    }
    if (std::next(begin) != end) return absl::UnauthenticatedError("more than one x-frontdoor-client value");
    identity.assign(begin->second.data(), begin->second.size());
  } else {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return absl::UnauthenticatedError("no client certificate");
    }
    const std::vector<grpc::string_ref> cn = auth->FindPropertyValues("x509_common_name");
    if (cn.size() != 1) return absl::UnauthenticatedError("the client certificate has no single Subject CN");
    identity.assign(cn[0].data(), cn[0].size());
  }
  if (!IsWellFormedIdentity(identity)) {
    return absl::UnauthenticatedError("the client identity is not of the form [A-Za-z0-9._-]{1,64}");
  }
  return identity;
}

}  // namespace frontdoor::gateway
