// libFuzzer target: ParseFhirReferral on arbitrary bytes, then the FHIR reply for whatever it read.
// Built only with -DFRONTDOOR_BUILD_FUZZERS=ON and clang (see tests/adapters/CMakeLists.txt):
//
//   CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DFRONTDOOR_BUILD_FUZZERS=ON
//   cmake --build build/fuzz --target fhir_adapter_fuzzer
//   build/fuzz/tests/adapters/fhir_adapter_fuzzer -max_len=70000 tests/data/samples
//
// Besides the sanitizers it checks three properties and aborts when one fails: the canonical
// Referral survives a protobuf round trip (every string it holds is UTF-8), an unreadable message
// maps nothing, and the reply is JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/fhir_referral_adapter.h"
#include "adapters/sender_replies.h"
#include "rapidjson/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace frontdoor::adapters;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FhirLimits limits;
  limits.max_bytes = 64 << 10;  // Smaller than the gateway's so the fuzzer also meets the limit.
  ParsedReferral parsed = ParseFhirReferral(input, limits);

  frontdoor::v1::Referral round_trip;
  if (!round_trip.ParseFromString(parsed.referral.SerializeAsString())) std::abort();

  frontdoor::v1::SubmitReferralResponse response;
  bool errors = false;
  for (const frontdoor::v1::Issue& issue : parsed.issues) {
    errors = errors || issue.severity() == frontdoor::v1::Issue::ERROR;
    if (issue.code() == kMalformed && parsed.referral.ByteSizeLong() != 0) std::abort();
    *response.add_issues() = issue;
  }
  response.set_disposition(errors ? frontdoor::v1::REJECTED : frontdoor::v1::ACCEPTED);
  if (!errors) {
    response.set_referral_id("ref-1");
    response.set_connector_id("team");
  }
  std::string reply = RenderFhirResponse(parsed.reply, response, "fuzz-response", "2025-01-01T00:00:00Z");
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(reply.c_str(), reply.size());
  if (document.HasParseError() || !document.IsObject()) std::abort();
  return 0;
}
