// Unit tests of audit/checkpoint_signer: Ed25519 checkpoints, the key file, and the signature
// checked by the `openssl` command-line tool from the exported public key.
#include "audit/checkpoint_signer.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::audit {
namespace {

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CheckpointSignerTest, MessageFormatIsFourLines) {
  EXPECT_EQ(CheckpointMessage(3, EmptyRootHash(), "2025-06-10T09:00:00Z"),
            "frontdoor-audit-checkpoint-v1\n3\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n2025-06-10T09:00:00Z\n");
}

TEST(CheckpointSignerTest, SignedCheckpointVerifies) {
  auto signer = CheckpointSigner::Generate();
  ASSERT_TRUE(signer.ok());
  auto cp = (*signer)->Sign(7, LeafHash("x"), "2025-06-10T09:00:00Z");
  ASSERT_TRUE(cp.ok());
  EXPECT_TRUE(VerifyCheckpoint(*cp, (*signer)->PublicKeyPem()).ok());
}

TEST(CheckpointSignerTest, AnyChangedFieldFailsVerification) {
  auto signer = CheckpointSigner::Generate();
  const frontdoor::v1::SignedCheckpoint cp = *(*signer)->Sign(7, LeafHash("x"), "2025-06-10T09:00:00Z");
  frontdoor::v1::SignedCheckpoint changed = cp;
  changed.set_tree_size(8);
  EXPECT_EQ(VerifyCheckpoint(changed, (*signer)->PublicKeyPem()).code(), absl::StatusCode::kDataLoss);
  changed = cp;
  changed.set_root_hash_hex(ToHex(LeafHash("y")));
  EXPECT_EQ(VerifyCheckpoint(changed, (*signer)->PublicKeyPem()).code(), absl::StatusCode::kDataLoss);
  changed = cp;
  changed.set_time("2025-06-10T09:00:01Z");
  EXPECT_EQ(VerifyCheckpoint(changed, (*signer)->PublicKeyPem()).code(), absl::StatusCode::kDataLoss);
  auto other = CheckpointSigner::Generate();
  EXPECT_EQ(VerifyCheckpoint(cp, (*other)->PublicKeyPem()).code(), absl::StatusCode::kDataLoss);
}

TEST(CheckpointSignerTest, KeyFileIsCreatedOwnerOnlyAndReloaded) {
  frontdoor::testing::TempDir dir;
  const std::string path = dir.path() + "/audit-signing-key.pem";
  auto first = CheckpointSigner::LoadOrCreate(path);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = CheckpointSigner::LoadOrCreate(path);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*first)->PublicKeyPem(), (*again)->PublicKeyPem());
}

TEST(CheckpointSignerTest, KeyFileReadableByOthersIsRefused) {
  frontdoor::testing::TempDir dir;
  const std::string path = dir.path() + "/key.pem";
  ASSERT_TRUE(CheckpointSigner::LoadOrCreate(path).ok());
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(CheckpointSigner::LoadOrCreate(path).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CheckpointSignerTest, KeyFileThatIsNotAKeyIsRefusedWithoutEchoingIt) {
  frontdoor::testing::TempDir dir;
  const std::string path = dir.path() + "/key.pem";
  Write(path, "not a key SECRET-CONTENT");
  ::chmod(path.c_str(), 0600);
  auto s = CheckpointSigner::LoadOrCreate(path);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()).find("SECRET-CONTENT"), std::string::npos);
}

TEST(CheckpointSignerTest, OpensslCommandLineVerifiesTheSignatureFromTheExportedPublicKey) {
  frontdoor::testing::TempDir dir;
  auto signer = CheckpointSigner::LoadOrCreate(dir.path() + "/key.pem");
  ASSERT_TRUE(signer.ok());
  const frontdoor::v1::SignedCheckpoint cp = *(*signer)->Sign(42, LeafHash("x"), "2025-06-10T09:00:00Z");
  std::string signature;
  ASSERT_TRUE(absl::Base64Unescape(cp.signature_base64(), &signature));
  Write(dir.path() + "/pub.pem", (*signer)->PublicKeyPem());
  Write(dir.path() + "/msg.bin", cp.signed_message());
  Write(dir.path() + "/sig.bin", signature);
  const std::string verify = "cd '" + dir.path() +
                             "' && openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin"
                             " > out.txt 2>&1";
  EXPECT_EQ(std::system(verify.c_str()), 0) << Read(dir.path() + "/out.txt");
  EXPECT_NE(Read(dir.path() + "/out.txt").find("Signature Verified Successfully"), std::string::npos);

  Write(dir.path() + "/msg.bin", CheckpointMessage(43, LeafHash("x"), "2025-06-10T09:00:00Z"));
  EXPECT_NE(std::system(verify.c_str()), 0) << "openssl accepted a changed tree size";
}

}  // namespace
}  // namespace frontdoor::audit
