// End to end with the real executables over loopback: frontdoor-connector-sim serving the
// connector organisations, frontdoor-gateway with its SQLite store, and the frontdoor CLI.
#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "frontdoor/v1/referral_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

const char* const kEndpoints[] = {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"};

// "endpoint=host:port" lines of a ready file.
std::map<std::string, std::string> ParseReady(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// Count of record lines per idempotency key (new deliveries only, not duplicates).
std::map<std::string, int> DeliveriesByKey(const std::string& record) {
  std::map<std::string, int> out;
  std::istringstream in(record);
  std::string line;
  while (std::getline(in, line)) {
    const size_t k = line.find("\"idempotency_key\":\"");
    if (k == std::string::npos || line.find("\"duplicate\":false") == std::string::npos) continue;
    const size_t start = k + 19;
    out[line.substr(start, line.find('"', start) - start)]++;
  }
  return out;
}

class GatewayProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Starts the simulator for all four organisations; returns their addresses.
  std::map<std::string, std::string> StartSim(const std::map<std::string, std::string>& fixed = {}) {
    const std::string ready = Path("sim.ready." + std::to_string(++sim_starts_));
    std::vector<std::string> argv = {BinaryPath("tools/frontdoor-connector-sim"), "--record", Path("deliveries.jsonl"),
                                     "--ready-file", ready};
    for (const char* e : kEndpoints) {
      auto it = fixed.find(e);
      argv.push_back("--serve");
      argv.push_back(std::string(e) + "=" + (it == fixed.end() ? "127.0.0.1:0" : it->second));
    }
    sim_ = std::make_unique<ChildProcess>(argv, Path("sim.log"));
    auto text = WaitForFile(ready, absl::Seconds(30));
    EXPECT_TRUE(text.has_value()) << ReadFileOrEmpty(Path("sim.log"));
    return text ? ParseReady(*text) : std::map<std::string, std::string>{};
  }

  // Starts the gateway on the demo network, delivering to `connectors`; returns HOST:PORT.
  std::string StartGateway(const std::map<std::string, std::string>& connectors) {
    const std::string ready = Path("gateway.ready." + std::to_string(++gateway_starts_));
    std::vector<std::string> argv = {BinaryPath("gateway/frontdoor-gateway"),
                                     "--insecure-plaintext",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data-dir",
                                     Path("data"),
                                     "--ready-file",
                                     ready};
    for (const auto& [endpoint, address] : connectors) {
      argv.push_back("--connector");
      argv.push_back(endpoint + "=" + address);
    }
    gateway_ = std::make_unique<ChildProcess>(argv, Path("gateway.log"));
    auto text = WaitForFile(ready, absl::Seconds(30));
    EXPECT_TRUE(text.has_value()) << ReadFileOrEmpty(Path("gateway.log"));
    std::string target = text.value_or("");
    while (!target.empty() && target.back() == '\n') target.pop_back();
    return target;
  }

  v1::SubmitReferralResponse CliSubmit(const std::string& target, const std::string& file, const std::string& as) {
    CommandResult r = RunCommand(
        {BinaryPath("tools/frontdoor"), "--insecure-plaintext", "--target", target, "--as", as, "submit", file});
    EXPECT_EQ(r.exit_status, 0) << r.out;
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &resp).ok()) << r.out;
    return resp;
  }

  // Waits until the simulator recorded a delivery for `referral_id`.
  bool WaitForDelivery(const std::string& referral_id, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (ReadFileOrEmpty(Path("deliveries.jsonl")).find(referral_id) != std::string::npos) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> sim_;
  std::unique_ptr<ChildProcess> gateway_;
  int sim_starts_ = 0;
  int gateway_starts_ = 0;
};

