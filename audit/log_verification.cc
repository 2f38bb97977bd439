#include "audit/log_verification.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "audit/audit_record.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"

namespace frontdoor::audit {

namespace v1 = ::frontdoor::v1;

namespace {

// What verification found: the first bad record and why (a later finding about an earlier record
// takes its place).
class Findings {
 public:
  void Bad(uint64_t index, std::string message) {
    if (!first_bad_.has_value() || index < *first_bad_) {
      first_bad_ = index;
      why_ = std::move(message);
    }
  }
  bool BadBefore(uint64_t index) const { return first_bad_.has_value() && *first_bad_ < index; }
  const std::optional<uint64_t>& first_bad() const { return first_bad_; }
  const std::string& why() const { return why_; }

 private:
  std::optional<uint64_t> first_bad_;
  std::string why_;
};

// A pruned leaf: its kept hash must be one, its search columns emptied but for the time, and the
// time past the retention period (a body removed earlier hides a record from searches).
void CheckPrunedLeaf(const StoredLeaf& leaf, uint64_t i, const std::optional<RetentionCheck>& retention,
                     Findings& findings) {
  if (!HashFromHex(leaf.leaf_hash_hex).has_value()) {
    findings.Bad(i, absl::StrCat("pruned record ", i, " has no valid kept leaf hash"));
  }
  if (!leaf.columns.has_value()) return;
  if (retention.has_value()) {
    const absl::Time at = absl::FromUnixMicros(leaf.columns->time_us);
    if (retention->period == absl::ZeroDuration()) {
      findings.Bad(i, absl::StrCat("record ", i, "'s body was removed, but this log keeps every record for ever"));
    } else if (at > retention->now - retention->period) {
      findings.Bad(i,
                   absl::StrCat("record ", i, " (of ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", at, absl::UTCTimeZone()),
                                ") had its body removed, but the retention period keeps it until ",
                                absl::FormatTime("%Y-%m-%d", at + retention->period, absl::UTCTimeZone()),
                                ": it was deleted, not pruned"));
    }
  }
  AuditSearchColumns emptied;
  emptied.time_us = leaf.columns->time_us;  // a pruned record keeps only its time
  if (std::optional<std::string> column = FirstDisagreeingColumn(*leaf.columns, emptied)) {
    findings.Bad(i, absl::StrCat("pruned record ", i, " still has a value in its search column ", *column));
  }
}

// A leaf with its body: in its place, hashing to its stored leaf hash, and its search columns
// saying what it says (the columns searches could be read by).
void CheckKeptLeaf(const StoredLeaf& leaf, uint64_t i, const Hash& computed, Findings& findings) {
  const std::optional<Hash> stored = HashFromHex(leaf.leaf_hash_hex);
  if (leaf.record->index() != i) {
    findings.Bad(i,
                 absl::StrCat("record ", i, " holds the record of index ", leaf.record->index(), " (records moved)"));
  } else if (!stored.has_value() || *stored != computed) {
    findings.Bad(i, absl::StrCat("record ", i, " does not match its leaf hash (a field was changed)"));
  } else if (leaf.columns.has_value()) {
    absl::StatusOr<AuditSearchColumns> derived = SearchColumnsOf(*leaf.record);
    std::optional<std::string> column =
        derived.ok() ? FirstDisagreeingColumn(*leaf.columns, *derived) : std::optional<std::string>("time_us");
    if (column.has_value()) {
      findings.Bad(i, absl::StrCat("record ", i, "'s search column ", *column,
                                   " does not match the record (edited beside the signed record)"));
    }
  }
}

// Every leaf in its place, every body hashing to its leaf. Returns the leaf hashes the tree is
// built from: the stored ones, so that a body changed under an intact hash is named exactly here
// and the checkpoints then check the stored hashes themselves.
std::vector<Hash> CheckLeaves(const std::vector<StoredLeaf>& leaves, const std::optional<RetentionCheck>& retention,
                              Findings& findings, uint64_t* pruned) {
  std::vector<Hash> hashes;
  hashes.reserve(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    const StoredLeaf& leaf = leaves[i];
    if (leaf.index != i) {
      findings.Bad(i, absl::StrCat("record ", i, " is missing (the next stored record claims index ", leaf.index, ")"));
      break;  // everything after a gap is out of place
    }
    const std::optional<Hash> stored = HashFromHex(leaf.leaf_hash_hex);
    if (leaf.body_unreadable) {
      findings.Bad(i, absl::StrCat("record ", i, " does not parse"));
      hashes.push_back(stored.value_or(Hash{}));
    } else if (!leaf.record.has_value()) {
      ++*pruned;
      CheckPrunedLeaf(leaf, i, retention, findings);
      hashes.push_back(stored.value_or(Hash{}));
    } else {
      const Hash computed = RecordLeafHash(*leaf.record);
      CheckKeptLeaf(leaf, i, computed, findings);
      hashes.push_back(stored.value_or(computed));
    }
  }
  return hashes;
}

// A referral's later records (delivery, withdrawal, feedback, cease) cite who it is about, the
// consent and the referrer as its decision recorded them. The store copies those from a table of
// its own (the audit context); an edit there would file later disclosures under another person,
// out of reach of a search by the true NHS number.
void CheckCitations(const std::vector<StoredLeaf>& leaves, Findings& findings) {
  struct Citation {
    uint64_t index;
    const v1::AuditRecord* record;
  };
  std::map<std::string, Citation> decisions;
  for (const StoredLeaf& leaf : leaves) {
    if (!leaf.record.has_value() || leaf.record->referral_id().empty()) continue;
    const v1::AuditRecord& r = *leaf.record;
    // A read refused under IG-8 is written from the request and the referral's owner, not from the
    // audit context: it names no person or consent, so there is nothing of them to hold it to.
    if (r.action() == "read") continue;
    auto [it, first] = decisions.try_emplace(r.referral_id(), Citation{leaf.index, &r});
    if (first) {
      if (r.action() != "decide") decisions.erase(it);  // recorded before the audit log: nothing to hold it to
      continue;
    }
    const v1::AuditRecord& decided = *it->second.record;
    if (r.nhs_number() != decided.nhs_number() || r.referrer_ods() != decided.referrer_ods() ||
        r.consent_reference() != decided.consent_reference()) {
      findings.Bad(leaf.index,
                   absl::StrCat("record ", leaf.index, " (", r.action(), " of referral ", r.referral_id(),
                                ") cites another person, referrer or consent than the referral's decision at record ",
                                it->second.index, " (the store's audit context was edited)"));
    }
  }
}

// What the signed checkpoints cover.
struct Coverage {
  uint64_t covered = 0;  // leaves covered by checkpoints verified
  uint64_t verified = 0;
  Hash root;  // of all the leaves
};

// Every checkpoint signed, and its root the root of that many leaves.
Coverage CheckCheckpoints(const std::vector<v1::SignedCheckpoint>& checkpoints, const std::vector<Hash>& hashes,
                          const std::string& public_key_pem, Findings& findings) {
  std::vector<v1::SignedCheckpoint> sorted = checkpoints;
  std::sort(sorted.begin(), sorted.end(),
            [](const v1::SignedCheckpoint& a, const v1::SignedCheckpoint& b) { return a.tree_size() < b.tree_size(); });
  CompactMerkleTree tree;
  Coverage coverage;
  for (const v1::SignedCheckpoint& cp : sorted) {
    if (absl::Status s = VerifyCheckpoint(cp, public_key_pem); !s.ok()) {
      findings.Bad(coverage.covered,
                   absl::StrCat("the checkpoint at tree size ", cp.tree_size(),
                                " is not validly signed (replaced or edited); records from ", coverage.covered,
                                " on are not covered by a valid checkpoint: ", s.message()));
      continue;
    }
    if (cp.tree_size() > hashes.size()) {
      findings.Bad(hashes.size(),
                   absl::StrCat("the log has ", hashes.size(), " records but a signed checkpoint covers ",
                                cp.tree_size(), ": records from ", hashes.size(), " on were removed"));
      break;
    }
    while (tree.size() < cp.tree_size()) tree.Append(hashes[tree.size()]);
    if (ToHex(tree.Root()) != cp.root_hash_hex()) {
      // A record already named inside this range explains the mismatch more precisely.
      if (findings.BadBefore(cp.tree_size())) continue;
      findings.Bad(coverage.covered,
                   absl::StrCat("the records do not hash to the root signed at tree size ", cp.tree_size(),
                                ": a record in ", coverage.covered, "..", cp.tree_size() - 1,
                                " was altered together with its leaf hash (the first of that range is named)"));
      continue;
    }
    ++coverage.verified;
    coverage.covered = std::max<uint64_t>(coverage.covered, cp.tree_size());
  }
  while (tree.size() < hashes.size()) tree.Append(hashes[tree.size()]);
  coverage.root = tree.Root();
  return coverage;
}

}  // namespace

