#include "gateway/server/gateway_tls.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "grpcpp/security/credentials.h"

namespace frontdoor::gateway {

namespace {

// `flag` if set, else the configuration's `configured` resolved against the config file's folder.
std::string Pick(const std::string& flag, const std::string& configured, const std::string& config_path) {
  if (!flag.empty()) return flag;
  if (configured.empty()) return "";
  std::filesystem::path p(configured);
  if (p.is_relative() && !config_path.empty()) p = std::filesystem::path(config_path).parent_path() / p;
  return p.string();
}

// All three files or none.
absl::Status AllOrNone(const TlsFiles& files, const char* what) {
  const int given = !files.cert.empty() + !files.key.empty() + !files.ca.empty();
  if (given == 0 || given == 3) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " needs a certificate, a key and a CA file; only ", given, " of the three is given"));
}

}  // namespace

TlsFiles FeedbackPushTlsFiles(const GatewayTls& tls, const std::string& ca_file, const std::string& config_path) {
  TlsFiles files = tls.connectors;
  if (!ca_file.empty()) files.ca = Pick("", ca_file, config_path);
  return files;
}

absl::StatusOr<GatewayTls> ResolveGatewayTls(const GatewayOptions& options, const frontdoor::v1::GatewayConfig& config,
                                             absl::Time now) {
  const frontdoor::v1::TlsConfig& c = config.tls();
  const std::string& cfg = options.config_path;
  GatewayTls tls;
  tls.insecure_plaintext = options.insecure_plaintext;
  if (c.reload_interval_seconds() > 0) tls.refresh = absl::Seconds(c.reload_interval_seconds());
  tls.connectors = {Pick(options.connector_client_cert, c.connector_client_cert_file(), cfg),
                    Pick(options.connector_client_key, c.connector_client_key_file(), cfg),
                    Pick(options.connector_ca, c.connector_ca_file(), cfg), /*crl_dir=*/""};
  FRONTDOOR_RETURN_IF_ERROR(AllOrNone(tls.connectors, "mutual TLS to the connectors"));
  if (!tls.connectors.empty()) FRONTDOOR_RETURN_IF_ERROR(CheckTlsFiles(tls.connectors, TlsRole::kClient));
  if (tls.insecure_plaintext) return tls;

  tls.inbound = {Pick(options.tls_cert, c.cert_file(), cfg), Pick(options.tls_key, c.key_file(), cfg),
                 Pick(options.client_ca, c.client_ca_file(), cfg),
                 Pick(options.client_crl_dir, c.client_crl_dir(), cfg)};
  if (tls.inbound.empty()) {
    return absl::FailedPreconditionError(
        "no TLS configured: serve mutual TLS with --tls-cert FILE --tls-key FILE --client-ca FILE (or the "
        "configuration's tls block; scripts/dev-certs makes demo certificates), or, for local development only, "
        "run with --insecure-plaintext");
  }
  FRONTDOOR_RETURN_IF_ERROR(AllOrNone(tls.inbound, "mutual TLS (--tls-cert, --tls-key, --client-ca)"));
  FRONTDOOR_RETURN_IF_ERROR(CheckTlsFiles(tls.inbound, TlsRole::kServer));
  if (!tls.inbound.crl_dir.empty()) {
    FRONTDOOR_ASSIGN_OR_RETURN(tls.client_crls, CheckCrlDirectory(tls.inbound.crl_dir, tls.inbound.ca, now));
  }
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> GatewayServerCredentials(const GatewayTls& tls) {
  if (tls.insecure_plaintext) return grpc::InsecureServerCredentials();
  return MutualTlsServerCredentials(tls.inbound, tls.refresh);
}

std::shared_ptr<grpc::ChannelCredentials> ConnectorChannelCredentials(const GatewayTls& tls) {
  if (tls.connectors.empty()) return grpc::InsecureChannelCredentials();
  return MutualTlsChannelCredentials(tls.connectors, tls.refresh);
}

}  // namespace frontdoor::gateway
