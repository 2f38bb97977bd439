#include "gateway/security/tls_config.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/time_text.h"
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
struct CrlFree {
  void operator()(X509_CRL* c) const { X509_CRL_free(c); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlFree>;

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
  if (cert == nullptr)
    return absl::InvalidArgumentError(absl::StrCat("the ", what, " file ", path, " is not a PEM certificate"));
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
  // Revoked client certificates: OpenSSL looks the issuer's CRL up in the directory by hash and
  // caches it in the handshaker's certificate store, so a new CRL is taken up at restart.
  if (!files.crl_dir.empty()) options.set_crl_directory(files.crl_dir);
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

namespace {

// OpenSSL's hashed directory reads a CRL only as HASH.rN: eight hex digits, ".r", a number.
bool IsHashNamedCrl(const std::string& name) {
  const size_t dot = name.find('.');
  if (dot != 8 || name.size() < 11 || name[9] != 'r') return false;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto hex = [&digit](char c) { return digit(c) || (c >= 'a' && c <= 'f'); };
  return std::all_of(name.begin(), name.begin() + 8, hex) && std::all_of(name.begin() + 10, name.end(), digit);
}

// The certificates of the client CA file, in its order.
absl::StatusOr<std::vector<X509Ptr>> ReadCaBundle(const std::string& ca_path) {
  auto ca_pem = ReadFile(ca_path, "CA");
  if (!ca_pem.ok()) return ca_pem.status();
  std::vector<X509Ptr> cas;
  auto bio = MemoryBio(*ca_pem);
  while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) cas.emplace_back(ca);
  ERR_clear_error();  // the end of the bundle reads as an error
  return cas;
}

// The regular files of the CRL directory, in name order.
absl::StatusOr<std::vector<std::filesystem::path>> ListCrlDirectory(const std::string& crl_dir) {
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(crl_dir, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list the CRL directory ", crl_dir));
  std::sort(files.begin(), files.end());
  return files;
}

// Whether a CA of `cas` whose subject is the CRL's issuer signed it.
bool SignedByCa(X509_CRL* crl, const std::vector<X509Ptr>& cas) {
  X509_NAME* issuer = X509_CRL_get_issuer(crl);
  bool signed_by_ca = false;
  for (const X509Ptr& ca : cas) {
    if (X509_NAME_cmp(X509_get_subject_name(ca.get()), issuer) != 0) continue;
    EVP_PKEY* key = X509_get0_pubkey(ca.get());
    signed_by_ca = signed_by_ca || (key != nullptr && X509_CRL_verify(crl, key) == 1);
  }
  ERR_clear_error();
  return signed_by_ca;
}

// The CRL's nextUpdate; INVALID_ARGUMENT naming `path` when it has none.
absl::StatusOr<absl::Time> CrlNextUpdate(X509_CRL* crl, const std::filesystem::path& path) {
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
  std::tm tm{};
  if (next == nullptr || ASN1_TIME_to_tm(next, &tm) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("the CRL ", path.string(), " has no nextUpdate"));
  }
  return absl::FromTM(tm, absl::UTCTimeZone());
}

// One hash-named CRL: signed by a CA of the client CA file, named for its issuer's hash, and not
// past its nextUpdate; counted into `summary`.
absl::Status CheckHashNamedCrl(const std::filesystem::path& path, X509_CRL* crl, const std::vector<X509Ptr>& cas,
                               const std::string& ca_path, const std::string& crl_dir, absl::Time now,
                               CrlSummary* summary) {
  if (!SignedByCa(crl, cas)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CRL ", path.string(), " is not signed by a CA of the client CA file ", ca_path));
  }
  char expected[16];
  std::snprintf(expected, sizeof(expected), "%08lx.",
                X509_NAME_hash_ex(X509_CRL_get_issuer(crl), nullptr, nullptr, nullptr));
  if (path.filename().string().rfind(expected, 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("the CRL ", path.string(), " is named for another issuer's hash (",
                                                   expected, "r0 expected): run openssl rehash ", crl_dir));
  }
  absl::StatusOr<absl::Time> next_update_or = CrlNextUpdate(crl, path);
  if (!next_update_or.ok()) return next_update_or.status();
  const absl::Time next_update = *next_update_or;
  if (next_update <= now) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the CRL ", path.string(), " expired at ", FormatRfc3339Utc(next_update, 0),
        " (its nextUpdate); with it every client certificate would be refused: publish the CA's current CRL"));
  }
  ++summary->crls;
  const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  summary->revoked += revoked == nullptr ? 0 : sk_X509_REVOKED_num(revoked);
  summary->next_update = std::min(summary->next_update, next_update);
  return absl::OkStatus();
}

// A CRL under another name than its issuer's hash is never read by OpenSSL, so it is refused
// unless a hash-named file holds the same CRL (a link `openssl rehash` made).
absl::Status CheckOtherNamedCrls(const std::vector<std::pair<std::string, std::string>>& other_names,
                                 const absl::flat_hash_set<std::string>& hash_named_contents,
                                 const std::string& crl_dir) {
  for (const auto& [path, content] : other_names) {
    if (hash_named_contents.contains(content)) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("the CRL ", path,
                     " is not named by its issuer's hash, so it would never be read: run openssl rehash ", crl_dir));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CrlSummary> CheckCrlDirectory(const std::string& crl_dir, const std::string& ca_path, absl::Time now) {
  std::error_code ec;
  if (!std::filesystem::is_directory(crl_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("the CRL directory ", crl_dir, " is not a directory that can be read"));
  }
  absl::StatusOr<std::vector<X509Ptr>> cas = ReadCaBundle(ca_path);
  if (!cas.ok()) return cas.status();
  absl::StatusOr<std::vector<std::filesystem::path>> files = ListCrlDirectory(crl_dir);
  if (!files.ok()) return files.status();
  CrlSummary summary;
  absl::flat_hash_set<std::string> read;                         // the hash-named CRLs' contents
  std::vector<std::pair<std::string, std::string>> other_names;  // CRLs under other names: path, content
  for (const std::filesystem::path& path : *files) {
    const bool hash_named = IsHashNamedCrl(path.filename().string());
    auto pem = ReadFile(path.string(), "CRL");
    if (!pem.ok()) return pem.status();
    auto bio = MemoryBio(*pem);
    CrlPtr crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (crl == nullptr) {
      if (!hash_named) continue;  // a README, or a CA certificate `openssl rehash` linked as HASH.N
      return absl::InvalidArgumentError(absl::StrCat("the CRL file ", path.string(), " is not a PEM CRL"));
    }
    if (!hash_named) {
      other_names.emplace_back(path.string(), *std::move(pem));  // fine if `openssl rehash` linked it
      continue;
    }
    read.insert(*pem);
    if (absl::Status s = CheckHashNamedCrl(path, crl.get(), *cas, ca_path, crl_dir, now, &summary); !s.ok()) return s;
  }
  if (absl::Status s = CheckOtherNamedCrls(other_names, read, crl_dir); !s.ok()) return s;
  if (summary.crls == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the CRL directory ", crl_dir, " holds no CRL named by hash (HASH.r0): run openssl rehash ", crl_dir));
  }
  return summary;
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
