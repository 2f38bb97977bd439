#include "adapters/fhir_referral_adapter.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "adapters/sender_replies.h"  // kReferralIdSystem
#include "common/utf8.h"
// RapidJSON is the reference reader: header-only, and its SAX Reader lets this adapter refuse
// hostile input while reading it: duplicate keys (any level), nesting depth, numbers a double
// cannot hold, invalid UTF-8. The guard below sits between the Reader and a rapidjson::Document,
// so no DOM is built past the first problem and nothing recurses deeper than the depth limit.
// simdjson reads first, as a fast path that answers only when the reference would answer the
// same (see "Reading, the fast path").
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"
#include "simdjson.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::ClinicalContent;
using frontdoor::v1::Coding;
using frontdoor::v1::ContactPoint;
using frontdoor::v1::Issue;
using frontdoor::v1::Referral;
using JsonValue = rapidjson::Value;

constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kBarsEventCode[] = "servicerequest-request";
constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr char kConfidentialitySystem[] = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
// A hostile message could carry one problem per entry; the sender needs the first few.
constexpr size_t kMaxIssues = 50;
// Duplicate keys: an object's keys are compared one by one up to this many, hashed past it.
constexpr size_t kLinearKeys = 16;
// Nesting up to this depth is read by recursive code (the parsers, the key check); a caller's
// higher max_depth is read by RapidJSON's iterative parser, with a flat call stack.
constexpr int kMaxRecursion = 256;

// ---------------------------------------------------------------------------------------------
// Reading: a SAX handler that guards a rapidjson::Document.

class GuardedDocumentBuilder {
 public:
  // `may_hold_nul`: the message has a \u0000 escape somewhere. Without one no string can hold
  // U+0000 (a raw NUL byte is refused before parsing), so strings need not be searched for it.
  GuardedDocumentBuilder(rapidjson::Document& document, int max_depth, bool may_hold_nul)
      : document_(document), max_depth_(max_depth), may_hold_nul_(may_hold_nul) {}

  const std::string& error() const { return error_; }

  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned u) { return document_.Uint(u); }
  bool Int64(int64_t i) { return document_.Int64(i); }
  bool Uint64(uint64_t u) { return document_.Uint64(u); }
  bool Double(double d) { return document_.Double(d); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) {
    error_ = "numbers as strings are not accepted";
    return false;
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    if (may_hold_nul_ && std::memchr(text, '\0', length) != nullptr) {
      error_ = "a JSON string contains U+0000";
      return false;
    }
    return document_.String(text, length, copy);
  }
  bool StartObject() {
    if (!Enter()) return false;
    objects_.push_back(OpenObject{keys_.size(), nullptr});
    return document_.StartObject();
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    if (may_hold_nul_ && std::memchr(text, '\0', length) != nullptr) {
      error_ = "a JSON key contains U+0000";
      return false;
    }
    if (!AddKey(std::string_view(text, length))) {
      // The key itself is not echoed: a hostile message could use patient data as a key.
      error_ = "duplicate JSON key in one object";
      return false;
    }
    return document_.Key(text, length, copy);
  }
  bool EndObject(rapidjson::SizeType member_count) {
    --depth_;
    keys_.resize(objects_.back().first_key);
    objects_.pop_back();
    return document_.EndObject(member_count);
  }
  bool StartArray() {
    if (!Enter()) return false;
    return document_.StartArray();
  }
  bool EndArray(rapidjson::SizeType element_count) {
    --depth_;
    return document_.EndArray(element_count);
  }

 private:
  // Keys are views into the in-situ buffer, which outlives the parse. An object's keys are
  // compared one by one while it has few (FHIR objects have a handful); past kLinearKeys a hash
  // set takes over, so a hostile object with many keys costs linear time, not quadratic.
  struct OpenObject {
    size_t first_key;
    std::unique_ptr<std::unordered_set<std::string_view>> many;
  };

  bool AddKey(std::string_view key) {
    OpenObject& object = objects_.back();
    if (object.many != nullptr) return object.many->insert(key).second;
    for (size_t i = object.first_key; i < keys_.size(); ++i) {
      if (keys_[i] == key) return false;
    }
    keys_.push_back(key);
    if (keys_.size() - object.first_key > kLinearKeys) {
      object.many =
          std::make_unique<std::unordered_set<std::string_view>>(keys_.begin() + object.first_key, keys_.end());
      keys_.resize(object.first_key);
    }
    return true;
  }

  bool Enter() {
    if (++depth_ > max_depth_) {
      error_ = absl::StrCat("JSON nesting deeper than ", max_depth_, " levels");
      return false;
    }
    return true;
  }

  rapidjson::Document& document_;
  const int max_depth_;
  const bool may_hold_nul_;
  int depth_ = 0;
  std::vector<std::string_view> keys_;  // the keys of every open object with few keys, in order
  std::vector<OpenObject> objects_;
  std::string error_;
};

bool HasControlByteTheScanMisses(std::string_view json) {
  unsigned char any = 0;
  for (const char c : json) any |= static_cast<unsigned char>(static_cast<unsigned char>(c - 0x1A) < 6);
  return any != 0;
}

// Reads `json` into `document`; on failure returns why (no patient data in it). The document's
// strings point into `buffer` (in-situ parsing: no string is copied), which must outlive it.
std::optional<std::string> ReadGuarded(std::string_view json, const FhirLimits& limits, std::string& buffer,
                                       rapidjson::Document& document) {
  if (json.empty()) return "the message is empty";
  if (json.size() > limits.max_bytes) {
    return absl::StrCat("the message is ", json.size(), " bytes; the limit is ", limits.max_bytes);
  }
  if (std::memchr(json.data(), '\0', json.size()) != nullptr) {
    return "the message contains a NUL byte";
  }
  // Checked once over the whole message, so the reader need not decode strings to validate them.
  if (std::optional<size_t> bad = FirstInvalidUtf8Offset(json)) {
    return absl::StrCat("not UTF-8: an invalid byte sequence at byte ", *bad);
  }
  // RapidJSON 1.1.0's SIMD string scan (Debian's) lets U+001A..U+001F through unescaped. JSON
  // allows no byte below 0x20 but tab, line feed and carriage return anywhere, and those the scan
  // does stop at; so these six are refused here, in one pass the compiler vectorises.
  if (HasControlByteTheScanMisses(json)) {
    size_t at = 0;
    while (static_cast<unsigned char>(json[at] - 0x1A) >= 6) ++at;
    return absl::StrCat("not JSON: an unescaped control character (at byte ", at, ")");
  }
  // NUL-terminated by std::string, as in-situ parsing needs. The spare capacity keeps RapidJSON's
  // 16-byte SIMD reads (which stop at the terminator) inside the allocation.
  buffer.reserve(json.size() + 32);
  buffer.assign(json.data(), json.size());
  GuardedDocumentBuilder builder(document, limits.max_depth, json.find("\\u0000") != std::string_view::npos);
  rapidjson::ParseResult result;
  auto generator = [&](rapidjson::Document& target) {
    (void)target;  // The builder writes into the same document.
    rapidjson::InsituStringStream stream(buffer.data());
    rapidjson::Reader reader;
    // No kParseStopWhenDoneFlag: content after the root value is an error, not ignored.
    // The recursive parser is the faster one; its depth is bounded by the builder, which refuses
    // the object or array past max_depth before the parser descends into it. Past kMaxRecursion
    // (a caller's own limits) the iterative parser keeps the call stack flat whatever the depth.
    if (limits.max_depth <= kMaxRecursion) {
      result = reader.Parse<rapidjson::kParseInsituFlag>(stream, builder);
    } else {
      result = reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag>(stream, builder);
    }
    return !result.IsError();
  };
  document.Populate(generator);
  if (!result.IsError()) return std::nullopt;
  if (!builder.error().empty()) return absl::StrCat(builder.error(), " (at byte ", result.Offset(), ")");
  if (result.Code() == rapidjson::kParseErrorNumberTooBig) {
    return absl::StrCat("a number at byte ", result.Offset(), " is too big to hold");
  }
  return absl::StrCat("not JSON: ", rapidjson::GetParseError_En(result.Code()), " (at byte ", result.Offset(), ")");
}

