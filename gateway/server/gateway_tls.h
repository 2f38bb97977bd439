// The gateway's transport security, resolved from its flags and configuration: mutual TLS towards
// referrers, connectors and IG officers (inbound), and towards the connector organisations
// (outbound). Flags win over the configuration's `tls` block; relative paths in the configuration
// are taken from the configuration file's folder. See gateway/security/tls_config.h for what the
// credentials check and how certificates reload.
//
//   FRONTDOOR_ASSIGN_OR_RETURN(GatewayTls tls, ResolveGatewayTls(options, config, clock.Now()));
//   builder.AddListeningPort(options.listen, GatewayServerCredentials(tls), &port);
//   auto channel = grpc::CreateChannel(address, ConnectorChannelCredentials(tls));
//
// Thread-safety: free functions; GatewayTls is a value.
#ifndef FRONTDOOR_GATEWAY_SERVER_GATEWAY_TLS_H_
#define FRONTDOOR_GATEWAY_SERVER_GATEWAY_TLS_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/security/tls_config.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace frontdoor::gateway {

struct GatewayTls {
  bool insecure_plaintext = false;        // inbound without TLS (--insecure-plaintext)
  TlsFiles inbound;                       // server certificate, key, client CA; empty when plaintext
  TlsFiles connectors;                    // client certificate, key, connectors' CA; empty: plaintext
  std::optional<CrlSummary> client_crls;  // what inbound.crl_dir holds, when one is given
  absl::Duration refresh = kDefaultTlsRefresh;
};

// Returns FAILED_PRECONDITION when neither mutual TLS nor --insecure-plaintext is configured (the
// message says how to do either), INVALID_ARGUMENT when only some of a set of files is given, and
// CheckTlsFiles' errors for files that are unreadable, mismatched or expired, and CheckCrlDirectory's
// for a client CRL directory (tls.client_crl_dir, --client-crl-dir), judged at `now`.
absl::StatusOr<GatewayTls> ResolveGatewayTls(const GatewayOptions& options, const frontdoor::v1::GatewayConfig& config,
                                             absl::Time now);

// Mutual TLS server credentials, or insecure ones in plaintext mode.
std::shared_ptr<grpc::ServerCredentials> GatewayServerCredentials(const GatewayTls& tls);

// The files for pushing feedback to a referrer's own endpoint: the gateway's client certificate and
// key (the connectors' ones) and `ca_file` (relative to the config file's folder), or the
// connectors' CA when it is empty.
TlsFiles FeedbackPushTlsFiles(const GatewayTls& tls, const std::string& ca_file, const std::string& config_path);

// Mutual TLS channel credentials for the connectors, or insecure ones when none are configured.
std::shared_ptr<grpc::ChannelCredentials> ConnectorChannelCredentials(const GatewayTls& tls);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_GATEWAY_TLS_H_
