// What the BaRS door reads from every request before it looks at the route: the call's ids
// (X-Request-Id and X-Correlation-Id, which BaRS requires and mirrors back), who is calling (the
// verified client certificate's CN; with --insecure-plaintext, the X-Frontdoor-Client header) and
// whether the other BaRS headers contradict that (NHSD-End-User-Organisation naming another
// organisation). The answers are BaRS errors, so the door can send them as they are.
//
//   absl::StatusOr<observability::CallIds> ids = BarsCallIds(exchange);             // 400 without
//   absl::StatusOr<std::string> who = BarsIdentity(exchange, IdentitySource::kTlsCertificate);  // 401
//   std::vector<observability::LogField> seen = BarsHeaderLogFields(exchange);
//
// Pure and thread-safe.
#ifndef FRONTDOOR_GATEWAY_BARS_BARS_REQUEST_H_
#define FRONTDOOR_GATEWAY_BARS_BARS_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/bars_outcomes.h"
#include "gateway/net/http_exchange.h"
#include "gateway/security/caller_identity.h"
#include "observability/request_ids.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

inline constexpr char kFrontdoorClientHeader[] = "x-frontdoor-client";

// True for a UUID in its 8-4-4-4-12 hex form (either case), as BaRS declares both ids.
bool IsUuid(const std::string& text);

// X-Request-Id is required and must be a UUID; X-Correlation-Id, when sent, must be one too (absent:
// the request id). A 400 REC_BAD_REQUEST otherwise.
absl::StatusOr<observability::CallIds> BarsCallIds(const HttpExchange& request, adapters::BarsError* error);

// The caller's identity by `source`; a 401 REC_UNAUTHORIZED when there is none or it is not
// well-formed.
absl::StatusOr<std::string> BarsIdentity(const HttpExchange& request, IdentitySource source,
                                         adapters::BarsError* error);

// OK, or a 403 REC_FORBIDDEN when NHSD-End-User-Organisation names an ODS code other than the
// caller's, or a 400 when it cannot be read. Absent: OK (BaRS's proxy adds it; a direct caller's
// certificate already says who it is).
absl::Status CheckBarsOrganisation(const HttpExchange& request, const std::string& identity,
                                   adapters::BarsError* error);

// The BaRS headers worth a log line, without patient data: the organisation and target named,
// and the requesting software's presence.
std::vector<observability::LogField> BarsHeaderLogFields(const HttpExchange& request);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_BARS_BARS_REQUEST_H_
