// A store damaged under a running gateway: the pages of its SQLite file overwritten while the
// gateway serves (a failing disk, an operator's mistake). The gateway process must notice at the
// first commit that reads the damage, answer that submission UNAVAILABLE (nothing acknowledged
// that was not stored), turn both health services NOT_SERVING, count the failure and say why in
// its log, and stay that way: damage does not mend while it runs.
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/gateway/store/store_test_rows.h"
#include "tests/support/http_test_client.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;
using HealthStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// The port of `key` ("health_address", ...) from the gateway's JSON "listening" log line; 0 if none.
int ListeningPort(const std::string& log, const std::string& key) {
  const size_t line = log.find("\"event\":\"listening\"");
  if (line == std::string::npos) return 0;
  const size_t at = log.find("\"" + key + "\":\"", line);
  if (at == std::string::npos) return 0;
  const size_t end = log.find('"', at + key.size() + 4);
  const std::string address = log.substr(at + key.size() + 4, end - at - key.size() - 4);
  return std::atoi(address.substr(address.rfind(':') + 1).c_str());
}

HealthStatus Health(const std::string& target, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&ctx, request, &response);
  return status.ok() ? response.status() : grpc::health::v1::HealthCheckResponse::UNKNOWN;
}

TEST(DamagedStoreProcessTest, DamageFoundWhileRunningTurnsHealthNotServingAndIsCountedAndLogged) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const std::string db = data + "/frontdoor.db";
  std::filesystem::create_directories(data);
  // A store much larger than the gateway's page cache (8 MiB a connection), as a year's is: most
  // of its pages are read from the file when a commit needs them.
  {
    auto store = gateway::SqliteStore::Open(db);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int b = 0; b < 96; ++b) {
      std::vector<gateway::NewReferral> batch;
      for (int i = 0; i < 1000; ++i) {
        const std::string id = absl::StrCat("seed-", b, "-", i);
        batch.push_back(gateway::testing::Refused(id, "m-" + id));
      }
      ASSERT_TRUE((*store)->RecordReferrals(std::move(batch)).ok());
    }
  }
  const uintmax_t size = std::filesystem::file_size(db);
  ASSERT_GT(size, uintmax_t{40} << 20) << "the store must outgrow the page cache";

  const std::string log = dir.path() + "/gateway.log";
  const std::string ready = dir.path() + "/ready";
  ChildProcess gateway({BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--config",
                        WriteBulkTestConfig(dir.path()), "--listen", "127.0.0.1:0", "--data-dir", data, "--ready-file",
                        ready, "--metrics-listen", "127.0.0.1:0", "--health-listen", "127.0.0.1:0"},
                       log);
  const std::optional<std::string> target_line = WaitForFile(ready, absl::Seconds(60));
  ASSERT_TRUE(target_line.has_value()) << ReadFileOrEmpty(log);
  std::string target = *target_line;
  while (!target.empty() && target.back() == '\n') target.pop_back();
  const int health_port = ListeningPort(ReadFileOrEmpty(log), "health_address");
  const int metrics_port = ListeningPort(ReadFileOrEmpty(log), "metrics_address");
  ASSERT_NE(health_port, 0) << ReadFileOrEmpty(log);
  ASSERT_NE(metrics_port, 0) << ReadFileOrEmpty(log);
  const std::string health_target = absl::StrCat("127.0.0.1:", health_port);
  ASSERT_EQ(Health(health_target, ""), grpc::health::v1::HealthCheckResponse::SERVING);

  auto stub = v1::ReferralService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  auto submit = [&](int i, v1::SubmitReferralResponse* response) {
    v1::SubmitReferralRequest request;
    // Message ids among the seeded ones: the duplicate check reads the index where they would
    // sort, a different page each time, not only the pages the last commit left in the cache.
    *request.mutable_referral() = RoytonReferral(absl::StrCat("m-seed-", (i * 37) % 96, "-", (i * 53) % 1000, "b"));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    return stub->SubmitReferral(&ctx, request, response);
  };
  v1::SubmitReferralResponse first;
  ASSERT_TRUE(submit(0, &first).ok()) << "the store works before the damage";

  // Random bytes over the middle three fifths of the file, as a failing disk would leave them.
  {
    std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
    std::mt19937 rng(11);
    std::string junk(size * 3 / 5 / 4096 * 4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    file.seekp(static_cast<std::streamoff>(size / 5 / 4096 * 4096));
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }

  // Submissions go on until one commit reads a damaged page (most do: their duplicate checks land
  // on pages all over the file).
  int refused = 0;
  grpc::Status failed;
  for (int i = 1; i <= 200 && refused == 0; ++i) {
    v1::SubmitReferralResponse response;
    const grpc::Status s = submit(i, &response);
    if (!s.ok()) {
      ++refused;
      failed = s;
    }
  }
  ASSERT_EQ(refused, 1) << "no commit read the damage: " << ReadFileOrEmpty(log).substr(0, 4000);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();

  // Both health services say so, and go on saying so.
  EXPECT_EQ(Health(health_target, ""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Health(target, ""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(Health(health_target, ""), grpc::health::v1::HealthCheckResponse::NOT_SERVING) << "damage does not mend";

  const absl::StatusOr<HttpReply> scrape = HttpTestClient::Plain(metrics_port).Send("GET", "/metrics", {});
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  ASSERT_EQ(scrape->status, 200);
  const std::string& metrics = scrape->body;
  EXPECT_NE(metrics.find("\nfrontdoor_store_writable 0"), std::string::npos) << metrics.substr(0, 3000);
  const std::string failures_name = "\nfrontdoor_store_write_failures_total ";
  const size_t failures = metrics.find(failures_name);
  ASSERT_NE(failures, std::string::npos) << metrics.substr(0, 3000);
  EXPECT_GE(std::atof(metrics.c_str() + failures + failures_name.size()), 1.0);
  EXPECT_NE(ReadFileOrEmpty(log).find("the store is damaged"), std::string::npos);
}

}  // namespace
}  // namespace frontdoor::testing
