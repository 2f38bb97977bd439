// The BaRS request headers that carry FHIR resources: NHSD-End-User-Organisation (a base64 JSON
// Organization: who the request is made for, by its ODS code) and NHSD-Target-Identifier (a base64
// JSON {"value", "system"}: the service the request is for). frontdoor reads them to check them
// against the client certificate and to log them; it never needs them to decide.
//
//   absl::StatusOr<std::string> ods = EndUserOrganisationOds(header_value);
//
// Pure and thread-safe. Hostile input gets INVALID_ARGUMENT naming the header, never a crash:
// values over 8 KiB, bad base64, not JSON, not the expected shape.
#ifndef FRONTDOOR_ADAPTERS_BARS_HEADERS_H_
#define FRONTDOOR_ADAPTERS_BARS_HEADERS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace frontdoor::adapters {

// The ODS code of NHSD-End-User-Organisation (Organization.identifier with system
// https://fhir.nhs.uk/Id/ods-organization-code); "" when it names none.
absl::StatusOr<std::string> EndUserOrganisationOds(std::string_view header_value);

// NHSD-Target-Identifier as "system|value".
absl::StatusOr<std::string> TargetIdentifier(std::string_view header_value);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_BARS_HEADERS_H_
