// Writes the reply the gateway gives, in the sender's own format, to each message named on the
// command line: OUT_DIR/NAME.reply.json for FHIR, OUT_DIR/NAME.ack for HL7 v2. The decision is
// the gateway's own pipeline (adapters, validation, consent, routing on the demo network) judged
// on the day it runs; the replies are then checked by independent parsers (the FHIR R4 JSON
// schema, python3-hl7).
//   render_sample_replies OUT_DIR FILE...
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "gateway/decision/referral_pipeline.h"
#include "gateway/intake/payload_parsing.h"
#include "gateway/intake/referral_ids.h"
#include "gateway/intake/sender_reply.h"
#include "network/network_directory.h"

int main(int argc, char** argv) {
  namespace v1 = ::frontdoor::v1;
  namespace gw = ::frontdoor::gateway;
  if (argc < 3) {
    std::cerr << "usage: render_sample_replies OUT_DIR FILE...\n";
    return 2;
  }
  auto network = frontdoor::network::NetworkDirectory::LoadDemo();
  if (!network.ok()) {
    std::cerr << network.status() << "\n";
    return 1;
  }
  const std::string out_dir = argv[1];
  const absl::Time now = absl::Now();
  const auto today = frontdoor::CalendarDate::FromUnixSeconds(absl::ToUnixSeconds(now));
  int written = 0;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    const bool hl7 = path.extension() == ".hl7";
    if (!hl7 && path.extension() != ".json") continue;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    v1::SubmitReferralRequest request;
    if (hl7) {
      request.set_hl7v2(text.str());
    } else {
      request.set_fhir_json(text.str());
    }
    auto parsed = gw::ParsePayload(*gw::PayloadFrom(request), gw::InboundLimits{});
    if (!parsed.ok()) {
      std::cerr << path << ": " << parsed.status() << "\n";
      return 1;
    }
    gw::PipelineResult result = gw::EvaluateReferral(*parsed, gw::NewReferralId(), *network, {}, today);
    gw::AttachSenderReply(*parsed, now, &result.response);
    const std::string name = path.stem().string();
    if (hl7) {
      std::ofstream(out_dir + "/" + name + ".ack", std::ios::binary) << result.response.hl7v2_ack();
    } else {
      std::ofstream(out_dir + "/" + name + ".reply.json", std::ios::binary) << result.response.fhir_json();
    }
    ++written;
  }
  std::cout << written << " replies written to " << out_dir << "\n";
  return written > 0 ? 0 : 1;
}
