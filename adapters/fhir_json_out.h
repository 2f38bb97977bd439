// JsonOut: writing FHIR JSON that stays valid whatever it is given. RapidJSON's Writer escapes
// every string; invalid UTF-8 becomes U+FFFD and NUL bytes are dropped, so a reply or a message the
// gateway writes is JSON even when what it quotes came from a hostile sender. Empty strings are
// left out (FHIR JSON never has them).
//
//   JsonOut json;
//   json.StartObject();
//   json.Member("resourceType", "OperationOutcome");
//   json.EndObject();
//   std::string text = json.Take();
//
// Not thread-safe; one writer per document.
#ifndef FRONTDOOR_ADAPTERS_FHIR_JSON_OUT_H_
#define FRONTDOOR_ADAPTERS_FHIR_JSON_OUT_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace frontdoor::adapters {

// Invalid UTF-8 sequences become U+FFFD and NUL bytes are dropped: a reply must be valid text
// whatever the request held.
inline std::string SanitizeUtf8(std::string_view text) {
  std::string out = ToValidUtf8(text);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

class JsonOut {
 public:
  // Room for a whole reply from the start (a FHIR reply is 1-3 KB): rapidjson's default of 256
  // bytes grew by reallocation four or five times per reply.
  JsonOut() : buffer_(nullptr, 4096), writer_(buffer_) {}
  void Key(std::string_view key) { writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())); }
  void String(std::string_view value) {
    // Nearly every value is valid UTF-8 without NULs already: written from where it is, rather
    // than through a cleaned copy each (about 5k instructions per FHIR reply).
    if (value.find('\0') == std::string_view::npos && !FirstInvalidUtf8Offset(value).has_value()) {
      writer_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
      return;
    }
    std::string clean = SanitizeUtf8(value);
    writer_.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
  }
  // "key": "value", left out when the value is empty (FHIR JSON never has empty strings).
  void Member(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    Key(key);
    String(value);
  }
  // A JSON object this gateway rendered itself (never text from outside), written as it is.
  void RawObject(std::string_view json) { writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType); }
  void Int(int64_t value) { writer_.Int64(value); }
  void Bool(bool value) { writer_.Bool(value); }
  void StartObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void StartArray() { writer_.StartArray(); }
  void EndArray() { writer_.EndArray(); }
  std::string Take() { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_FHIR_JSON_OUT_H_
