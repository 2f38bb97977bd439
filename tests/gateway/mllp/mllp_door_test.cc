// The MLLP door of a real gateway on loopback (plain TCP, identity from MSH-4), driven over real
// sockets: every HL7 v2 sample answered as over gRPC (in the accept-acknowledgment form its MSH-15
// asks for) and delivered as over gRPC, one referral whichever door, frames split and joined,
// broken streams ended without harming anyone else, and feedback sent back to a ward's engine.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/write.hpp"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/mllp/mllp_framer.h"
#include "gateway/net/io_loop.h"
#include "gateway/net/tcp_listener.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/http_test_client.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
namespace pb = ::google::protobuf;
using frontdoor::testing::RawExchange;

const std::string kSamples = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A sample as a ward sends it: segments ending in CR.
std::string Hl7Sample(const std::string& file) {
  std::string text = Read(kSamples + "/" + file);
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i] == '\n' ? '\r' : text[i]);
  }
  return out;
}

// The messages framed in what came back.
std::vector<std::string> Acks(const std::string& received) {
  MllpFramer framer(1 << 20);
  std::vector<std::string> out;
  for (MllpEvent& e : framer.Feed(received)) {
    if (e.kind == MllpEvent::kFrame) out.push_back(std::move(e.message));
  }
  return out;
}

// A segment's fields (field 0 the id; for MSH field 1 is the separator, as HL7 numbers them).
std::vector<std::string> Segment(const std::string& message, const std::string& id) {
  std::istringstream in(message);
  std::string line;
  while (std::getline(in, line, '\r')) {
    if (line.rfind(id + "|", 0) != 0) continue;
    std::vector<std::string> fields;
    std::istringstream fs(line);
    std::string field;
    while (std::getline(fs, field, '|')) fields.push_back(field);
    if (id == "MSH") fields.insert(fields.begin() + 1, "|");
    return fields;
  }
  return {};
}

std::set<std::string> ErrCodes(const std::string& ack) {
  std::set<std::string> codes;
  std::istringstream in(ack);
  std::string line;
  while (std::getline(in, line, '\r')) {
    if (line.rfind("ERR|", 0) != 0) continue;
    std::vector<std::string> fields;
    std::istringstream fs(line);
    std::string field;
    while (std::getline(fs, field, '|')) fields.push_back(field);
    if (fields.size() > 5) codes.insert(fields[5].substr(0, fields[5].find('^')));
  }
  return codes;
}

class MllpDoorTest : public ::testing::Test {
 protected:
  void StartGateway(const std::string& extra_config = "") {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.mllp_listen = "127.0.0.1:0";
    options.metrics_registry = registry_;
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path(), extra_config);
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      connectors_[e] = std::make_unique<frontdoor::testing::RecordingConnector>();
      options.connector_overrides[e] = connectors_[e]->address();
    }
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->mllp_port(), 0);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    referrals_ = v1::ReferralService::NewStub(channel);
    feedback_ = v1::FeedbackService::NewStub(channel);
  }

  // Sends `bytes` on one connection and returns the acknowledgments it got back before `wait`.
  std::vector<std::string> Exchange(const std::string& bytes, absl::Duration wait = absl::Seconds(2), int pieces = 1) {
    return Acks(RawExchange(server_->mllp_port(), bytes, wait, pieces));
  }

  frontdoor::testing::TempDir dir_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::map<std::string, std::unique_ptr<frontdoor::testing::RecordingConnector>> connectors_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::FeedbackService::Stub> feedback_;
};