// ---------------------------------------------------------------------------------------------
// Reading, the fast path: simdjson's DOM parser.
//
// simdjson (Debian libsimdjson-dev) parses a typical referral in a fraction of RapidJSON's time
// and validates all of it (UTF-8, unescaped control characters, numbers, structure, depth). It
// does not refuse everything ReadGuarded refuses, nor explain errors the same way, so it is only a
// fast path: what it accepts is checked for what it lets through (duplicate keys below; U+0000 by
// never trying a message with a \u0000 escape), and on any error or doubt the message is read
// again by ReadGuarded, whose answers (messages, byte offsets) senders get.
// tests/adapters/fuzz/fhir_reader_differential_fuzzer checks that the two agree.

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
class MemberName;

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

size_t Tape::Find(size_t at, const MemberName& key) const { return keys_->Find(*this, at, key); }

// The guard below, for the object or array at `at`, nested `depth` levels deep (the root is 1):
// its members are added to `keys` and each nested object or array is checked the same way, one
// level deeper. Only containers are stepped into; keys and scalar values are stepped over, so a
// value costs a type check. Recursion is bounded by max_depth (at most kMaxRecursion).
bool GuardContainer(const Tape& tape, KeyIndex& keys, size_t at, size_t depth, size_t max_depth) {
  if (depth > max_depth) return false;
  const size_t close = tape.Close(at);
  if (tape.Type(at) == '{') {
    for (size_t key = at + 1; key < close; key = tape.After(key + 1)) {
      if (!keys.Add(tape, at, key)) return false;
      const char type = tape.Type(key + 1);
      if ((type == '{' || type == '[') && !GuardContainer(tape, keys, key + 1, depth + 1, max_depth)) return false;
    }
  } else {
    for (size_t item = at + 1; item < close; item = tape.After(item)) {
      const char type = tape.Type(item);
      if ((type == '{' || type == '[') && !GuardContainer(tape, keys, item, depth + 1, max_depth)) return false;
    }
  }
  return true;
}

// What ReadGuarded refuses and simdjson lets through, checked on the tape: true when no object has
// a key twice (unescaped keys compared, as ReadGuarded compares them) and nothing is nested deeper
// than `max_depth` (the root object is depth 1, as in the guard; simdjson's own limit counts
// differently). One walk over the objects and arrays, which also fills `keys` (the index `tape`
// reads): adding a key finds a duplicate. False too when the index declines a key (see KeyIndex).
bool PassesTheGuard(const Tape& tape, KeyIndex& keys, size_t root, size_t max_depth) {
  keys.Start(tape.After(root));
  return GuardContainer(tape, keys, root, 1, max_depth);
}

// simdjson's parser and the index of its document's keys, kept together: the index is read only
// with the tape it was built from.
struct FastReader {
  simdjson::dom::parser parser;
  KeyIndex keys;
};

// The tape index of the root object of `json` parsed by `parser` (into parser.doc), or nullopt
// when simdjson refuses it or it holds something ReadGuarded would refuse that simdjson lets
// through.
std::optional<size_t> ReadFast(std::string_view json, const FhirLimits& limits, FastReader& reader) {
  simdjson::dom::parser& parser = reader.parser;
  // Past 2^24 bytes an array could have more elements than the tape counts.
  if (json.empty() || json.size() > limits.max_bytes || json.size() >= (size_t{1} << 24)) return std::nullopt;
  if (limits.max_depth < 1 || limits.max_depth > kMaxRecursion) return std::nullopt;
  // simdjson keeps U+0000 in strings; ReadGuarded refuses it. Such a message takes the slow path.
  if (json.find("\\u0000") != std::string_view::npos) return std::nullopt;
  // A level more than the guard allows: PassesTheGuard applies the guard's own rule.
  const size_t depth = static_cast<size_t>(limits.max_depth) + 1;
  if (parser.max_depth() != depth || parser.capacity() < json.size()) {
    if (parser.allocate(std::max(parser.capacity(), json.size()), depth) != simdjson::SUCCESS) return std::nullopt;
  }
  simdjson::dom::element root;
  // Copied into the parser's own padded buffer (simdjson reads up to 64 bytes past the end).
  if (parser.parse(json.data(), json.size(), true).get(root) != simdjson::SUCCESS) return std::nullopt;
  if (!root.is_object()) return std::nullopt;
  // The tape opens with a root word; the root value follows it.
  constexpr size_t kRootValue = 1;
  if (!PassesTheGuard(Tape(parser.doc, reader.keys), reader.keys, kRootValue, static_cast<size_t>(limits.max_depth))) {
    return std::nullopt;
  }
  return kRootValue;
}

// ---------------------------------------------------------------------------------------------
// Mapping.