v1::VerifyAuditResponse VerifyAuditLog(const std::vector<StoredLeaf>& leaves,
                                       const std::vector<v1::SignedCheckpoint>& checkpoints,
                                       const std::string& public_key_pem, std::optional<RetentionCheck> retention) {
  Findings findings;
  uint64_t pruned = 0;
  const std::vector<Hash> hashes = CheckLeaves(leaves, retention, findings, &pruned);
  CheckCitations(leaves, findings);
  const Coverage coverage = CheckCheckpoints(checkpoints, hashes, public_key_pem, findings);

  v1::VerifyAuditResponse out;
  out.set_pruned_records(pruned);
  out.set_tree_size(hashes.size());
  out.set_root_hash_hex(ToHex(coverage.root));
  out.set_checkpoints_verified(coverage.verified);
  out.set_unsigned_tail(hashes.size() - std::min<uint64_t>(coverage.covered, hashes.size()));
  if (findings.first_bad().has_value()) {
    out.set_verified(false);
    out.set_first_bad_index(*findings.first_bad());
    out.set_message(findings.why());
    return out;
  }
  out.set_verified(true);
  out.set_message(absl::StrCat(hashes.size(), " records verified against ", coverage.verified, " signed checkpoints",
                               out.unsigned_tail() > 0 ? absl::StrCat("; the last ", out.unsigned_tail(),
                                                                      " are hash-checked and await the next checkpoint")
                                                       : ""));
  return out;
}

