// The fast JSON reader (fhir_simdjson_reader.h): simdjson's parse, then the guard's walk over the
// tape that checks what simdjson lets through and fills the key index.
#include "adapters/fhir_simdjson_reader.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

#include "adapters/fhir_rapidjson_reader.h"  // kMaxRecursion
#include "simdjson.h"

namespace frontdoor::adapters::fhir_internal {
namespace {

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

}  // namespace

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

}  // namespace frontdoor::adapters::fhir_internal
