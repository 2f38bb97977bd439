// Unit tests of audit/merkle_tree: RFC 9162 shape, roots, inclusion proofs.
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

TEST(MerkleTreeTest, HexRoundTripsAndRejectsJunk) {
  const Hash h = LeafHash("x");
  EXPECT_EQ(HashFromHex(ToHex(h)), h);
  EXPECT_FALSE(HashFromHex("abc").has_value());
  EXPECT_FALSE(HashFromHex(std::string(64, 'g')).has_value());
}

}  // namespace
}  // namespace frontdoor::audit
