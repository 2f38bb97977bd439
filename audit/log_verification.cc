#include "audit/log_verification.h"

#include <algorithm>
#include <map>

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
      if (leaf.columns.has_value()) {
        AuditSearchColumns emptied;
        emptied.time_us = leaf.columns->time_us;  // a pruned record keeps only its time
        if (std::optional<std::string> column = FirstDisagreeingColumn(*leaf.columns, emptied)) {
          bad(i, absl::StrCat("pruned record ", i, " still has a value in its search column ", *column));
        }
      }
      hashes.push_back(stored.value_or(Hash{}));
      continue;
    }
    const Hash computed = RecordLeafHash(*leaf.record);
    if (leaf.record->index() != i) {
      bad(i, absl::StrCat("record ", i, " holds the record of index ", leaf.record->index(), " (records moved)"));
    } else if (!stored.has_value() || *stored != computed) {
      bad(i, absl::StrCat("record ", i, " does not match its leaf hash (a field was changed)"));
    } else if (leaf.columns.has_value()) {
      // The columns searches could be read by must say what the record says.
      absl::StatusOr<AuditSearchColumns> derived = SearchColumnsOf(*leaf.record);
      std::optional<std::string> column =
          derived.ok() ? FirstDisagreeingColumn(*leaf.columns, *derived) : std::optional<std::string>("time_us");
      if (column.has_value()) {
        bad(i, absl::StrCat("record ", i, "'s search column ", *column,
                            " does not match the record (edited beside the signed record)"));
      }
    }
    // The stored hash builds the tree: a body changed under an intact hash is named exactly above,
    // and the checkpoints then check the stored hashes themselves.
    hashes.push_back(stored.value_or(computed));
  }

  // 1b. A referral's later records (delivery, withdrawal, feedback, cease) cite who it is about,
  // the consent and the referrer as its decision recorded them. The store copies those from a
  // table of its own (the audit context); an edit there would file later disclosures under
  // another person, out of reach of a search by the true NHS number.
  struct Citation {
    uint64_t index;
    const v1::AuditRecord* record;
  };
  std::map<std::string, Citation> decisions;
  for (const StoredLeaf& leaf : leaves) {
    if (!leaf.record.has_value() || leaf.record->referral_id().empty()) continue;
    const v1::AuditRecord& r = *leaf.record;
    auto [it, first] = decisions.try_emplace(r.referral_id(), Citation{leaf.index, &r});
    if (first) {
      if (r.action() != "decide") decisions.erase(it);  // recorded before the audit log: nothing to hold it to
      continue;
    }
    const v1::AuditRecord& decided = *it->second.record;
    if (r.nhs_number() != decided.nhs_number() || r.referrer_ods() != decided.referrer_ods() ||
        r.consent_reference() != decided.consent_reference()) {
      bad(leaf.index,
          absl::StrCat("record ", leaf.index, " (", r.action(), " of referral ", r.referral_id(),
                       ") cites another person, referrer or consent than the referral's decision at record ",
                       it->second.index, " (the store's audit context was edited)"));
    }
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
    out.set_message(absl::StrCat(
        hashes.size(), " records verified against ", verified_checkpoints, " signed checkpoints",
        out.unsigned_tail() > 0
            ? absl::StrCat("; the last ", out.unsigned_tail(), " are hash-checked and await the next checkpoint")
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
    return absl::DataLossError(absl::StrCat("record ", proof.leaf_index(), " is not in the signed tree of size ",
                                            proof.tree_size(), " (the record or the path was altered)"));
  }
  return absl::OkStatus();
}

}  // namespace frontdoor::audit
