#include "gateway/bars/bars_request.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "adapters/bars_headers.h"

namespace frontdoor::gateway {

using adapters::BarsError;

bool IsUuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

absl::StatusOr<observability::CallIds> BarsCallIds(const HttpExchange& request, BarsError* error) {
  const auto request_id = request.headers.find("x-request-id");
  const auto correlation_id = request.headers.find("x-correlation-id");
  if (request_id == request.headers.end()) {
    *error = {400, "REC_BAD_REQUEST", "required", "The X-Request-Id header is required (a UUID naming this request)."};
    return absl::InvalidArgumentError(error->diagnostics);
  }
  if (!IsUuid(request_id->second)) {
    *error = {400, "REC_BAD_REQUEST", "invalid", "The X-Request-Id header must be a UUID."};
    return absl::InvalidArgumentError(error->diagnostics);
  }
  if (correlation_id != request.headers.end() && !IsUuid(correlation_id->second)) {
    *error = {400, "REC_BAD_REQUEST", "invalid", "The X-Correlation-Id header must be a UUID."};
    return absl::InvalidArgumentError(error->diagnostics);
  }
  return observability::ResolveCallIds(request_id->second,
                                       correlation_id == request.headers.end()
                                           ? std::optional<std::string_view>()
                                           : std::optional<std::string_view>(correlation_id->second));
}

absl::StatusOr<std::string> BarsIdentity(const HttpExchange& request, IdentitySource source, BarsError* error) {
  const std::string& identity =
      source == IdentitySource::kTlsCertificate ? request.tls_identity : request.Header(kFrontdoorClientHeader);
  if (identity.empty() || !IsWellFormedIdentity(identity)) {
    *error = {401, "REC_UNAUTHORIZED", "login",
              source == IdentitySource::kTlsCertificate
                  ? "A client certificate naming the calling organisation is required."
                  : "The X-Frontdoor-Client header (the calling organisation's ODS code) is required."};
    return absl::UnauthenticatedError(error->diagnostics);
  }
  return identity;
}

absl::Status CheckBarsOrganisation(const HttpExchange& request, const std::string& identity, BarsError* error) {
  const auto header = request.headers.find("nhsd-end-user-organisation");
  if (header == request.headers.end()) return absl::OkStatus();
  absl::StatusOr<std::string> ods = adapters::EndUserOrganisationOds(header->second);
  if (!ods.ok()) {
    *error = {400, "REC_BAD_REQUEST", "invalid", std::string(ods.status().message())};
    return ods.status();
  }
  if (!ods->empty() && *ods != identity) {
    *error = {403, "REC_FORBIDDEN", "forbidden",
              absl::StrCat("NHSD-End-User-Organisation names ", *ods, " but the client certificate is ", identity,
                           ": an organisation sends for itself.")};
    return absl::PermissionDeniedError(error->diagnostics);
  }
  return absl::OkStatus();
}

namespace {
// A header's value for a log line: bounded, whatever the sender put there.
std::string Bounded(std::string value) {
  if (value.size() > 128) value.resize(128);
  return value;
}
}  // namespace

std::vector<observability::LogField> BarsHeaderLogFields(const HttpExchange& request) {
  std::vector<observability::LogField> fields;
  if (auto it = request.headers.find("nhsd-end-user-organisation"); it != request.headers.end()) {
    absl::StatusOr<std::string> ods = adapters::EndUserOrganisationOds(it->second);
    fields.emplace_back("end_user_organisation", ods.ok() ? Bounded(*ods) : std::string("(unreadable)"));
  }
  if (auto it = request.headers.find("nhsd-target-identifier"); it != request.headers.end()) {
    absl::StatusOr<std::string> target = adapters::TargetIdentifier(it->second);
    fields.emplace_back("target_identifier", target.ok() ? Bounded(*target) : std::string("(unreadable)"));
  }
  if (request.headers.count("nhsd-requesting-software") > 0) fields.emplace_back("requesting_software", true);
  if (request.headers.count("nhsd-requesting-practitioner") > 0) fields.emplace_back("requesting_practitioner", true);
  return fields;
}

}  // namespace frontdoor::gateway
