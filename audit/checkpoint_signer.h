// Signed checkpoints of the audit log: the tree size and root hash, signed with the gateway's
// Ed25519 key (OpenSSL EVP_PKEY_ED25519), so that anyone with the public key can tell a log that
// was altered after signing.
//
//   absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer =
//       CheckpointSigner::LoadOrCreate(data_dir + "/audit-signing-key.pem");
//   v1::SignedCheckpoint cp = *(*signer)->Sign(tree_size, root, "2025-06-10T09:00:00Z");
//   absl::Status ok = VerifyCheckpoint(cp, (*signer)->PublicKeyPem());
//
// The key file is PEM (PKCS#8). LoadOrCreate creates it with mode 0600 when it does not exist and
// refuses (FAILED_PRECONDITION) a file readable by group or others. The private key is never
// logged, returned or put in an error message. Thread-safe after construction.
#ifndef FRONTDOOR_AUDIT_CHECKPOINT_SIGNER_H_
#define FRONTDOOR_AUDIT_CHECKPOINT_SIGNER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/merkle_tree.h"
#include "frontdoor/v1/audit_service.pb.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace frontdoor::audit {

// The exact bytes a checkpoint signature covers (see SignedCheckpoint in audit_service.proto).
std::string CheckpointMessage(uint64_t tree_size, const Hash& root, const std::string& time);

class CheckpointSigner {
 public:
  // Loads the PEM private key at `path`, or generates one there (0600) when there is no file.
  // INVALID_ARGUMENT for a file that is not an Ed25519 private key, FAILED_PRECONDITION for one
  // readable by others, UNAVAILABLE when it cannot be read or written.
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> LoadOrCreate(const std::string& path);
  // For tests: a fresh in-memory key.
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> Generate();
  ~CheckpointSigner();

  absl::StatusOr<frontdoor::v1::SignedCheckpoint> Sign(uint64_t tree_size, const Hash& root,
                                                       const std::string& time) const;
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  const std::string& PublicKeyPem() const { return public_key_pem_; }

 private:
  explicit CheckpointSigner(EVP_PKEY* key);
  EVP_PKEY* key_;  // owned
  std::string public_key_pem_;
};

// OK when `checkpoint`'s signature verifies under `public_key_pem` over the message rebuilt from
// its fields; INVALID_ARGUMENT for an unreadable key or fields; DATA_LOSS for a bad signature.
absl::Status VerifyCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint, const std::string& public_key_pem);

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_CHECKPOINT_SIGNER_H_
