// The MLLP door end to end with the real executables and clients that are not the gateway's own:
// Debian's python3-hl7 `mllp_send` in development mode, and over mutual TLS on scripts/dev-certs a
// TLS-wrapped MLLP client (tests/tools/mllp/mllp_client.py, the same framing) sending every HL7
// sample with its hospital's certificate; feedback from the connector simulator reaches a ward
// system simulator (tests/tools/mllp/ward_sim.py) over mutual TLS as RRI^I12, all of it, in
// order, through a ward outage and a kill -9 of the gateway.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/json_value.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace pb = ::google::protobuf;

const std::string kSource = FRONTDOOR_SOURCE_DIR;
const std::string kSamples = kSource + "/tests/data/samples";
const std::string kTools = kSource + "/tests/tools/mllp";

std::vector<std::string> Lines(const std::string& text) { return absl::StrSplit(text, '\n', absl::SkipEmpty()); }

class MllpProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Cert(const std::string& name) const { return Path("certs/" + name); }

  void StartNetwork(bool tls) {
    tls_ = tls;
    if (tls) {
      CommandResult certs = RunCommand({kSource + "/scripts/dev-certs", Path("certs")});
      ASSERT_EQ(certs.exit_status, 0) << certs.out;
    }
    grpc_port_ = FreePort();
    mllp_port_ = FreePort();
    ward_port_ = FreePort();
    config_ = WriteBulkTestConfig(
        dir_.path(), absl::StrCat("delivery { initial_backoff_ms: 100 max_backoff_ms: 400 breaker_open_ms: 200 }",
                                  " mllp { feedback_destinations { ods: \"R9T01\" address: \"127.0.0.1:", ward_port_,
                                  "\"", tls ? absl::StrCat(" ca_file: \"", Cert("ca.crt"), "\"") : "", " } }"));
    std::vector<std::string> sim = {BinaryPath("tools/frontdoor-connector-sim"),
                                    "--record",
                                    Path("deliveries.jsonl"),
                                    "--ready-file",
                                    Path("sim.ready"),
                                    "--report-to",
                                    absl::StrCat("127.0.0.1:", grpc_port_),
                                    "--progress-interval-ms",
                                    "400"};
    if (tls) {
      for (const std::string& arg : {std::string("--tls-cert"), Cert("connector-server.crt"), std::string("--tls-key"),
                                     Cert("connector-server.key"), std::string("--client-ca"), Cert("ca.crt"),
                                     std::string("--report-cert-dir"), Path("certs")}) {
        sim.push_back(arg);
      }
    }
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      sim.push_back("--serve");
      sim.push_back(std::string(e) + "=127.0.0.1:0");
    }
    sim_ = std::make_unique<ChildProcess>(sim, Path("sim.log"));
    auto ready = WaitForFile(Path("sim.ready"), absl::Seconds(30));
    ASSERT_TRUE(ready.has_value()) << ReadFileOrEmpty(Path("sim.log"));
    for (const std::string& line : Lines(*ready)) {
      connectors_.push_back("--connector");
      connectors_.push_back(line);
    }
    StartWard();
    StartGateway();
  }

  void StartWard() {
    // Run as executables: their #!/usr/bin/python3 is Debian's, with python3-hl7.
    std::vector<std::string> ward = {kTools + "/ward_sim.py",
                                     "--listen",
                                     absl::StrCat("127.0.0.1:", ward_port_),
                                     "--record",
                                     Path("ward.jsonl"),
                                     "--ready-file",
                                     Path("ward.ready"),
                                     "--duplicates-by-control-id"};
    if (tls_) {
      for (const std::string& arg :
           {std::string("--tls"), std::string("--cert"), Cert("connector-server.crt"), std::string("--key"),
            Cert("connector-server.key"), std::string("--ca"), Cert("ca.crt")}) {
        ward.push_back(arg);
      }
    }
    ward_ = std::make_unique<ChildProcess>(ward, Path("ward.log"));
    ASSERT_TRUE(WaitForFile(Path("ward.ready"), absl::Seconds(30)).has_value()) << ReadFileOrEmpty(Path("ward.log"));
  }

  void StartGateway() {
    std::filesystem::remove(Path("gateway.ready"));
    std::vector<std::string> gw = {BinaryPath("gateway/frontdoor-gateway"),
                                   "--config",
                                   config_,
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", grpc_port_),
                                   "--mllp-listen",
                                   absl::StrCat("127.0.0.1:", mllp_port_),
                                   "--data-dir",
                                   Path("data"),
                                   "--ready-file",
                                   Path("gateway.ready")};
    if (tls_) {
      for (const std::string& arg :
           {std::string("--tls-cert"), Cert("gateway-server.crt"), std::string("--tls-key"), Cert("gateway-server.key"),
            std::string("--client-ca"), Cert("ca.crt"), std::string("--connector-ca"), Cert("ca.crt"),
            std::string("--connector-client-cert"), Cert("gateway-client.crt"), std::string("--connector-client-key"),
            Cert("gateway-client.key")}) {
        gw.push_back(arg);
      }
    } else {
      gw.push_back("--insecure-plaintext");
    }
    gw.insert(gw.end(), connectors_.begin(), connectors_.end());
    gateway_ = std::make_unique<ChildProcess>(gw, Path("gateway.log"));
    ASSERT_TRUE(WaitForFile(Path("gateway.ready"), absl::Seconds(30)).has_value())
        << ReadFileOrEmpty(Path("gateway.log"));
  }

  // mllp_client.py over mutual TLS as `sender`: one JSON line per acknowledgment.
  CommandResult TlsClient(const std::string& sender, const std::vector<std::string>& files) {
    std::vector<std::string> argv = {kTools + "/mllp_client.py",
                                     "--tls",
                                     "--ca",
                                     Cert("ca.crt"),
                                     "--cert",
                                     Cert(sender + ".crt"),
                                     "--key",
                                     Cert(sender + ".key"),
                                     "127.0.0.1",
                                     absl::StrCat(mllp_port_)};
    argv.insert(argv.end(), files.begin(), files.end());
    return RunCommand(argv);
  }

  // The progress codes of the RRI messages the ward took for `referral_id`, first copies only.
  std::vector<std::string> WardFeedbackFor(const std::string& referral_id) {
    std::vector<std::string> progress;
    for (const std::string& line : Lines(ReadFileOrEmpty(Path("ward.jsonl")))) {
      const pb::Value record = Json(line);
      const std::string message = Field(record, "message").string_value();
      if (message.find(referral_id) == std::string::npos || Field(record, "duplicate").bool_value()) continue;
      const size_t table = message.find("^SPPROGRESS");
      if (table == std::string::npos) continue;
      const size_t display = message.rfind('^', table - 1);
      const size_t code = message.rfind('|', display);
      progress.push_back(message.substr(code + 1, display - code - 1));
    }
    return progress;
  }

  TempDir dir_;
  bool tls_ = false;
  int grpc_port_ = 0, mllp_port_ = 0, ward_port_ = 0;
  std::string config_;
  std::vector<std::string> connectors_;
  std::unique_ptr<ChildProcess> sim_, ward_, gateway_;
};