TEST_F(GatewayProcessTest, ReferralSubmittedWithTheCliArrivesAtItsTeamsConnector) {
  const auto connectors = StartSim();
  const std::string target = StartGateway(connectors);
  v1::SubmitReferralResponse resp =
      CliSubmit(target, std::string(FRONTDOOR_SOURCE_DIR) + "/examples/typed-referral.json", "P85901");
  ASSERT_EQ(resp.disposition(), v1::ACCEPTED);
  EXPECT_EQ(resp.connector_id(), "oldham-north-royton-wellbeing");
  ASSERT_TRUE(WaitForDelivery(resp.referral_id(), absl::Seconds(30))) << ReadFileOrEmpty(Path("gateway.log"));
  const std::string record = ReadFileOrEmpty(Path("deliveries.jsonl"));
  EXPECT_NE(record.find("\"endpoint_id\":\"action-together-oldham\",\"kind\":\"deliver\",\"referral_id\":\"" +
                        resp.referral_id()),
            std::string::npos)
      << record;
  EXPECT_NE(record.find("\"team_id\":\"oldham-north-royton-wellbeing\""), std::string::npos);

  // The CLI reads it back; another practice may not.
  CommandResult get = RunCommand({BinaryPath("tools/frontdoor"), "--insecure-plaintext", "--target", target, "--as",
                                  "P85901", "get", resp.referral_id()});
  EXPECT_EQ(get.exit_status, 0);
  EXPECT_NE(get.out.find("oldham-north-royton-wellbeing"), std::string::npos);
  CommandResult other = RunCommand({BinaryPath("tools/frontdoor"), "--insecure-plaintext", "--target", target, "--as",
                                    "P85902", "get", resp.referral_id()});
  EXPECT_EQ(other.exit_status, 5) << other.out;  // PERMISSION_DENIED: not allowed
}

TEST_F(GatewayProcessTest, GatewayKilledBetweenAcknowledgementAndDeliveryDeliversAfterRestart) {
  // Learn four free addresses, then stop the simulator so nothing can be delivered yet.
  const auto connectors = StartSim();
  sim_->Signal(SIGTERM);
  ASSERT_TRUE(sim_->Wait(absl::Seconds(10)).has_value());

  std::string target = StartGateway(connectors);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    v1::Referral r = RoytonReferral("crash-" + std::to_string(i));
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(r, &json).ok());
    const std::string file = Path("referral-" + std::to_string(i) + ".json");
    std::ofstream(file) << json;
    v1::SubmitReferralResponse resp = CliSubmit(target, file, "P85901");
    ASSERT_EQ(resp.disposition(), v1::ACCEPTED);
    ids.push_back(resp.referral_id());
  }
  // Acknowledged, not delivered: kill -9.
  gateway_->Signal(SIGKILL);
  ASSERT_TRUE(gateway_->Wait(absl::Seconds(10)).has_value());
  EXPECT_TRUE(ReadFileOrEmpty(Path("deliveries.jsonl")).empty());

  // The connectors come back on the same addresses, then the gateway restarts on the same data.
  StartSim(connectors);
  target = StartGateway(connectors);
  for (const std::string& id : ids) {
    EXPECT_TRUE(WaitForDelivery(id, absl::Seconds(60))) << id << "\n" << ReadFileOrEmpty(Path("gateway.log"));
  }
  const auto by_key = DeliveriesByKey(ReadFileOrEmpty(Path("deliveries.jsonl")));
  EXPECT_EQ(by_key.size(), ids.size());
  for (const auto& [key, count] : by_key) EXPECT_EQ(count, 1) << key;
}

TEST_F(GatewayProcessTest, SigtermStopsTheGatewayCleanly) {
  const auto connectors = StartSim();
  StartGateway(connectors);
  gateway_->Signal(SIGTERM);
  auto status = gateway_->Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "gateway did not stop on SIGTERM";
  EXPECT_EQ(*status, 0) << ReadFileOrEmpty(Path("gateway.log"));
}

TEST_F(GatewayProcessTest, GatewayWithoutTlsOrPlaintextRefusesToStartAndSaysWhy) {
  ChildProcess gateway({BinaryPath("gateway/frontdoor-gateway"), "--listen", "127.0.0.1:0", "--data-dir", Path("data")},
                       Path("gateway.log"));
  auto status = gateway.Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_NE(ReadFileOrEmpty(Path("gateway.log")).find("--insecure-plaintext"), std::string::npos);
}

