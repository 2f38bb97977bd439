// FeedbackPushTransport: feedback pushed to a referring organisation's own $process-message, the
// BaRS way, as an EndpointTransport: the outbox's kFeedback rows for endpoint "bars:<ODS>" go
// through the delivery workers with the same backoff, circuit breaker, dead letters and operator
// replay as deliveries to connectors. A row holds its event's seq; the transport reads the event
// and renders it (adapters/bars_feedback_message.h) when it sends it, so a resend is the same
// message with the same message id and X-Request-Id (a BaRS retry).
//
// Each POST: Content-Type application/fhir+json; X-Request-Id the message id; X-Correlation-Id
// derived from the referral (the same for all its feedback); NHSD-Target-Identifier the
// referrer's ODS code. Over https it presents the gateway's client certificate and verifies the
// referrer's server against the CA configured for it.
//
// What the referrer answers decides: 2xx, or 409 (REC_CONFLICT: it has that message already), is
// delivered; 408, 429 and 5xx, a time-out or no connection say the endpoint is down or busy
// (retried; they count for the breaker); any other 4xx refuses the message for good (a dead letter
// at once, with the status and the BaRS code as its error).
//
//   auto transport = std::make_unique<FeedbackPushTransport>(FeedbackPushTarget{"P85901", url}, tls, store);
//
// Thread-safety: as EndpointTransport (one worker at a time).
#ifndef FRONTDOOR_GATEWAY_BARS_FEEDBACK_PUSH_TRANSPORT_H_
#define FRONTDOOR_GATEWAY_BARS_FEEDBACK_PUSH_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "gateway/delivery/endpoint_transport.h"
#include "gateway/net/http_client.h"
#include "gateway/store/feedback_log.h"

namespace frontdoor::gateway {

// The outbox endpoint id of a referrer's feedback endpoint.
std::string FeedbackPushEndpoint(const std::string& referrer_ods);

struct FeedbackPushTarget {
  std::string referrer_ods;
  std::string base_url;  // the referrer's FHIR base; messages go to BASE/$process-message
};

class FeedbackPushTransport final : public EndpointTransport {
 public:
  // INVALID_ARGUMENT for a base URL that is not http(s); `tls` is needed for https.
  static absl::StatusOr<std::unique_ptr<FeedbackPushTransport>> Create(FeedbackPushTarget target,
                                                                       std::shared_ptr<boost::asio::ssl::context> tls,
                                                                       FeedbackLog* feedback);

  std::vector<SendOutcome> SendAll(absl::Span<const OutboxItem* const> rows, absl::Duration deadline) override;

 private:
  FeedbackPushTransport(FeedbackPushTarget target, std::unique_ptr<HttpClient> client, FeedbackLog* feedback);
  SendOutcome Send(const OutboxItem& row, absl::Duration deadline);

  const FeedbackPushTarget target_;
  std::unique_ptr<HttpClient> client_;
  FeedbackLog* const feedback_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_BARS_FEEDBACK_PUSH_TRANSPORT_H_
