// How the `frontdoor` CLI connects: mutual TLS with a client certificate (the normal way), or the
// plaintext development mode of a gateway run with --insecure-plaintext.
//
// Where the certificate comes from, first match wins:
//   1. --insecure-plaintext: no TLS; --as is sent as x-frontdoor-client metadata.
//   2. --tls-cert FILE --tls-key FILE (or $FRONTDOOR_TLS_CERT / $FRONTDOOR_TLS_KEY), with the CA
//      that signed the gateway's certificate from --ca FILE ($FRONTDOOR_TLS_CA) or CERT_DIR/ca.crt.
//   3. a certificate directory, --cert-dir DIR ($FRONTDOOR_CERT_DIR, default var/dev-certs when it
//      exists, as scripts/dev-certs makes it): --as P85901 picks DIR/P85901.crt and DIR/P85901.key,
//      and DIR/ca.crt.
//   4. nothing of the above: an error saying no certificate was found and how to give one. Never
//      plaintext unless asked for: a gateway serving mutual TLS would only close the connection.
//
//   CliTlsOptions options;  // filled from flags, then:
//   ApplyEnvironment(&options);
//   absl::StatusOr<CliConnection> conn = ResolveCliConnection(options);
//   GatewayCall call{grpc::CreateChannel(target, conn->credentials),
//                    conn->send_identity_metadata ? options.identity : "", 30, target};
//   stub->GetReferral(call.NewContext().get(), request, &response);
//
// Failures: NOT_FOUND for no certificate at all, for an identity with none in the directory (naming
// the identities that have one), for no --as with a directory of several (naming them), and for a
// certificate, key or CA that cannot be read (the path); INVALID_ARGUMENT for a certificate without
// a CA, or --as naming someone other than the certificate's CN. Each message says what to give.
#ifndef FRONTDOOR_TOOLS_CLI_CREDENTIALS_H_
#define FRONTDOOR_TOOLS_CLI_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace frontdoor::tools {

struct CliTlsOptions {
  std::string identity;  // --as
  std::string cert, key, ca, cert_dir;
  bool insecure_plaintext = false;
};

// Fills fields left empty from $FRONTDOOR_TLS_CERT, $FRONTDOOR_TLS_KEY, $FRONTDOOR_TLS_CA,
// $FRONTDOOR_CERT_DIR, and the default certificate directory var/dev-certs if it exists.
void ApplyEnvironment(CliTlsOptions* options);

struct CliConnection {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  bool send_identity_metadata = false;  // plaintext development mode
  std::string description;              // for --verbose and warnings: "mutual TLS as P85901 (...)"
};

absl::StatusOr<CliConnection> ResolveCliConnection(const CliTlsOptions& options);

// What every call of one CLI run shares.
struct GatewayCall {
  std::shared_ptr<grpc::Channel> channel;
  std::string identity_metadata;  // sent as x-frontdoor-client when not empty (plaintext mode only)
  int timeout_seconds = 30;       // the deadline of each call; 0 for none (watch, unless --timeout)
  std::string target;             // HOST:PORT, for what an error says to do

  // A context for one call, with the deadline and the identity metadata. Not thread-safe to share.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
};

}  // namespace frontdoor::tools

#endif  // FRONTDOOR_TOOLS_CLI_CREDENTIALS_H_