// A second gateway on the first one's gRPC port would be given half its callers (SO_REUSEPORT)
// with a store of its own: it must refuse to start, say why, and leave the first serving.
TEST_F(GatewayProcessTest, ASecondGatewayOnTheSameAddressRefusesToStartAndTheFirstKeepsServing) {
  const auto connectors = StartSim();
  const std::string target = StartGateway(connectors);
  ChildProcess second({BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--listen", target,
                       "--data-dir", Path("data2")},
                      Path("second.log"));
  auto status = second.Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "the second gateway kept running beside the first";
  EXPECT_EQ(*status, 1);
  const std::string log = ReadFileOrEmpty(Path("second.log"));
  EXPECT_NE(log.find("already in use"), std::string::npos) << log;
  EXPECT_NE(log.find(target), std::string::npos) << log;
  for (int i = 0; i < 4; ++i) {
    const v1::SubmitReferralResponse r =
        CliSubmit(target, std::string(FRONTDOOR_SOURCE_DIR) + "/examples/typed-referral.json", "P85901");
    EXPECT_EQ(r.disposition(), v1::ACCEPTED) << "every call reaches the one gateway";
  }
}

TEST_F(GatewayProcessTest, ASecondGatewayOnTheSameDataDirectoryRefusesToStartNamingTheFirst) {
  const auto connectors = StartSim();
  StartGateway(connectors);
  ChildProcess second({BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--listen", "127.0.0.1:0",
                       "--data-dir", Path("data")},
                      Path("second.log"));
  auto status = second.Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "the second gateway shares the first one's store";
  EXPECT_EQ(*status, 1);
  const std::string log = ReadFileOrEmpty(Path("second.log"));
  EXPECT_NE(log.find("in use by another frontdoor-gateway (pid "), std::string::npos) << log;
}

// Killed without a chance to clean up, a gateway leaves no lock behind: the kernel drops it.
TEST_F(GatewayProcessTest, TheDataDirectoryIsFreeAgainOnceItsGatewayIsKilled) {
  const auto connectors = StartSim();
  StartGateway(connectors);
  gateway_->Signal(SIGKILL);
  ASSERT_TRUE(gateway_->Wait(absl::Seconds(20)).has_value());
  EXPECT_FALSE(StartGateway(connectors).empty()) << ReadFileOrEmpty(Path("gateway.log"));
}

