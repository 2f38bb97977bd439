// ReflectionV1Service: gRPC server reflection v1 (grpc.reflection.v1.ServerReflection), beside the
// v1alpha that Debian's gRPC serves, so that current tools (grpcurl, Postman, grpcui) can list the
// gateway's services and read their contracts without a copy of the .proto files. Answers from the
// descriptors compiled into the binary.
//
//   ReflectionV1Service reflection({"frontdoor.v1.ReferralService", ...});
//   builder.RegisterService(&reflection);
//
// Thread-safe: each stream is answered on its own thread, from immutable descriptors.
#ifndef FRONTDOOR_GATEWAY_SERVICES_REFLECTION_V1_H_
#define FRONTDOOR_GATEWAY_SERVICES_REFLECTION_V1_H_

#include <string>
#include <vector>

#include "grpc/reflection/v1/reflection.grpc.pb.h"

namespace frontdoor::gateway {

class ReflectionV1Service final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // `services`: the fully-qualified names the server serves, as list_services answers them.
  explicit ReflectionV1Service(std::vector<std::string> services);

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override;

  // The answer to one request.
  grpc::reflection::v1::ServerReflectionResponse Answer(
      const grpc::reflection::v1::ServerReflectionRequest& request) const;

 private:
  std::vector<std::string> services_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_REFLECTION_V1_H_
