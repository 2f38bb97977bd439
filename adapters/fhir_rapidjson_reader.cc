// The guarded RapidJSON reader (fhir_rapidjson_reader.h): a SAX handler between RapidJSON's Reader
// and a rapidjson::Document that refuses hostile input while it is read.
#include "adapters/fhir_rapidjson_reader.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"

namespace frontdoor::adapters::fhir_internal {
namespace {

// Duplicate keys: an object's keys are compared one by one up to this many, hashed past it.
constexpr size_t kLinearKeys = 16;

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

}  // namespace

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

}  // namespace frontdoor::adapters::fhir_internal
