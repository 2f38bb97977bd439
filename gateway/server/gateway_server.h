// GatewayServer: frontdoor-gateway assembled: configuration and network data, the SQLite store, group
// commit, the delivery dispatcher, and the gRPC services (ReferralService, FeedbackService,
// AuditService, grpc.health.v1.Health, server reflection) on one port; the BaRS door (FHIR over
// HTTPS) on its own when configured; and Prometheus
// metrics over HTTP, a plaintext port serving only grpc.health.v1.Health for probes, structured logs.
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
#ifndef FRONTDOOR_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define FRONTDOOR_GATEWAY_SERVER_GATEWAY_SERVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace prometheus {
class Registry;
}

namespace frontdoor::gateway {

struct GatewayOptions {
  std::string config_path;  // empty: the demo configuration
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "var/frontdoor";
  bool insecure_plaintext = false;
  std::string tls_cert;
  std::string tls_key;
  std::string client_ca;
  std::string client_crl_dir;  // revocation lists of client certificates (tls.client_crl_dir)
  std::map<std::string, std::string> connector_overrides;  // endpoint_id -> HOST:PORT
  // Mutual TLS towards the connectors (override the configuration's tls block; gateway/gateway_tls.h).
  std::string connector_ca;
  std::string connector_client_cert;
  std::string connector_client_key;
  // Overriding GatewayConfig.observability when set: HOST:PORT of the Prometheus /metrics
  // endpoint and of the plaintext health port (port 0 picks one; see metrics_port, health_port).
  std::string metrics_listen;
  std::string health_listen;
  // Overriding GatewayConfig.fhir_api.listen when set: HOST:PORT of the BaRS door (FHIR over HTTPS).
  std::string fhir_listen;
  // Overriding GatewayConfig.mllp.listen when set: HOST:PORT of the MLLP door (HL7 v2 over MLLP).
  std::string mllp_listen;
  // Overriding GatewayConfig.console.listen when set: HOST:PORT of the web console.
  std::string console_listen;
  // Where the metrics are kept (tests read it directly); null: a registry of the server's own.
  std::shared_ptr<prometheus::Registry> metrics_registry;
};

class GatewayServer {
 public:
  // Loads everything and starts serving. Returns INVALID_ARGUMENT / NOT_FOUND for configuration
  // problems, UNAVAILABLE when the data directory or the port cannot be had, FAILED_PRECONDITION for
  // a mode this build does not offer. `clock` must outlive the server.
  static absl::StatusOr<std::unique_ptr<GatewayServer>> Start(const GatewayOptions& options, const Clock* clock);
  ~GatewayServer();

  int port() const;
  // The bound ports of the metrics endpoint and the health port; 0 when not served.
  int metrics_port() const;
  int health_port() const;
  int fhir_port() const;     // the BaRS door's; 0 when not served
  int mllp_port() const;     // the MLLP door's; 0 when not served
  int console_port() const;  // the web console's; 0 when not served
  // The same as HOST:PORT (the configured host, the bound port); "" when not served.
  std::string metrics_address() const;
  std::string health_address() const;
  std::string fhir_address() const;
  std::string mllp_address() const;
  std::string console_address() const;
  // Graceful stop: both health endpoints say NOT_SERVING at once; the main port stops accepting
  // calls; calls in flight get observability.shutdown_grace_seconds (default 20) to finish and are
  // then cancelled; every queued commit completes (so every referral answered ACCEPTED is stored);
  // delivery workers finish the attempt in hand and record it; a final audit checkpoint is signed;
  // then the health port and the metrics endpoint close.
  void Shutdown();
  // Blocks until the server has shut down.
  void Wait();

 private:
  struct Parts;
  explicit GatewayServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_GATEWAY_SERVER_H_
