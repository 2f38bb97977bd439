#include "gateway/audit_log/audit_checkpointer.h"

#include <cstdio>

#include "common/threads.h"
#include "gateway/store/audit_records.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

AuditPolicy AuditPolicyFrom(const frontdoor::v1::GatewayConfig& config) {
  AuditPolicy policy;
  const auto& a = config.audit();
  if (a.checkpoint_every_records() > 0) policy.every_records = a.checkpoint_every_records();
  if (a.checkpoint_every_seconds() > 0) policy.every_interval = absl::Seconds(a.checkpoint_every_seconds());
  if (a.retention_days() > 0) policy.retention = absl::Hours(24) * a.retention_days();
  if (a.keep_forever()) policy.retention = absl::ZeroDuration();
  return policy;
}

AuditCheckpointer::AuditCheckpointer(AuditStore* store, std::unique_ptr<audit::CheckpointSigner> signer,
                                     const Clock* clock, AuditPolicy policy)
    : store_(store), signer_(std::move(signer)), clock_(clock), policy_(policy) {}

AuditCheckpointer::~AuditCheckpointer() { Shutdown(); }

void AuditCheckpointer::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void AuditCheckpointer::Wake() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

uint64_t AuditCheckpointer::looks() const {
  absl::MutexLock lock(&mu_);
  return looks_;
}

void AuditCheckpointer::NoteAppended(uint64_t records) {
  absl::MutexLock lock(&mu_);
  noted_since_look_ += records;
  if (noted_since_look_ >= policy_.every_records) ++generation_;
}

void AuditCheckpointer::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // What was appended since the last checkpoint gets signed before the gateway stops.
  if (absl::StatusOr<frontdoor::v1::SignedCheckpoint> s = CheckpointNow(); !s.ok()) {
    observability::Log(observability::LogLevel::kError, "audit_checkpoint", "cannot sign the final checkpoint",
                       {{"error", std::string(s.status().message())}});
  }
}

absl::StatusOr<frontdoor::v1::SignedCheckpoint> AuditCheckpointer::SignUpTo(uint64_t size) {
  if (!loaded_) {
    absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> existing = store_->AuditCheckpoints();
    if (!existing.ok()) return existing.status();
    if (!existing->empty()) latest_ = existing->back();
    loaded_ = true;
  }
  if (latest_.has_value() && latest_->tree_size() >= size) return *latest_;
  if (tree_.size() < size) {
    absl::StatusOr<std::vector<audit::Hash>> hashes = store_->AuditLeafHashes(tree_.size(), size);
    if (!hashes.ok()) return hashes.status();
    for (const audit::Hash& h : *hashes) tree_.Append(h);
  }
  absl::StatusOr<frontdoor::v1::SignedCheckpoint> cp = signer_->Sign(size, tree_.Root(), AuditTimeText(clock_->Now()));
  if (!cp.ok()) return cp.status();
  if (absl::Status s = store_->RecordCheckpoint(*cp); !s.ok()) return s;
  latest_ = *cp;
  return *cp;
}

absl::StatusOr<frontdoor::v1::SignedCheckpoint> AuditCheckpointer::CheckpointNow() {
  absl::StatusOr<uint64_t> size = store_->AuditTreeSize();
  if (!size.ok()) return size.status();
  absl::MutexLock lock(&sign_mu_);
  if (*size == 0 && !latest_.has_value()) {
    // Nothing to sign yet: an empty tree's checkpoint is still a valid statement.
    return SignUpTo(0);
  }
  return SignUpTo(*size);
}

void AuditCheckpointer::Run() {
  NameThisThread("fd-audit-ckpt");
  absl::Time first_unsigned_seen = absl::InfiniteFuture();
  for (;;) {
    uint64_t generation;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      generation = generation_;
      noted_since_look_ = 0;  // the size read below counts them
      ++looks_;
    }
    absl::StatusOr<uint64_t> size = store_->AuditTreeSize();
    if (size.ok()) {
      absl::MutexLock lock(&sign_mu_);
      const uint64_t signed_size = latest_.has_value() ? latest_->tree_size() : 0;
      const absl::Time now = clock_->Now();
      if (*size > signed_size && first_unsigned_seen == absl::InfiniteFuture()) first_unsigned_seen = now;
      if (*size > signed_size && (*size - signed_size >= policy_.every_records ||
                                  now - first_unsigned_seen >= policy_.every_interval || !loaded_)) {
        absl::StatusOr<frontdoor::v1::SignedCheckpoint> cp = SignUpTo(*size);
        if (!cp.ok()) {
          observability::Log(observability::LogLevel::kError, "audit_checkpoint", "cannot sign a checkpoint",
                             {{"error", std::string(cp.status().message())}});
        } else if (latest_.has_value() && latest_->tree_size() >= *size) {
          first_unsigned_seen = absl::InfiniteFuture();
        }
      }
      if (policy_.retention > absl::ZeroDuration() && now - last_prune_ >= absl::Hours(1)) {
        last_prune_ = now;
        absl::StatusOr<int64_t> pruned = store_->PruneAuditBefore(now - policy_.retention);
        if (pruned.ok() && *pruned > 0) {
          observability::Log(observability::LogLevel::kInfo, "audit_retention", "retention pruned record bodies",
                             {{"records", static_cast<int64_t>(*pruned)}});
        }
      }
    }
    absl::MutexLock lock(&mu_);
    auto woken = [this, generation]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || generation_ != generation; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), policy_.look_every);
  }
}

}  // namespace frontdoor::gateway
