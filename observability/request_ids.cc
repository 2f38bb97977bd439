#include "observability/request_ids.h"

#include <random>

#include "common/uuid.h"

namespace frontdoor::observability {

bool IsAcceptableCallId(std::string_view id) {
  if (id.empty() || id.size() > kMaxCallIdLength) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t hi = rng();
  const uint64_t lo = rng();
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return FormatUuid(b);
}

CallIds ResolveCallIds(const std::optional<std::string_view>& request_id,
                       const std::optional<std::string_view>& correlation_id) {
  CallIds ids;
  if (request_id.has_value() && IsAcceptableCallId(*request_id)) {
    ids.request_id = std::string(*request_id);
    ids.request_id_from_caller = true;
  } else {
    ids.request_id = NewRequestId();
  }
  if (correlation_id.has_value() && IsAcceptableCallId(*correlation_id)) {
    ids.correlation_id = std::string(*correlation_id);
    ids.correlation_id_from_caller = true;
  } else if (correlation_id.has_value()) {
    ids.correlation_id = NewRequestId();  // sent but unusable: a fresh one, never the caller's text
  } else {
    ids.correlation_id = ids.request_id;
  }
  return ids;
}

}  // namespace frontdoor::observability
