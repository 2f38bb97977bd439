// Mutual TLS for the gateway and its peers, on gRPC's TLS credentials (OpenSSL underneath).
//
// The gateway serves with MutualTlsServerCredentials: its certificate and key, and a client CA; a
// client must present a certificate that chains to that CA or the handshake fails and no handler
// ever runs. The caller's identity is then the certificate's Subject CN (gateway/caller_identity.h).
// The gateway reaches connector organisations with MutualTlsChannelCredentials: it verifies their
// server certificate (chain to the configured CA, and the host name or IP address it dials against
// the certificate's SAN) and presents its own client certificate.
//
// The server may also refuse revoked client certificates (TlsFiles::crl_dir, checked first by
// CheckCrlDirectory): OpenSSL reads the CRL at the first handshake that needs it and keeps it, so a
// new CRL is taken up at restart.
//
// Both watch the files: a certificate, key or CA replaced on disk is taken up within `refresh`
// without a restart (gRPC's FileWatcherCertificateProvider); new connections use it, established
// ones keep theirs. Replace the key before the certificate, or both at once (rename into place):
// a key and certificate that do not match are not taken up, the old pair stays in use.
// TLS 1.2 is the minimum (gRPC's default for these credentials; 1.51 offers no setter), TLS 1.3 is
// preferred when both ends offer it.
//
//   TlsFiles files{"server.crt", "server.key", "clients-ca.crt"};
//   FRONTDOOR_RETURN_IF_ERROR(CheckTlsFiles(files, TlsRole::kServer));
//   builder.AddListeningPort(listen, MutualTlsServerCredentials(files, absl::Seconds(10)), &port);
//
//   auto channel = grpc::CreateChannel(
//       "127.0.0.1:50061", MutualTlsChannelCredentials({"gw.crt", "gw.key", "connectors-ca.crt"}, absl::Seconds(10)));
//
// Thread-safety: free functions, no shared state. Failures: CheckTlsFiles returns NOT_FOUND for a
// file that cannot be read and INVALID_ARGUMENT for one that is not what it should be; the
// credential factories do not fail (gRPC reports unusable files at handshake time, which is why
// CheckTlsFiles runs first).
#ifndef FRONTDOOR_GATEWAY_SECURITY_TLS_CONFIG_H_
#define FRONTDOOR_GATEWAY_SECURITY_TLS_CONFIG_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace frontdoor::gateway {

// PEM files of one end of a mutual TLS connection.
struct TlsFiles {
  std::string cert;  // this end's certificate chain (leaf first)
  std::string key;   // its private key (unencrypted PEM; protect it with file permissions)
  std::string ca;    // the CA bundle the other end's certificate must chain to
  // Optional: a directory of CRLs from `ca`, named by hash (`openssl rehash`); certificates of the
  // other end that they revoke are refused at the handshake. Server credentials only.
  std::string crl_dir;

  bool empty() const { return cert.empty() && key.empty() && ca.empty(); }
};

enum class TlsRole { kServer, kClient };

// How often the certificate files are checked for changes unless configured otherwise.
inline constexpr absl::Duration kDefaultTlsRefresh = absl::Seconds(10);

// Reads the three files and checks what gRPC would otherwise only report at the first handshake:
// each is PEM, the key matches the certificate, the certificate is valid now, the CA file holds at
// least one certificate. (The certificate is not checked against files.ca: that CA is for the
// other end's certificate.) `role` only words the messages. Returns NOT_FOUND for an unreadable
// file, INVALID_ARGUMENT for a missing path, non-PEM content, a key mismatch or an expired
// certificate; the message names the file, never its content.
absl::Status CheckTlsFiles(const TlsFiles& files, TlsRole role);

// Server credentials for mutual TLS: client certificate requested, required and verified against
// files.ca. The files are re-read every `refresh` (at least one second).
std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(const TlsFiles& files, absl::Duration refresh);

// Channel credentials for mutual TLS: the server certificate is verified against files.ca and the
// target's host name or IP address; files.cert/key are presented as the client certificate.
std::shared_ptr<grpc::ChannelCredentials> MutualTlsChannelCredentials(const TlsFiles& files, absl::Duration refresh);

// What CheckCrlDirectory found.
struct CrlSummary {
  int crls = 0;                                     // CRLs in the directory (files named by hash, HASH.rN)
  int revoked = 0;                                  // certificates they revoke, all together
  absl::Time next_update = absl::InfiniteFuture();  // the earliest nextUpdate among them
};

// Checks a directory of CRLs as `crl_dir` of TlsFiles, as gRPC (OpenSSL) would otherwise only
// show at a handshake, or not at all: at least one file named by hash (HASH.rN, `openssl rehash`),
// each a PEM CRL whose issuer is a certificate of `ca_path` with a valid signature from it and
// whose name's hash matches (OpenSSL would never find it otherwise), none past its nextUpdate at
// `now` (every client would be refused). A CRL under any other name is refused (it would be
// silently unused) unless a hash-named file holds the same CRL (an `openssl rehash` link); files
// that are not CRLs are ignored. NOT_FOUND for a directory or CA that cannot be read,
// INVALID_ARGUMENT for the rest; the message names the file.
absl::StatusOr<CrlSummary> CheckCrlDirectory(const std::string& crl_dir, const std::string& ca_path, absl::Time now);

// The Subject CN of the PEM certificate in `path`; NOT_FOUND / INVALID_ARGUMENT as CheckTlsFiles.
absl::StatusOr<std::string> CertificateCommonName(const std::string& path);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SECURITY_TLS_CONFIG_H_
