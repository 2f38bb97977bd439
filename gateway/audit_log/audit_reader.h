// AuditReader: what an IG officer may do with the audit log, whichever door they come through (the
// gRPC AuditService, the web console): search it, verify it, prove a record's inclusion. Every
// operation first asks the Authorizer whether the caller may read the log (IG-8), and appends its
// own access record before it answers (IG-9: no record, no answer).
//
//   AuditReader reader({&authorizer, store, &checkpointer, &clock, &work});
//   reader.Search(caller, request, /*after_index=*/-1, 50, [](absl::StatusOr<std::vector<v1::AuditRecord>> page)
//   {...});
//
// Store work runs on the StoreWorkQueue; each `done` is called exactly once, on a store work
// thread, or at once on the calling thread when the request is refused before any store work.
// Thread-safety: all methods may be called concurrently; deps must outlive the reader.
#ifndef FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_READER_H_
#define FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_READER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/security/authorization.h"
#include "gateway/store/audit_store.h"
#include "gateway/store/store_work_queue.h"

namespace frontdoor::gateway {

struct AuditReaderDeps {
  const Authorizer* authorizer = nullptr;
  AuditStore* store = nullptr;
  AuditCheckpointer* checkpointer = nullptr;
  const Clock* clock = nullptr;
  StoreWorkQueue* work = nullptr;
};

// QueryAuditRequest -> AuditQuery; INVALID_ARGUMENT for a time that is not RFC 3339 or a filter
// longer than 64 characters.
absl::StatusOr<AuditQuery> AuditQueryFrom(const frontdoor::v1::QueryAuditRequest& request);

class AuditReader {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  explicit AuditReader(AuditReaderDeps deps);

  // The query `request` asks for, when `caller` may read the log and the request is well formed:
  // PERMISSION_DENIED or INVALID_ARGUMENT otherwise. Pure; no record is written.
  absl::StatusOr<AuditQuery> Admit(const Caller& caller, const frontdoor::v1::QueryAuditRequest& request) const;
  // Records the search (`purpose` says what it was for: "search", "export as CSV"), then answers
  // up to `limit` matching records with index > after_index, oldest first.
  void Search(const Caller& caller, const frontdoor::v1::QueryAuditRequest& request, int64_t after_index, int limit,
              const std::string& purpose, Done<std::vector<frontdoor::v1::AuditRecord>> done) const;
  // Signs what is recorded so far, records the verification, and verifies the whole log against
  // its checkpoints (and `kept`, a checkpoint the caller kept from before, when given).
  void Verify(const Caller& caller, std::optional<frontdoor::v1::SignedCheckpoint> kept,
              Done<frontdoor::v1::VerifyAuditResponse> done) const;
  // Records the view, then proves record `index` is in the log a fresh signed checkpoint covers.
  // NOT_FOUND for no such record; FAILED_PRECONDITION for a pruned one.
  void Prove(const Caller& caller, uint64_t index, Done<frontdoor::v1::AuditInclusionProof> done) const;
  // The key checkpoints are signed with (PEM), for a caller who may read the log.
  absl::StatusOr<std::string> PublicKeyPem(const Caller& caller) const;

  // Up to `limit` records of an admitted query with index > after_index; on a store work thread
  // (a stream's next page: its access was recorded when it began).
  absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> ReadPage(const AuditQuery& query, int64_t after_index,
                                                                   int limit) const {
    return deps_.store->QueryAudit(query, after_index, limit);
  }
  // Appends one access record; on a store work thread.
  absl::Status RecordAccess(frontdoor::v1::AuditRecord record) const;
  // The record of `caller`'s search `request` (IG-9), with `purpose`.
  frontdoor::v1::AuditRecord SearchRecord(const Caller& caller, const frontdoor::v1::QueryAuditRequest& request,
                                          const std::string& purpose) const;

 private:
  // The log against its checkpoints (with the latest one this gateway knows it signed), the
  // retention period, and a checkpoint the caller kept.
  frontdoor::v1::VerifyAuditResponse VerifyLog(const std::vector<audit::StoredLeaf>& leaves,
                                               std::vector<frontdoor::v1::SignedCheckpoint> checkpoints,
                                               const std::optional<frontdoor::v1::SignedCheckpoint>& kept) const;
  absl::StatusOr<frontdoor::v1::AuditInclusionProof> ProveNow(uint64_t index, frontdoor::v1::AuditRecord access) const;

  const AuditReaderDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_READER_H_
