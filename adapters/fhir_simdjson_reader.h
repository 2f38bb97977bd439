// Internal to adapters/ (the FHIR adapter, fhir_referral_adapter.h): the fast JSON reader,
// simdjson's DOM parser with a guard and a key index over its tape, and TapeNode, the mapper's view
// of that tape.
//
// simdjson (Debian libsimdjson-dev) parses a typical referral in a fraction of RapidJSON's time
// and validates all of it (UTF-8, unescaped control characters, numbers, structure, depth). It
// does not refuse everything ReadGuarded refuses, nor explain errors the same way, so it is only a
// fast path: what it accepts is checked for what it lets through (duplicate keys by ReadFast's guard; U+0000 by
// never trying a message with a \u0000 escape), and on any error or doubt the message is read
// again by ReadGuarded, whose answers (messages, byte offsets) senders get.
// tests/adapters/fuzz/fhir_reader_differential_fuzzer checks that the two agree.
#ifndef FRONTDOOR_ADAPTERS_FHIR_SIMDJSON_READER_H_
#define FRONTDOOR_ADAPTERS_FHIR_SIMDJSON_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "adapters/fhir_member_name.h"
#include "adapters/fhir_referral_adapter.h"
#include "simdjson.h"

namespace frontdoor::adapters::fhir_internal {

// Messages up to this size use a parser the thread keeps: its buffers (about 15 bytes per byte of
// the largest message the thread has read, so at most about 1 MB) and its key index (12 bytes a
// slot, at least a slot per tape word: at most 1.5 MB, about 12 KB for a typical referral) stay
// allocated for the next. Larger messages get a parser and an index of their own, freed after.
constexpr size_t kThreadParserBytes = 64 << 10;

// simdjson's tape, read directly: the DOM accessors check types and errors at every step and cost
// more than the parse itself. The format is simdjson's documented one (doc/tape.md, unchanged
// since 0.3): one 64-bit word per value in document order, its type character in the top byte;
// `{` and `[` hold the index after their closing word in the low 32 bits and their number of
// elements (saturating at 2^24 - 1) in bits 32..55; a string holds an offset into the string
// buffer, where a 32-bit length, the unescaped bytes and a NUL lie; an integer or double takes a
// second word for its value. Only tapes simdjson built without error are read.
class KeyIndex;

class Tape {
 public:
  // `keys` indexes this document's object keys (filled by PassesTheGuard, read by Find).
  Tape(const simdjson::dom::document& document, const KeyIndex& keys)
      : words_(document.tape.get()), strings_(document.string_buf.get()), keys_(&keys) {}

  char Type(size_t at) const { return static_cast<char>(words_[at] >> 56); }
  // The index of the value after the one at `at`.
  [[gnu::always_inline]] size_t After(size_t at) const {
    const uint64_t word = words_[at];
    const char type = static_cast<char>(word >> 56);
    if (type == '{' || type == '[') return static_cast<uint32_t>(word);
    return at + ((type == 'l' || type == 'u' || type == 'd') ? 2 : 1);
  }
  // Of a `{` or `[`: the index of its closing word, and its number of elements.
  size_t Close(size_t at) const { return static_cast<uint32_t>(words_[at]) - 1; }
  size_t Count(size_t at) const { return static_cast<size_t>((words_[at] >> 32) & 0xFFFFFF); }
  std::string_view String(size_t at) const {
    const uint8_t* text = StringBytes(at);
    uint32_t length;
    std::memcpy(&length, text, sizeof length);
    return std::string_view(reinterpret_cast<const char*>(text + sizeof length), length);
  }
  // Where the string at `at` lies in the string buffer: a 32-bit length, the bytes and a NUL.
  // simdjson allocates that buffer SIMDJSON_PADDING bytes beyond the most its strings can take, so
  // reading eight bytes at a string (which takes at least five) stays in bounds.
  const uint8_t* StringBytes(size_t at) const { return strings_ + (words_[at] & kPayload); }
  // Of the object at `at`: the tape index of its member `key`'s value, or 0 when it has none.
  size_t Find(size_t at, const MemberName& key) const;
  int64_t Int64(size_t at) const {
    int64_t value;
    std::memcpy(&value, &words_[at + 1], sizeof value);
    return value;
  }

