#include "audit/checkpoint_signer.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace frontdoor::audit {
namespace {

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

EVP_PKEY* NewEd25519Key() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1) EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

absl::StatusOr<std::string> PrivatePem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  const int ok = PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::string pem = ok == 1 ? BioToString(bio) : "";
  BIO_free(bio);
  if (ok != 1) return absl::InternalError("cannot encode the audit signing key");
  return pem;
}

}  // namespace

std::string CheckpointMessage(uint64_t tree_size, const Hash& root, const std::string& time) {
  return absl::StrCat("frontdoor-audit-checkpoint-v1\n", tree_size, "\n", ToHex(root), "\n", time, "\n");
}

CheckpointSigner::CheckpointSigner(EVP_PKEY* key) : key_(key) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (PEM_write_bio_PUBKEY(bio, key_) == 1) public_key_pem_ = BioToString(bio);
  BIO_free(bio);
}

CheckpointSigner::~CheckpointSigner() { EVP_PKEY_free(key_); }

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::Generate() {
  EVP_PKEY* key = NewEd25519Key();
  if (key == nullptr) return absl::InternalError("cannot generate an Ed25519 key");
  return std::unique_ptr<CheckpointSigner>(new CheckpointSigner(key));
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::LoadOrCreate(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return absl::UnavailableError(absl::StrCat("cannot read the audit signing key file ", path));
    EVP_PKEY* key = NewEd25519Key();
    if (key == nullptr) return absl::InternalError("cannot generate an Ed25519 key");
    absl::StatusOr<std::string> pem = PrivatePem(key);
    if (!pem.ok()) {
      EVP_PKEY_free(key);
      return pem.status();
    }
    // O_EXCL: never overwrite a key another process just wrote; 0600 from the first byte.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool written =
        fd >= 0 && ::write(fd, pem->data(), pem->size()) == static_cast<ssize_t>(pem->size()) && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!written) {
      EVP_PKEY_free(key);
      return absl::UnavailableError(absl::StrCat("cannot write the audit signing key file ", path));
    }
    return std::unique_ptr<CheckpointSigner>(new CheckpointSigner(key));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the audit signing key file ", path, " is readable by others; chmod 600 it"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read the audit signing key file ", path));
  const std::string pem = text.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError(
        absl::StrCat("the audit signing key file ", path, " is not an Ed25519 private key (PEM)"));
  }
  return std::unique_ptr<CheckpointSigner>(new CheckpointSigner(key));
}

absl::StatusOr<frontdoor::v1::SignedCheckpoint> CheckpointSigner::Sign(uint64_t tree_size, const Hash& root,
                                                                       const std::string& time) const {
  const std::string message = CheckpointMessage(tree_size, root, time);
  unsigned char signature[64];
  size_t length = sizeof(signature);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
                  EVP_DigestSign(ctx, signature, &length, reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("cannot sign the audit checkpoint");
  frontdoor::v1::SignedCheckpoint out;
  out.set_tree_size(tree_size);
  out.set_root_hash_hex(ToHex(root));
  out.set_time(time);
  out.set_signature_base64(absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(signature), length)));
  out.set_signed_message(message);
  return out;
}

absl::Status VerifyCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint, const std::string& public_key_pem) {
  std::optional<Hash> root = HashFromHex(checkpoint.root_hash_hex());
  if (!root.has_value()) return absl::InvalidArgumentError("the checkpoint's root hash is not 64 hex digits");
  std::string signature;
  if (!absl::Base64Unescape(checkpoint.signature_base64(), &signature) || signature.size() != 64) {
    return absl::DataLossError("the checkpoint's signature is not a 64-byte base64 value");
  }
  BIO* bio = BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError("the public key is not an Ed25519 public key (PEM)");
  }
  const std::string message = CheckpointMessage(checkpoint.tree_size(), *root, checkpoint.time());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) {
    return absl::DataLossError(
        absl::StrCat("the signature of the checkpoint at tree size ", checkpoint.tree_size(), " does not verify"));
  }
  return absl::OkStatus();
}

}  // namespace frontdoor::audit
