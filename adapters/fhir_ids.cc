#include "adapters/fhir_ids.h"

#include <cstdint>

namespace frontdoor::adapters {

bool IsFhirId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Two FNV-1a hashes of the seed and index: no randomness is needed.
std::string DerivedUuid(std::string_view seed, int index) {
  auto fnv = [&](uint64_t basis) {
    uint64_t hash = basis;
    auto mix = [&](unsigned char byte) {
      hash ^= byte;
      hash *= 0x100000001b3ULL;
    };
    for (char c : seed) mix(static_cast<unsigned char>(c));
    mix(0xff);
    mix(static_cast<unsigned char>(index));
    return hash;
  };
  uint64_t high = fnv(0xcbf29ce484222325ULL);
  uint64_t low = fnv(0x84222325cbf29ce4ULL);
  high = (high & ~0xf000ULL) | 0x8000ULL;                       // version 8
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  auto put = [&](uint64_t value, int from_nibble, int count) {
    for (int n = from_nibble; n > from_nibble - count; --n) out.push_back(kHex[(value >> (4 * n)) & 0xf]);
  };
  put(high, 15, 8);
  out.push_back('-');
  put(high, 7, 4);
  out.push_back('-');
  put(high, 3, 4);
  out.push_back('-');
  put(low, 15, 4);
  out.push_back('-');
  put(low, 11, 12);
  return out;
}

}  // namespace frontdoor::adapters
