// AuditServiceImpl: frontdoor.v1.AuditService for IG officers (IG-8, IG-9), on the gRPC callback
// API. Only identities the configuration lists as ig_officers may call it (Authorizer::
// MayReadAudit); every call is itself one audit record (who asked, which filters).
//
//   AuditServiceImpl service({&authorizer, store, &checkpointer, &clock, IdentitySource::kTlsCertificate});
//   builder.RegisterService(&service);
//
// QueryAudit streams matching records oldest first from a server-write reactor that owns itself
// and is deleted in OnDone. No reactor thread waits on the store: QueryAudit, VerifyAudit and
// ProveInclusion read it on the StoreWorkQueue, which then writes or finishes the call.
// Thread-safety: called concurrently by gRPC; `deps` pointers must outlive the server's calls.
#ifndef FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_

#include "common/clock.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/store/audit_store.h"
#include "gateway/store/store_work_queue.h"

namespace frontdoor::gateway {

struct AuditServiceDeps {
  const Authorizer* authorizer = nullptr;
  AuditStore* store = nullptr;
  AuditCheckpointer* checkpointer = nullptr;
  const Clock* clock = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/security/caller_limits.h); null: none
  StoreWorkQueue* work = nullptr;            // where store reads run, off the reactor threads
};

// QueryAuditRequest -> AuditQuery; INVALID_ARGUMENT for a time that is not RFC 3339 or a filter
// longer than 64 characters.
absl::StatusOr<AuditQuery> AuditQueryFrom(const frontdoor::v1::QueryAuditRequest& request);

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
  // The log against its checkpoints (with the latest one this gateway knows it signed), the
  // retention period, and a checkpoint the caller kept; fills `response`.
  void VerifyLog(const std::vector<audit::StoredLeaf>& leaves, std::vector<frontdoor::v1::SignedCheckpoint> checkpoints,
                 const std::optional<frontdoor::v1::SignedCheckpoint>& kept,
                 frontdoor::v1::VerifyAuditResponse* response);
  // The IG officer calling, or UNAUTHENTICATED / PERMISSION_DENIED.
  absl::StatusOr<Caller> AuthorizeIgOfficer(const grpc::CallbackServerContext& context) const;
  // Appends the record of an audit call.
  absl::Status RecordAccess(frontdoor::v1::AuditRecord record) const;

  const AuditServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_AUDIT_SERVICE_H_
