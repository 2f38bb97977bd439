#include "audit/log_verification.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "audit/audit_record.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"

namespace frontdoor::audit {

namespace v1 = ::frontdoor::v1;

v1::VerifyAuditResponse VerifyAuditLog(const std::vector<StoredLeaf>& leaves,
                                       const std::vector<v1::SignedCheckpoint>& checkpoints,
                                       const std::string& public_key_pem) {
  v1::VerifyAuditResponse out;
  std::optional<uint64_t> first_bad;
  std::string why;
  auto bad = [&](uint64_t index, std::string message) {
    if (!first_bad.has_value() || index < *first_bad) {
      first_bad = index;
      why = std::move(message);
    }
  };

  // 1. Every leaf in its place, every body hashing to its leaf.
  std::vector<Hash> hashes;
  hashes.reserve(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const StoredLeaf& leaf = leaves[i];
    if (leaf.index != i) {
      bad(i, absl::StrCat("record ", i, " is missing (the next stored record claims index ", leaf.index, ")"));
      break;  // everything after a gap is out of place
    }
    std::optional<Hash> stored = HashFromHex(leaf.leaf_hash_hex);
    if (leaf.body_unreadable) {
      bad(i, absl::StrCat("record ", i, " does not parse"));
      hashes.push_back(stored.value_or(Hash{}));
      continue;
    }
    if (!leaf.record.has_value()) {
      out.set_pruned_records(out.pruned_records() + 1);
      if (!stored.has_value()) bad(i, absl::StrCat("pruned record ", i, " has no valid kept leaf hash"));
      hashes.push_back(stored.value_or(Hash{}));
      continue;
    }
    const Hash computed = RecordLeafHash(*leaf.record);
    if (leaf.record->index() != i) {
      bad(i, absl::StrCat("record ", i, " holds the record of index ", leaf.record->index(), " (records moved)"));
    } else if (!stored.has_value() || *stored != computed) {
      bad(i, absl::StrCat("record ", i, " does not match its leaf hash (a field was changed)"));
    }
    // The stored hash builds the tree: a body changed under an intact hash is named exactly above,
    // and the checkpoints then check the stored hashes themselves.
    hashes.push_back(stored.value_or(computed));
  }

  // 2. Every checkpoint signed, and its root the root of that many leaves.
  std::vector<v1::SignedCheckpoint> sorted = checkpoints;
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::SignedCheckpoint& a, const v1::SignedCheckpoint& b) { return a.tree_size() < b.tree_size(); });
  CompactMerkleTree tree;
  uint64_t covered = 0;  // leaves covered by checkpoints verified so far
  uint64_t verified_checkpoints = 0;
  for (const v1::SignedCheckpoint& cp : sorted) {
    if (absl::Status s = VerifyCheckpoint(cp, public_key_pem); !s.ok()) {
      bad(covered, absl::StrCat("the checkpoint at tree size ", cp.tree_size(),
                                " is not validly signed (replaced or edited); records from ", covered,
                                " on are not covered by a valid checkpoint: ", s.message()));
      continue;
    }
    if (cp.tree_size() > hashes.size()) {
      bad(hashes.size(), absl::StrCat("the log has ", hashes.size(), " records but a signed checkpoint covers ",
                                      cp.tree_size(), ": records from ", hashes.size(), " on were removed"));
      break;
    }
    while (tree.size() < cp.tree_size()) tree.Append(hashes[tree.size()]);
    if (ToHex(tree.Root()) != cp.root_hash_hex()) {
      // A record already named inside this range explains the mismatch more precisely.
      if (first_bad.has_value() && *first_bad < cp.tree_size()) continue;
      bad(covered, absl::StrCat("the records do not hash to the root signed at tree size ", cp.tree_size(),
                                ": a record in ", covered, "..", cp.tree_size() - 1,
                                " was altered together with its leaf hash (the first of that range is named)"));
      continue;
    }
    ++verified_checkpoints;
    covered = std::max<uint64_t>(covered, cp.tree_size());
  }

  while (tree.size() < hashes.size()) tree.Append(hashes[tree.size()]);
  out.set_tree_size(hashes.size());
  out.set_root_hash_hex(ToHex(tree.Root()));
  out.set_checkpoints_verified(verified_checkpoints);
  out.set_unsigned_tail(hashes.size() - std::min<uint64_t>(covered, hashes.size()));
  if (first_bad.has_value()) {
    out.set_verified(false);
    out.set_first_bad_index(*first_bad);
    out.set_message(why);
  } else {
    out.set_verified(true);
    out.set_message(absl::StrCat(hashes.size(), " records verified against ", verified_checkpoints,
                                 " signed checkpoints", out.unsigned_tail() > 0
                                     ? absl::StrCat("; the last ", out.unsigned_tail(),
                                                    " are hash-checked and await the next checkpoint")
                                     : ""));
  }
  return out;
}

absl::Status CheckInclusionProof(const v1::AuditInclusionProof& proof, const std::string& public_key_pem) {
  if (absl::Status s = VerifyCheckpoint(proof.checkpoint(), public_key_pem); !s.ok()) return s;
  if (proof.tree_size() != proof.checkpoint().tree_size()) {
    return absl::InvalidArgumentError("the proof's tree size is not its checkpoint's");
  }
  if (proof.record().index() != proof.leaf_index()) {
    return absl::DataLossError("the record's index is not the proof's leaf index");
  }
  std::vector<Hash> path;
  for (const std::string& hex : proof.audit_path_hex()) {
    std::optional<Hash> h = HashFromHex(hex);
    if (!h.has_value()) return absl::InvalidArgumentError("an audit path entry is not 64 hex digits");
    path.push_back(*h);
  }
  const Hash root = *HashFromHex(proof.checkpoint().root_hash_hex());
  if (!VerifyInclusion(proof.leaf_index(), proof.tree_size(), RecordLeafHash(proof.record()), path, root)) {
    return absl::DataLossError(absl::StrCat("record ", proof.leaf_index(),
                                            " is not in the signed tree of size ", proof.tree_size(),
                                            " (the record or the path was altered)"));
  }
  return absl::OkStatus();
}

}  // namespace frontdoor::audit
