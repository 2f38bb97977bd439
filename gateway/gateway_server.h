// GatewayServer: frontdoor-gateway assembled: configuration and network data, the SQLite store, group
// commit, the delivery dispatcher, and the gRPC services (ReferralService, FeedbackService,
// AuditService, grpc.health.v1.Health, server reflection) on one port.
//
//   GatewayOptions options;
//   options.listen = "127.0.0.1:0";
//   options.data_dir = dir;
//   options.insecure_plaintext = true;
//   absl::StatusOr<std::unique_ptr<GatewayServer>> server = GatewayServer::Start(options, &clock);
//   int port = (*server)->port();
//   (*server)->Shutdown();
//
// Thread-safety: Shutdown may be called from any thread (a signal handler thread, say).
#ifndef FRONTDOOR_GATEWAY_GATEWAY_SERVER_H_
#define FRONTDOOR_GATEWAY_GATEWAY_SERVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/clock.h"

namespace frontdoor::gateway {

struct GatewayOptions {
  std::string config_path;  // empty: the demo configuration
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "var/frontdoor";
  bool insecure_plaintext = false;
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  std::map<std::string, std::string> connector_overrides;  // endpoint_id -> HOST:PORT
  // Mutual TLS towards the connectors (override the configuration's tls block; gateway/gateway_tls.h).
  std::string connector_ca;
  std::string connector_client_cert;
  std::string connector_client_key;
};

class GatewayServer {
 public:
  // Loads everything and starts serving. Returns INVALID_ARGUMENT / NOT_FOUND for configuration
  // problems, UNAVAILABLE when the data directory or the port cannot be had, FAILED_PRECONDITION for
  // a mode this build does not offer. `clock` must outlive the server.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(const GatewayOptions& options, const Clock* clock);
  ~GatewayServer();

  int port() const;
  // Stops accepting calls, finishes those in flight, commits what is queued, stops delivery.
  void Shutdown();
  // Blocks until the server has shut down.
  void Wait();

 private:
  struct Parts;
  explicit GatewayServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_GATEWAY_SERVER_H_
