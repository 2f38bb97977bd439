// The BaRS door end to end over mutual TLS, with the real executables, the real scripts/dev-certs
// and clients that are not the gateway's own: curl, and an independent FHIR client (fhir-kit-client,
// tests/tools/fhir-client). Every sample gets its BaRS answer, every answer validates against the
// FHIR R4 JSON schema, and feedback from the connector simulator reaches a referrer simulator's own
// $process-message over mutual TLS, all of it, in order, through a referrer outage and a kill -9 of
// the gateway.
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
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

std::string NewUuid() {
  std::string id = ReadFileOrEmpty("/proc/sys/kernel/random/uuid");
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

class BarsProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Cert(const std::string& name) const { return Path("certs/" + name); }
  std::string FhirBase() const { return absl::StrCat("https://127.0.0.1:", fhir_port_, "/FHIR/R4"); }

  void SetUp() override {
    CommandResult certs = RunCommand({kSource + "/scripts/dev-certs", Path("certs")});
    ASSERT_EQ(certs.exit_status, 0) << certs.out;
    grpc_port_ = FreePort();
    fhir_port_ = FreePort();
    referrer_port_ = FreePort();
    config_ = WriteBulkTestConfig(
        dir_.path(), absl::StrCat("delivery { initial_backoff_ms: 100 max_backoff_ms: 400 breaker_open_ms: 200 }",
                                  " fhir_api { feedback_endpoints { ods: \"P85901\" base_url: \"https://127.0.0.1:",
                                  referrer_port_, "/FHIR/R4\" ca_file: \"", Cert("ca.crt"), "\" } }"));

    std::vector<std::string> sim = {BinaryPath("tools/frontdoor-connector-sim"),
                                    "--record",
                                    Path("deliveries.jsonl"),
                                    "--ready-file",
                                    Path("sim.ready"),
                                    "--tls-cert",
                                    Cert("connector-server.crt"),
                                    "--tls-key",
                                    Cert("connector-server.key"),
                                    "--client-ca",
                                    Cert("ca.crt"),
                                    "--report-to",
                                    absl::StrCat("127.0.0.1:", grpc_port_),
                                    "--report-cert-dir",
                                    Path("certs"),
                                    "--progress-interval-ms",
                                    "400"};
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      sim.push_back("--serve");
      sim.push_back(std::string(e) + "=127.0.0.1:0");
    }
    sim_ = std::make_unique<ChildProcess>(sim, Path("sim.log"));
    auto ready = WaitForFile(Path("sim.ready"), absl::Seconds(30));
    ASSERT_TRUE(ready.has_value()) << ReadFileOrEmpty(Path("sim.log"));
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(*ready, '\n', absl::SkipEmpty()))) {
      connectors_.push_back("--connector");
      connectors_.push_back(line);
    }
    StartReferrer();
    StartGateway();
  }

  void StartReferrer() {
    std::filesystem::remove(Path("referrer.ready"));
    referrer_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("tools/frontdoor-referrer-sim"), "--listen",
                                 absl::StrCat("127.0.0.1:", referrer_port_), "--record", Path("feedback.jsonl"),
                                 "--ready-file", Path("referrer.ready"), "--tls-cert", Cert("connector-server.crt"),
                                 "--tls-key", Cert("connector-server.key"), "--client-ca", Cert("ca.crt")},
        Path("referrer.log"));
    ASSERT_TRUE(WaitForFile(Path("referrer.ready"), absl::Seconds(30)).has_value())
        << ReadFileOrEmpty(Path("referrer.log"));
  }

  void StartGateway() {
    std::filesystem::remove(Path("gateway.ready"));
    std::vector<std::string> gw = {BinaryPath("gateway/frontdoor-gateway"),
                                   "--config",
                                   config_,
                                   "--listen",
                                   absl::StrCat("127.0.0.1:", grpc_port_),
                                   "--fhir-listen",
                                   absl::StrCat("127.0.0.1:", fhir_port_),
                                   "--data-dir",
                                   Path("data"),
                                   "--ready-file",
                                   Path("gateway.ready"),
                                   "--tls-cert",
                                   Cert("gateway-server.crt"),
                                   "--tls-key",
                                   Cert("gateway-server.key"),
                                   "--client-ca",
                                   Cert("ca.crt"),
                                   "--connector-ca",
                                   Cert("ca.crt"),
                                   "--connector-client-cert",
                                   Cert("gateway-client.crt"),
                                   "--connector-client-key",
                                   Cert("gateway-client.key")};
    gw.insert(gw.end(), connectors_.begin(), connectors_.end());
    gateway_ = std::make_unique<ChildProcess>(gw, Path("gateway.log"));
    ASSERT_TRUE(WaitForFile(Path("gateway.ready"), absl::Seconds(30)).has_value())
        << ReadFileOrEmpty(Path("gateway.log"));
  }

  // curl, as a practice: POSTs `file` with the sender's certificate; the status, and the body in `out`.
  int CurlSubmit(const std::string& sender, const std::string& file, const std::string& out) {
    CommandResult r = RunCommand({"curl", "-s", "-o", out, "-w", "%{http_code}", "--cacert", Cert("ca.crt"), "--cert",
                                  Cert(sender + ".crt"), "--key", Cert(sender + ".key"), "-H",
                                  "X-Request-Id: " + NewUuid(), "-H", "Content-Type: application/fhir+json",
                                  "--data-binary", "@" + file, FhirBase() + "/$process-message"});
    return std::atoi(r.out.c_str());
  }

  // The feedback the referrer simulator took for `referral_id`: progress codes of the first copies, in
  // arrival order, and how many resends it saw.
  std::vector<std::string> FeedbackFor(const std::string& referral_id, int* resends = nullptr) {
    std::vector<std::string> progress;
    if (resends != nullptr) *resends = 0;
    const std::string record = ReadFileOrEmpty(Path("feedback.jsonl"));
    for (const std::string& line : std::vector<std::string>(absl::StrSplit(record, '\n', absl::SkipEmpty()))) {
      const pb::Value event = Json(line);
      if (Field(event, "referral_id").string_value() != referral_id) continue;
      if (Field(event, "resend").bool_value()) {
        if (resends != nullptr) ++*resends;
        continue;
      }
      progress.push_back(Field(event, "progress").string_value());
    }
    return progress;
  }

  TempDir dir_;
  int grpc_port_ = 0, fhir_port_ = 0, referrer_port_ = 0;
  std::string config_;
  std::vector<std::string> connectors_;
  std::unique_ptr<ChildProcess> sim_;
  std::unique_ptr<ChildProcess> referrer_;
  std::unique_ptr<ChildProcess> gateway_;
};

