// The `frontdoor` CLI as a newcomer and a script meet it, run as a process against a real gateway
// (plaintext, the demo network) on loopback: the exit code of every kind of answer, and every error
// told on stderr with what to do, with nothing on stdout and no --output file left behind.
//
// The CLI runs in this test's own temporary directory with the FRONTDOOR_* variables cleared, so it
// finds no var/dev-certs: only what each command line gives it.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

constexpr int kUsage = 2;
constexpr int kTransport = 3;
constexpr int kRights = 5;
constexpr int kRejected = 6;
constexpr int kRefused = 7;

const std::string kSamples = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/";

// Every connector organisation of the demo network, sent nowhere: these tests are about answers.
const char* const kEndpoints[] = {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"};

class CliProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"FRONTDOOR_TARGET", "FRONTDOOR_CLIENT", "FRONTDOOR_CERT_DIR", "FRONTDOOR_TLS_CERT",
                             "FRONTDOOR_TLS_KEY", "FRONTDOOR_TLS_CA"}) {
      unsetenv(name);
    }
    previous_dir_ = std::filesystem::current_path();
    std::filesystem::create_directories(Path("cwd"));
    std::filesystem::current_path(Path("cwd"));  // no var/dev-certs here
  }
  void TearDown() override { std::filesystem::current_path(previous_dir_); }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Starts a plaintext gateway on the demo network; returns its HOST:PORT.
  std::string StartGateway() {
    std::vector<std::string> argv = {BinaryPath("gateway/frontdoor-gateway"),
                                     "--insecure-plaintext",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data-dir",
                                     Path("data"),
                                     "--ready-file",
                                     Path("gateway.ready")};
    for (const char* endpoint : kEndpoints) {
      argv.push_back("--connector");
      argv.push_back(std::string(endpoint) + "=127.0.0.1:1");
    }
    gateway_ = std::make_unique<ChildProcess>(argv, Path("gateway.log"));
    std::optional<std::string> ready = WaitForFile(Path("gateway.ready"), absl::Seconds(30));
    EXPECT_TRUE(ready.has_value()) << ReadFileOrEmpty(Path("gateway.log"));
    std::string target = ready.value_or("");
    while (!target.empty() && target.back() == '\n') target.pop_back();
    return target;
  }

  // The CLI with `args`.
  static CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), BinaryPath("tools/frontdoor"));
    return RunCommand(args);
  }

  // The CLI in plaintext mode at `target`.
  static CommandResult Plain(const std::string& target, std::vector<std::string> args) {
    args.insert(args.begin(), {"--insecure-plaintext", "--target", target});
    return Cli(std::move(args));
  }

  // A gateway address where nothing listens.
  static std::string Nowhere() { return "127.0.0.1:" + std::to_string(FreePort()); }

  TempDir dir_;
  std::filesystem::path previous_dir_;
  std::unique_ptr<ChildProcess> gateway_;
};

// An error as a script sees it: its exit code, a message on stderr, nothing on stdout.
#define EXPECT_ERROR(result, code, text)                                            \
  do {                                                                              \
    const CommandResult& r_ = (result);                                             \
    EXPECT_EQ(r_.exit_status, (code)) << r_.err;                                    \
    EXPECT_NE(r_.err.find(text), std::string::npos) << "stderr: " << r_.err;        \
    EXPECT_TRUE(r_.out.empty()) << "an error prints nothing on stdout: " << r_.out; \
  } while (0)

// tests/data/samples/expected.json: each sample's sender and disposition.
std::vector<std::pair<std::string, google::protobuf::Struct>> ExpectedSamples() {
  google::protobuf::Struct expected;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(ReadFileOrEmpty(kSamples + "expected.json"), &expected).ok());
  std::map<std::string, google::protobuf::Struct> sorted;  // in file-name order: a resend after its first
  for (const auto& [file, value] : expected.fields()) sorted[file] = value.struct_value();
  return {sorted.begin(), sorted.end()};
}

TEST_F(CliProcessTest, EverySampleExitsByItsDispositionAcceptedZeroRejectedSixRefusedSeven) {
  const std::string target = StartGateway();
  const std::map<std::string, int> kExit = {{"ACCEPTED", 0}, {"REJECTED", kRejected}, {"REFUSED", kRefused}};
  std::map<std::string, int> seen;
  for (const auto& [file, sample] : ExpectedSamples()) {
    const std::string disposition = sample.fields().at("disposition").string_value();
    const std::string sender = sample.fields().at("sender").string_value();
    CommandResult r = Plain(target, {"--as", sender, "submit", kSamples + file});
    EXPECT_EQ(r.exit_status, kExit.at(disposition)) << file << " " << r.out << r.err;
    v1::SubmitReferralResponse response;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &response).ok()) << file << ": " << r.out;
    EXPECT_EQ(v1::Disposition_Name(response.disposition()), disposition) << file;
    seen[disposition]++;
  }
  EXPECT_EQ(seen.size(), 3u) << "the samples hold each disposition";
}