 private:
  static constexpr uint64_t kPayload = (uint64_t{1} << 56) - 1;
  const uint64_t* words_;
  const uint8_t* strings_;
  const KeyIndex* keys_;
};

// Every object key of one document, hashed by (object, key) in the tape guard's pass over them,
// so that the mapper's lookups (about 135 a referral, most of them in objects of a handful of
// members) cost a hash and a compare instead of a scan that steps over each member's value.
// Open addressing with linear probing; a key that would sit more than kMaxProbes slots from its
// home makes Add fail, and the message is read by RapidJSON instead: colliding keys (which a
// hostile sender could choose, as the hash is fixed) cost the slow path, never quadratic time.
// The same probe finds a duplicate key, so this is also the guard's duplicate-key check.
//
// Kept with the simdjson parser whose tape it indexes and reused for the next message: slots are
// stamped with the message they belong to, so starting one clears nothing. 12 bytes per slot,
// at least as many slots as tape words (at least two words a key: at most half full).
class KeyIndex {
 public:
  // Empties the index for a tape of `words` words.
  void Start(size_t words) {
    size_t bits = 4;
    while ((size_t{1} << bits) < words) ++bits;
    if (slots_.size() < (size_t{1} << bits)) {
      slots_.assign(size_t{1} << bits, Slot{});
      stamp_ = 0;
    }
    if (++stamp_ == 0) {  // After 2^32 messages: stamps would repeat, so clear them once.
      std::fill(slots_.begin(), slots_.end(), Slot{});
      stamp_ = 1;
    }
    shift_ = 64 - bits;
    mask_ = (size_t{1} << bits) - 1;
  }
  // Adds the key at tape index `key` of the object at `object`; false when the object already has
  // that key, or when the key's probe runs past kMaxProbes.
  bool Add(const Tape& tape, size_t object, size_t key) {
    const KeyWords words = KeyWords::OfTape(tape.StringBytes(key));
    size_t at = Home(object, words.Mix());
    for (size_t probe = 0; probe < kMaxProbes; ++probe, at = (at + 1) & mask_) {
      Slot& slot = slots_[at];
      if (slot.stamp != stamp_) {
        slot = Slot{stamp_, static_cast<uint32_t>(object), static_cast<uint32_t>(key)};
        return true;
      }
      if (slot.object == object && KeyWords::OfTape(tape.StringBytes(slot.key)) == words) return false;
    }
    return false;
  }
  // The tape index of the value of `object`'s member `name`, or 0 when it has none.
  size_t Find(const Tape& tape, size_t object, const MemberName& name) const {
    const KeyWords& words = name.words();
    size_t at = Home(object, words.Mix());
    for (size_t probe = 0; probe < kMaxProbes; ++probe, at = (at + 1) & mask_) {
      const Slot& slot = slots_[at];
      if (slot.stamp != stamp_) return 0;
      // `words` first: its length is the name's, known to the compiler, so a short name compares no middle.
      if (slot.object == object && words == KeyWords::OfTape(tape.StringBytes(slot.key))) return slot.key + 1;
    }
    return 0;
  }

 private:
  static constexpr size_t kMaxProbes = 64;
  // Tape indexes fit 32 bits: ReadFast reads messages under 2^24 bytes.
  struct Slot {
    uint32_t stamp = 0;
    uint32_t object = 0;
    uint32_t key = 0;
  };
  // Multiply-shift on the top bits: every bit of the object, the length and the key's bytes moves them.
  size_t Home(size_t object, uint64_t key_mix) const {
    const uint64_t h = (key_mix + object * 0x9E3779B97F4A7C15) * 0xFF51AFD7ED558CCD;
    return static_cast<size_t>(h >> shift_);
  }

  std::vector<Slot> slots_;
  uint32_t stamp_ = 0;
  unsigned shift_ = 60;
  size_t mask_ = 15;
};

inline size_t Tape::Find(size_t at, const MemberName& key) const { return keys_->Find(*this, at, key); }

// simdjson's parser and the index of its document's keys, kept together: the index is read only
// with the tape it was built from.
struct FastReader {
  simdjson::dom::parser parser;
  KeyIndex keys;
};

// The tape index of the root object of `json` parsed by `parser` (into parser.doc), or nullopt
// when simdjson refuses it or it holds something ReadGuarded would refuse that simdjson lets
// through.
std::optional<size_t> ReadFast(std::string_view json, const FhirLimits& limits, FastReader& reader);

// An element of a simdjson tape, with RapidNode's members (fhir_rapidjson_reader.h).
class TapeNode {
 public:
  TapeNode() = default;
  TapeNode(const Tape& tape, size_t at) : tape_(&tape), at_(at) {}

  bool Present() const { return tape_ != nullptr; }
  bool IsNull() const { return Is('n'); }
  bool IsString() const { return Is('"'); }
  bool IsObject() const { return Is('{'); }
  bool IsArray() const { return Is('['); }
  bool IsBool() const { return Is('t') || Is('f'); }
  bool GetBool() const { return Is('t'); }
  std::string_view GetString() const { return tape_->String(at_); }
  // As RapidJSON's IsUint: simdjson keeps numbers without fraction or exponent as integers ('l';
  // 'u' only above INT64_MAX, so above UINT32_MAX too).
  std::optional<uint32_t> GetUint32() const {
    if (!Is('l')) return std::nullopt;
    const int64_t value = tape_->Int64(at_);
    if (value < 0 || value > int64_t{UINT32_MAX}) return std::nullopt;
    return static_cast<uint32_t>(value);
  }
  TapeNode Member(const MemberName& key) const {
    if (!IsObject()) return TapeNode();
    const size_t value = tape_->Find(at_, key);
    return value == 0 ? TapeNode() : TapeNode(*tape_, value);
  }
  size_t Size() const { return IsArray() ? tape_->Count(at_) : 0; }
  TapeNode At(size_t i) const {
    size_t item = at_ + 1;
    while (i-- > 0) item = tape_->After(item);
    return TapeNode(*tape_, item);
  }
  class Iterator {
   public:
    Iterator(const Tape* tape, size_t at) : tape_(tape), at_(at) {}
    TapeNode operator*() const { return TapeNode(*tape_, at_); }
    Iterator& operator++() {
      at_ = tape_->After(at_);
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const Tape* tape_;
    size_t at_;
  };
  struct Items {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };
  Items Elements() const {
    if (!IsArray()) return Items{Iterator(nullptr, 0), Iterator(nullptr, 0)};
    return Items{Iterator(tape_, at_ + 1), Iterator(tape_, tape_->Close(at_))};
  }

 private:
  bool Is(char type) const { return tape_ != nullptr && tape_->Type(at_) == type; }

  const Tape* tape_ = nullptr;
  size_t at_ = 0;
};

}  // namespace frontdoor::adapters::fhir_internal

#endif  // FRONTDOOR_ADAPTERS_FHIR_SIMDJSON_READER_H_
