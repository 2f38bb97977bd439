// The audit log's Merkle tree, as RFC 6962 / RFC 9162 (section 2.1) define it: SHA-256, leaf
// hash = SHA-256(0x00 || leaf bytes), interior node = SHA-256(0x01 || left || right), and for a
// size n that is not a power of two the left subtree holds the largest power of two smaller than
// n. The root of the empty tree is SHA-256 of nothing. Hashing is OpenSSL EVP.
//
//   std::vector<Hash> leaves = {LeafHash(a), LeafHash(b), LeafHash(c)};
//   Hash root = RootHash(leaves);
//   std::vector<Hash> path = InclusionProof(leaves, 1);
//   bool ok = VerifyInclusion(1, leaves.size(), leaves[1], path, root);   // true
//   std::vector<Hash> grown = ConsistencyProof(leaves, 2);   // the first two leaves' tree is a prefix
//   ok = VerifyConsistency(2, 3, RootHash({leaves[0], leaves[1]}), root, grown);   // true
//
//   CompactMerkleTree tree;          // the same roots, appended one leaf at a time, O(log n) memory
//   tree.Append(LeafHash(a));
//
// Pure functions; thread-safe. CompactMerkleTree is not synchronised (one owner).
#ifndef FRONTDOOR_AUDIT_MERKLE_TREE_H_
#define FRONTDOOR_AUDIT_MERKLE_TREE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace frontdoor::audit {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(absl::string_view bytes);
Hash LeafHash(absl::string_view leaf_bytes);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRootHash();

// MTH(D[n]) of RFC 9162 2.1.1 over leaf hashes.
Hash RootHash(absl::Span<const Hash> leaves);

// PATH(m, D[n]) of RFC 9162 2.1.3.1: the audit path of leaf `index`, bottom up. Empty when the
// index is out of range (callers check first).
std::vector<Hash> InclusionProof(absl::Span<const Hash> leaves, uint64_t index);

// RFC 9162 2.1.3.2: true when `proof` shows `leaf` at `index` in the tree of `size` with `root`.
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, const std::vector<Hash>& proof, const Hash& root);

// PROOF(m, D[n]) of RFC 9162 2.1.4.1: shows that the tree of the first `old_size` leaves is a
// prefix of the tree of all of them. Empty when old_size is 0 or not smaller than the tree.
std::vector<Hash> ConsistencyProof(absl::Span<const Hash> leaves, uint64_t old_size);

// RFC 9162 2.1.4.2: true when `proof` shows the tree of `old_size` with `old_root` is a prefix of
// the tree of `new_size` with `new_root` (an append-only history: nothing before old_size changed).
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof);

std::string ToHex(const Hash& hash);
// nullopt unless exactly 64 hex digits.
std::optional<Hash> HashFromHex(absl::string_view hex);

// Append-only tree state for computing successive roots without keeping every leaf: the roots of
// its perfect subtrees, largest first.
class CompactMerkleTree {
 public:
  void Append(const Hash& leaf_hash);
  Hash Root() const;
  uint64_t size() const { return size_; }

 private:
  std::vector<Hash> subtrees_;     // perfect subtree roots, left to right (largest first)
  std::vector<uint64_t> heights_;  // their heights
  uint64_t size_ = 0;
};

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_MERKLE_TREE_H_
