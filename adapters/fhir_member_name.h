// Internal to adapters/ (the FHIR adapter, fhir_referral_adapter.h): the name of a JSON member the
// FHIR mapper reads, and the words the simdjson key index hashes and compares keys by.
#ifndef FRONTDOOR_ADAPTERS_FHIR_MEMBER_NAME_H_
#define FRONTDOOR_ADAPTERS_FHIR_MEMBER_NAME_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace frontdoor::adapters::fhir_internal {

// A key reduced to what the index hashes and compares first: its 32-bit length and first four
// bytes as one word (`head`, bytes past a shorter key zero), and its last four bytes (`tail`, 0
// for a key shorter than four), both as a little-endian load from simdjson's string buffer reads
// them. Keys of up to eight bytes are equal when these are; longer ones are compared in the
// middle too.
static_assert(std::endian::native == std::endian::little, "KeyWords reads keys as little-endian words");
struct KeyWords {
  uint64_t head = 0;
  uint32_t tail = 0;
  uint32_t length = 0;
  const char* bytes = nullptr;

  // A key in simdjson's string buffer (`text` as Tape::StringBytes returns it).
  static KeyWords OfTape(const uint8_t* text) {
    KeyWords key;
    std::memcpy(&key.length, text, sizeof key.length);
    std::memcpy(&key.head, text, sizeof key.head);
    if (key.length < 4) key.head &= (uint64_t{1} << (8 * (4 + key.length))) - 1;
    if (key.length >= 4) std::memcpy(&key.tail, text + key.length, sizeof key.tail);
    key.bytes = reinterpret_cast<const char*>(text + sizeof key.length);
    return key;
  }
  // What KeyIndex hashes, with the object.
  constexpr uint64_t Mix() const { return head ^ (uint64_t{tail} * 0xC2B2AE3D27D4EB4F); }
  bool operator==(const KeyWords& other) const {
    if (head != other.head || tail != other.tail) return false;
    // The bytes between the first four and the last four, eight at a time; the last load ends at
    // the key's end, so no byte past either key is read.
    for (uint32_t at = 4; at + 4 < length; at += 8) {
      const uint32_t from = std::min(at, length - 8);
      uint64_t mine;
      uint64_t theirs;
      std::memcpy(&mine, bytes + from, sizeof mine);
      std::memcpy(&theirs, other.bytes + from, sizeof theirs);
      if (mine != theirs) return false;
    }
    return true;
  }
};

// The name of a member the mapper reads, written as a literal at the call (`StringOr(coding,
// "system", path)`). The constructor is consteval, so the compiler works out its KeyWords (a
// lookup starts at the hash) and the views it keeps (in KeyWords and in any ElementPath made from
// name()) are of an array with static storage: a constant expression cannot point into a local,
// so a name whose storage could end does not compile.
class MemberName {
 public:
  template <size_t N>
  consteval MemberName(const char (&literal)[N]) : name_(literal, N - 1) {  // NOLINT: implicit, for literals
    words_.length = static_cast<uint32_t>(N - 1);
    words_.head = words_.length;
    for (size_t i = 0; i < 4 && i < N - 1; ++i) {
      words_.head |= uint64_t{static_cast<unsigned char>(literal[i])} << (32 + 8 * i);
    }
    if (N - 1 >= 4) {
      for (size_t i = 0; i < 4; ++i) {
        words_.tail |= uint32_t{static_cast<unsigned char>(literal[N - 5 + i])} << (8 * i);
      }
    }
    words_.bytes = literal;
  }
  std::string_view name() const { return name_; }
  const KeyWords& words() const { return words_; }

 private:
  std::string_view name_;
  KeyWords words_;
};

}  // namespace frontdoor::adapters::fhir_internal

#endif  // FRONTDOOR_ADAPTERS_FHIR_MEMBER_NAME_H_
