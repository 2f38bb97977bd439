#include "adapters/bars_headers.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace frontdoor::adapters {

namespace {

constexpr size_t kMaxHeaderValue = 8 * 1024;
constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";

// The header's JSON object, decoded from base64 (standard or URL-safe, padded or not).
absl::StatusOr<rapidjson::Document> DecodeObject(std::string_view header_value, const char* header) {
  const absl::string_view value(header_value.data(), header_value.size());
  if (value.size() > kMaxHeaderValue) return absl::InvalidArgumentError(absl::StrCat(header, " is too long"));
  std::string json;
  if (!absl::Base64Unescape(value, &json) && !absl::WebSafeBase64Unescape(value, &json)) {
    return absl::InvalidArgumentError(absl::StrCat(header, " is not base64"));
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(header, " is not a base64-encoded JSON object"));
  }
  return document;
}

std::string_view StringMember(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

}  // namespace

absl::StatusOr<std::string> EndUserOrganisationOds(std::string_view header_value) {
  constexpr char kHeader[] = "NHSD-End-User-Organisation";
  absl::StatusOr<rapidjson::Document> document = DecodeObject(header_value, kHeader);
  if (!document.ok()) return document.status();
  if (StringMember(*document, "resourceType") != "Organization") {
    return absl::InvalidArgumentError(absl::StrCat(kHeader, " is not an Organization"));
  }
  auto identifiers = document->FindMember("identifier");
  if (identifiers == document->MemberEnd() || !identifiers->value.IsArray()) return std::string();
  // Every ODS identifier must name one and the same organisation: a second, or an empty one, must
  // not slip a different claim past the check against the certificate.
  std::string ods;
  for (const rapidjson::Value& identifier : identifiers->value.GetArray()) {
    if (StringMember(identifier, "system") != kOdsSystem) continue;
    const std::string_view value = StringMember(identifier, "value");
    if (value.empty() || (!ods.empty() && value != ods)) {
      return absl::InvalidArgumentError(absl::StrCat(kHeader, " does not name one organisation by its ODS code"));
    }
    ods = std::string(value);
  }
  return ods;
}

absl::StatusOr<std::string> TargetIdentifier(std::string_view header_value) {
  constexpr char kHeader[] = "NHSD-Target-Identifier";
  absl::StatusOr<rapidjson::Document> document = DecodeObject(header_value, kHeader);
  if (!document.ok()) return document.status();
  std::string_view value = StringMember(*document, "value");
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(kHeader, " has no value"));
  const std::string_view system = StringMember(*document, "system");
  return absl::StrCat(absl::string_view(system.data(), system.size()), "|",
                      absl::string_view(value.data(), value.size()));
}

}  // namespace frontdoor::adapters
