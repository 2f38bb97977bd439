// A message's size is checked before it is read, at the doors the gateway reads itself: oversized
// messages sent at once over HTTP (refused on their Content-Length) and MLLP (a frame stopped at the
// limit) keep the gateway's resident memory within a bound (read from the gateway process's own
// /proc/PID/status) while an honest referral is answered. Over gRPC an oversized message is refused
// too (RESOURCE_EXHAUSTED) and an honest one answered meanwhile; gRPC 1.51 buffers a message before
// it applies its limit (grpc/grpc#43012), so its memory is bounded by the per-caller call cap
// instead (SECURITY.md, "Not built yet").
#include <thread>

#include "absl/strings/str_cat.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/http_test_client.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

// VmHWM (the peak resident set) of `pid`, in MiB.
double PeakResidentMib(pid_t pid) {
  const std::string status = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/status"));
  const size_t at = status.find("VmHWM:");
  if (at == std::string::npos) return -1;
  return std::atof(status.substr(at + 6).c_str()) / 1024.0;
}

class OversizedProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc_port_ = FreePort();
    fhir_port_ = FreePort();
    mllp_port_ = FreePort();
    gateway_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--listen",
                                 absl::StrCat("127.0.0.1:", grpc_port_), "--fhir-listen",
                                 absl::StrCat("127.0.0.1:", fhir_port_), "--mllp-listen",
                                 absl::StrCat("127.0.0.1:", mllp_port_), "--data-dir", dir_.path() + "/data",
                                 "--ready-file", dir_.path() + "/ready"},
        dir_.path() + "/gateway.log");
    ASSERT_TRUE(WaitForFile(dir_.path() + "/ready", absl::Seconds(30)).has_value())
        << ReadFileOrEmpty(dir_.path() + "/gateway.log");
    auto channel =
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", grpc_port_), grpc::InsecureChannelCredentials(), [] {
          grpc::ChannelArguments args;
          args.SetMaxSendMessageSize(-1);
          return args;
        }());
    stub_ = v1::ReferralService::NewStub(channel);
  }

  grpc::Status Submit(const v1::SubmitReferralRequest& request, v1::SubmitReferralResponse* response) {
    grpc::ClientContext context;
    context.AddMetadata("x-frontdoor-client", "P85901");
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->SubmitReferral(&context, request, response);
  }

  void ExpectHonestReferralAnswered(const std::string& message_id) {
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = RoytonReferral(message_id);
    v1::SubmitReferralResponse response;
    grpc::Status status = Submit(request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.disposition(), v1::ACCEPTED);
  }

  TempDir dir_;
  int grpc_port_ = 0, fhir_port_ = 0, mllp_port_ = 0;
  std::unique_ptr<ChildProcess> gateway_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
  const std::string big_ = std::string(48 << 20, 'x');  // 48 MiB, where the limit is 1 MiB
};

TEST_F(OversizedProcessTest, HttpAndMllpRefuseOversizedMessagesWithoutHoldingThem) {
  const double baseline = PeakResidentMib(gateway_->pid());
  ASSERT_GT(baseline, 0);
  std::vector<std::thread> senders;
  for (int i = 0; i < 3; ++i) {
    senders.emplace_back([&, i] {
      absl::StatusOr<HttpReply> reply =
          HttpTestClient::Plain(fhir_port_)
              .Send("POST", "/FHIR/R4/$process-message",
                    {{"x-request-id", absl::StrCat("3f1c2a9e-6a55-4d3e-9d39-2f2a5c4b1e7", i)},
                     {"x-frontdoor-client", "P85901"},
                     {"content-type", "application/fhir+json"}},
                    big_);
      EXPECT_TRUE(!reply.ok() || reply->status == 413) << (reply.ok() ? reply->body.substr(0, 300) : "");
    });
    senders.emplace_back([&] { RawExchange(mllp_port_, "\x0bMSH|^~\\&|" + big_, absl::Seconds(20)); });
  }
  ExpectHonestReferralAnswered("honest-1");
  for (std::thread& t : senders) t.join();
  // Six 48 MiB messages in flight: had either door read them whole, the peak would have grown by
  // hundreds of MiB.
  const double peak = PeakResidentMib(gateway_->pid());
  EXPECT_LT(peak - baseline, 32) << "peak resident " << peak << " MiB from " << baseline << " MiB at start";
}

TEST_F(OversizedProcessTest, GrpcRefusesOversizedMessagesAndAnswersOthersMeanwhile) {
  std::vector<std::thread> senders;
  std::vector<grpc::StatusCode> codes(2, grpc::StatusCode::OK);
  for (int i = 0; i < 2; ++i) {
    senders.emplace_back([&, i] {
      v1::SubmitReferralRequest request;
      request.set_fhir_json(big_);
      v1::SubmitReferralResponse response;
      codes[i] = Submit(request, &response).error_code();
    });
  }
  ExpectHonestReferralAnswered("honest-2");
  for (std::thread& t : senders) t.join();
  for (grpc::StatusCode code : codes) EXPECT_EQ(code, grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace frontdoor::testing
