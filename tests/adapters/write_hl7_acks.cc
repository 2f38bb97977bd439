// Test helper for check_hl7_ack.py: writes the ACK the gateway's adapters would render for every
// HL7 v2 sample, so a second, independent HL7 implementation (python-hl7) can read them.
//
//   write_hl7_acks <samples_dir> <out_dir>
//
// For each <samples_dir>/NAME.hl7 it parses the message with ParseHl7v2Referral and writes
// <out_dir>/NAME.ack: AA when the adapter found no error (standing in for the gateway's decision),
// else a REJECTED answer carrying the adapter's issues. Exit status 0 on success, 1 on an I/O error.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "adapters/hl7v2_referral_adapter.h"
#include "adapters/sender_replies.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using frontdoor::v1::Issue;
  if (argc != 3) {
    std::cerr << "usage: write_hl7_acks <samples_dir> <out_dir>\n";
    return 1;
  }
  fs::path samples = argv[1];
  fs::path out = argv[2];
  std::error_code error;
  fs::create_directories(out, error);
  int written = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(samples, error)) {
    if (entry.path().extension() != ".hl7") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    frontdoor::adapters::ParsedReferral parsed =
        frontdoor::adapters::ParseHl7v2Referral(text.str(), frontdoor::adapters::Hl7Limits{});
    frontdoor::v1::SubmitReferralResponse response;
    bool errors = false;
    for (const Issue& issue : parsed.issues) {
      errors = errors || issue.severity() == Issue::ERROR;
      *response.add_issues() = issue;
    }
    response.set_disposition(errors ? frontdoor::v1::REJECTED : frontdoor::v1::ACCEPTED);
    if (!errors) response.set_referral_id("ref-" + std::to_string(written + 1));
    std::string ack = frontdoor::adapters::RenderHl7v2Ack(parsed.reply, response, "FD" + std::to_string(written + 1),
                                                          "20250601120000");
    std::ofstream file(out / (entry.path().stem().string() + ".ack"), std::ios::binary);
    file << ack;
    if (!file.good()) {
      std::cerr << "cannot write " << (out / entry.path().stem()).string() << ".ack\n";
      return 1;
    }
    ++written;
  }
  if (error || written == 0) {
    std::cerr << "no HL7 samples read from " << samples << "\n";
    return 1;
  }
  std::cout << "wrote " << written << " ACKs to " << out << "\n";
  return 0;
}
