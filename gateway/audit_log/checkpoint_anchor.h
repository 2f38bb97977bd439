// CheckpointAnchor: the audit log's latest signed checkpoint kept outside the store, in a file of
// its own (by default beside the signing key in the data directory), so that someone who can edit
// the database cannot remove records together with the checkpoints that signed them, or rewrite a
// record and have the gateway sign the altered history: the gateway checks the store against this
// anchor at start and never signs a tree that does not extend it. The file is the checkpoint as
// JSON, the same form `frontdoor audit verify --checkpoint FILE` takes from an IG officer who kept
// one; it is replaced atomically (written beside, synced, renamed) after each signing.
//
//   CheckpointAnchor anchor(data_dir + "/audit-checkpoint.json");
//   absl::StatusOr<std::optional<v1::SignedCheckpoint>> kept = anchor.Load();
//   absl::Status s = anchor.Keep(checkpoint);
//
// What it does not protect against, and what a deployment adds, is in SECURITY.md: someone who can
// write this file as well as the database; a copy held elsewhere (an operator's, an IG officer's)
// closes that gap. Thread-compatible: one owner (the checkpointer, under its signing lock).
#ifndef FRONTDOOR_GATEWAY_AUDIT_LOG_CHECKPOINT_ANCHOR_H_
#define FRONTDOOR_GATEWAY_AUDIT_LOG_CHECKPOINT_ANCHOR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::gateway {

class CheckpointAnchor {
 public:
  explicit CheckpointAnchor(std::string path) : path_(std::move(path)) {}

  // The kept checkpoint; nullopt when there is no file yet (a new data directory). DATA_LOSS for a
  // file that is not a checkpoint; UNAVAILABLE when it cannot be read.
  absl::StatusOr<std::optional<frontdoor::v1::SignedCheckpoint>> Load() const;
  // Replaces the kept checkpoint with `checkpoint`, durably.
  absl::Status Keep(const frontdoor::v1::SignedCheckpoint& checkpoint) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A checkpoint from its JSON (what Keep writes, what `frontdoor audit verify` prints as
// latestCheckpoint); INVALID_ARGUMENT, saying why, for anything else.
absl::StatusOr<frontdoor::v1::SignedCheckpoint> CheckpointFromJson(const std::string& json);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_LOG_CHECKPOINT_ANCHOR_H_