TEST_F(MllpDoorTest, EveryHl7SampleIsAnsweredAsOverGrpcAndEachAcceptedOneDeliveredOnce) {
  StartGateway();
  pb::Value expected;
  ASSERT_TRUE(pb::util::JsonStringToMessage(Read(kSamples + "/expected.json"), &expected).ok());
  std::vector<std::string> files;
  for (const auto& [name, want] : expected.struct_value().fields()) {
    if (want.struct_value().fields().at("format").string_value() == "hl7v2") files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 7u);
  // All of them on one connection, frame after frame, as an engine sends.
  std::string bytes;
  for (const std::string& file : files) bytes += MllpFrame(Hl7Sample(file));
  std::vector<std::string> acks = Exchange(bytes, absl::Seconds(5));
  ASSERT_EQ(acks.size(), files.size());
  int accepted = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    const auto& want = expected.struct_value().fields().at(files[i]).struct_value().fields();
    const std::string disposition = want.at("disposition").string_value();
    const bool duplicate = want.count("duplicate_of") > 0 && !want.at("duplicate_of").string_value().empty();
    const std::vector<std::string> msa = Segment(acks[i], "MSA");
    ASSERT_GE(msa.size(), 3u) << acks[i];
    // The samples ask for enhanced mode (MSH-15 AL): CA once recorded, CR when not taken.
    EXPECT_EQ(msa[1], disposition == "REJECTED" ? "CR" : "CA") << acks[i];
    EXPECT_EQ(msa[2], Segment(Hl7Sample(files[i]), "MSH")[10]) << "MSA-2 is the message's MSH-10";
    std::set<std::string> want_codes;
    for (const auto& code : want.at("issue_codes").list_value().values()) want_codes.insert(code.string_value());
    for (const std::string& code : want_codes) EXPECT_TRUE(ErrCodes(acks[i]).count(code)) << code << "\n" << acks[i];
    if (disposition == "ACCEPTED" && !duplicate) ++accepted;
  }
  int delivered = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    delivered = 0;
    for (auto& [endpoint, connector] : connectors_) delivered += static_cast<int>(connector->received().size());
    if (delivered >= accepted) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::SleepFor(absl::Milliseconds(200));
  delivered = 0;
  for (auto& [endpoint, connector] : connectors_) delivered += static_cast<int>(connector->received().size());
  EXPECT_EQ(delivered, accepted);
  EXPECT_GE(frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_mllp_messages_total", {{"ack", "CA"}}),
            accepted);
}

TEST_F(MllpDoorTest, OriginalModeIsAnsweredAaAndTheSameMessageThroughGrpcIsOneReferral) {
  StartGateway();
  // Without MSH-15 the sender wants original mode: AA.
  std::string message = Hl7Sample("17-hl7-tameside-hospital.hl7");
  std::vector<std::string> msh = Segment(message, "MSH");
  const std::string with_mode = "|" + msh[15] + "|" + msh[16] + "|";
  const size_t at = message.find(with_mode);
  ASSERT_NE(at, std::string::npos);
  message.replace(at, with_mode.size(), "|||");
  std::vector<std::string> acks = Exchange(MllpFrame(message));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(Segment(acks[0], "MSA")[1], "AA") << acks[0];

  // The same message through gRPC: the first referral, a duplicate.
  v1::SubmitReferralRequest request;
  request.set_hl7v2(message);
  grpc::ClientContext context;
  context.AddMetadata("x-frontdoor-client", Segment(message, "MSH")[4]);
  v1::SubmitReferralResponse response;
  ASSERT_TRUE(referrals_->SubmitReferral(&context, request, &response).ok());
  EXPECT_TRUE(response.duplicate());
  EXPECT_EQ(connectors_["action-together-tameside"]->WaitForDistinct(1, absl::Seconds(30)), 1);
}

// The intake's answers hold at this door too: a used MSH-10 for another message, two people in one.
TEST_F(MllpDoorTest, AReusedControlIdAndASecondPidAreRejectedHereToo) {
  StartGateway();
  const std::string message = Hl7Sample("17-hl7-tameside-hospital.hl7");
  std::string other = message;  // the same MSH-10, another person's birth date
  const std::vector<std::string> pid = Segment(message, "PID");
  other.replace(other.find(pid[7]), pid[7].size(), "19800101");
  std::string two_people = Hl7Sample("18-hl7-oldham-older-people.hl7");
  const size_t pid_at = two_people.find("\rPID|") + 1;
  two_people.insert(two_people.find('\r', pid_at) + 1,
                    two_people.substr(pid_at, two_people.find('\r', pid_at) + 1 - pid_at));
  std::vector<std::string> acks = Exchange(MllpFrame(message) + MllpFrame(other) + MllpFrame(two_people));
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(Segment(acks[0], "MSA")[1], "CA");
  EXPECT_EQ(Segment(acks[1], "MSA")[1], "CR") << acks[1];
  EXPECT_TRUE(ErrCodes(acks[1]).count("MESSAGE_ID_REUSED")) << acks[1];
  EXPECT_EQ(Segment(acks[2], "MSA")[1], "CR") << acks[2];
  EXPECT_TRUE(ErrCodes(acks[2]).count("INVALID_VALUE")) << acks[2];
  EXPECT_NE(acks[2].find("PID^2"), std::string::npos) << acks[2];
}

