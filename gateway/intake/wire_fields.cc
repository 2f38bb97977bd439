#include "gateway/intake/wire_fields.h"

#include <map>
#include <set>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace frontdoor::gateway {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Nesting is bounded by the caller's message size; this bound only keeps a hostile message from
// recursing deeper than the parser itself would accept (protobuf's default recursion limit).
constexpr int kMaxDepth = 100;

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Scans one message's bytes. Returns false when they are not well-formed (nothing is reported).
bool Scan(std::string_view bytes, const Descriptor& type, const std::string& prefix, int depth,
          std::optional<std::string>* found) {
  if (depth > kMaxDepth) return false;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  std::set<int> seen_fields;
  std::set<int> seen_oneofs;
  while (!found->has_value()) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.CurrentPosition() == static_cast<int>(bytes.size());  // the end, or a bad tag
    const int number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const FieldDescriptor* field = type.FindFieldByNumber(number);
    const bool delimited = WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (field == nullptr || (field->is_repeated() && field->type() != FieldDescriptor::TYPE_MESSAGE) ||
        (field->type() == FieldDescriptor::TYPE_MESSAGE && !delimited)) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    if (!field->is_repeated()) {
      if (const auto* oneof = field->real_containing_oneof()) {
        if (!seen_oneofs.insert(oneof->index()).second) {
          *found = Join(prefix, oneof->name());
          return true;
        }
      } else if (!seen_fields.insert(number).second) {
        *found = Join(prefix, field->name());
        return true;
      }
    }
    if (field->type() != FieldDescriptor::TYPE_MESSAGE) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return false;
    const void* data = nullptr;
    int available = 0;
    std::string copy;
    if (in.GetDirectBufferPointer(&data, &available) && available >= static_cast<int>(length)) {
      const std::string_view inner(static_cast<const char*>(data), length);
      if (!Scan(inner, *field->message_type(), Join(prefix, field->name()), depth + 1, found)) return false;
      in.Skip(static_cast<int>(length));
    } else {
      if (!in.ReadString(&copy, static_cast<int>(length))) return false;
      if (!Scan(copy, *field->message_type(), Join(prefix, field->name()), depth + 1, found)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> FirstRepeatedSingularField(std::string_view bytes, const Descriptor& type) {
  std::optional<std::string> found;
  if (!Scan(bytes, type, "", 0, &found)) return std::nullopt;
  return found;
}

}  // namespace frontdoor::gateway
