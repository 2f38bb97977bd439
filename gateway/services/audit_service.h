// AuditServiceImpl: frontdoor.v1.AuditService for IG officers (IG-8, IG-9), on the gRPC callback
// API: a thin adapter over the AuditReader the web console shares. Only identities the
// configuration lists as ig_officers may call it; every call is itself one audit record.
//
//   AuditServiceImpl service({&authorizer, &reader, IdentitySource::kTlsCertificate, &admission, &work});
//   builder.RegisterService(&service);
//
// QueryAudit streams matching records oldest first from a server-write reactor that owns itself
// and is deleted in OnDone. No reactor thread waits on the store: the reader works on the
// StoreWorkQueue, which then writes or finishes the call.
// Thread-safety: called concurrently by gRPC; `deps` pointers must outlive the server's calls.
#ifndef FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_

#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "gateway/audit_log/audit_reader.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/store/store_work_queue.h"

namespace frontdoor::gateway {

struct AuditServiceDeps {
  const Authorizer* authorizer = nullptr;
  const AuditReader* reader = nullptr;  // what every door may do with the log (gateway/audit_log/audit_reader.h)
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/security/caller_limits.h); null: none
  StoreWorkQueue* work = nullptr;            // where a stream's pages are read, off the reactor threads
};

class AuditServiceImpl final : public frontdoor::v1::AuditService::CallbackService {
 public:
  explicit AuditServiceImpl(AuditServiceDeps deps);

  grpc::ServerWriteReactor<frontdoor::v1::AuditRecord>* QueryAudit(
      grpc::CallbackServerContext* context, const frontdoor::v1::QueryAuditRequest* request) override;
  grpc::ServerUnaryReactor* VerifyAudit(grpc::CallbackServerContext* context,
                                        const frontdoor::v1::VerifyAuditRequest* request,
                                        frontdoor::v1::VerifyAuditResponse* response) override;
  grpc::ServerUnaryReactor* ProveInclusion(grpc::CallbackServerContext* context,
                                           const frontdoor::v1::ProveInclusionRequest* request,
                                           frontdoor::v1::AuditInclusionProof* response) override;
  grpc::ServerUnaryReactor* GetPublicKey(grpc::CallbackServerContext* context,
                                         const frontdoor::v1::GetPublicKeyRequest* request,
                                         frontdoor::v1::GetPublicKeyResponse* response) override;

 private:
  // The caller, identified and admitted (UNAUTHENTICATED, RESOURCE_EXHAUSTED...); the reader
  // decides what they may read.
  absl::StatusOr<Caller> Identify(const grpc::CallbackServerContext& context) const;

  const AuditServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_
