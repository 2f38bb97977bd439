// MllpDoor: HL7 v2 over MLLP for the interface engines of hospital wards, a thin adapter onto the
// same intake as gRPC's hl7v2 payload. A connection carries frames (0x0B message 0x1C 0x0D); each
// message goes to the SubmissionIntake and is answered, on the same connection and in the order the
// frames came, by the ACK the gRPC path returns in hl7v2_ack (enhanced mode when MSH-15 asks),
// framed and written in one write, only once the referral is committed.
//
// Who is calling: the client certificate's CN over TLS; with --insecure-plaintext, MSH-4 (the
// sending facility) of each message. The same Authorizer and per-identity limits as every door. A
// message the intake does not take (the caller may not send it, over a limit, the gateway busy or
// unable to record it) is answered with a NAK: AE when sending it again later may help, AR when
// not, with an ERR saying why.
//
// What a broken or hostile sender meets: bytes outside a frame, a start block inside a frame or a
// bad end block end the connection (after answering what came before, with a log line); a frame
// over the size limit gets an AR naming the limit when its MSH can be read, then the connection
// ends; a frame not finished within `frame_deadline` of its start block ends the connection; an
// idle connection is closed after `idle_timeout` (long: engines hold connections for days); at
// most `max_connections` at once; at most `max_in_flight` messages of one connection in the intake
// at once (reading pauses beyond it). Each connection runs on its own strand: none holds up another.
//
//   MllpDoor door(deps);
//   auto server = MllpServer::Start(loop.context(), options, &door);
//
// Thread-safety: the door is called from the IoLoop's threads; `deps` pointers must outlive it.
#ifndef FRONTDOOR_GATEWAY_MLLP_MLLP_DOOR_H_
#define FRONTDOOR_GATEWAY_MLLP_MLLP_DOOR_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "common/clock.h"
#include "gateway/intake/submission_intake.h"
#include "gateway/net/tcp_listener.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

struct MllpDoorDeps {
  const SubmissionIntake* intake = nullptr;
  const Authorizer* authorizer = nullptr;
  CallerLimiter* limiter = nullptr;  // the gRPC port's: one budget per caller; null: no limits
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const Clock* clock = nullptr;
  observability::GatewayMetrics* metrics = nullptr;  // null: not counted
};

struct MllpServerOptions {
  std::string listen;                              // HOST:PORT
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP (development)
  size_t max_connections = 64;
  size_t max_frame_bytes = (1 << 20) + 4096;          // a message of the intake's limit, framed
  size_t max_in_flight = 32;                          // per connection
  absl::Duration frame_deadline = absl::Seconds(30);  // from a frame's start block to its end
  absl::Duration idle_timeout = absl::Hours(24);      // no frame at all
  absl::Duration handshake_deadline = absl::Seconds(10);
};

class MllpServer {
 public:
  // UNAVAILABLE when the address cannot be had.
  static absl::StatusOr<std::unique_ptr<MllpServer>> Start(boost::asio::io_context& context,
                                                           const MllpServerOptions& options, MllpDoorDeps deps);
  ~MllpServer();

  int port() const { return listener_->port(); }
  std::string address() const { return listener_->address(); }
  size_t open_connections() const { return listener_->open_connections(); }
  // Stops accepting; open connections end when their peer closes or they idle out.
  void Close();

  struct Shared;  // what every connection holds: the options and the door's dependencies

 private:
  explicit MllpServer(std::shared_ptr<TcpListener> listener) : listener_(std::move(listener)) {}
  std::shared_ptr<TcpListener> listener_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_MLLP_MLLP_DOOR_H_