TEST_F(MllpDoorTest, FramesSplitAnywhereOrJoinedAreEachAnsweredInOrder) {
  StartGateway();
  const std::string a = MllpFrame(Hl7Sample("17-hl7-tameside-hospital.hl7"));
  const std::string b = MllpFrame(Hl7Sample("18-hl7-oldham-older-people.hl7"));
  // Byte by byte... in 40 pieces, both frames.
  std::vector<std::string> acks = Exchange(a + b, absl::Seconds(5), 40);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(Segment(acks[0], "MSA")[2], Segment(Hl7Sample("17-hl7-tameside-hospital.hl7"), "MSH")[10]);
  EXPECT_EQ(Segment(acks[1], "MSA")[2], Segment(Hl7Sample("18-hl7-oldham-older-people.hl7"), "MSH")[10]);
}

TEST_F(MllpDoorTest, BrokenStreamsEndTheirConnectionOnlyAndAreCounted) {
  StartGateway("mllp { frame_deadline_seconds: 1 }");
  // Bytes before a start block: no answer, the connection closed (well before the read time).
  absl::Time before = absl::Now();
  EXPECT_TRUE(Exchange("GET / HTTP/1.1\r\n\r\n", absl::Seconds(5)).empty());
  EXPECT_LT(absl::Now() - before, absl::Seconds(4));
  // A frame that never ends is cut off at its deadline.
  before = absl::Now();
  EXPECT_TRUE(Exchange("\x0bMSH|^~\\&|WARD|R9T01|", absl::Seconds(5)).empty());
  EXPECT_LT(absl::Now() - before, absl::Seconds(4));
  // A good frame, then a bad end block: the good one is answered, then the connection ends.
  std::vector<std::string> acks =
      Exchange(MllpFrame(Hl7Sample("17-hl7-tameside-hospital.hl7")) + "\x0bMSH|x\x1cX", absl::Seconds(3));
  EXPECT_EQ(acks.size(), 1u);
  // A frame over the limit whose MSH can be read: a reject naming the limit.
  std::string huge = Hl7Sample("18-hl7-oldham-older-people.hl7");
  huge += "NTE|1||" + std::string(2 << 20, 'x') + "\r";
  acks = Exchange(MllpFrame(huge), absl::Seconds(5));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(Segment(acks[0], "MSA")[1], "CR") << acks[0];
  EXPECT_NE(acks[0].find("larger than"), std::string::npos);
  // A message from a facility the network does not know: a reject, and no referral.
  std::string stranger = Hl7Sample("17-hl7-tameside-hospital.hl7");
  stranger.replace(stranger.find("|R9T01|"), 7, "|Z9Z99|");
  acks = Exchange(MllpFrame(stranger));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(Segment(acks[0], "MSA")[1], "CR") << acks[0];
  // The door serves everyone else as ever.
  acks = Exchange(MllpFrame(Hl7Sample("18-hl7-oldham-older-people.hl7")));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(Segment(acks[0], "MSA")[1], "CA");
  EXPECT_GE(frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_mllp_bad_frames_total",
                                                    {{"kind", "bytes_outside_frame"}}),
            1);
  EXPECT_GE(
      frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_mllp_bad_frames_total", {{"kind", "timeout"}}), 1);
}

TEST_F(MllpDoorTest, OneSenderHasOneBudgetAndAnswersOverItTellWhenToSendAgain) {
  StartGateway("caller_limits { requests_per_second: 1 burst: 2 max_concurrent_calls: 16 }");
  std::string bytes;
  for (const char* file : {"17-hl7-tameside-hospital.hl7", "20-hl7-ig1-no-con.hl7", "21-hl7-missing-pid.hl7"}) {
    bytes += MllpFrame(Hl7Sample(file));
  }
  std::vector<std::string> acks = Exchange(bytes);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(Segment(acks[2], "MSA")[1], "CE") << "over the budget: send it again later\n" << acks[2];
  EXPECT_NE(acks[2].find("send it again"), std::string::npos) << acks[2];
}

