// MllpFeedbackTransport: feedback sent back to a ward the way its interface engine takes messages,
// HL7 v2 over MLLP, as an EndpointTransport: the outbox's kFeedback rows for endpoint "mllp:<ODS>"
// go through the delivery workers with the same backoff, circuit breaker, dead letters and operator
// replay as deliveries to connectors. A row holds its event's seq; the transport reads the event
// and renders the RRI^I12 WatchFeedback carries (adapters/feedback_messages.h) when it sends it,
// with MSH-10 `FB<event id>` on every rendering, so a resend is recognisable.
//
// The engine's acknowledgment decides: AA or CA is delivered; AR or CR refuses the message for
// good (a dead letter at once, with MSA-1 and the engine's error text as the reason); AE or CE, no
// acknowledgment, a broken connection or a time-out is retried (counting for the breaker).
//
//   auto transport = MllpFeedbackTransport::Create({"RMC", "engine.example:2576", ""}, tls, store);
//
// Thread-safety: as EndpointTransport (one worker at a time).
#ifndef FRONTDOOR_GATEWAY_MLLP_MLLP_FEEDBACK_TRANSPORT_H_
#define FRONTDOOR_GATEWAY_MLLP_MLLP_FEEDBACK_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "gateway/delivery/endpoint_transport.h"
#include "gateway/mllp/mllp_client.h"
#include "gateway/store/feedback_log.h"

namespace frontdoor::gateway {

// The outbox endpoint id of a referrer's MLLP feedback destination.
std::string MllpFeedbackEndpoint(const std::string& referrer_ods);

struct MllpFeedbackTarget {
  std::string referrer_ods;
  std::string address;      // HOST:PORT
  std::string server_name;  // what its certificate must name; "" for the host
};

class MllpFeedbackTransport final : public EndpointTransport {
 public:
  // INVALID_ARGUMENT for an address that is not HOST:PORT.
  static absl::StatusOr<std::unique_ptr<MllpFeedbackTransport>> Create(MllpFeedbackTarget target,
                                                                       std::shared_ptr<boost::asio::ssl::context> tls,
                                                                       FeedbackLog* feedback);

  std::vector<SendOutcome> SendAll(absl::Span<const OutboxItem* const> rows, absl::Duration deadline) override;

 private:
  MllpFeedbackTransport(std::unique_ptr<MllpClient> client, FeedbackLog* feedback)
      : client_(std::move(client)), feedback_(feedback) {}
  SendOutcome Send(const OutboxItem& row, absl::Duration deadline);

  std::unique_ptr<MllpClient> client_;
  FeedbackLog* const feedback_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_MLLP_MLLP_FEEDBACK_TRANSPORT_H_
