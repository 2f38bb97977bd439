// libFuzzer target: the FHIR adapter's two JSON readers on arbitrary bytes. Aborts when the fast
// path (simdjson) answers differently from the reference (RapidJSON, whose answers senders get):
// whatever the fast path returns must equal the reference's result in full (referral, issues,
// paths, reply), so anything the reference refuses the fast path must decline; and
// ParseFhirReferral must answer as the reference. Built as fhir_adapter_fuzzer is (see
// tests/adapters/CMakeLists.txt); scripts/fuzz runs it from the FHIR samples.
//
//   build/fuzz/tests/adapters/fhir_reader_differential_fuzzer -max_len=70000 tests/data/samples
//
// Each input is read with the default limits and again with a depth limit of 6, below the
// samples' nesting, so both sides of the depth rule are met.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/fhir_referral_adapter.h"
#include "tests/adapters/parsed_referral_summary.h"

namespace {

using frontdoor::adapters::FhirLimits;
using frontdoor::adapters::ParsedReferral;
using frontdoor::adapters::testing::ParsedReferralSummary;

void CheckReadersAgree(std::string_view input, const FhirLimits& limits) {
  const std::string reference =
      ParsedReferralSummary(frontdoor::adapters::ParseFhirReferralWithRapidJson(input, limits));
  const std::optional<ParsedReferral> fast = frontdoor::adapters::ParseFhirReferralWithSimdjson(input, limits);
  if (fast && ParsedReferralSummary(*fast) != reference) {
    std::fprintf(stderr, "the fast path answered differently:\n%s\n--- reference:\n%s\n",
                 ParsedReferralSummary(*fast).c_str(), reference.c_str());
    std::abort();
  }
  if (ParsedReferralSummary(frontdoor::adapters::ParseFhirReferral(input, limits)) != reference) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FhirLimits limits;
  limits.max_bytes = 64 << 10;  // Smaller than the gateway's so the fuzzer also meets the limit.
  CheckReadersAgree(input, limits);
  limits.max_depth = 6;
  CheckReadersAgree(input, limits);
  return 0;
}