// A ward's own engine, where its feedback is sent back: answers each frame with the code given.
class FakeEngine {
 public:
  FakeEngine() {
    auto listener = TcpListener::Open(loop_.context(), "127.0.0.1:0", "the fake engine", 8,
                                      [this](boost::asio::ip::tcp::socket socket, ConnectionSlot slot) {
                                        Serve(std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket)),
                                              std::make_shared<MllpFramer>(1 << 20));
                                      });
    EXPECT_TRUE(listener.ok());
    listener_ = *listener;
    loop_.Start();
  }
  ~FakeEngine() {
    listener_->Close();
    loop_.Stop();
  }
  int port() const { return listener_->port(); }
  void AnswerNext(std::vector<std::string> codes) {
    absl::MutexLock lock(&mu_);
    codes_ = std::move(codes);
  }
  std::vector<std::string> accepted() const {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }

 private:
  void Serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket, std::shared_ptr<MllpFramer> framer) {
    auto buffer = std::make_shared<std::array<char, 8192>>();
    socket->async_read_some(boost::asio::buffer(*buffer), [this, socket, framer, buffer](auto ec, size_t n) {
      if (ec) return;
      for (MllpEvent& e : framer->Feed(std::string_view(buffer->data(), n))) {
        if (e.kind != MllpEvent::kFrame) return;
        std::string code = "AA";
        {
          absl::MutexLock lock(&mu_);
          if (!codes_.empty()) {
            code = codes_.front();
            codes_.erase(codes_.begin());
          }
          if (code == "AA" || code == "CA") accepted_.push_back(e.message);
        }
        const std::string control = Segment(e.message, "MSH")[10];
        auto ack = std::make_shared<std::string>(
            MllpFrame("MSH|^~\\&|ENGINE|WARD|FRONTDOOR|SPFRONTDOOR|20250101000000||ACK|A1|P|2.5.1\rMSA|" + code + "|" +
                      control + "|engine says " + code + "\r"));
        boost::asio::write(*socket, boost::asio::buffer(*ack));
      }
      Serve(socket, framer);
    });
  }

  IoLoop loop_{1};
  std::shared_ptr<TcpListener> listener_;
  mutable absl::Mutex mu_;
  std::vector<std::string> codes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> accepted_ ABSL_GUARDED_BY(mu_);
};

TEST_F(MllpDoorTest, FeedbackGoesBackToTheWardsEngineAsRriOverMllp) {
  FakeEngine engine;
  StartGateway(absl::StrCat("delivery { initial_backoff_ms: 50 max_backoff_ms: 200 breaker_open_ms: 100 }",
                            " mllp { feedback_destinations { ods: \"R9T01\" address: \"127.0.0.1:", engine.port(),
                            "\" } }"));
  std::string message = Hl7Sample("17-hl7-tameside-hospital.hl7");
  std::vector<std::string> acks = Exchange(MllpFrame(message));
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_EQ(connectors_["action-together-tameside"]->WaitForDistinct(1, absl::Seconds(30)), 1);
  const std::string referral_id = connectors_["action-together-tameside"]->received()[0].referral().referral_id();

  engine.AnswerNext({"AE", "AA"});  // an error the engine may recover from: sent again
  for (auto [status, key] : {std::pair{v1::PROGRESS_RECEIVED, "k1"}, std::pair{v1::PROGRESS_CONTACTED, "k2"}}) {
    v1::ReportProgressRequest report;
    report.set_referral_id(referral_id);
    report.set_idempotency_key(key);
    report.set_status(status);
    report.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Seconds(1), absl::UTCTimeZone()));
    grpc::Status result;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    do {
      grpc::ClientContext context;
      context.AddMetadata("x-frontdoor-client", "action-together-tameside");
      v1::ReportProgressResponse response;
      result = feedback_->ReportProgress(&context, report, &response);
      if (!result.ok()) absl::SleepFor(absl::Milliseconds(20));
    } while (!result.ok() && absl::Now() < deadline);
    ASSERT_TRUE(result.ok()) << result.error_message();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (engine.accepted().size() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  std::vector<std::string> got = engine.accepted();
  ASSERT_EQ(got.size(), 2u);
  for (const std::string& rri : got) {
    EXPECT_EQ(Segment(rri, "MSH")[9], "RRI^I12^RRI_I12");
    EXPECT_EQ(Segment(rri, "MSH")[10].substr(0, 2), "FB") << "a stable control id per event";
  }
  EXPECT_NE(Segment(got[0], "MSH")[10], Segment(got[1], "MSH")[10]);
}

}  // namespace
}  // namespace frontdoor::gateway
