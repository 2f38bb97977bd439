// Internal to adapters/ (the FHIR adapter, fhir_referral_adapter.h): the reference JSON reader,
// RapidJSON's SAX Reader behind a guard, and RapidNode, the mapper's view of the tree it builds.
//
// RapidJSON is the reference reader: header-only, and its SAX Reader lets this adapter refuse
// hostile input while reading it: duplicate keys (any level), nesting depth, numbers a double
// cannot hold, invalid UTF-8. The guard (fhir_rapidjson_reader.cc) sits between the Reader and a
// rapidjson::Document, so no DOM is built past the first problem and nothing recurses deeper than
// the depth limit. simdjson reads first, as a fast path that answers only when the reference would
// answer the same (see fhir_simdjson_reader.h).
#ifndef FRONTDOOR_ADAPTERS_FHIR_RAPIDJSON_READER_H_
#define FRONTDOOR_ADAPTERS_FHIR_RAPIDJSON_READER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/fhir_member_name.h"
#include "adapters/fhir_referral_adapter.h"
#include "rapidjson/document.h"

namespace frontdoor::adapters::fhir_internal {

using JsonValue = rapidjson::Value;

// Nesting up to this depth is read by recursive code (the parsers, the key check); a caller's
// higher max_depth is read by RapidJSON's iterative parser, with a flat call stack.
constexpr int kMaxRecursion = 256;

// Reads `json` into `document`; on failure returns why (no patient data in it). The document's
// strings point into `buffer` (in-situ parsing: no string is copied), which must outlive it.
std::optional<std::string> ReadGuarded(std::string_view json, const FhirLimits& limits, std::string& buffer,
                                       rapidjson::Document& document);

// The mapper reads either tree (see ParseFhirReferral) through one of two small adaptors with the
// same members: an element is absent (no such member, or a member asked of something that is not
// an object) or a JSON value of the tree. Strings are views of the parser's buffer, valid while the
// tree is. The other adaptor is TapeNode (fhir_simdjson_reader.h).

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

}  // namespace frontdoor::adapters::fhir_internal

#endif  // FRONTDOOR_ADAPTERS_FHIR_RAPIDJSON_READER_H_
