// Reading a protobuf message's wire bytes for what its parsed form hides: a singular field, or a
// oneof, that occurs more than once. The protobuf parser accepts that and merges the occurrences
// (the last scalar wins; two sub-messages are merged into one), so a typed referral sent as two
// concatenated messages would be read as one person made of two. The intake refuses such bytes
// instead of guessing.
//
//   std::optional<std::string> twice = FirstRepeatedSingularField(bytes, *Request::descriptor());
//   // "payload" (a oneof set twice), "referral.person", "referral.person.nhs_number", ...
//
// Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_INTAKE_WIRE_FIELDS_H_
#define FRONTDOOR_GATEWAY_INTAKE_WIRE_FIELDS_H_

#include <optional>
#include <string>
#include <string_view>

#include "google/protobuf/descriptor.h"

namespace frontdoor::gateway {

// The dotted path (field names from `type`, a oneof by its name) of the first singular field or
// oneof that occurs more than once in `bytes`, looking inside singular and repeated sub-messages.
// nullopt when there is none, or when the bytes are not well-formed wire format (the parser will
// refuse those itself). Unknown fields are skipped.
std::optional<std::string> FirstRepeatedSingularField(std::string_view bytes, const google::protobuf::Descriptor& type);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_WIRE_FIELDS_H_
