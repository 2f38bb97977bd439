#include "gateway/store/message_fingerprint.h"

#include "audit/merkle_tree.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace frontdoor::gateway {

namespace {
constexpr std::string_view kVersion = "v1:";
}  // namespace

std::string MessageFingerprint(const frontdoor::v1::Referral& referral) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    referral.SerializeToCodedStream(&out);
  }
  return std::string(kVersion) + audit::ToHex(audit::Sha256(bytes));
}

bool IsResendOf(std::string_view stored, std::string_view incoming) {
  const bool comparable = stored.starts_with(kVersion) && incoming.starts_with(kVersion);
  return !comparable || stored == incoming;
}

}  // namespace frontdoor::gateway
