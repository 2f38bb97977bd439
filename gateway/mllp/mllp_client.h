// MllpClient: the gateway sending HL7 v2 over MLLP to a referrer's interface engine (feedback as
// RRI^I12). One connection, kept open between messages as engines expect and opened again when it
// broke; over TLS it presents the gateway's client certificate and verifies the engine's server
// certificate against the CA configured for it and the expected name.
//
//   MllpClient client("engine.example", "2576", tls_context, "engine.example");
//   absl::StatusOr<std::string> ack = client.Send(er7, absl::Seconds(5));   // the ACK message
//
// An error status means no acknowledgment came (UNAVAILABLE: no connection, the TLS handshake
// failed, the connection broke or the answer was not a frame; DEADLINE_EXCEEDED: nothing within
// the deadline). Not thread-safe: one caller at a time (a delivery worker).
#ifndef FRONTDOOR_GATEWAY_MLLP_MLLP_CLIENT_H_
#define FRONTDOOR_GATEWAY_MLLP_MLLP_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/ssl/context.hpp"
#include "gateway/net/outbound_stream.h"

namespace frontdoor::gateway {

class MllpClient {
 public:
  // `tls` null: plain TCP. `server_name`: what the server's certificate must name.
  MllpClient(std::string host, std::string port, std::shared_ptr<boost::asio::ssl::context> tls,
             std::string server_name);

  // Frames and sends `message`, and returns the message of the frame that answers it.
  absl::StatusOr<std::string> Send(std::string_view message, absl::Duration deadline);

 private:
  OutboundStream stream_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_MLLP_MLLP_CLIENT_H_