bool IsFullDate(std::string_view text) {
  if (text.size() != 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    bool want_dash = i == 4 || i == 7;
    if (want_dash ? text[i] != '-' : !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

// A FHIR date or dateTime whose first 10 characters are a full date (`YYYY-MM-DD`, then nothing
// or a time starting with `T`).
bool StartsWithFullDate(std::string_view text) {
  return text.size() >= 10 && IsFullDate(text.substr(0, 10)) && (text.size() == 10 || text[10] == 'T');
}

// Where an element sits in the message, as a FHIRPath (`Bundle.entry[2].resource.name[0]`): a
// chain of nodes on the stack of the code reading the message, each naming its parent. It becomes
// text only when something names it (an issue, or ReferralSourcePaths), so reading the many
// elements no issue is ever raised about builds no string.
class ElementPath {
 public:
  static constexpr size_t kNoIndex = ~size_t{0};
  constexpr explicit ElementPath(std::string_view root) : parent_(nullptr), name_(root), index_(kNoIndex) {}
  // `parent` must outlive this node (a local or a temporary of the same full expression); `name`
  // is a literal.
  constexpr ElementPath(const ElementPath& parent, std::string_view name, size_t index = kNoIndex)
      : parent_(&parent), name_(name), index_(index) {}
  ElementPath(const ElementPath&) = delete;
  ElementPath& operator=(const ElementPath&) = delete;

  // Sized first, then written from the end back to the root: one allocation, no recursion. An
  // index's digits are written last to first as they are worked out (indexes are small: a digit
  // or two), with no conversion into a buffer and copy out of it.
  std::string Render() const {
    size_t size = 0;
    for (const ElementPath* node = this; node != nullptr; node = node->parent_) {
      size += node->name_.size() + (node->parent_ != nullptr ? 1 : 0);
      if (node->index_ != kNoIndex) size += 2 + DigitCount(node->index_);
    }
    std::string text(size, '\0');
    char* end = text.data() + size;
    for (const ElementPath* node = this; node != nullptr; node = node->parent_) {
      if (node->index_ != kNoIndex) {
        *--end = ']';
        size_t index = node->index_;
        do {
          *--end = static_cast<char>('0' + index % 10);
          index /= 10;
        } while (index != 0);
        *--end = '[';
      }
      end -= node->name_.size();
      std::memcpy(end, node->name_.data(), node->name_.size());
      if (node->parent_ != nullptr) *--end = '.';
    }
    return text;
  }

 private:
  static size_t DigitCount(size_t index) {
    size_t digits = 1;
    for (; index >= 10; index /= 10) ++digits;
    return digits;
  }

  const ElementPath* parent_;
  std::string_view name_;
  size_t index_;
};

constexpr ElementPath kBundlePath("Bundle");

// The mapper reads either tree (see ParseFhirReferral) through one of two small adaptors with the
// same members: an element is absent (no such member, or a member asked of something that is not
// an object) or a JSON value of the tree. Strings are views of the parser's buffer, valid while the
// tree is.

// An element of a RapidJSON tree.
class RapidNode {
 public:
  RapidNode() = default;
  explicit RapidNode(const JsonValue* value) : value_(value) {}

  bool Present() const { return value_ != nullptr; }
  bool IsNull() const { return value_ != nullptr && value_->IsNull(); }
  bool IsString() const { return value_ != nullptr && value_->IsString(); }
  bool IsObject() const { return value_ != nullptr && value_->IsObject(); }
  bool IsArray() const { return value_ != nullptr && value_->IsArray(); }
  bool IsBool() const { return value_ != nullptr && value_->IsBool(); }
  bool GetBool() const { return value_->GetBool(); }  // Only when IsBool().
  std::string_view GetString() const {                // Only when IsString().
    return std::string_view(value_->GetString(), value_->GetStringLength());
  }
  // A number written without fraction or exponent, from 0 to 2^32 - 1; nullopt for anything else.
  std::optional<uint32_t> GetUint32() const {
    if (value_ == nullptr || !value_->IsUint()) return std::nullopt;
    return value_->GetUint();
  }
  RapidNode Member(const MemberName& key) const {
    if (!IsObject()) return RapidNode();
    auto it = value_->FindMember(JsonValue(rapidjson::StringRef(key.name().data(), key.name().size())));
    return it == value_->MemberEnd() ? RapidNode() : RapidNode(&it->value);
  }
  // Arrays: their size (0 for anything else), an element (`i` < Size()), all their elements.
  size_t Size() const { return IsArray() ? value_->Size() : 0; }
  RapidNode At(size_t i) const { return RapidNode(&(*value_)[static_cast<rapidjson::SizeType>(i)]); }
  class Iterator {
   public:
    explicit Iterator(const JsonValue* at) : at_(at) {}
    RapidNode operator*() const { return RapidNode(at_); }
    Iterator& operator++() {
      ++at_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    const JsonValue* at_;
  };
  struct Items {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };
  Items Elements() const {
    if (!IsArray()) return Items{Iterator(nullptr), Iterator(nullptr)};
    return Items{Iterator(value_->Begin()), Iterator(value_->End())};
  }

 private:
  const JsonValue* value_ = nullptr;
};

// An element of a simdjson tape.
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

template <typename Node>
struct MappedEntry {
  Node resource;          // Absent when the entry has none.
  std::string_view type;  // resourceType
  std::string_view full_url;
  std::string_view id;
  size_t index = 0;
};

// Bundle.entry[i].resource of an entry.
class ResourcePath {
 public:
  template <typename Entry>
  explicit ResourcePath(const Entry& entry)
      : entry_(kBundlePath, "entry", entry.index), resource_(entry_, "resource") {}
  ResourcePath(const ResourcePath&) = delete;
  ResourcePath& operator=(const ResourcePath&) = delete;
  const ElementPath& path() const { return resource_; }

 private:
  ElementPath entry_;
  ElementPath resource_;
};

// `Type/id`, a relative reference to `entry`.
template <typename Entry>
bool IsRelativeReferenceTo(std::string_view reference, const Entry& entry) {
  const size_t type = entry.type.size();
  return reference.size() == type + 1 + entry.id.size() && reference.substr(0, type) == entry.type &&
         reference[type] == '/' && reference.substr(type + 1) == entry.id;
}

// Node: RapidNode or TapeNode.
template <typename Node>
class FhirMapper {
 public:
  using Entry = MappedEntry<Node>;
  explicit FhirMapper(ParsedReferral& out) : out_(out), referral_(out.referral) {}

  void Map(Node root);

 private:
  // Issues.
  void AddIssue(const char* code, std::string path, const char* message) {
    if (out_.issues.size() >= kMaxIssues) return;
    Issue& issue = out_.issues.emplace_back();
    issue.set_code(code);
    issue.set_path(std::move(path));
    issue.set_message(out_.issues.size() == kMaxIssues ? "further problems were found and not listed" : message);
    issue.set_severity(Issue::ERROR);
  }
  void AddIssue(const char* code, const ElementPath& path, const char* message) {
    if (out_.issues.size() >= kMaxIssues) return;
    AddIssue(code, path.Render(), message);
  }

  // Typed member access. Absent or null -> nullopt/absent silently; present but of the wrong JSON
  // type -> INVALID_VALUE at `path`.`key` and nullopt/absent.
  std::optional<std::string_view> String(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (!value.Present() || value.IsNull()) return std::nullopt;
    if (!value.IsString()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON string here");
      return std::nullopt;
    }
    return value.GetString();
  }
  std::string_view StringOr(Node object, const MemberName& key, const ElementPath& path) {
    return String(object, key, path).value_or(std::string_view());
  }
  Node Object(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (!value.Present() || value.IsNull()) return Node();
    if (!value.IsObject()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON object here");
      return Node();
    }
    return value;
  }
  // An array member; absent (no elements) when absent or unusable.
  Node Array(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (value.Present() && !value.IsNull() && !value.IsArray()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON array here");
    }
    return value.IsArray() ? value : Node();
  }

  // References: a fullUrl, else a relative `Type/id`.
  const Entry* Resolve(Node reference_holder, const ElementPath& path) {
    std::optional<std::string_view> reference = String(reference_holder, "reference", path);
    if (!reference || reference->empty()) return nullptr;
    if (const Entry* entry = EntryWithFullUrl(*reference)) return entry;
    for (const Entry& entry : entries_) {
      if (!entry.id.empty() && IsRelativeReferenceTo(*reference, entry)) return &entry;
    }
    return nullptr;
  }
  // The first entry with a resource and this fullUrl. A referral has a handful of entries, compared
  // one by one; a Bundle with more than kLinearEntries is indexed, so a hostile one with many
  // entries and references costs linear time, not quadratic.
  static constexpr size_t kLinearEntries = 16;
  const Entry* EntryWithFullUrl(std::string_view full_url) const {
    if (by_full_url_ != nullptr) {
      auto it = by_full_url_->find(full_url);
      return it == by_full_url_->end() ? nullptr : &entries_[it->second];
    }
    for (const Entry& entry : entries_) {
      if (entry.resource.Present() && entry.full_url == full_url) return &entry;
    }
    return nullptr;
  }

  // Content. Protobuf string fields are set from a std::string built from the parser's buffer and
  // moved in: one copy. (Protobuf 3.21's set_x(pointer, size) builds a temporary std::string and
  // copies it again: two copies, and two allocations for a string past 15 bytes.)
  void ReadCodings(Node concept_holder, const MemberName& key, const ElementPath& path,
                   google::protobuf::RepeatedPtrField<Coding>* codes, std::string_view* text);
  void ReadHumanName(Node name, const ElementPath& path, frontdoor::v1::HumanName* out);
  void ReadTelecom(Node holder, const ElementPath& path, google::protobuf::RepeatedPtrField<ContactPoint>* out);
  // The ODS code of an Organization entry, or of a logical reference with an ODS identifier.
  std::string_view OdsOf(Node reference, const ElementPath& reference_path, std::string* value_path);
  // A date element; partial -> INVALID_VALUE. Returns the date part (or the partial text, so the
  // validator sees it too) and sets `*value_path`.
  std::string_view DatePart(Node object, const MemberName& key, const ElementPath& path, std::string* value_path);

  bool ReadEntries(Node bundle);
  bool CheckResourcesThatOccurOnce();
  void MapHeader(const Entry& header, const Entry** service_request);
  // ServiceRequest.status: `active` for a new referral; `revoked` or `entered-in-error` make the
  // message a withdrawal of a referral sent before (ParsedReferral.withdrawal).
  void MapServiceRequestStatus(const Entry& request, Node identifiers);
  void MapServiceRequest(const Entry& request);
  void MapPatient(const Entry& patient);
  void MapRequester(const Entry& requester);
  void MapConsent(const Entry& consent);
  void MapOtherResource(const Entry& entry);

  ParsedReferral& out_;
  Referral& referral_;
  std::vector<Entry> entries_;
  std::unique_ptr<std::unordered_map<std::string_view, size_t>> by_full_url_;
  const Entry* patient_ = nullptr;
  const Entry* requester_ = nullptr;
};

template <typename Node>
std::string_view FhirMapper<Node>::DatePart(Node object, const MemberName& key, const ElementPath& path,
                                            std::string* value_path) {
  std::optional<std::string_view> text = String(object, key, path);
  *value_path = ElementPath(path, key.name()).Render();
  if (!text || text->empty()) return std::string_view();
  if (!StartsWithFullDate(*text)) {
    AddIssue(kInvalidValue, *value_path, "not a full date (YYYY-MM-DD)");
    // Kept (cut to at most 10 bytes on a character boundary) so the validator sees it too.
    size_t cut = std::min<size_t>(text->size(), 10);
    while (cut > 0 && cut < text->size() && (static_cast<unsigned char>((*text)[cut]) & 0xc0) == 0x80) --cut;
    return text->substr(0, cut);
  }
  return text->substr(0, 10);
}

template <typename Node>
void FhirMapper<Node>::ReadCodings(Node concept_holder, const MemberName& key, const ElementPath& path,
                                   google::protobuf::RepeatedPtrField<Coding>* codes, std::string_view* text) {
  Node concept_value = Object(concept_holder, key, path);
  if (!concept_value.Present()) return;
  ElementPath concept_path(path, key.name());
  size_t i = 0;
  for (Node coding : Array(concept_value, "coding", concept_path).Elements()) {
    ElementPath coding_path(concept_path, "coding", i++);
    Coding* out = codes->Add();
    std::string_view system = StringOr(coding, "system", coding_path);
    std::string_view code = StringOr(coding, "code", coding_path);
    std::string_view display = StringOr(coding, "display", coding_path);
    out->set_system(std::string(system));
    out->set_code(std::string(code));
    out->set_display(std::string(display));
  }
  if (text != nullptr && text->empty()) *text = StringOr(concept_value, "text", concept_path);
}

template <typename Node>
void FhirMapper<Node>::ReadHumanName(Node name, const ElementPath& path, frontdoor::v1::HumanName* out) {
  std::string_view family = StringOr(name, "family", path);
  out->set_family(std::string(family));
  size_t i = 0;
  for (Node given : Array(name, "given", path).Elements()) {
    if (given.IsString()) {
      std::string_view text = given.GetString();
      out->add_given(std::string(text));
    } else {
      AddIssue(kInvalidValue, ElementPath(path, "given", i), "expected a JSON string here");
    }
    ++i;
  }
  Node prefixes = Array(name, "prefix", path);
  if (prefixes.Size() > 0 && prefixes.At(0).IsString()) {
    std::string_view prefix = prefixes.At(0).GetString();
    out->set_prefix(std::string(prefix));
  }
}

template <typename Node>
void FhirMapper<Node>::ReadTelecom(Node holder, const ElementPath& path,
                                   google::protobuf::RepeatedPtrField<ContactPoint>* out) {
  size_t i = 0;
  for (Node telecom : Array(holder, "telecom", path).Elements()) {
    ElementPath telecom_path(path, "telecom", i++);
    std::string_view system = StringOr(telecom, "system", telecom_path);
    std::string_view value = StringOr(telecom, "value", telecom_path);
    if (value.empty()) continue;
    ContactPoint* point = out->Add();
    if (system == "phone") point->set_system(ContactPoint::PHONE);
    if (system == "email") point->set_system(ContactPoint::EMAIL);
    if (system == "sms") point->set_system(ContactPoint::SMS);
    point->set_value(std::string(value));
    std::string_view use = StringOr(telecom, "use", telecom_path);
    point->set_use(std::string(use));
    if (std::optional<uint32_t> rank = telecom.Member("rank").GetUint32()) point->set_rank(*rank);
  }
}

template <typename Node>
std::string_view FhirMapper<Node>::OdsOf(Node reference, const ElementPath& reference_path, std::string* value_path) {
  if (!reference.Present()) return std::string_view();
  // A logical reference, as PDS sends generalPractitioner: {"type": ..., "identifier": {...}}.
  if (Node identifier = Object(reference, "identifier", reference_path); identifier.Present()) {
    ElementPath identifier_path(reference_path, "identifier");
    if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = ElementPath(identifier_path, "value").Render();
      return StringOr(identifier, "value", identifier_path);
    }
  }
  const Entry* target = Resolve(reference, reference_path);
  if (target == nullptr) return std::string_view();
  if (target->type == "PractitionerRole") {
    // A practice named through its role: PractitionerRole.organization.
    ResourcePath role(*target);
    Node organization = Object(target->resource, "organization", role.path());
    target = Resolve(organization, ElementPath(role.path(), "organization"));
    if (target == nullptr) return std::string_view();
  }
  if (target->type != "Organization") return std::string_view();
  ResourcePath where(*target);
  size_t i = 0;
  for (Node identifier : Array(target->resource, "identifier", where.path()).Elements()) {
    ElementPath identifier_path(where.path(), "identifier", i++);
    if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = ElementPath(identifier_path, "value").Render();
      return StringOr(identifier, "value", identifier_path);
    }
  }
  *value_path = ElementPath(where.path(), "identifier").Render();
  return std::string_view();
}

template <typename Node>
bool FhirMapper<Node>::ReadEntries(Node bundle) {
  Node entries = bundle.Member("entry");
  if (entries.Present() && !entries.IsArray()) {
    AddIssue(kInvalidValue, "Bundle.entry", "expected a JSON array here");
    return false;
  }
  if (entries.Size() == 0) {
    AddIssue(kMissingElement, "Bundle.entry[0].resource", "the Bundle has no entries");
    return false;
  }
  // Sized once: entries are referred to by address from here on.
  entries_.reserve(entries.Size());
  if (entries.Size() > kLinearEntries) {
    by_full_url_ = std::make_unique<std::unordered_map<std::string_view, size_t>>();
  }
  bool ok = true;
  size_t i = 0;
  for (Node entry : entries.Elements()) {
    ElementPath entry_path(kBundlePath, "entry", i);
    Entry mapped;
    mapped.index = i++;
    if (!entry.IsObject()) {
      AddIssue(kInvalidValue, entry_path, "expected a JSON object here");
      ok = false;
      entries_.push_back(mapped);
      continue;
    }
    mapped.full_url = StringOr(entry, "fullUrl", entry_path);
    mapped.resource = Object(entry, "resource", entry_path);
    ElementPath resource_path(entry_path, "resource");
    if (!mapped.resource.Present()) {
      AddIssue(kMissingElement, resource_path, "an entry without a resource");
      entries_.push_back(mapped);
      continue;
    }
    mapped.type = StringOr(mapped.resource, "resourceType", resource_path);
    mapped.id = StringOr(mapped.resource, "id", resource_path);
    if (!mapped.full_url.empty()) {
      if (EntryWithFullUrl(mapped.full_url) != nullptr) {
        AddIssue(kInvalidValue, ElementPath(entry_path, "fullUrl"),
                 "this fullUrl is used by an earlier entry; references would be ambiguous");
        ok = false;
      } else if (by_full_url_ != nullptr) {
        by_full_url_->emplace(mapped.full_url, mapped.index);
      }
    }
    entries_.push_back(mapped);
  }
  return ok;
}

template <typename Node>
void FhirMapper<Node>::Map(Node root) {
  Node resource_type = root.Member("resourceType");
  if (resource_type.Present() && !resource_type.IsString()) {
    AddIssue(kInvalidValue, "resourceType", "expected a JSON string here");
    return;
  }
  if (!resource_type.Present() || resource_type.GetString() != "Bundle") {
    AddIssue(kUnsupportedMessage, "resourceType", "not a FHIR Bundle: a referral is a BaRS message Bundle");
    return;
  }
  std::string_view bundle_id = StringOr(root, "id", kBundlePath);
  referral_.set_message_id(std::string(bundle_id));
  out_.reply.bundle_id = bundle_id;
  out_.paths.message_id = "Bundle.id";
  if (referral_.message_id().empty()) {
    AddIssue(kMissingElement, "Bundle.id", "the Bundle has no id (the message id)");
  }
  std::optional<std::string_view> bundle_type = String(root, "type", kBundlePath);
  if (!bundle_type || *bundle_type != "message") {
    AddIssue(kUnsupportedMessage, "Bundle.type", "the Bundle is not a message (type = message)");
    return;
  }
  if (!ReadEntries(root)) return;
  if (!CheckResourcesThatOccurOnce()) return;

  const Entry& header = entries_[0];
  if (header.type != "MessageHeader") {
    AddIssue(kMissingElement, ResourcePath(header).path(), "the first entry must be the MessageHeader");
    return;
  }
  const Entry* service_request = nullptr;
  MapHeader(header, &service_request);
  if (service_request == nullptr) return;
  MapServiceRequest(*service_request);

  for (const Entry& entry : entries_) {
    if (!entry.resource.Present() || &entry == &header || &entry == service_request || &entry == patient_ ||
        &entry == requester_) {
      continue;
    }
    if (entry.type == "Consent") {
      MapConsent(entry);
    } else {
      MapOtherResource(entry);
    }
  }
}

// A servicerequest-request is one referral about one person: one MessageHeader, one
// ServiceRequest, one Patient. A second Patient is a second person (which one would routing,
// consent and delivery be about?); a second ServiceRequest or MessageHeader a second referral or
// message. Reading only the one the references lead to would silently ignore the other, so the
// message is not a readable referral: each extra one is INVALID_VALUE at its entry. Returns false
// when there was one.
template <typename Node>
bool FhirMapper<Node>::CheckResourcesThatOccurOnce() {
  bool ok = true;
  for (const char* type : {"MessageHeader", "ServiceRequest", "Patient"}) {
    bool seen = false;
    for (const Entry& entry : entries_) {
      if (entry.type != type) continue;
      if (seen) {
        const std::string message = absl::StrCat("a second ", type,
                                                 ": a referral message carries one referral about one person; send "
                                                 "each person's referral as a message of its own");
        AddIssue(kInvalidValue, ResourcePath(entry).path(), message.c_str());
        ok = false;
      }
      seen = true;
    }
  }
  return ok;
}

template <typename Node>
void FhirMapper<Node>::MapHeader(const Entry& header, const Entry** service_request) {
  ResourcePath where(header);
  const ElementPath& path = where.path();
  Node resource = header.resource;
  Node event = Object(resource, "eventCoding", path);
  ElementPath event_path(path, "eventCoding");
  if (!event.Present()) {
    AddIssue(kMissingElement, event_path, "the MessageHeader has no eventCoding");
    return;
  }
  if (StringOr(event, "system", event_path) != kBarsEventSystem ||
      StringOr(event, "code", event_path) != kBarsEventCode) {
    AddIssue(kUnsupportedMessage, event_path,
             "not a BaRS servicerequest-request message: this gateway accepts referrals only");
    return;
  }
  if (Node source = Object(resource, "source", path); source.Present()) {
    out_.reply.source_endpoint = StringOr(source, "endpoint", ElementPath(path, "source"));
  }

  ElementPath sender_path(path, "sender");
  Node sender = Object(resource, "sender", path);
  out_.paths.sender_ods = sender_path.Render();
  if (!sender.Present()) {
    AddIssue(kMissingElement, out_.paths.sender_ods, "the MessageHeader has no sender");
  } else {
    std::string_view ods = OdsOf(sender, sender_path, &out_.paths.sender_ods);
    referral_.set_sender_ods(std::string(ods));
    if (referral_.sender_ods().empty()) {
      AddIssue(kMissingElement, out_.paths.sender_ods, "the sender is not an Organization with an ODS code");
    }
  }

  Node focus = Array(resource, "focus", path);
  ElementPath focus_path(path, "focus", 0);
  const Entry* target = focus.Size() == 0 ? nullptr : Resolve(focus.At(0), focus_path);
  if (target == nullptr || target->type != "ServiceRequest") {
    std::string focus_text = focus_path.Render();
    AddIssue(kMissingElement, focus_text, "MessageHeader.focus[0] does not reference a ServiceRequest entry");
    out_.paths.referral_date = focus_text;
    out_.paths.nhs_number = focus_text;
    out_.paths.birth_date = focus_text;
    return;
  }
  *service_request = target;
}

template <typename Node>
void FhirMapper<Node>::MapServiceRequestStatus(const Entry& request, Node identifiers) {
  ResourcePath where(request);
  const ElementPath& path = where.path();
  const std::string status_path = ElementPath(path, "status").Render();
  std::string_view status = StringOr(request.resource, "status", path);
  if (status == "revoked" || status == "entered-in-error") {
    WithdrawalRequest withdrawal;
    withdrawal.path = status_path;
    withdrawal.reason = status == "revoked" ? frontdoor::v1::NO_LONGER_NEEDED : frontdoor::v1::ENTERED_IN_ERROR;
    size_t i = 0;
    for (Node identifier : identifiers.Elements()) {
      ElementPath identifier_path(path, "identifier", i++);
      if (StringOr(identifier, "system", identifier_path) != kReferralIdSystem) continue;
      std::string_view value = StringOr(identifier, "value", identifier_path);
      if (!value.empty()) withdrawal.referral_ids.emplace_back(value);
    }
    if (!request.id.empty()) withdrawal.referral_ids.emplace_back(request.id);
    if (withdrawal.referral_ids.empty()) {
      AddIssue(kMissingElement, ElementPath(path, "id").Render(),
               "a withdrawal must name the referral: its referral id as ServiceRequest.id or as an identifier "
               "in https://frontdoor.example.org/Id/referral-id");
    }
    out_.withdrawal = std::move(withdrawal);
    return;
  }
  if (!status.empty() && status != "active") {
    AddIssue(kInvalidValue, status_path,
             "ServiceRequest.status must be active for a new referral (revoked or entered-in-error withdraws one "
             "sent before)");
  }
}

template <typename Node>
void FhirMapper<Node>::MapServiceRequest(const Entry& request) {
  ResourcePath where(request);
  const ElementPath& path = where.path();
  Node resource = request.resource;

  Node identifiers = Array(resource, "identifier", path);
  if (identifiers.Size() > 0) {
    std::string_view reference = StringOr(identifiers.At(0), "value", ElementPath(path, "identifier", 0));
    referral_.set_referrer_reference(std::string(reference));
  }
  MapServiceRequestStatus(request, identifiers);

  std::string_view referral_date = DatePart(resource, "authoredOn", path, &out_.paths.referral_date);
  referral_.set_referral_date(std::string(referral_date));
  if (referral_.referral_date().empty()) {
    AddIssue(kMissingElement, out_.paths.referral_date, "the ServiceRequest has no authoredOn (the referral date)");
  }

  size_t i = 0;
  for (Node reason : Array(resource, "reasonCode", path).Elements()) {
    ElementPath reason_path(path, "reasonCode", i++);
    size_t j = 0;
    for (Node coding : Array(reason, "coding", reason_path).Elements()) {
      ElementPath coding_path(reason_path, "coding", j++);
      if (StringOr(coding, "system", coding_path) != kSnomedSystem) continue;
      Coding* out = referral_.add_reasons();
      out->set_system(std::string(kSnomedSystem));
      std::string_view code = StringOr(coding, "code", coding_path);
      std::string_view display = StringOr(coding, "display", coding_path);
      out->set_code(std::string(code));
      out->set_display(std::string(display));
      out_.paths.reasons.push_back(ElementPath(coding_path, "code").Render());
    }
  }

  Node notes = Array(resource, "note", path);
  if (notes.Size() > 0) {
    std::string_view text = StringOr(notes.At(0), "text", ElementPath(path, "note", 0));
    referral_.set_referrer_text(std::string(text));
  }
  if (notes.Size() > 1) {
    std::string_view text = StringOr(notes.At(1), "text", ElementPath(path, "note", 1));
    referral_.set_what_matters(std::string(text));
  }

  Node subject = Object(resource, "subject", path);
  Node requester = Object(resource, "requester", path);
  ElementPath subject_path(path, "subject");
  ElementPath requester_path(path, "requester");
  std::string_view subject_reference = StringOr(subject, "reference", subject_path);
  std::string_view requester_reference = StringOr(requester, "reference", requester_path);
  referral_.set_self_referral(!subject_reference.empty() && subject_reference == requester_reference);

  const Entry* patient = Resolve(subject, subject_path);
  if (patient == nullptr || patient->type != "Patient") {
    std::string subject_text = subject_path.Render();
    AddIssue(kMissingElement, subject_text, "ServiceRequest.subject does not reference a Patient entry");
    out_.paths.nhs_number = subject_text;
    out_.paths.birth_date = subject_text;
  } else {
    patient_ = patient;
    MapPatient(*patient);
  }

  if (!referral_.self_referral() && requester.Present()) {
    const Entry* target = Resolve(requester, requester_path);
    if (target != nullptr) {
      requester_ = target;
      MapRequester(*target);
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapPatient(const Entry& patient) {
  ResourcePath where(patient);
  const ElementPath& path = where.path();
  Node resource = patient.resource;
  frontdoor::v1::Person& person = *referral_.mutable_person();

  size_t nhs_numbers = 0;
  size_t i = 0;
  for (Node identifier : Array(resource, "identifier", path).Elements()) {
    ElementPath identifier_path(path, "identifier", i++);
    if (StringOr(identifier, "system", identifier_path) != kNhsNumberSystem) continue;
    ElementPath value_path(identifier_path, "value");
    if (++nhs_numbers > 1) {
      AddIssue(kInvalidValue, value_path, "the Patient has more than one NHS number");
      continue;
    }
    std::string_view nhs_number = StringOr(identifier, "value", identifier_path);
    person.set_nhs_number(std::string(nhs_number));
    out_.paths.nhs_number = value_path.Render();
  }
  if (nhs_numbers == 0) {
    out_.paths.nhs_number = ElementPath(path, "identifier").Render();
    AddIssue(kMissingElement, out_.paths.nhs_number, "the Patient has no NHS number");
  } else if (person.nhs_number().empty()) {
    AddIssue(kMissingElement, out_.paths.nhs_number, "the NHS number identifier has no value");
  }

  std::string_view birth_date = DatePart(resource, "birthDate", path, &out_.paths.birth_date);
  person.set_birth_date(std::string(birth_date));
  if (person.birth_date().empty()) {
    AddIssue(kMissingElement, out_.paths.birth_date, "the Patient has no birthDate");
  }
  std::string_view gender = StringOr(resource, "gender", path);
  person.set_gender(std::string(gender));

  size_t n = 0;
  for (Node name : Array(resource, "name", path).Elements()) {
    ElementPath name_path(path, "name", n);
    if (n == 0) ReadHumanName(name, name_path, person.mutable_name());
    if (StringOr(name, "use", name_path) == "usual" && person.name().preferred_name().empty()) {
      Node given = Array(name, "given", name_path);
      if (given.Size() > 0 && given.At(0).IsString()) {
        std::string_view preferred = given.At(0).GetString();
        person.mutable_name()->set_preferred_name(std::string(preferred));
      }
    }
    ++n;
  }

  // Home: the first address with use=home, else the first without use; old/temp/work/billing
  // addresses are never the home.
  Node addresses = Array(resource, "address", path);
  std::optional<size_t> home;
  size_t a = 0;
  for (Node address : addresses.Elements()) {
    if (StringOr(address, "use", ElementPath(path, "address", a)) == "home") {
      home = a;
      break;
    }
    ++a;
  }
  a = 0;
  for (Node address : addresses.Elements()) {
    if (home) break;
    if (address.IsObject() && !address.Member("use").Present()) home = a;
    ++a;
  }
  if (home) {
    ElementPath address_path(path, "address", *home);
    Node address = addresses.At(*home);
    frontdoor::v1::Address& out = *person.mutable_home_address();
    size_t l = 0;
    for (Node line : Array(address, "line", address_path).Elements()) {
      if (line.IsString()) {
        std::string_view text = line.GetString();
        out.add_lines(std::string(text));
      } else {
        AddIssue(kInvalidValue, ElementPath(address_path, "line", l), "expected a JSON string here");
      }
      ++l;
    }
    std::string_view city = StringOr(address, "city", address_path);
    out.set_city(std::string(city));
    std::string_view district = StringOr(address, "district", address_path);
    out.set_district(std::string(district));
    std::string_view postcode = StringOr(address, "postalCode", address_path);
    out.set_postcode(std::string(postcode));
    if (!out.postcode().empty()) out_.paths.postcode = ElementPath(address_path, "postalCode").Render();
  }

  ReadTelecom(resource, path, person.mutable_telecom());

  // Preferred language: the preferred communication, else the first.
  Node communications = Array(resource, "communication", path);
  std::optional<size_t> chosen;
  size_t c = 0;
  for (Node communication : communications.Elements()) {
    Node preferred = communication.Member("preferred");
    if (preferred.IsBool() && preferred.GetBool()) {
      chosen = c;
      break;
    }
    if (!chosen) chosen = c;
    ++c;
  }
  if (chosen) {
    ElementPath communication_path(path, "communication", *chosen);
    google::protobuf::RepeatedPtrField<Coding> languages;
    ReadCodings(communications.At(*chosen), "language", communication_path, &languages, nullptr);
    for (const Coding& language : languages) {
      if (!language.code().empty()) {
        person.set_language(language.code());
        break;
      }
    }
  }

  // UK Core / NHS extensions that carry communication needs. Only their presence and coded values
  // are read; unknown extensions are ignored.
  size_t e = 0;
  for (Node extension : Array(resource, "extension", path).Elements()) {
    ElementPath extension_path(path, "extension", e++);
    std::string_view url = StringOr(extension, "url", extension_path);
    if (url.find("InterpreterRequired") != std::string_view::npos) {
      Node flag = extension.Member("valueBoolean");
      if (flag.IsBool()) person.set_interpreter_required(flag.GetBool());
    }
    if (url.find("NHSCommunication") != std::string_view::npos) {
      for (Node inner : Array(extension, "extension", extension_path).Elements()) {
        if (StringOr(inner, "url", extension_path) != "interpreterRequired") continue;
        Node flag = inner.Member("valueBoolean");
        if (flag.IsBool()) person.set_interpreter_required(flag.GetBool());
      }
    }
    if (url.find("ReasonableAdjustment") != std::string_view::npos ||
        url.find("Accessibility") != std::string_view::npos) {
      std::string_view need = StringOr(extension, "valueString", extension_path);
      google::protobuf::RepeatedPtrField<Coding> codes;
      if (need.empty()) {
        ReadCodings(extension, "valueCodeableConcept", extension_path, &codes, &need);
        if (need.empty() && !codes.empty()) need = codes[0].display();
      }
      if (!need.empty()) person.add_accessibility_needs(std::string(need));
    }
    if (url.find("ContactPreference") != std::string_view::npos) {
      for (Node inner : Array(extension, "extension", extension_path).Elements()) {
        if (StringOr(inner, "url", extension_path) != "PreferredContactMethod") continue;
        google::protobuf::RepeatedPtrField<Coding> codes;
        ReadCodings(inner, "valueCodeableConcept", extension_path, &codes, nullptr);
        for (const Coding& code : codes) {
          // NHS ContactPreference codes: 1 letter, 3 telephone, 4 email (plus plain words).
          std::string c = absl::AsciiStrToLower(code.code());
          if (c == "1" || c == "letter") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_LETTER);
          if (c == "3" || c == "phone" || c == "telephone")
            person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_PHONE);
          if (c == "4" || c == "email") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_EMAIL);
          if (c == "sms" || c == "text") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_SMS);
        }
      }
    }
  }

  Node practitioners = Array(resource, "generalPractitioner", path);
  if (practitioners.Size() > 0) {
    std::string value_path;
    std::string_view ods = OdsOf(practitioners.At(0), ElementPath(path, "generalPractitioner", 0), &value_path);
    person.set_registered_practice_ods(std::string(ods));
    if (!person.registered_practice_ods().empty()) out_.paths.registered_practice_ods = std::move(value_path);
  }

  // S-flag: meta.security v3-Confidentiality R or V (PDS "restricted").
  Node meta = Object(resource, "meta", path);
  ElementPath meta_path(path, "meta");
  size_t s = 0;
  for (Node security : Array(meta, "security", meta_path).Elements()) {
    ElementPath security_path(meta_path, "security", s++);
    if (StringOr(security, "system", security_path) != kConfidentialitySystem) continue;
    std::string_view code = StringOr(security, "code", security_path);
    if (code == "R" || code == "V") person.set_demographics_restricted(true);
  }
}

template <typename Node>
void FhirMapper<Node>::MapRequester(const Entry& requester) {
  frontdoor::v1::Requester& out = *referral_.mutable_requester();
  const Entry* practitioner = nullptr;
  const Entry* organization = nullptr;
  if (requester.type == "PractitionerRole") {
    ResourcePath where(requester);
    const ElementPath& path = where.path();
    Node role = requester.resource;
    Node codes = Array(role, "code", path);
    if (codes.Size() > 0) {
      // PractitionerRole.code[0]: its text, else its first coding's display.
      Node first = codes.At(0);
      ElementPath concept_path(path, "code", 0);
      std::string_view text = StringOr(first, "text", concept_path);
      if (text.empty()) {
        Node coding = Array(first, "coding", concept_path);
        if (coding.Size() > 0) text = StringOr(coding.At(0), "display", ElementPath(concept_path, "coding", 0));
      }
      out.set_role(std::string(text));
    }
    ReadTelecom(role, path, out.mutable_telecom());
    practitioner = Resolve(Object(role, "practitioner", path), ElementPath(path, "practitioner"));
    organization = Resolve(Object(role, "organization", path), ElementPath(path, "organization"));
  } else if (requester.type == "Practitioner") {
    practitioner = &requester;
  } else if (requester.type == "Organization") {
    organization = &requester;
  }
  if (practitioner != nullptr && practitioner->type == "Practitioner") {
    ResourcePath where(*practitioner);
    Node names = Array(practitioner->resource, "name", where.path());
    if (names.Size() > 0) ReadHumanName(names.At(0), ElementPath(where.path(), "name", 0), out.mutable_name());
    ReadTelecom(practitioner->resource, where.path(), out.mutable_telecom());
  }
  if (organization != nullptr && organization->type == "Organization") {
    ResourcePath where(*organization);
    std::string_view name = StringOr(organization->resource, "name", where.path());
    out.set_organisation_name(std::string(name));
    size_t i = 0;
    for (Node identifier : Array(organization->resource, "identifier", where.path()).Elements()) {
      ElementPath identifier_path(where.path(), "identifier", i++);
      if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
        std::string_view ods = StringOr(identifier, "value", identifier_path);
        out.set_organisation_ods(std::string(ods));
        break;
      }
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapConsent(const Entry& consent) {
  ResourcePath where(consent);
  const ElementPath& path = where.path();
  Node resource = consent.resource;
  frontdoor::v1::Consent& out = *referral_.add_consents();
  out.set_id(std::string(consent.id));
  std::string_view status = StringOr(resource, "status", path);
  using C = frontdoor::v1::Consent;
  if (status == "draft") out.set_status(C::DRAFT);
  if (status == "proposed") out.set_status(C::PROPOSED);
  if (status == "active") out.set_status(C::ACTIVE);
  if (status == "rejected") out.set_status(C::REJECTED);
  if (status == "inactive") out.set_status(C::INACTIVE);
  if (status == "entered-in-error") out.set_status(C::ENTERED_IN_ERROR);

  std::string date_path;
  std::string_view date = DatePart(resource, "dateTime", path, &date_path);
  out.set_date(std::string(date));
  out_.paths.consent_dates.push_back(std::move(date_path));

  Node provision = Object(resource, "provision", path);
  ElementPath provision_path(path, "provision");
  std::string_view type = StringOr(provision, "type", provision_path);
  if (type == "permit") out.set_provision(C::PERMIT);
  if (type == "deny") out.set_provision(C::DENY);
  Node period = Object(provision, "period", provision_path);
  ElementPath period_path(provision_path, "period");
  std::string start_path;
  std::string end_path;
  std::string_view start = DatePart(period, "start", period_path, &start_path);
  out.set_period_start(std::string(start));
  std::string_view end = DatePart(period, "end", period_path, &end_path);
  out.set_period_end(std::string(end));
  out_.paths.consent_starts.push_back(std::move(start_path));
  out_.paths.consent_ends.push_back(std::move(end_path));

  Node categories = Array(resource, "category", path);
  if (categories.Size() > 0) {
    ElementPath holder(path, "category", 0);
    size_t j = 0;
    for (Node coding : Array(categories.At(0), "coding", holder).Elements()) {
      std::string_view code = StringOr(coding, "code", ElementPath(holder, "coding", j++));
      if (!code.empty()) {
        out.set_category(std::string(code));
        break;
      }
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapOtherResource(const Entry& entry) {
  // The participants of the referral itself are not clinical content.
  if (entry.type == "Practitioner" || entry.type == "PractitionerRole" || entry.type == "Organization" ||
      entry.type == "Patient" || entry.type == "MessageHeader") {
    return;
  }
  ResourcePath where(entry);
  const ElementPath& path = where.path();
  Node resource = entry.resource;
  ClinicalContent& out = *referral_.add_clinical_content();
  out.set_source_type(std::string(entry.type));
  std::string_view text;
  if (entry.type == "MedicationStatement" || entry.type == "MedicationRequest") {
    out.set_kind(ClinicalContent::MEDICATION);
    ReadCodings(resource, "medicationCodeableConcept", path, out.mutable_codes(), &text);
  } else {
    if (entry.type == "Condition")
      out.set_kind(ClinicalContent::CONDITION);
    else if (entry.type == "Observation")
      out.set_kind(ClinicalContent::OBSERVATION);
    else if (entry.type == "Flag")
      out.set_kind(ClinicalContent::FLAG);
    else
      out.set_kind(ClinicalContent::OTHER);
    ReadCodings(resource, "code", path, out.mutable_codes(), &text);
  }
  // status is a code in most resources; Condition carries a CodeableConcept clinicalStatus.
  Node status = resource.Member("status");
  if (status.IsString()) {
    std::string_view value = status.GetString();
    out.set_status(std::string(value));
  }
  if (out.status().empty()) {
    google::protobuf::RepeatedPtrField<Coding> clinical_status;
    ReadCodings(resource, "clinicalStatus", path, &clinical_status, nullptr);
    if (!clinical_status.empty()) out.set_status(clinical_status[0].code());
  }
  // category: a CodeableConcept in some resources, a list of them in others (Flag).
  Node category = resource.Member("category");
  Node first_category;
  if (category.Size() > 0) first_category = category.At(0);
  if (category.IsObject()) first_category = category;
  if (first_category.IsObject()) {
    for (Node coding : first_category.Member("coding").Elements()) {
      Node code = coding.Member("code");
      if (code.IsString()) {
        std::string_view value = code.GetString();
        out.set_category(std::string(value));
        break;
      }
    }
  }
  if (text.empty()) {
    Node notes = Array(resource, "note", path);
    if (notes.Size() > 0) text = StringOr(notes.At(0), "text", ElementPath(path, "note", 0));
  }
  out.set_text(std::string(text));
}

}  // namespace

ParsedReferral ParseFhirReferral(std::string_view json, const FhirLimits& limits) {
  if (std::optional<ParsedReferral> parsed = ParseFhirReferralWithSimdjson(json, limits)) return std::move(*parsed);
  return ParseFhirReferralWithRapidJson(json, limits);
}

std::optional<ParsedReferral> ParseFhirReferralWithSimdjson(std::string_view json, const FhirLimits& limits) {
  static thread_local FastReader thread_reader;
  std::optional<FastReader> own_reader;
  FastReader& reader = json.size() <= kThreadParserBytes ? thread_reader : own_reader.emplace();
  std::optional<size_t> root = ReadFast(json, limits, reader);
  if (!root) return std::nullopt;
  ParsedReferral parsed;
  parsed.format = MessageFormat::kFhir;
  const Tape tape(reader.parser.doc, reader.keys);
  FhirMapper<TapeNode>(parsed).Map(TapeNode(tape, *root));
  return parsed;
}

ParsedReferral ParseFhirReferralWithRapidJson(std::string_view json, const FhirLimits& limits) {
  ParsedReferral parsed;
  parsed.format = MessageFormat::kFhir;
  std::string buffer;
  // The tree of a typical referral fits this per-thread block, so parsing makes no allocation for
  // it (a larger message takes more blocks from the heap, freed with the document).
  alignas(8) static thread_local char tree_block[32 * 1024];
  rapidjson::MemoryPoolAllocator<> pool(tree_block, sizeof tree_block);
  rapidjson::Document document(&pool);
  if (std::optional<std::string> error = ReadGuarded(json, limits, buffer, document)) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message(*error);
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  if (!document.IsObject()) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message("not a FHIR resource: the JSON root is not an object");
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  FhirMapper<RapidNode>(parsed).Map(RapidNode(&document));
  return parsed;
}

}  // namespace frontdoor::adapters
