// Request and correlation ids, as NHS BaRS uses them: `x-request-id` names one call, and
// `x-correlation-id` names the whole exchange across systems. A caller's ids are honoured when they
// are well-formed (1..128 visible ASCII characters); otherwise, or when absent, the gateway makes a
// fresh UUID. An absent correlation id is the request id. Both are echoed in the response's
// initial metadata (CallObserver, observability/call_observer.h) and carried in every log line of
// the call.
//
//   CallIds ids = ResolveCallIds(request_id_or_null, correlation_id_or_null);
//
// Pure apart from NewRequestId's randomness. Thread-safe.
#ifndef FRONTDOOR_OBSERVABILITY_REQUEST_IDS_H_
#define FRONTDOOR_OBSERVABILITY_REQUEST_IDS_H_

#include <optional>
#include <string>
#include <string_view>

namespace frontdoor::observability {

inline constexpr char kRequestIdKey[] = "x-request-id";
inline constexpr char kCorrelationIdKey[] = "x-correlation-id";
inline constexpr size_t kMaxCallIdLength = 128;

// True for 1..kMaxCallIdLength characters, each visible ASCII (0x21..0x7E).
bool IsAcceptableCallId(std::string_view id);

// A random (version 4) UUID, lower case.
std::string NewRequestId();

struct CallIds {
  std::string request_id;
  std::string correlation_id;
  bool request_id_from_caller = false;
  bool correlation_id_from_caller = false;
};

// The call's ids from what the caller sent (nullopt: not sent).
CallIds ResolveCallIds(const std::optional<std::string_view>& request_id,
                       const std::optional<std::string_view>& correlation_id);

}  // namespace frontdoor::observability

#endif  // FRONTDOOR_OBSERVABILITY_REQUEST_IDS_H_