TEST_F(MllpProcessTest, DebiansMllpSendGetsItsAcknowledgmentInDevelopmentMode) {
  StartNetwork(/*tls=*/false);
  // mllp_send --loose takes the sample as written (CR LF line ends) and frames it.
  CommandResult sent = RunCommand({"mllp_send", "--loose", "--port", absl::StrCat(mllp_port_), "--file",
                                   kSamples + "/17-hl7-tameside-hospital.hl7", "127.0.0.1"});
  EXPECT_EQ(sent.exit_status, 0) << sent.out << ReadFileOrEmpty(Path("gateway.log")).substr(0, 3000);
  EXPECT_NE(sent.out.find("MSA|CA|TGH2502256530"), std::string::npos) << sent.out;
  EXPECT_TRUE(WaitForFile(Path("deliveries.jsonl"), absl::Seconds(30)).has_value()) << "delivered to the connector";
}

TEST_F(MllpProcessTest, EverySampleOverMutualTlsAndFeedbackBackToTheWardThroughAnOutageAndAKill9) {
  StartNetwork(/*tls=*/true);
  const pb::Value expected = Json(ReadFileOrEmpty(kSamples + "/expected.json"));
  std::vector<std::string> files;
  for (const auto& [name, want] : expected.struct_value().fields()) {
    if (Field(want, "format").string_value() == "hl7v2") files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  std::string referral_of_17;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const pb::Value& want = Field(expected, file);
    CommandResult r = TlsClient(Field(want, "sender").string_value(), {kSamples + "/" + file});
    ASSERT_EQ(r.exit_status, 0) << r.out << ReadFileOrEmpty(Path("gateway.log")).substr(0, 3000);
    const pb::Value ack = Json(Lines(r.out).at(0));
    EXPECT_EQ(Field(ack, "msa").string_value(), Field(want, "disposition").string_value() == "REJECTED" ? "CR" : "CA")
        << r.out;
    EXPECT_EQ(Field(ack, "control_id").string_value(), Field(ack, "sent_control_id").string_value());
  }
  // A hospital certificate cannot send as another hospital: the message names R9T01, the
  // certificate is R9O02's.
  CommandResult impostor = TlsClient("R9O02", {kSamples + "/17-hl7-tameside-hospital.hl7"});
  EXPECT_NE(impostor.out.find("\"msa\": \"CR\""), std::string::npos) << impostor.out;

  // Sample 17's referral (from R9T01, whose engine takes its feedback over MLLP) is worked by the
  // connector; the ward is down for a while and the gateway is killed outright meanwhile.
  auto wait_for = [](auto done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
    return done();
  };
  std::string referral_id;
  ASSERT_TRUE(wait_for(
      [&] {
        for (const std::string& line : Lines(ReadFileOrEmpty(Path("deliveries.jsonl")))) {
          if (line.find("action-together-tameside") != std::string::npos) {
            referral_id = JsonField(line, "referral_id");
            return !referral_id.empty();
          }
        }
        return false;
      },
      absl::Seconds(30)))
      << ReadFileOrEmpty(Path("deliveries.jsonl"));
  ASSERT_TRUE(wait_for([&] { return !WardFeedbackFor(referral_id).empty(); }, absl::Seconds(60)))
      << ReadFileOrEmpty(Path("ward.log")) << ReadFileOrEmpty(Path("gateway.log")).substr(0, 4000);
  ward_->Signal(SIGKILL);
  ward_->Wait(absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(900));
  gateway_->Signal(SIGKILL);
  gateway_->Wait(absl::Seconds(10));
  StartGateway();
  StartWard();
  ASSERT_TRUE(wait_for(
      [&] {
        std::vector<std::string> got = WardFeedbackFor(referral_id);
        return !got.empty() && got.back() == "closed";
      },
      absl::Seconds(90)))
      << ReadFileOrEmpty(Path("ward.jsonl"));
  const std::vector<std::string> got = WardFeedbackFor(referral_id);
  const std::vector<std::string> connected = {"received", "contacted", "first-conversation-held", "connected",
                                              "closed"};
  const std::vector<std::string> declined = {"received", "contacted", "declined", "closed"};
  EXPECT_TRUE(got == connected || got == declined) << ReadFileOrEmpty(Path("ward.jsonl"));
}

}  // namespace
}  // namespace frontdoor::testing
