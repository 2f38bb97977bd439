// EndpointTransport: how the delivery workers reach one endpoint. An outbox row holds the request
// to send as it was committed; a transport sends it the way that endpoint is reached (a connector
// organisation's ConnectorService over gRPC; later a referrer's own BaRS or MLLP endpoint) and
// says, for each row, what the endpoint answered in the terms the dispatcher acts on: delivered,
// failed and worth retrying (counting for the circuit breaker when the endpoint itself is down),
// or refused for good (a dead letter at once).
//
//   std::vector<SendOutcome> outcomes = transport.SendAll(rows, /*deadline=*/absl::Seconds(5));
//
// Thread-safety: one delivery worker uses a transport at a time.
#ifndef FRONTDOOR_GATEWAY_DELIVERY_ENDPOINT_TRANSPORT_H_
#define FRONTDOOR_GATEWAY_DELIVERY_ENDPOINT_TRANSPORT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gateway/store/delivery_outbox.h"

namespace frontdoor::gateway {

// What sending one row came to.
struct SendOutcome {
  bool delivered = false;
  std::string code;   // what the endpoint answered, for logs: "OK", "UNAVAILABLE", ...
  std::string error;  // a transport error text, never patient data: kept as the row's last error
  // The endpoint is down, overloaded or broken: counts towards its circuit breaker. Otherwise the
  // failure is about this one row, retried (and dead-lettered) on its own.
  bool endpoint_failure = false;
  // The endpoint refuses this row for good: resending cannot help, so it is a dead letter at once.
  bool permanent = false;
};

class EndpointTransport {
 public:
  virtual ~EndpointTransport() = default;

  // Sends every row of `rows` (its stored request, as is) at once, each with `deadline` from now,
  // and returns one outcome per row, in order, once every call has ended (bounded by the deadline).
  virtual std::vector<SendOutcome> SendAll(absl::Span<const OutboxItem* const> rows, absl::Duration deadline) = 0;

  // Before a half-open breaker's probe: have the transport try the endpoint now rather than at the
  // end of any reconnect backoff of its own, waiting at most `limit`, so that the breaker alone
  // paces the tries.
  virtual void ConnectNow(absl::Duration limit) {}
};

// For a transport that sends one row at a time, in order, on one connection (a referrer's endpoint
// files its feedback in the order it happened): each row with what is left of `deadline`; rows the
// deadline leaves no time for are failed unsent (retried, counting for the breaker).
std::vector<SendOutcome> SendOneByOne(absl::Span<const OutboxItem* const> rows, absl::Duration deadline,
                                      const std::function<SendOutcome(const OutboxItem&, absl::Duration)>& send);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DELIVERY_ENDPOINT_TRANSPORT_H_
