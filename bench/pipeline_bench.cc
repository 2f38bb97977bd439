// The in-process pipeline, per format, with no I/O: parse, validate, decide (IG rules), route and
// build the minimised copy, exactly as SubmitReferral does before the commit. Google Benchmark;
// items_per_second is referrals per second on one core.
#include <fstream>
#include <sstream>

#include "benchmark/benchmark.h"
#include "gateway/decision/referral_pipeline.h"
#include "gateway/intake/payload_parsing.h"
#include "gateway/intake/referral_ids.h"
#include "gateway/intake/sender_reply.h"
#include "google/protobuf/util/json_util.h"
#include "network/network_directory.h"

namespace {

namespace v1 = ::frontdoor::v1;
namespace gw = ::frontdoor::gateway;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const frontdoor::network::NetworkDirectory& Network() {
  static const auto* network =
      new frontdoor::network::NetworkDirectory(*frontdoor::network::NetworkDirectory::LoadDemo());
  return *network;
}

void RunPipeline(benchmark::State& state, const v1::SubmitReferralRequest& request) {
  const auto today = *frontdoor::CalendarDate::Parse("2026-01-01");
  const std::string id = "00000000-0000-4000-8000-000000000000";
  for (auto _ : state) {
    auto parsed = gw::ParsePayload(*gw::PayloadFrom(request), gw::InboundLimits{});
    gw::PipelineResult result = gw::EvaluateReferral(*parsed, id, Network(), {}, today);
    if (result.response.disposition() != v1::ACCEPTED) state.SkipWithError("not accepted");
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PipelineFhir(benchmark::State& state) {
  v1::SubmitReferralRequest request;
  request.set_fhir_json(ReadFile(FRONTDOOR_SOURCE_DIR "/tests/data/samples/01-fhir-oldham-wellbeing.json"));
  RunPipeline(state, request);
}
BENCHMARK(BM_PipelineFhir);

void BM_PipelineHl7v2(benchmark::State& state) {
  v1::SubmitReferralRequest request;
  request.set_hl7v2(ReadFile(FRONTDOOR_SOURCE_DIR "/tests/data/samples/17-hl7-tameside-hospital.hl7"));
  RunPipeline(state, request);
}
BENCHMARK(BM_PipelineHl7v2);

void BM_PipelineTyped(benchmark::State& state) {
  v1::SubmitReferralRequest request;
  google::protobuf::util::JsonStringToMessage(ReadFile(FRONTDOOR_SOURCE_DIR "/examples/typed-referral.json"),
                                              request.mutable_referral());
  RunPipeline(state, request);
}
BENCHMARK(BM_PipelineTyped);

}  // namespace

BENCHMARK_MAIN();
