#include "gateway/audit_log/audit_checkpointer.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
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
                                     const Clock* clock, AuditPolicy policy, std::unique_ptr<CheckpointAnchor> anchor)
    : store_(store), signer_(std::move(signer)), clock_(clock), policy_(policy), anchor_(std::move(anchor)) {}

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

absl::Status AuditCheckpointer::CheckAnchored() {
  absl::MutexLock lock(&sign_mu_);
  return EnsureLoaded();
}

std::optional<frontdoor::v1::SignedCheckpoint> AuditCheckpointer::LatestKnown() {
  absl::MutexLock lock(&sign_mu_);
  return latest_;
}

absl::Status AuditCheckpointer::ExtendTo(const frontdoor::v1::SignedCheckpoint& checkpoint, const std::string& where) {
  const uint64_t want = checkpoint.tree_size();
  absl::StatusOr<uint64_t> size = store_->AuditTreeSize();
  if (!size.ok()) return size.status();
  if (*size < want) {
    return absl::DataLossError(absl::StrCat(
        "the audit log has ", *size, " records but the checkpoint this gateway signed (", where, ") covers ", want,
        ": records from ", *size,
        " on were removed. Nothing more is signed until it is resolved: restore the store "
        "from a backup taken after that checkpoint and tell the IG officer; only if records were lost on purpose "
        "(a restore from an older backup, recorded as an incident) move the anchor file aside and start again"));
  }
  // In bounded steps: a long log is not read into memory at once.
  constexpr uint64_t kStep = 65536;
  while (tree_.size() < want) {
    const uint64_t to = std::min<uint64_t>(want, tree_.size() + kStep);
    absl::StatusOr<std::vector<audit::Hash>> hashes = store_->AuditLeafHashes(tree_.size(), to);
    if (!hashes.ok()) return hashes.status();
    if (hashes->size() != to - tree_.size()) return absl::DataLossError("stored audit leaf hashes are missing");
    for (const audit::Hash& h : *hashes) tree_.Append(h);
  }
  if (tree_.size() == want && audit::ToHex(tree_.Root()) != checkpoint.root_hash_hex()) {
    return absl::DataLossError(absl::StrCat(
        "the first ", want, " audit records do not hash to the root this gateway signed (", where,
        "): a record was rewritten or removed under a signed checkpoint. Nothing more is signed until it is "
        "resolved: run `frontdoor audit verify` to find the range, restore the store from a backup, and tell "
        "the IG officer"));
  }
  return absl::OkStatus();
}

absl::Status AuditCheckpointer::EnsureLoaded() {
  if (loaded_) return absl::OkStatus();
  // The candidates: the latest stored checkpoint this key signed, and the one kept outside.
  std::vector<std::pair<frontdoor::v1::SignedCheckpoint, std::string>> known;
  absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> stored = store_->AuditCheckpoints();
  if (!stored.ok()) return stored.status();
  for (auto it = stored->rbegin(); it != stored->rend(); ++it) {
    // One this key did not sign (another replica's, or a forgery) proves nothing here; `frontdoor
    // audit verify` reports a bad signature.
    if (audit::VerifyCheckpoint(*it, signer_->PublicKeyPem()).ok()) {
      known.emplace_back(*it, "stored in the database");
      break;
    }
  }
  if (anchor_ != nullptr) {
    absl::StatusOr<std::optional<frontdoor::v1::SignedCheckpoint>> kept = anchor_->Load();
    if (!kept.ok()) return kept.status();
    if (kept->has_value()) {
      if (!audit::VerifyCheckpoint(**kept, signer_->PublicKeyPem()).ok()) {
        return absl::DataLossError(
            absl::StrCat("the audit checkpoint kept in ", anchor_->path(),
                         " is not signed by this gateway's key: it was replaced, or the key was"));
      }
      known.emplace_back(**kept, absl::StrCat("kept in ", anchor_->path()));
    }
  }
  std::sort(known.begin(), known.end(),
            [](const auto& a, const auto& b) { return a.first.tree_size() < b.first.tree_size(); });
  for (const auto& [checkpoint, where] : known) {
    if (tree_.size() > checkpoint.tree_size()) continue;  // the smaller of two at one size is checked
    if (absl::Status s = ExtendTo(checkpoint, where); !s.ok()) return s;
  }
  if (!known.empty()) latest_ = known.back().first;
  loaded_ = true;
  return absl::OkStatus();
}

absl::StatusOr<frontdoor::v1::SignedCheckpoint> AuditCheckpointer::SignUpTo(uint64_t size) {
  if (absl::Status s = EnsureLoaded(); !s.ok()) return s;
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
  if (anchor_ != nullptr) {
    if (absl::Status kept = anchor_->Keep(*cp); !kept.ok()) {
      observability::Log(observability::LogLevel::kError, "audit_checkpoint",
                         "cannot keep the checkpoint outside the store: the audit log is anchored in the database only",
                         {{"error", std::string(kept.message())}});
    }
  }
  return *cp;
}

// Retention: bodies past the period are removed (their leaf hashes kept), and that itself is an
// audit record, so a pruned record is accounted for.
void AuditCheckpointer::Prune(absl::Time now) {
  const absl::Time cutoff = now - policy_.retention;
  absl::StatusOr<int64_t> pruned = store_->PruneAuditBefore(cutoff);
  if (!pruned.ok() || *pruned == 0) return;
  observability::Log(observability::LogLevel::kInfo, "audit_retention", "retention pruned record bodies",
                     {{"records", static_cast<int64_t>(*pruned)}});
  frontdoor::v1::AuditRecord record;
  record.set_time(AuditTimeText(now));
  record.set_actor("frontdoor-gateway");
  record.set_action("prune");
  record.set_outcome("pruned");
  record.add_rule_ids("IG-9");
  record.set_detail(absl::StrCat(*pruned, " record bodies older than ", AuditTimeText(cutoff),
                                 " removed under the retention period of ", absl::ToInt64Hours(policy_.retention) / 24,
                                 " days; their leaf hashes are kept"));
  if (absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> appended = store_->AppendAudit({std::move(record)});
      !appended.ok()) {
    observability::Log(observability::LogLevel::kError, "audit_retention", "cannot record the pruning",
                       {{"error", std::string(appended.status().message())}});
  }
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
  bool first_look = true;  // what a previous run left unsigned is signed at once
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
                                  now - first_unsigned_seen >= policy_.every_interval || first_look)) {
        absl::StatusOr<frontdoor::v1::SignedCheckpoint> cp = SignUpTo(*size);
        if (!cp.ok()) {
          observability::Log(observability::LogLevel::kError, "audit_checkpoint", "cannot sign a checkpoint",
                             {{"error", std::string(cp.status().message())}});
        } else if (latest_.has_value() && latest_->tree_size() >= *size) {
          first_unsigned_seen = absl::InfiniteFuture();
        }
      }
      first_look = false;
      if (policy_.retention > absl::ZeroDuration() && now - last_prune_ >= absl::Hours(1)) {
        last_prune_ = now;
        Prune(now);
      }
    }
    absl::MutexLock lock(&mu_);
    auto woken = [this, generation]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || generation_ != generation; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), policy_.look_every);
  }
}

}  // namespace frontdoor::gateway