TEST_F(CliProcessTest, AnHl7AckIsOneSegmentALineOnATerminalAndItsExactBytesWhenPiped) {
  const std::string target = StartGateway();
  const std::string sample = kSamples + "17-hl7-tameside-hospital.hl7";
  CommandResult piped = Plain(target, {"--as", "R9T01", "submit", sample, "--raw-reply"});
  ASSERT_EQ(piped.exit_status, 0) << piped.err;
  ASSERT_EQ(piped.out.rfind("MSH|", 0), 0u) << piped.out;
  EXPECT_NE(piped.out.find("\rMSA|AA|"), std::string::npos) << "segments end with \\r, as sent: " << piped.out;
  EXPECT_EQ(piped.out.find('\n'), std::string::npos) << "nothing added when piped: " << piped.out;

  // On a terminal (script(1) gives the CLI one, whose line discipline turns \n into \r\n).
  auto on_terminal = [&](const std::string& extra) {
    const std::string command = absl::StrCat("'", BinaryPath("tools/frontdoor"), "' --insecure-plaintext --target ",
                                             target, " --as R9T01 submit '", sample, "' --raw-reply", extra);
    return RunCommand({"script", "-q", "-e", "-c", command, "/dev/null"});
  };
  CommandResult readable = on_terminal("");
  ASSERT_EQ(readable.exit_status, 0) << readable.out;
  EXPECT_NE(readable.out.find("\r\nMSA|AA|"), std::string::npos) << readable.out;
  for (size_t at = readable.out.find('\r'); at != std::string::npos; at = readable.out.find('\r', at + 1)) {
    ASSERT_EQ(readable.out[at + 1], '\n') << "every segment on its own line: " << readable.out;
  }
  CommandResult exact = on_terminal(" --exact-bytes");
  ASSERT_EQ(exact.exit_status, 0) << exact.out;
  EXPECT_NE(exact.out.find("\rMSA|AA|"), std::string::npos) << "--exact-bytes: " << exact.out;
}

TEST_F(CliProcessTest, WithoutACertificateItStopsBeforeAnyCallAndSaysHowToGiveOne) {
  const std::string target = StartGateway();
  const std::string sample = kSamples + "01-fhir-oldham-wellbeing.json";
  CommandResult r = Cli({"--target", target, "--as", "P85901", "submit", sample});
  EXPECT_ERROR(r, kUsage, "found no client certificate");
  for (const char* how : {"--cert-dir DIR", "--tls-cert FILE --tls-key FILE --ca FILE", "FRONTDOOR_CERT_DIR",
                          "scripts/dev-certs", "--insecure-plaintext only for a gateway run with"}) {
    EXPECT_NE(r.err.find(how), std::string::npos) << how << " in: " << r.err;
  }
  // Nothing reached the gateway: the same referral sent properly is new there.
  CommandResult sent = Plain(target, {"--as", "P85901", "submit", sample});
  ASSERT_EQ(sent.exit_status, 0) << sent.err;
  EXPECT_EQ(sent.out.find("\"duplicate\": true"), std::string::npos) << sent.out;
}

TEST_F(CliProcessTest, AnIdentityWithoutACertificateNamesTheIdentitiesThatHaveOne) {
  std::filesystem::create_directories(Path("certs"));
  for (const char* file : {"ca.crt", "P85901.crt", "P85901.key", "ig-officer-oldham.crt", "ig-officer-oldham.key"}) {
    std::ofstream(Path(std::string("certs/") + file)) << "not read: the identity is missing first";
  }
  CommandResult r = Cli({"--target", Nowhere(), "--cert-dir", Path("certs"), "--as", "P99999", "get", "x"});
  EXPECT_ERROR(r, kUsage, "no certificate for 'P99999'");
  EXPECT_NE(r.err.find("are P85901, ig-officer-oldham ("), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("ca,"), std::string::npos) << "the CA is no identity: " << r.err;

  CommandResult nobody = Cli({"--target", Nowhere(), "--cert-dir", Path("certs"), "get", "x"});
  EXPECT_ERROR(nobody, kUsage, "say who you are: --as IDENTITY");
  EXPECT_NE(nobody.err.find("P85901"), std::string::npos) << nobody.err;

  CommandResult no_dir = Cli({"--target", Nowhere(), "--cert-dir", Path("none"), "--as", "P85901", "get", "x"});
  EXPECT_ERROR(no_dir, kUsage, "does not exist");
}

