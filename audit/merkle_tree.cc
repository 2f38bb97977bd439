#include "audit/merkle_tree.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace frontdoor::audit {
namespace {

[[noreturn]] void HashingFailed() {
  // A leaf or node hash that is not SHA-256 would be written into the tamper-evident log as if it
  // were: stop instead (OpenSSL fails here only when it cannot allocate or has no SHA-256).
  std::fprintf(stderr, "fatal: OpenSSL SHA-256 failed\n");
  std::abort();
}

// SHA-256, fetched from the provider once. EVP_DigestInit_ex(EVP_sha256()) looks the
// implementation up in the provider store on every call, and a context made and freed per hash
// costs as much again: together about 25k instructions per referral (five records, their nodes).
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (fetched == nullptr) HashingFailed();
    return fetched;
  }();
  return md;
}

struct FreeMdCtx {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Hash Digest(std::initializer_list<absl::string_view> parts) {
  // One context per thread, initialised again for each hash.
  thread_local const std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  Hash out{};
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), Sha256Md(), nullptr) != 1) HashingFailed();
  for (absl::string_view p : parts) {
    if (EVP_DigestUpdate(ctx.get(), p.data(), p.size()) != 1) HashingFailed();
  }
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) HashingFailed();
  return out;
}

absl::string_view View(const Hash& h) { return absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()); }

// The largest power of two strictly smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

void Path(absl::Span<const Hash> leaves, uint64_t m, std::vector<Hash>* out) {
  const uint64_t n = leaves.size();
  if (n <= 1) return;
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    Path(leaves.subspan(0, k), m, out);
    out->push_back(RootHash(leaves.subspan(k)));
  } else {
    Path(leaves.subspan(k), m - k, out);
    out->push_back(RootHash(leaves.subspan(0, k)));
  }
}

// SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1.
void Subproof(absl::Span<const Hash> leaves, uint64_t m, bool whole, std::vector<Hash>* out) {
  const uint64_t n = leaves.size();
  if (m == n) {
    if (!whole) out->push_back(RootHash(leaves));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    Subproof(leaves.subspan(0, k), m, whole, out);
    out->push_back(RootHash(leaves.subspan(k)));
  } else {
    Subproof(leaves.subspan(k), m - k, false, out);
    out->push_back(RootHash(leaves.subspan(0, k)));
  }
}

}  // namespace

Hash Sha256(absl::string_view bytes) { return Digest({bytes}); }

Hash LeafHash(absl::string_view leaf_bytes) {
  static const char kZero = 0x00;
  return Digest({absl::string_view(&kZero, 1), leaf_bytes});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  static const char kOne = 0x01;
  return Digest({absl::string_view(&kOne, 1), View(left), View(right)});
}

Hash EmptyRootHash() { return Digest({}); }

Hash RootHash(absl::Span<const Hash> leaves) {
  const uint64_t n = leaves.size();
  if (n == 0) return EmptyRootHash();
  if (n == 1) return leaves[0];
  const uint64_t k = SplitPoint(n);
  return NodeHash(RootHash(leaves.subspan(0, k)), RootHash(leaves.subspan(k)));
}

std::vector<Hash> InclusionProof(absl::Span<const Hash> leaves, uint64_t index) {
  std::vector<Hash> out;
  if (index >= leaves.size()) return out;
  Path(leaves, index, &out);
  return out;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, const std::vector<Hash>& proof,
                     const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

std::vector<Hash> ConsistencyProof(absl::Span<const Hash> leaves, uint64_t old_size) {
  std::vector<Hash> out;
  if (old_size == 0 || old_size >= leaves.size()) return out;
  Subproof(leaves, old_size, true, &out);
  return out;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();  // the empty tree is a prefix of every tree
  if (proof.empty()) return false;
  // RFC 9162 2.1.4.2, steps 2 to 7.
  std::vector<Hash> path = proof;
  if ((old_size & (old_size - 1)) == 0) path.insert(path.begin(), old_root);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

std::string ToHex(const Hash& hash) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::optional<Hash> HashFromHex(absl::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash out{};
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

void CompactMerkleTree::Append(const Hash& leaf_hash) {
  subtrees_.push_back(leaf_hash);
  heights_.push_back(0);
  // Merge equal-height neighbours: the tree of 2^h leaves is complete.
  while (heights_.size() >= 2 && heights_[heights_.size() - 1] == heights_[heights_.size() - 2]) {
    const Hash right = subtrees_.back();
    subtrees_.pop_back();
    heights_.pop_back();
    subtrees_.back() = NodeHash(subtrees_.back(), right);
    ++heights_.back();
  }
  ++size_;
}

Hash CompactMerkleTree::Root() const {
  if (subtrees_.empty()) return EmptyRootHash();
  // RFC 9162: the left subtree is the largest perfect one, the right side recurses; so fold from
  // the smallest (rightmost) subtree up.
  Hash r = subtrees_.back();
  for (size_t i = subtrees_.size() - 1; i-- > 0;) r = NodeHash(subtrees_[i], r);
  return r;
}

}  // namespace frontdoor::audit
