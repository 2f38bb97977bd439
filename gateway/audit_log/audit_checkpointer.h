// AuditCheckpointer: signs checkpoints of the audit log (tree size + root hash, Ed25519) every
// `every_records` new records or every `every_interval` when anything is unsigned, and prunes
// record bodies past the retention period (the pruning itself an audit record). One background
// thread; the tree is kept compact in memory (O(log n)) and extended from the store's leaf hashes.
// With a CheckpointAnchor it keeps every checkpoint it signs outside the store too, and it never
// signs a tree that is not an extension of the latest checkpoint it knows (kept or stored, its
// signature checked): records removed or rewritten under a signed checkpoint stop the signing, and
// CheckAnchored, run at start, says which.
//
//   AuditCheckpointer checkpointer(store, std::move(signer), &clock, AuditPolicy{},
//                                  std::make_unique<CheckpointAnchor>(data_dir + "/audit-checkpoint.json"));
//   absl::Status anchored = checkpointer.CheckAnchored();   // DATA_LOSS: the log lost signed history
//   checkpointer.Start();
//   checkpointer.NoteAppended(3);               // a commit appended three records
//   checkpointer.Wake();                        // look now (after an access record, say)
//   absl::StatusOr<v1::SignedCheckpoint> cp = checkpointer.CheckpointNow();   // sign what there is
//   checkpointer.Shutdown();                    // signs a last checkpoint
//
// Thread-safety: every method may be called from any thread. `store` and `clock` must outlive it.
#ifndef FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_CHECKPOINTER_H_
#define FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_CHECKPOINTER_H_

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
#include "common/clock.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/audit_log/checkpoint_anchor.h"
#include "gateway/store/audit_store.h"

namespace frontdoor::gateway {

struct AuditPolicy {
  uint32_t every_records = 64;                        // sign after this many new records
  absl::Duration every_interval = absl::Seconds(60);  // or this long after an unsigned record
  // How often the thread looks at the log when nothing wakes it (records nobody noted, the
  // interval above, pruning).
  absl::Duration look_every = absl::Seconds(1);
  // Record bodies older than this are pruned (leaf hashes kept); zero keeps them for ever.
  absl::Duration retention = absl::Hours(24 * 3287);  // 9 years: IG-9 asks for at least 8
};

// The policy from GatewayConfig.audit, with the defaults above for unset fields.
AuditPolicy AuditPolicyFrom(const frontdoor::v1::GatewayConfig& config);

class AuditCheckpointer {
 public:
  // `anchor` null: checkpoints are kept in the store only.
  AuditCheckpointer(AuditStore* store, std::unique_ptr<audit::CheckpointSigner> signer, const Clock* clock,
                    AuditPolicy policy, std::unique_ptr<CheckpointAnchor> anchor = nullptr);
  ~AuditCheckpointer();  // Calls Shutdown.

  void Start();
  // Look at the log now: sign if the policy says so.
  void Wake();
  // `records` were appended. Wakes the thread only once about `every_records` have accumulated
  // since it last looked: the group commit calls this after every batch, and at 1,000 referrals/s
  // a wake-up and tree-size read per commit cost ~30 us of CPU a referral (docs/PERFORMANCE.md).
  // Records nobody notes (acknowledgements, say) are found by the thread's own look once a second.
  void NoteAppended(uint64_t records);
  void Shutdown();

  // Signs and stores a checkpoint of the whole log now (unless the latest already covers it) and
  // returns the latest checkpoint. UNAVAILABLE/INTERNAL from the store; DATA_LOSS when stored leaf
  // hashes are missing.
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> CheckpointNow();
  const std::string& PublicKeyPem() const { return signer_->PublicKeyPem(); }
  const AuditPolicy& policy() const { return policy_; }

  // Whether the stored log extends the latest checkpoint this gateway signed (kept outside the
  // store, or stored): OK, or DATA_LOSS naming what was removed or rewritten, what to do, and the
  // anchor file. Until it is OK nothing is signed.
  absl::Status CheckAnchored() ABSL_LOCKS_EXCLUDED(sign_mu_);
  // The latest checkpoint this gateway knows it signed (nullopt before any); verification counts
  // it even when the store no longer holds it.
  std::optional<frontdoor::v1::SignedCheckpoint> LatestKnown() ABSL_LOCKS_EXCLUDED(sign_mu_);
  // How many times the thread has looked at the log (read its size) since Start.
  uint64_t looks() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> SignUpTo(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);
  // Loads the latest checkpoints (stored, kept) and extends the tree to them, checking the roots.
  absl::Status EnsureLoaded() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);
  // Extends tree_ to `size` leaves from the store, then checks its root is `checkpoint`'s.
  absl::Status ExtendTo(const frontdoor::v1::SignedCheckpoint& checkpoint, const std::string& where)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);
  void Prune(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_);

  AuditStore* const store_;
  const std::unique_ptr<audit::CheckpointSigner> signer_;
  const Clock* const clock_;
  const AuditPolicy policy_;
  const std::unique_ptr<CheckpointAnchor> anchor_;

  absl::Mutex sign_mu_;
  audit::CompactMerkleTree tree_ ABSL_GUARDED_BY(sign_mu_);
  bool loaded_ ABSL_GUARDED_BY(sign_mu_) = false;
  std::optional<frontdoor::v1::SignedCheckpoint> latest_ ABSL_GUARDED_BY(sign_mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(sign_mu_) = absl::InfinitePast();

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t looks_ ABSL_GUARDED_BY(mu_) = 0;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t noted_since_look_ ABSL_GUARDED_BY(mu_) = 0;  // records noted since the thread last looked
  std::thread thread_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_LOG_AUDIT_CHECKPOINTER_H_
