// AuditCheckpointer: signs checkpoints of the audit log (tree size + root hash, Ed25519) every
// `every_records` new records or every `every_interval` when anything is unsigned, and prunes
// record bodies past the retention period. One background thread; the tree is kept compact in
// memory (O(log n)) and extended from the store's leaf hashes.
//
//   AuditCheckpointer checkpointer(store, std::move(signer), &clock, AuditPolicy{});
//   checkpointer.Start();
//   checkpointer.Wake();                        // after a commit appended records
//   absl::StatusOr<v1::SignedCheckpoint> cp = checkpointer.CheckpointNow();   // sign what there is
//   checkpointer.Shutdown();                    // signs a last checkpoint
//
// Thread-safety: every method may be called from any thread. `store` and `clock` must outlive it.
#ifndef FRONTDOOR_GATEWAY_AUDIT_CHECKPOINTER_H_
#define FRONTDOOR_GATEWAY_AUDIT_CHECKPOINTER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/audit_store.h"
#include "gateway/clock.h"

namespace frontdoor::gateway {

struct AuditPolicy {
  uint32_t every_records = 64;                        // sign after this many new records
  absl::Duration every_interval = absl::Seconds(60);  // or this long after an unsigned record
  // Record bodies older than this are pruned (leaf hashes kept); zero keeps them for ever.
  absl::Duration retention = absl::Hours(24 * 3287);  // 9 years: IG-9 asks for at least 8
};

// The policy from GatewayConfig.audit, with the defaults above for unset fields.
AuditPolicy AuditPolicyFrom(const frontdoor::v1::GatewayConfig& config);

class AuditCheckpointer {
 public:
  AuditCheckpointer(AuditStore* store, std::unique_ptr<audit::CheckpointSigner> signer, const Clock* clock,
                    AuditPolicy policy);
  ~AuditCheckpointer();  // Calls Shutdown.

  void Start();
  void Wake();
  void Shutdown();

  // Signs and stores a checkpoint of the whole log now (unless the latest already covers it) and
  // returns the latest checkpoint. UNAVAILABLE/INTERNAL from the store; DATA_LOSS when stored leaf
  // hashes are missing.
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> CheckpointNow();
  const std::string& PublicKeyPem() const { return signer_->PublicKeyPem(); }

 private:
  void Run();
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> SignUpTo(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);

  AuditStore* const store_;
  const std::unique_ptr<audit::CheckpointSigner> signer_;
  const Clock* const clock_;
  const AuditPolicy policy_;

  absl::Mutex sign_mu_;
  audit::CompactMerkleTree tree_ ABSL_GUARDED_BY(sign_mu_);
  bool loaded_ ABSL_GUARDED_BY(sign_mu_) = false;
  std::optional<frontdoor::v1::SignedCheckpoint> latest_ ABSL_GUARDED_BY(sign_mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(sign_mu_) = absl::InfinitePast();

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_CHECKPOINTER_H_
