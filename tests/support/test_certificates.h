// Real X.509 certificates for tests, made by the `openssl` command in a directory the test owns:
// a certificate authority, a second unrelated one, and certificates they issue (client or server,
// valid or already expired). Elliptic-curve P-256 keys, so making one takes milliseconds.
//
//   TempDir dir;
//   TestCertificates pki(dir.path());
//   IssuedCertificate server = pki.Issue("frontdoor-gateway", {.server = true});
//   IssuedCertificate practice = pki.Issue("P85901");
//   IssuedCertificate stranger = pki.Issue("P85901", {.other_ca = true});
//   IssuedCertificate old = pki.Issue("P85901", {.expired = true});
//   grpc::SslCredentialsOptions creds = pki.ClientOptions(practice);
//
// Failures (openssl missing or failing) are reported with ADD_FAILURE and leave empty files.
// Not thread-safe: use from the test's own thread.
#ifndef FRONTDOOR_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define FRONTDOOR_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <string>

#include "grpcpp/security/credentials.h"

namespace frontdoor::testing {

struct IssuedCertificate {
  std::string cert;  // PEM certificate path
  std::string key;   // PEM private key path
};

struct IssueOptions {
  bool server = false;    // serverAuth with SAN DNS:localhost, IP:127.0.0.1 (else clientAuth)
  bool other_ca = false;  // issued by the unrelated second CA
  bool expired = false;   // notAfter in the past
  std::string name;       // file name stem (default: the CN, plus a counter when repeated)
};

class TestCertificates {
 public:
  explicit TestCertificates(std::string dir);

  IssuedCertificate Issue(const std::string& common_name, const IssueOptions& options = {});

  const std::string& ca_cert() const { return ca_cert_; }
  const std::string& other_ca_cert() const { return other_ca_cert_; }

  // Revokes `certificate` (of this CA) and writes the CA's certificate revocation list, holding
  // every certificate revoked so far, into `crl_dir` under its hashed name (`HASH.r0`, what
  // `openssl rehash` makes; replaced if there). `expired`: its nextUpdate is already past.
  // Returns the CRL's path.
  std::string Revoke(const IssuedCertificate& certificate, const std::string& crl_dir, bool expired = false);
  // Writes this CA's CRL as Revoke does, revoking nothing new.
  std::string PublishCrl(const std::string& crl_dir, bool expired = false);

  // SSL channel credentials options presenting `client` and trusting this CA.
  grpc::SslCredentialsOptions ClientOptions(const IssuedCertificate& client) const;

 private:
  std::string dir_;
  std::string ca_cert_, ca_key_, other_ca_cert_, other_ca_key_;
  int issued_ = 0;
  std::string ca_db_;  // `openssl ca`'s configuration and database, made at the first CRL
};

// Runs a shell command line; ADD_FAILURE with its output when it fails. Returns success.
bool RunShell(const std::string& command_line);

std::string ReadWholeFile(const std::string& path);

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_TEST_CERTIFICATES_H_