TEST_F(BarsProcessTest, EverySampleOverCurlGetsItsAnswerAndEveryAnswerIsValidFhir) {
  const pb::Value expected = Json(ReadFileOrEmpty(kSamples + "/expected.json"));
  std::vector<std::string> files;
  for (const auto& [name, want] : expected.struct_value().fields()) {
    if (Field(want, "format").string_value() == "fhir") files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> bundles, outcomes;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const pb::Value& want = Field(expected, file);
    const std::string out = Path("answer-" + file);
    const int status = CurlSubmit(Field(want, "sender").string_value(), kSamples + "/" + file, out);
    const std::string disposition = Field(want, "disposition").string_value();
    const int expected_status = !Field(want, "duplicate_of").string_value().empty() ? 409
                                : disposition == "ACCEPTED"                         ? 200
                                : disposition == "REFUSED"                          ? 422
                                                                                    : 400;
    EXPECT_EQ(status, expected_status) << ReadFileOrEmpty(out);
    (status == 200 ? bundles : outcomes).push_back(out);
  }
  // Over mutual TLS only: no client certificate, no connection.
  CommandResult anonymous = RunCommand(
      {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", Cert("ca.crt"), FhirBase() + "/metadata"});
  EXPECT_NE(anonymous.exit_status, 0);

  // Every body against the official FHIR R4 JSON schema (tests/tools/fhir-schema).
  const std::string validate = kSource + "/tests/tools/fhir-schema/validate.js";
  std::vector<std::string> argv = {"node", validate};
  argv.insert(argv.end(), bundles.begin(), bundles.end());
  CommandResult valid = RunCommand(argv);
  EXPECT_EQ(valid.exit_status, 0) << valid.out;
  argv = {"node", validate, "--resource", "OperationOutcome"};
  argv.insert(argv.end(), outcomes.begin(), outcomes.end());
  valid = RunCommand(argv);
  EXPECT_EQ(valid.exit_status, 0) << valid.out;
  EXPECT_EQ(bundles.size() + outcomes.size(), 16u);
}

TEST_F(BarsProcessTest, AnIndependentFhirClientGetsEveryAnswerItExpects) {
  std::vector<std::string> argv = {"node",       kSource + "/tests/tools/fhir-client/bars_client.js",
                                   "--base",     FhirBase(),
                                   "--cert-dir", Path("certs"),
                                   "--ca",       Cert("ca.crt"),
                                   "--expect",   kSamples + "/expected.json"};
  for (const auto& entry : std::filesystem::directory_iterator(kSamples)) argv.push_back(entry.path().string());
  CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_status, 0) << r.out << ReadFileOrEmpty(Path("gateway.log")).substr(0, 4000);
}

TEST_F(BarsProcessTest, FeedbackReachesTheReferrerThroughAnOutageAndAKill9) {
  const std::string out = Path("answer.json");
  ASSERT_EQ(CurlSubmit("P85901", kSamples + "/01-fhir-oldham-wellbeing.json", out), 200) << ReadFileOrEmpty(out);
  std::string referral_id;
  const pb::Value answer = Json(ReadFileOrEmpty(out));
  for (const pb::Value& entry : Field(answer, "entry").list_value().values()) {
    const pb::Value& resource = Field(entry, "resource");
    if (Field(resource, "resourceType").string_value() == "Task") {
      referral_id = Field(Field(resource, "identifier").list_value().values(0), "value").string_value();
    }
  }
  ASSERT_FALSE(referral_id.empty());

  auto wait_for = [&](auto done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
    return done();
  };
  // The first event arrives; then the referrer goes down while the connector keeps reporting.
  ASSERT_TRUE(wait_for([&] { return !FeedbackFor(referral_id).empty(); }, absl::Seconds(60)))
      << ReadFileOrEmpty(Path("gateway.log")).substr(0, 4000);
  referrer_->Signal(SIGKILL);
  referrer_->Wait(absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(900));
  // The gateway is killed outright with events queued for the referrer, and comes back.
  gateway_->Signal(SIGKILL);
  gateway_->Wait(absl::Seconds(10));
  StartGateway();
  StartReferrer();

  // Everything arrives, each event once as a new message, in the order it happened, ending closed.
  ASSERT_TRUE(wait_for(
      [&] {
        std::vector<std::string> got = FeedbackFor(referral_id);
        return !got.empty() && got.back() == "closed";
      },
      absl::Seconds(90)))
      << ReadFileOrEmpty(Path("feedback.jsonl")) << ReadFileOrEmpty(Path("gateway.log")).substr(0, 4000);
  const std::vector<std::string> got = FeedbackFor(referral_id);
  const std::vector<std::string> connected = {"received", "contacted", "first-conversation-held", "connected",
                                              "closed"};
  const std::vector<std::string> declined = {"received", "contacted", "declined", "closed"};
  EXPECT_TRUE(got == connected || got == declined) << ReadFileOrEmpty(Path("feedback.jsonl"));
}

}  // namespace
}  // namespace frontdoor::testing
