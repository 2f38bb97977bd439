// AdminServiceImpl: frontdoor.v1.AdminService for operators (GatewayConfig.operators): list the
// dead-lettered deliveries and replay them (see proto/frontdoor/v1/admin_service.proto). A thin
// adapter over the DeliveryAdmin the web console shares: only operators get anything else than
// PERMISSION_DENIED, and store work runs on the StoreWorkQueue, never on a reactor thread.
//
//   AdminServiceImpl admin({.authorizer = &authz, .admin = &delivery_admin});
//   builder.RegisterService(&admin);
//
// Thread-safety: called concurrently by gRPC; holds only immutable state. Deps must outlive it.
#ifndef FRONTDOOR_GATEWAY_SERVICES_ADMIN_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_ADMIN_SERVICE_H_

#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "gateway/delivery/delivery_admin.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/store/dead_letters.h"

namespace frontdoor::gateway {

struct AdminServiceDeps {
  const Authorizer* authorizer = nullptr;
  const DeliveryAdmin* admin = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/caller_limits.h); null: none
};

class AdminServiceImpl final : public frontdoor::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(AdminServiceDeps deps);

  grpc::ServerUnaryReactor* ListDeadLetters(grpc::CallbackServerContext* context,
                                            const frontdoor::v1::ListDeadLettersRequest* request,
                                            frontdoor::v1::ListDeadLettersResponse* response) override;
  grpc::ServerUnaryReactor* ReplayDeadLetters(grpc::CallbackServerContext* context,
                                              const frontdoor::v1::ReplayDeadLettersRequest* request,
                                              frontdoor::v1::ReplayDeadLettersResponse* response) override;

 private:
  // The caller, identified and admitted; UNAUTHENTICATED or RESOURCE_EXHAUSTED otherwise.
  absl::StatusOr<Caller> Identify(const grpc::CallbackServerContext& context) const;

  const AdminServiceDeps deps_;
};

// The store filter a ReplayDeadLettersRequest selects: INVALID_ARGUMENT unless exactly one selector
// is given (so that an empty request never replays everything). Pure.
absl::StatusOr<DeadLetterFilter> ReplaySelection(const frontdoor::v1::ReplayDeadLettersRequest& request);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_ADMIN_SERVICE_H_