TEST_F(CliProcessTest, PlaintextWithoutAnIdentitySaysHowToGiveOne) {
  EXPECT_ERROR(Plain(Nowhere(), {"get", "x"}), kUsage, "say who you are: --as IDENTITY (or FRONTDOOR_CLIENT)");
}

TEST_F(CliProcessTest, AGatewayNotThereIsATransportErrorSayingWhereTheDemoRunsOne) {
  CommandResult r = Plain(Nowhere(), {"--as", "P85901", "--timeout", "5", "get", "x"});
  EXPECT_ERROR(r, kTransport, "UNAVAILABLE");
  EXPECT_NE(r.err.find("is the gateway running? scripts/demo starts one on 127.0.0.1:50051"), std::string::npos)
      << r.err;
  EXPECT_NE(Cli({"--help"}).out.find("default $FRONTDOOR_TARGET or 127.0.0.1:50051"), std::string::npos)
      << "the default target is where the demo runs";
}

TEST_F(CliProcessTest, AGatewayThatNeverAnswersIsATransportErrorToo) {
  // A socket that listens but never speaks HTTP/2: the call waits until its deadline.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  CommandResult r = Plain(silent, {"--as", "P85901", "--timeout", "1", "get", "x"});
  close(fd);
  EXPECT_ERROR(r, kTransport, "DEADLINE_EXCEEDED");
  EXPECT_NE(r.err.find("is the gateway running?"), std::string::npos) << r.err;
}

TEST_F(CliProcessTest, NotYoursToDoIsARightsErrorWithNothingOnStdoutAndNoOutputFile) {
  const std::string target = StartGateway();
  EXPECT_ERROR(Plain(target, {"--as", "P85901", "audit", "verify"}), kRights, "PERMISSION_DENIED");
  EXPECT_ERROR(Plain(target, {"--as", "P85901", "audit", "query", "--format", "csv"}), kRights, "may not do that");
  EXPECT_ERROR(Plain(target, {"--as", "P85901", "audit", "query"}), kRights, "PERMISSION_DENIED");  // no `[]`
  EXPECT_ERROR(Plain(target, {"--as", "P85901", "admin", "dead-letters"}), kRights, "PERMISSION_DENIED");
  EXPECT_ERROR(Plain(target, {"--as", "not/an/identity", "get", "x"}), kRights, "UNAUTHENTICATED");

  CommandResult denied =
      Plain(target, {"--as", "P85901", "audit", "query", "--format", "csv", "--output", Path("person.csv")});
  EXPECT_ERROR(denied, kRights, "PERMISSION_DENIED");
  EXPECT_FALSE(std::filesystem::exists(Path("person.csv"))) << "a failed run leaves no --output file";
  EXPECT_FALSE(std::filesystem::exists(Path("person.csv.partial")));

  CommandResult allowed =
      Plain(target, {"--as", "ig-officer-oldham", "audit", "query", "--format", "csv", "--output", Path("person.csv")});
  EXPECT_EQ(allowed.exit_status, 0) << allowed.err;
  EXPECT_TRUE(allowed.out.empty()) << allowed.out;
  EXPECT_EQ(ReadFileOrEmpty(Path("person.csv")).rfind("index,time,actor,", 0), 0u) << "the answer went to the file";
}

