#include "tools/cli_credentials.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/tls_config.h"

namespace frontdoor::tools {

namespace {

constexpr char kDefaultCertDir[] = "var/dev-certs";

void FromEnv(std::string* field, const char* name) {
  if (!field->empty()) return;
  const char* v = std::getenv(name);
  if (v != nullptr) *field = v;
}

absl::StatusOr<std::string> Read(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The identities with a certificate in `dir` (IDENTITY.crt, the CA's ca.crt aside), comma-separated.
std::string IdentitiesIn(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::filesystem::path& path = entry.path();
    if (path.extension() == ".crt" && path.stem() != "ca") names.push_back(path.stem().string());
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

}  // namespace

void ApplyEnvironment(CliTlsOptions* options) {
  FromEnv(&options->cert, "FRONTDOOR_TLS_CERT");
  FromEnv(&options->key, "FRONTDOOR_TLS_KEY");
  FromEnv(&options->ca, "FRONTDOOR_TLS_CA");
  FromEnv(&options->cert_dir, "FRONTDOOR_CERT_DIR");
  std::error_code ec;
  if (options->cert_dir.empty() && std::filesystem::is_directory(kDefaultCertDir, ec)) {
    options->cert_dir = kDefaultCertDir;
  }
}

absl::StatusOr<CliConnection> ResolveCliConnection(const CliTlsOptions& options) {
  CliConnection conn;
  if (options.insecure_plaintext) {
    conn.credentials = grpc::InsecureChannelCredentials();
    conn.send_identity_metadata = true;
    conn.description = "plaintext development mode (--insecure-plaintext)";
    return conn;
  }
  std::string cert = options.cert, key = options.key, ca = options.ca;
  std::error_code ec;
  if (cert.empty() && key.empty() && !options.cert_dir.empty()) {
    if (!std::filesystem::is_directory(options.cert_dir, ec)) {
      return absl::NotFoundError(absl::StrCat("the certificate directory ", options.cert_dir,
                                              " (--cert-dir or FRONTDOOR_CERT_DIR) does not exist: scripts/dev-certs ",
                                              options.cert_dir, " makes the demo's certificates there"));
    }
    if (options.identity.empty()) {
      return absl::NotFoundError(
          absl::StrCat("say who you are: --as IDENTITY (or FRONTDOOR_CLIENT); the identities "
                       "with a certificate in ",
                       options.cert_dir, " are ", IdentitiesIn(options.cert_dir)));
    }
    cert = options.cert_dir + "/" + options.identity + ".crt";
    key = options.cert_dir + "/" + options.identity + ".key";
    if (!std::filesystem::exists(cert, ec)) {
      return absl::NotFoundError(absl::StrCat("no certificate for '", options.identity, "' in ", options.cert_dir,
                                              ": the identities with one there are ", IdentitiesIn(options.cert_dir),
                                              " (--as one of them)"));
    }
  }
  if (ca.empty() && !options.cert_dir.empty()) ca = options.cert_dir + "/ca.crt";
  if (cert.empty() && key.empty()) {
    return absl::NotFoundError(
        "found no client certificate (no --tls-cert/--tls-key, no --cert-dir, and no var/dev-certs in this "
        "folder). Give one:\n"
        "  --cert-dir DIR (or FRONTDOOR_CERT_DIR): DIR/IDENTITY.crt and .key for --as IDENTITY, and DIR/ca.crt\n"
        "  --tls-cert FILE --tls-key FILE --ca FILE (or FRONTDOOR_TLS_CERT, FRONTDOOR_TLS_KEY, FRONTDOOR_TLS_CA)\n"
        "  or run from the project folder, once scripts/dev-certs has made var/dev-certs there\n"
        "  --insecure-plaintext only for a gateway run with --insecure-plaintext (scripts/demo --insecure-plaintext)");
  }
  if (cert.empty() || key.empty()) return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  if (ca.empty()) {
    return absl::InvalidArgumentError("a client certificate needs the CA of the gateway's certificate: --ca FILE");
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> text = Read(ca, "CA file");
  if (!text.ok()) return text.status();
  ssl.pem_root_certs = *text;
  if (text = Read(cert, "certificate"); !text.ok()) return text.status();
  ssl.pem_cert_chain = *text;
  if (text = Read(key, "private key"); !text.ok()) return text.status();
  ssl.pem_private_key = *text;
  absl::StatusOr<std::string> cn = gateway::CertificateCommonName(cert);
  if (!cn.ok()) return cn.status();
  if (!options.identity.empty() && *cn != options.identity) {
    return absl::InvalidArgumentError(absl::StrCat("--as ", options.identity, " but the certificate ", cert,
                                                   " is for '", *cn, "': the certificate decides who you are"));
  }
  conn.credentials = grpc::SslCredentials(ssl);
  conn.description = absl::StrCat("mutual TLS as ", *cn, " (", cert, ")");
  return conn;
}

std::unique_ptr<grpc::ClientContext> GatewayCall::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  }
  if (!identity_metadata.empty()) context->AddMetadata(gateway::kClientMetadataKey, identity_metadata);
  return context;
}

}  // namespace frontdoor::tools
