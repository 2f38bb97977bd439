#include "gateway/net/tls_contexts.h"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "absl/strings/str_cat.h"

namespace frontdoor::gateway {

namespace ssl = boost::asio::ssl;

namespace {

constexpr long kOptions = ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use;

absl::Status LoadIdentity(ssl::context& context, const TlsFiles& files) {
  boost::system::error_code ec;
  context.use_certificate_chain_file(files.cert, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot load the certificate ", files.cert));
  context.use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot load the private key ", files.key));
  return absl::OkStatus();
}

// Has OpenSSL look CRLs up in `dir` by issuer hash (as gRPC's port does: the files CheckCrlDirectory
// accepted) and check the client's certificate against them.
absl::Status LoadCrls(ssl::context& context, const std::string& dir) {
  X509_STORE* store = SSL_CTX_get_cert_store(context.native_handle());
  if (X509_STORE_load_path(store, dir.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot use the CRL directory ", dir));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ssl::context>> ServerTlsContext(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(kOptions);
  if (absl::Status s = LoadIdentity(*context, files); !s.ok()) return s;
  boost::system::error_code ec;
  context->load_verify_file(files.ca, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot load the client CA ", files.ca));
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  if (!files.crl_dir.empty()) {
    if (absl::Status s = LoadCrls(*context, files.crl_dir); !s.ok()) return s;
  }
  return context;
}

absl::StatusOr<std::shared_ptr<ssl::context>> ClientTlsContext(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(kOptions);
  if (!files.cert.empty()) {
    if (absl::Status s = LoadIdentity(*context, files); !s.ok()) return s;
  }
  boost::system::error_code ec;
  context->load_verify_file(files.ca, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot load the CA ", files.ca));
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

std::string PeerCommonName(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509* peer = SSL_get1_peer_certificate(ssl);
  if (peer == nullptr) return "";
  std::string cn;
  const X509_NAME* subject = X509_get_subject_name(peer);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n > 0) cn.assign(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  X509_free(peer);
  return cn;
}

}  // namespace frontdoor::gateway
