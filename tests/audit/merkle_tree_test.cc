// Unit tests of audit/merkle_tree: RFC 9162 shape, roots, inclusion and consistency proofs.
#include "audit/merkle_tree.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace frontdoor::audit {
namespace {

std::vector<Hash> Leaves(int n) {
  std::vector<Hash> out;
  for (int i = 0; i < n; ++i) out.push_back(LeafHash(absl::StrCat("leaf ", i)));
  return out;
}

TEST(MerkleTreeTest, EmptyTreeRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyRootHash()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(RootHash({}), EmptyRootHash());
}

TEST(MerkleTreeTest, LeafHashHasTheZeroPrefix) {
  // RFC 6962 test vector: the leaf hash of the empty leaf, SHA-256(0x00).
  EXPECT_EQ(ToHex(LeafHash("")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(MerkleTreeTest, NodeHashHasTheOnePrefix) {
  const Hash a = LeafHash("a"), b = LeafHash("b");
  std::string bytes = "\x01";
  bytes.append(reinterpret_cast<const char*>(a.data()), 32);
  bytes.append(reinterpret_cast<const char*>(b.data()), 32);
  EXPECT_EQ(NodeHash(a, b), Sha256(bytes));
}

TEST(MerkleTreeTest, SizeThreeSplitsTwoAndOne) {
  const std::vector<Hash> l = Leaves(3);
  EXPECT_EQ(RootHash(l), NodeHash(NodeHash(l[0], l[1]), l[2]));
}

TEST(MerkleTreeTest, SizeSevenSplitsFourAndThree) {
  const std::vector<Hash> l = Leaves(7);
  const Hash left = NodeHash(NodeHash(l[0], l[1]), NodeHash(l[2], l[3]));
  const Hash right = NodeHash(NodeHash(l[4], l[5]), l[6]);
  EXPECT_EQ(RootHash(l), NodeHash(left, right));
}

TEST(MerkleTreeTest, CompactTreeGivesTheSameRootAtEverySize) {
  const std::vector<Hash> l = Leaves(70);
  CompactMerkleTree tree;
  for (size_t n = 1; n <= l.size(); ++n) {
    tree.Append(l[n - 1]);
    ASSERT_EQ(tree.Root(), RootHash(absl::MakeConstSpan(l).subspan(0, n))) << n;
  }
}

TEST(MerkleTreeTest, EveryInclusionProofVerifiesAtEverySize) {
  const std::vector<Hash> all = Leaves(33);
  for (size_t n = 1; n <= all.size(); ++n) {
    absl::Span<const Hash> l = absl::MakeConstSpan(all).subspan(0, n);
    const Hash root = RootHash(l);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(VerifyInclusion(i, n, l[i], InclusionProof(l, i), root)) << i << " of " << n;
    }
  }
}

TEST(MerkleTreeTest, AlteredProofsFail) {
  const std::vector<Hash> l = Leaves(11);
  const Hash root = RootHash(l);
  std::vector<Hash> proof = InclusionProof(l, 5);
  EXPECT_FALSE(VerifyInclusion(5, 11, l[4], proof, root)) << "another leaf";
  EXPECT_FALSE(VerifyInclusion(4, 11, l[5], proof, root)) << "another index";
  EXPECT_FALSE(VerifyInclusion(5, 6, l[5], proof, root)) << "another size";
  EXPECT_FALSE(VerifyInclusion(11, 11, l[5], proof, root)) << "index out of range";
  proof[1][0] ^= 1;
  EXPECT_FALSE(VerifyInclusion(5, 11, l[5], proof, root)) << "a changed path";
  proof = InclusionProof(l, 5);
  proof.pop_back();
  EXPECT_FALSE(VerifyInclusion(5, 11, l[5], proof, root)) << "a short path";
}

// RFC 9162 2.1.5's example tree of seven leaves d0..d6, its nodes named as there.
TEST(MerkleTreeTest, ConsistencyProofsAreTheRfcExamples) {
  const std::vector<Hash> l = Leaves(7);
  const Hash a = l[0], b = l[1], c = l[2], d = l[3], e = l[4], f = l[5], j = l[6];
  const Hash g = NodeHash(a, b), h = NodeHash(c, d), i = NodeHash(e, f);
  const Hash k = NodeHash(g, h), el = NodeHash(i, j);
  EXPECT_EQ(ConsistencyProof(l, 3), (std::vector<Hash>{c, d, g, el}));
  EXPECT_EQ(ConsistencyProof(l, 4), (std::vector<Hash>{el}));
  EXPECT_EQ(ConsistencyProof(l, 6), (std::vector<Hash>{i, j, k}));
}

TEST(MerkleTreeTest, EveryConsistencyProofVerifiesBetweenEverySize) {
  const std::vector<Hash> all = Leaves(33);
  for (uint64_t n = 1; n <= all.size(); ++n) {
    const absl::Span<const Hash> tree(all.data(), n);
    for (uint64_t m = 0; m <= n; ++m) {
      const Hash old_root = RootHash(tree.subspan(0, m));
      EXPECT_TRUE(VerifyConsistency(m, n, old_root, RootHash(tree), ConsistencyProof(tree, m))) << m << " -> " << n;
    }
  }
}

TEST(MerkleTreeTest, AConsistencyProofFailsWhenTheOldHistoryWasRewritten) {
  const std::vector<Hash> l = Leaves(13);
  const Hash new_root = RootHash(l);
  const std::vector<Hash> proof = ConsistencyProof(l, 5);
  const Hash old_root = RootHash(absl::Span<const Hash>(l.data(), 5));
  ASSERT_TRUE(VerifyConsistency(5, 13, old_root, new_root, proof));
  // A leaf before the old size changed: the new tree is not an extension of the old.
  std::vector<Hash> rewritten = l;
  rewritten[2] = LeafHash("rewritten");
  EXPECT_FALSE(VerifyConsistency(5, 13, old_root, RootHash(rewritten), ConsistencyProof(rewritten, 5)));
  // Leaves cut from the end and others appended: neither is the signed history.
  EXPECT_FALSE(VerifyConsistency(5, 13, LeafHash("another old root"), new_root, proof));
  EXPECT_FALSE(VerifyConsistency(4, 13, old_root, new_root, proof)) << "another old size";
  EXPECT_FALSE(VerifyConsistency(13, 5, new_root, old_root, proof)) << "a shrunk tree";
  std::vector<Hash> changed = proof;
  changed[0][0] ^= 1;
  EXPECT_FALSE(VerifyConsistency(5, 13, old_root, new_root, changed)) << "a changed proof";
  EXPECT_FALSE(VerifyConsistency(5, 13, old_root, new_root, {})) << "no proof";
  EXPECT_FALSE(VerifyConsistency(13, 13, old_root, new_root, {})) << "the same size, another root";
}

TEST(MerkleTreeTest, HexRoundTripsAndRejectsJunk) {
  const Hash h = LeafHash("x");
  EXPECT_EQ(HashFromHex(ToHex(h)), h);
  EXPECT_FALSE(HashFromHex("abc").has_value());
  EXPECT_FALSE(HashFromHex(std::string(64, 'g')).has_value());
}

}  // namespace
}  // namespace frontdoor::audit
