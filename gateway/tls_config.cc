#include "gateway/tls_config.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace frontdoor::gateway {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<X509Ptr> ReadCertificate(const std::string& path, const char* what) {
  auto pem = ReadFile(path, what);
  if (!pem.ok()) return pem.status();
  auto bio = MemoryBio(*pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError(absl::StrCat("the ", what, " file ", path, " is not a PEM certificate"));
  return cert;
}

unsigned int RefreshSeconds(absl::Duration refresh) {
  return static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(refresh)));
}

}  // namespace

absl::Status CheckTlsFiles(const TlsFiles& files, TlsRole role) {
  const char* cert_what = role == TlsRole::kServer ? "server certificate" : "client certificate";
  auto cert = ReadCertificate(files.cert, cert_what);
  if (!cert.ok()) return cert.status();
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("the ", cert_what, " ", files.cert, " has expired"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert->get())) >= 0) {
    return absl::InvalidArgumentError(absl::StrCat("the ", cert_what, " ", files.cert, " is not valid yet"));
  }
  auto key_pem = ReadFile(files.key, "private key");
  if (!key_pem.ok()) return key_pem.status();
  auto bio = MemoryBio(*key_pem);
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the private key file ", files.key, " is not an unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the private key ", files.key, " does not belong to the certificate ", files.cert));
  }
  auto ca = ReadCertificate(files.ca, "CA");
  if (!ca.ok()) return ca.status();
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(const TlsFiles& files, absl::Duration refresh) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.key, files.cert, files.ca,
                                                                                         RefreshSeconds(refresh));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  // No certificate, or one that does not chain to files.ca: the handshake fails, no handler runs.
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MutualTlsChannelCredentials(const TlsFiles& files, absl::Duration refresh) {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.key, files.cert, files.ca,
                                                                                         RefreshSeconds(refresh));
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

absl::StatusOr<std::string> CertificateCommonName(const std::string& path) {
  auto cert = ReadCertificate(path, "certificate");
  if (!cert.ok()) return cert.status();
  X509_NAME* subject = X509_get_subject_name(cert->get());
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return absl::InvalidArgumentError(absl::StrCat("the certificate ", path, " has no Subject CN"));
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

}  // namespace frontdoor::gateway
