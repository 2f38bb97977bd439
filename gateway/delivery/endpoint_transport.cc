#include "gateway/delivery/endpoint_transport.h"

namespace frontdoor::gateway {

std::vector<SendOutcome> SendOneByOne(absl::Span<const OutboxItem* const> rows, absl::Duration deadline,
                                      const std::function<SendOutcome(const OutboxItem&, absl::Duration)>& send) {
  std::vector<SendOutcome> outcomes;
  outcomes.reserve(rows.size());
  const absl::Time until = absl::Now() + deadline;
  for (const OutboxItem* row : rows) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) {
      outcomes.push_back({false, "DEADLINE_EXCEEDED", "not sent: the batch's deadline passed", true, false});
      continue;
    }
    outcomes.push_back(send(*row, left));
  }
  return outcomes;
}

}  // namespace frontdoor::gateway