absl::StatusOr<std::vector<std::string>> ProveLogExtends(const std::vector<StoredLeaf>& leaves,
                                                         const v1::SignedCheckpoint& kept,
                                                         const v1::SignedCheckpoint& latest,
                                                         const std::string& public_key_pem) {
  if (!VerifyCheckpoint(kept, public_key_pem).ok()) {
    return absl::InvalidArgumentError("the kept checkpoint is not signed by this gateway's key");
  }
  if (kept.tree_size() > leaves.size()) {
    return absl::DataLossError(absl::StrCat("the log has ", leaves.size(), " records but the kept checkpoint covers ",
                                            kept.tree_size(), ": records from ", leaves.size(), " on were removed"));
  }
  std::vector<Hash> hashes;
  hashes.reserve(leaves.size());
  for (const StoredLeaf& leaf : leaves) hashes.push_back(HashFromHex(leaf.leaf_hash_hex).value_or(Hash{}));
  const absl::Span<const Hash> all(hashes);
  if (ToHex(RootHash(all.subspan(0, kept.tree_size()))) != kept.root_hash_hex()) {
    return absl::DataLossError(absl::StrCat("the log's first ", kept.tree_size(),
                                            " records do not hash to the kept checkpoint's root: a record in 0..",
                                            kept.tree_size() - 1, " was rewritten or removed since it was signed"));
  }
  if (latest.tree_size() < kept.tree_size() || latest.tree_size() > hashes.size() ||
      ToHex(RootHash(all.subspan(0, latest.tree_size()))) != latest.root_hash_hex()) {
    return absl::DataLossError("the latest checkpoint does not sign this log");
  }
  std::vector<std::string> path;
  for (const Hash& h : ConsistencyProof(all.subspan(0, latest.tree_size()), kept.tree_size())) path.push_back(ToHex(h));
  return path;
}

absl::Status CheckLogExtends(const v1::SignedCheckpoint& kept, const v1::SignedCheckpoint& latest,
                             const std::vector<std::string>& consistency_path_hex, const std::string& public_key_pem) {
  if (!VerifyCheckpoint(kept, public_key_pem).ok()) {
    return absl::DataLossError("the kept checkpoint is not signed by the gateway's public key (was the key replaced?)");
  }
  if (!VerifyCheckpoint(latest, public_key_pem).ok()) {
    return absl::DataLossError("the latest checkpoint is not signed by the gateway's public key");
  }
  std::vector<Hash> path;
  for (const std::string& hex : consistency_path_hex) {
    std::optional<Hash> h = HashFromHex(hex);
    if (!h.has_value()) return absl::DataLossError("a consistency proof entry is not 64 hex digits");
    path.push_back(*h);
  }
  const std::optional<Hash> old_root = HashFromHex(kept.root_hash_hex());
  const std::optional<Hash> new_root = HashFromHex(latest.root_hash_hex());
  if (!old_root.has_value() || !new_root.has_value() ||
      !VerifyConsistency(kept.tree_size(), latest.tree_size(), *old_root, *new_root, path)) {
    return absl::DataLossError(absl::StrCat("the log of ", latest.tree_size(),
                                            " records is not an extension of the kept checkpoint of ", kept.tree_size(),
                                            ": its history was rewritten or cut"));
  }
  return absl::OkStatus();
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
    return absl::DataLossError(absl::StrCat("record ", proof.leaf_index(), " is not in the signed tree of size ",
                                            proof.tree_size(), " (the record or the path was altered)"));
  }
  return absl::OkStatus();
}

}  // namespace frontdoor::audit
