// End to end over mutual TLS with the real executables and the real scripts/dev-certs: the
// simulator serves TLS and requires the gateway's client certificate, the gateway serves mutual TLS
// and verifies the simulator's certificate, the CLI picks its certificate from the certificate
// directory by --as.
#include <map>
#include <sstream>

#include "frontdoor/v1/referral_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

class MutualTlsProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string Cert(const std::string& name) const { return Path("certs/" + name); }

  void SetUp() override {
    CommandResult certs = RunCommand({std::string(FRONTDOOR_SOURCE_DIR) + "/scripts/dev-certs", Path("certs")});
    ASSERT_EQ(certs.exit_status, 0) << certs.out;

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
                                    Cert("ca.crt")};
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      sim.push_back("--serve");
      sim.push_back(std::string(e) + "=127.0.0.1:0");
    }
    sim_ = std::make_unique<ChildProcess>(sim, Path("sim.log"));
    auto ready = WaitForFile(Path("sim.ready"), absl::Seconds(30));
    ASSERT_TRUE(ready.has_value()) << ReadFileOrEmpty(Path("sim.log"));

    std::vector<std::string> gw = {BinaryPath("gateway/frontdoor-gateway"),
                                   "--listen",
                                   "127.0.0.1:0",
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
    std::istringstream lines(*ready);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) {
        gw.push_back("--connector");
        gw.push_back(line);
      }
    }
    gateway_ = std::make_unique<ChildProcess>(gw, Path("gateway.log"));
    auto bound = WaitForFile(Path("gateway.ready"), absl::Seconds(30));
    ASSERT_TRUE(bound.has_value()) << ReadFileOrEmpty(Path("gateway.log"));
    target_ = *bound;
    while (!target_.empty() && target_.back() == '\n') target_.pop_back();
  }

  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {BinaryPath("tools/frontdoor"), "--target", target_, "--cert-dir", Path("certs")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

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
  std::string target_;
};

TEST_F(MutualTlsProcessTest, ReferralTravelsPracticeToGatewayToConnectorOnMutualTls) {
  CommandResult submit =
      Cli({"--as", "P85901", "submit", std::string(FRONTDOOR_SOURCE_DIR) + "/examples/typed-referral.json"});
  ASSERT_EQ(submit.exit_status, 0) << submit.out << ReadFileOrEmpty(Path("gateway.log"));
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(submit.out, &resp).ok()) << submit.out;
  ASSERT_EQ(resp.disposition(), v1::ACCEPTED);
  EXPECT_TRUE(WaitForDelivery(resp.referral_id(), absl::Seconds(30)))
      << ReadFileOrEmpty(Path("gateway.log")) << ReadFileOrEmpty(Path("sim.log"));
  EXPECT_NE(ReadFileOrEmpty(Path("sim.log")).find("(mutual TLS)"), std::string::npos);

  EXPECT_EQ(Cli({"--as", "P85901", "get", resp.referral_id()}).exit_status, 0);
  EXPECT_EQ(Cli({"--as", "P85902", "get", resp.referral_id()}).exit_status, 5);  // PERMISSION_DENIED
}

TEST_F(MutualTlsProcessTest, PlaintextCliIsRefusedByTheTlsGateway) {
  CommandResult r = Cli({"--insecure-plaintext", "--as", "P85901", "get", "anything"});
  EXPECT_EQ(r.exit_status, 3) << "the TLS gateway closes a plaintext connection: unreachable";
}

}  // namespace
}  // namespace frontdoor::testing
