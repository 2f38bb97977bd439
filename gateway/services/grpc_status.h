// The one place where absl::Status becomes grpc::Status at the service boundary. The canonical
// codes are the same numbers in both; the message is kept.
#ifndef FRONTDOOR_GATEWAY_SERVICES_GRPC_STATUS_H_
#define FRONTDOOR_GATEWAY_SERVICES_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace frontdoor::gateway {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_GRPC_STATUS_H_