TEST_F(GatewayProcessTest, CancelledReferralReachesTheSimAsCeaseAfterItsDeliveryAndTheLogVerifies) {
  const auto connectors = StartSim();
  const std::string target = StartGateway(connectors);
  v1::SubmitReferralResponse resp =
      CliSubmit(target, std::string(FRONTDOOR_SOURCE_DIR) + "/examples/typed-referral.json", "P85901");
  ASSERT_EQ(resp.disposition(), v1::ACCEPTED);
  ASSERT_TRUE(WaitForDelivery(resp.referral_id(), absl::Seconds(30))) << ReadFileOrEmpty(Path("gateway.log"));
  const std::string frontdoor = BinaryPath("tools/frontdoor");
  CommandResult cancel = RunCommand({frontdoor, "--insecure-plaintext", "--target", target, "--as", "P85901", "cancel",
                                     resp.referral_id(), "--reason", "consent-withdrawn"});
  ASSERT_EQ(cancel.exit_status, 0) << cancel.out;
  EXPECT_NE(cancel.out.find("\"cease_processing_sent\": true"), std::string::npos) << cancel.out;
  const std::string cease = "\"kind\":\"cease\",\"referral_id\":\"" + resp.referral_id();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (ReadFileOrEmpty(Path("deliveries.jsonl")).find(cease) == std::string::npos && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const std::string record = ReadFileOrEmpty(Path("deliveries.jsonl"));
  const size_t deliver_at = record.find("\"kind\":\"deliver\",\"referral_id\":\"" + resp.referral_id());
  const size_t cease_at = record.find(cease);
  ASSERT_NE(cease_at, std::string::npos) << record;
  EXPECT_LT(deliver_at, cease_at) << "the cease never overtakes the delivery";

  const std::vector<std::string> officer = {frontdoor, "--insecure-plaintext", "--target", target,
                                            "--as",    "ig-officer-oldham"};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = officer;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  CommandResult csv = run({"audit", "query", "--nhs-number", "9991951024", "--outcome", "withdraw", "--format", "csv"});
  ASSERT_EQ(csv.exit_status, 0) << csv.out;
  EXPECT_NE(csv.out.find(resp.referral_id()), std::string::npos) << csv.out;
  CommandResult verify = run({"audit", "verify"});
  EXPECT_EQ(verify.exit_status, 0) << verify.out;
  CommandResult proof = run({"audit", "prove", "0"});
  ASSERT_EQ(proof.exit_status, 0) << proof.out;
  CommandResult key = run({"audit", "public-key"});
  ASSERT_EQ(key.exit_status, 0);
  {
    std::ofstream(Path("proof.json")) << proof.out;
    std::ofstream(Path("pub.pem")) << key.out;
  }
  CommandResult check =
      RunCommand({frontdoor, "audit", "check-proof", Path("proof.json"), "--public-key", Path("pub.pem")});
  EXPECT_EQ(check.exit_status, 0) << check.out;
}

// The audit log as an IG officer checks it over time, and as an insider would cut it: the officer
// keeps `audit verify`'s answer, and later the CLI proves (with the public key, on the officer's
// side) that the log only grew since; records cut from the end together with their checkpoints
// stop the gateway from starting, saying what was removed.
TEST_F(GatewayProcessTest, AKeptCheckpointIsProvedExtendedAndAGatewayOnACutLogDoesNotStart) {
  const auto connectors = StartSim();
  std::string target = StartGateway(connectors);
  const std::string frontdoor = BinaryPath("tools/frontdoor");
  auto officer = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {frontdoor, "--insecure-plaintext", "--target", target,
                                     "--as",    "ig-officer-oldham"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  const std::string typed = std::string(FRONTDOOR_SOURCE_DIR) + "/examples/typed-referral.json";
  ASSERT_EQ(CliSubmit(target, typed, "P85901").disposition(), v1::ACCEPTED);
  CommandResult kept = officer({"audit", "verify"});
  ASSERT_EQ(kept.exit_status, 0) << kept.out;
  ASSERT_NE(kept.out.find("latest_checkpoint"), std::string::npos) << kept.out;
  std::ofstream(Path("kept.json")) << kept.out.substr(0, kept.out.rfind('}') + 1);

  ASSERT_EQ(CliSubmit(target, typed, "P85901").disposition(), v1::ACCEPTED);
  CommandResult extended = officer({"audit", "verify", "--checkpoint", Path("kept.json")});
  EXPECT_EQ(extended.exit_status, 0) << extended.out;
  EXPECT_NE(extended.out.find("consistency_path_hex"), std::string::npos) << "the proof the CLI checked";

  gateway_->Signal(SIGTERM);
  ASSERT_TRUE(gateway_->Wait(absl::Seconds(20)).has_value());
  // An insider cuts the newest records and the checkpoints that signed them.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path("data/frontdoor.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const char* cut =
      "DELETE FROM audit_log WHERE leaf_index >= (SELECT MAX(leaf_index) - 2 FROM audit_log);"
      "DELETE FROM audit_checkpoints WHERE tree_size > (SELECT COUNT(*) FROM audit_log);";
  ASSERT_EQ(sqlite3_exec(db, cut, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_close(db);

  ChildProcess again({BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--listen", "127.0.0.1:0",
                      "--data-dir", Path("data")},
                     Path("again.log"));
  auto status = again.Wait(absl::Seconds(20));
  ASSERT_TRUE(status.has_value()) << "the gateway started on a log that lost signed records";
  EXPECT_EQ(*status, 1);
  const std::string log = ReadFileOrEmpty(Path("again.log"));
  EXPECT_NE(log.find("the audit log is not what this gateway signed"), std::string::npos) << log;
  EXPECT_NE(log.find("were removed"), std::string::npos) << log;
}

}  // namespace
}  // namespace frontdoor::testing