// Each is told before any certificate is looked for or any call made: the target is nowhere, and
// the answer is still the usage error, not UNAVAILABLE.
TEST_F(CliProcessTest, ArgumentsAreCheckedBeforeTheCallAndNamedInCommandLineTerms) {
  const std::string nowhere = Nowhere();
  auto officer = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--as", "ig-officer-oldham", "--output", Path("out.txt")});
    return Plain(nowhere, std::move(args));
  };
  CommandResult outcome = officer({"audit", "query", "--outcome", "delivery", "--format", "csv"});
  EXPECT_ERROR(outcome, kUsage, "--outcome delivery: not one of permit, refuse, withhold, deliver, withdraw, cease");
  EXPECT_NE(outcome.err.find("feedback"), std::string::npos) << outcome.err;
  EXPECT_ERROR(officer({"audit", "query", "--nhs-number", "9991951025"}), kUsage,
               "--nhs-number 9991951025: not an NHS number");  // the check digit is 4
  EXPECT_ERROR(officer({"audit", "query", "--nhs-number", "999195102"}), kUsage, "not an NHS number");
  EXPECT_ERROR(officer({"audit", "query", "--from", "2025-02-29"}), kUsage,
               "--from 2025-02-29: not a day (YYYY-MM-DD, a real day)");
  EXPECT_ERROR(officer({"audit", "query", "--to", "2025-13-01T00:00:00Z"}), kUsage, "--to 2025-13-01T00:00:00Z");
  EXPECT_ERROR(officer({"audit", "query", "--from", "yesterday"}), kUsage, "--from yesterday");
  EXPECT_ERROR(officer({"audit", "query", "--colour", "red"}), kUsage, "unknown option --colour");
  EXPECT_ERROR(officer({"cancel", "x", "--reason", "bored"}), kUsage, "--reason bored");
  EXPECT_ERROR(officer({"audit", "prove", "first"}), kUsage, "INDEX is a record's index");

  auto operator_ = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--as", "frontdoor-operator"});
    return Plain(nowhere, std::move(args));
  };
  CommandResult replay = operator_({"admin", "replay"});
  EXPECT_ERROR(replay, kUsage, "admin replay needs exactly one of --all, --endpoint ENDPOINT_ID, --referral");
  EXPECT_NE(replay.err.find("--outbox-id N"), std::string::npos) << replay.err;
  EXPECT_ERROR(operator_({"admin", "replay", "--all", "--endpoint", "mind-oldham"}), kUsage, "several were given");
  EXPECT_ERROR(operator_({"admin", "replay", "--outbox-id", "seven"}), kUsage, "--outbox-id seven");
  EXPECT_ERROR(operator_({"watch", "--count", "0"}), kUsage, "--count 0");
  EXPECT_ERROR(operator_({"submit", Path("missing.json")}), kUsage, "cannot read");
  EXPECT_ERROR(operator_({"--timeout", "soon", "get", "x"}), kUsage, "--timeout soon");
  EXPECT_FALSE(std::filesystem::exists(Path("out.txt")));

  // And before a missing certificate.
  EXPECT_ERROR(Cli({"--target", nowhere, "--as", "ig-officer-oldham", "audit", "query", "--outcome", "x"}), kUsage,
               "--outcome x");
}

TEST_F(CliProcessTest, WellFormedFiltersPassTheChecksAndGoToTheGateway) {
  const std::string nowhere = Nowhere();
  for (const char* outcome :
       {"permit", "refuse", "withhold", "deliver", "withdraw", "cease", "feedback", "query"}) {  // README's list
    CommandResult r =
        Plain(nowhere, {"--as", "ig-officer-oldham", "audit", "query", "--outcome", outcome, "--nhs-number",
                        "999 195 1024", "--from", "2024-02-29", "--to", "2025-06-10T09:00:00Z"});
    EXPECT_EQ(r.exit_status, kTransport) << outcome << ": " << r.err;
  }
  EXPECT_EQ(Plain(nowhere, {"--as", "frontdoor-operator", "admin", "replay", "--outbox-id", "3", "--outbox-id", "4"})
                .exit_status,
            kTransport);
}

TEST_F(CliProcessTest, HelpListsTheExitCodesAndEveryOptionTheReadmeUses) {
  CommandResult help = Cli({"--help"});
  ASSERT_EQ(help.exit_status, 0);
  for (const char* text : {"exit status",
                           "0  done; submit: ACCEPTED",
                           "2  usage",
                           "3  transport: UNAVAILABLE or DEADLINE_EXCEEDED",
                           "5  rights: PERMISSION_DENIED or UNAUTHENTICATED",
                           "6  submit: REJECTED",
                           "7  submit: REFUSED",
                           "--target",
                           "--as",
                           "--cert-dir",
                           "--tls-cert",
                           "--tls-key",
                           "--ca FILE",
                           "--insecure-plaintext",
                           "--timeout",
                           "--output",
                           "submit FILE",
                           "--raw-reply",
                           "--exact-bytes",
                           "get REFERRAL_ID",
                           "watch",
                           "--from CURSOR",
                           "--count N",
                           "admin dead-letters",
                           "--endpoint",
                           "--referral",
                           "admin replay",
                           "--all",
                           "--outbox-id",
                           "cancel REFERRAL_ID",
                           "--reason consent-withdrawn|entered-in-error|no-longer-needed",
                           "audit query",
                           "--nhs-number",
                           "--recipient",
                           "--referrer",
                           "--rule",
                           "permit|refuse|withhold|deliver|withdraw|cease|feedback|query",
                           "--format csv|json",
                           "audit verify",
                           "--checkpoint",
                           "audit prove INDEX",
                           "audit public-key",
                           "audit check-proof",
                           "--public-key",
                           "FRONTDOOR_TARGET",
                           "FRONTDOOR_CLIENT",
                           "FRONTDOOR_CERT_DIR",
                           "FRONTDOOR_TLS_CERT",
                           "FRONTDOOR_TLS_KEY",
                           "FRONTDOOR_TLS_CA"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace frontdoor::testing
