// ReferralService over real gRPC on loopback: a GatewayServer with its SQLite store in a temporary
// directory, delivering to a real in-process ConnectorService.
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

bool HasIssue(const v1::SubmitReferralResponse& r, const std::string& code) {
  for (const auto& i : r.issues()) {
    if (i.code() == code) return true;
  }
  return false;
}

class ReferralServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    stub_ = v1::ReferralService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Submit(const v1::SubmitReferralRequest& req, v1::SubmitReferralResponse* resp,
                      const std::string& as = "P85901") {
    grpc::ClientContext ctx;
    if (!as.empty()) ctx.AddMetadata("x-frontdoor-client", as);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->SubmitReferral(&ctx, req, resp);
  }
  grpc::Status SubmitTyped(const v1::Referral& referral, v1::SubmitReferralResponse* resp,
                           const std::string& as = "P85901") {
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = referral;
    return Submit(req, resp, as);
  }
  grpc::Status SubmitText(bool fhir, const std::string& text, v1::SubmitReferralResponse* resp, const std::string& as) {
    v1::SubmitReferralRequest req;
    if (fhir) {
      req.set_fhir_json(text);
    } else {
      req.set_hl7v2(text);
    }
    return Submit(req, resp, as);
  }
  // Sends `bytes` as the request message itself, as a client's own encoder might have made them.
  grpc::Status SubmitRawBytes(const std::string& bytes, v1::SubmitReferralResponse* resp) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer reply;
    absl::Notification done;
    grpc::Status status;
    generic.UnaryCall(&ctx, "/frontdoor.v1.ReferralService/SubmitReferral", grpc::StubOptions(), &request, &reply,
                      [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(reply.Dump(&slices).ok());
      std::string out;
      for (const grpc::Slice& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
      EXPECT_TRUE(resp->ParseFromString(out));
    }
    return status;
  }
  grpc::Status Get(const std::string& id, v1::GetReferralResponse* resp, const std::string& as = "P85901") {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    return stub_->GetReferral(&ctx, req, resp);
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
};

TEST_F(ReferralServiceTest, TypedReferralIsAcceptedRoutedAndDelivered) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::ACCEPTED);
  EXPECT_EQ(resp.connector_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(resp.endpoint_id(), "action-together-oldham");
  EXPECT_FALSE(resp.referral_id().empty());
  EXPECT_FALSE(resp.duplicate());
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  const v1::DeliverReferralRequest delivered = connector_.received()[0];
  EXPECT_EQ(delivered.referral().referral_id(), resp.referral_id());
  EXPECT_EQ(delivered.referral().team_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(delivered.referral().nhs_number(), "9991951024") << "Action Together accepts NHS numbers";
  EXPECT_EQ(delivered.SerializeAsString().find("1979-08-14"), std::string::npos) << "birth date is not forwarded";
}

TEST_F(ReferralServiceTest, AnswerComesOnlyAfterTheReferralIsOnDisk) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  // Read the SQLite file through a separate connection, as a restarted gateway would.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_.path() + "/data/frontdoor.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(
                db, "SELECT COUNT(*) FROM outbox o JOIN referrals r USING (referral_id) WHERE r.referral_id = ?1", -1,
                &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, resp.referral_id().c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(ReferralServiceTest, SameMessageAgainIsADuplicateOfTheFirst) {
  v1::SubmitReferralResponse first, second;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &first).ok());
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.referral_id(), first.referral_id());
  EXPECT_EQ(second.connector_id(), first.connector_id());
  connector_.WaitForDistinct(1, absl::Seconds(20));
  EXPECT_EQ(connector_.calls_per_key().size(), 1u);
}

TEST_F(ReferralServiceTest, ConcurrentResendsOfOneFhirMessageBecomeOneReferral) {
  std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/01-fhir-oldham-wellbeing.json");
  std::stringstream text;
  text << in.rdbuf();
  v1::SubmitReferralRequest req;
  req.set_fhir_json(text.str());
  constexpr int kSenders = 12;
  std::vector<v1::SubmitReferralResponse> answers(kSenders);
  std::vector<grpc::Status> statuses(kSenders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Submit(req, &answers[i]); });
  }
  for (auto& t : threads) t.join();
  int firsts = 0;
  for (int i = 0; i < kSenders; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(answers[i].disposition(), v1::ACCEPTED);
    EXPECT_EQ(answers[i].referral_id(), answers[0].referral_id());
    firsts += answers[i].duplicate() ? 0 : 1;
  }
  EXPECT_EQ(firsts, 1);
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  // Give a second delivery every chance to show up before counting: the outbox is drained.
  v1::GetReferralResponse got;
  for (int i = 0; i < 400 && got.delivery_state() != v1::DELIVERED; ++i) {
    got.Clear();
    ASSERT_TRUE(Get(answers[0].referral_id(), &got).ok());
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
  EXPECT_EQ(connector_.calls_per_key().size(), 1u);
  EXPECT_EQ(connector_.received().size(), 1u);
}

TEST_F(ReferralServiceTest, InvalidNhsNumberIsRejectedAndNotRemembered) {
  v1::Referral bad = RoytonReferral("m1");
  bad.mutable_person()->set_nhs_number("9991951025");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(bad, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REJECTED);
  EXPECT_TRUE(HasIssue(resp, "INVALID_NHS_NUMBER"));
  EXPECT_TRUE(resp.referral_id().empty());
  for (const auto& i : resp.issues()) EXPECT_EQ(i.message().find("9991951025"), std::string::npos);
  // A corrected message with the same id is a new referral, not a duplicate of the rejection.
  v1::SubmitReferralResponse fixed;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &fixed).ok());
  EXPECT_EQ(fixed.disposition(), v1::ACCEPTED);
  EXPECT_FALSE(fixed.duplicate());
}

TEST_F(ReferralServiceTest, NoConsentIsRefusedWithIg1AndNothingIsDelivered) {
  v1::Referral r = RoytonReferral("m1");
  r.clear_consents();
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "IG-1"));
  EXPECT_TRUE(resp.connector_id().empty());
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(resp.referral_id(), &got).ok());
  EXPECT_EQ(got.delivery_state(), v1::NOT_FOR_DELIVERY);
}

TEST_F(ReferralServiceTest, UnderEighteenIsRefusedWithIg3) {
  v1::Referral r = RoytonReferral("m1");
  r.mutable_person()->set_birth_date("2008-06-01");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "IG-3"));
}

TEST_F(ReferralServiceTest, OutOfAreaIsRefused) {
  v1::Referral r = RoytonReferral("m1");
  r.mutable_person()->mutable_home_address()->set_postcode("M1 1AE");
  r.mutable_person()->set_registered_practice_ods("Y01234");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "OUT_OF_AREA"));
}

TEST_F(ReferralServiceTest, CallerWithoutIdentityIsUnauthenticated) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ReferralServiceTest, IdentityOutsideTheNetworkIsPermissionDenied) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "X99999").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralServiceTest, PracticeSubmittingAsAnotherIsPermissionDenied) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "P85902").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralServiceTest, RequestWithoutPayloadIsInvalidArgument) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(v1::SubmitReferralRequest(), &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReferralServiceTest, GetReferralShowsTheDeliveryOnceItArrives) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  v1::GetReferralResponse got;
  for (int i = 0; i < 200; ++i) {
    got.Clear();
    ASSERT_TRUE(Get(resp.referral_id(), &got).ok());
    if (got.delivery_state() == v1::DELIVERED) break;
    absl::SleepFor(absl::Milliseconds(25));  // the mark follows the connector's answer
  }
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
  EXPECT_EQ(got.message_id(), "m1");
  EXPECT_EQ(got.decision().connector_id(), "oldham-north-royton-wellbeing");
  EXPECT_FALSE(got.delivered_at().empty());
}

TEST_F(ReferralServiceTest, AnotherOrganisationCannotReadTheReferral) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  v1::GetReferralResponse got;
  EXPECT_EQ(Get(resp.referral_id(), &got, "P85902").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("no-such-referral", &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferralServiceTest, HealthServiceReportsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace frontdoor::gateway

namespace frontdoor::gateway {
namespace {

// --- A consent dated after the referral date is not in force: REFUSED IG-1, in every format ---

TEST_F(ReferralServiceTest, AConsentDatedAfterTheReferralDateIsRefusedIg1InEveryFormat) {
  v1::Referral typed = RoytonReferral("ahead-typed");
  typed.mutable_consents(0)->set_date("2090-01-01");
  const std::string fhir =
      ReplaceOnce(ReadSample("01-fhir-oldham-wellbeing.json"), R"("dateTime": "2025-02-03T09:00:00+00:00")",
                  R"("dateTime": "2061-02-03T09:00:00+00:00")");
  const std::string hl7 = ReplaceOnce(ReadSample("17-hl7-tameside-hospital.hl7"), "||202502250900|202502250900||",
                                      "||209902250900|202502250900||");
  v1::SubmitReferralResponse answers[3];
  ASSERT_TRUE(SubmitTyped(typed, &answers[0]).ok());
  ASSERT_TRUE(SubmitText(true, fhir, &answers[1], "P85901").ok());
  ASSERT_TRUE(SubmitText(false, hl7, &answers[2], "R9T01").ok());
  for (const v1::SubmitReferralResponse& r : answers) {
    SCOPED_TRACE(r.DebugString());
    EXPECT_EQ(r.disposition(), v1::REFUSED);
    EXPECT_TRUE(HasIssue(r, "IG-1"));
    EXPECT_FALSE(HasIssue(r, "INVALID_VALUE"));
  }
  EXPECT_NE(answers[2].hl7v2_ack().find("MSA|AE"), std::string::npos) << answers[2].hl7v2_ack();
  v1::SubmitReferralResponse fine;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("after"), &fine).ok());
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  EXPECT_EQ(connector_.received()[0].referral().referral_id(), fine.referral_id()) << "nothing refused was sent";
}

// --- One referral, one person ---

TEST_F(ReferralServiceTest, AnHl7MessageWithASecondPidIsRejectedAndNothingIsRecordedOrSent) {
  std::string hl7 = ReadSample("17-hl7-tameside-hospital.hl7");
  const size_t end = hl7.find('\r', hl7.find("\rPID|") + 1);
  hl7.insert(end, "\rPID|2||9434765919^^^NHS^NH||SMITH^Ann||19500101|F|||1 High St^^Oldham^^OL1 1AA^GBR^H");
  v1::SubmitReferralResponse r;
  ASSERT_TRUE(SubmitText(false, hl7, &r, "R9T01").ok());
  EXPECT_EQ(r.disposition(), v1::REJECTED);
  EXPECT_TRUE(r.referral_id().empty()) << "nothing recorded";
  EXPECT_NE(r.hl7v2_ack().find("MSA|AR"), std::string::npos) << r.hl7v2_ack();
  EXPECT_NE(r.hl7v2_ack().find("ERR||PID^2|100^Segment sequence error^HL70357|"), std::string::npos)
      << "the ERR names the second PID: " << r.hl7v2_ack();
  // Not remembered either: the message, corrected, is a new referral under the same id.
  v1::SubmitReferralResponse corrected;
  ASSERT_TRUE(SubmitText(false, ReadSample("17-hl7-tameside-hospital.hl7"), &corrected, "R9T01").ok());
  EXPECT_EQ(corrected.disposition(), v1::ACCEPTED);
  EXPECT_FALSE(corrected.duplicate());
}

TEST_F(ReferralServiceTest, AFhirMessageWithASecondPatientIsRejected) {
  std::string fhir = ReadSample("01-fhir-oldham-wellbeing.json");
  const size_t end = fhir.rfind(']');
  fhir.insert(end,
              R"(, {"fullUrl": "urn:uuid:6f1c2d9e-0000-4000-8000-000000000007", "resource": {"resourceType": "Patient",
      "id": "p2", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}]}})");
  v1::SubmitReferralResponse r;
  ASSERT_TRUE(SubmitText(true, fhir, &r, "P85901").ok());
  EXPECT_EQ(r.disposition(), v1::REJECTED);
  EXPECT_TRUE(HasIssue(r, "INVALID_VALUE"));
  EXPECT_NE(r.fhir_json().find("Bundle.entry[7].resource"), std::string::npos) << r.fhir_json();
}

// A typed referral cannot name two people: two `person` fields on the wire would be merged by the
// protobuf parser into one person made of both, so the bytes are refused.
TEST_F(ReferralServiceTest, ATypedReferralWhoseBytesCarryTwoPersonsIsRejected) {
  const v1::Referral referral = RoytonReferral("two-persons");
  v1::Person other;
  other.set_nhs_number("9434765919");
  other.set_birth_date("1950-01-01");
  const std::string second = other.SerializeAsString();
  std::string referral_bytes = referral.SerializeAsString();
  referral_bytes += static_cast<char>((4 << 3) | 2);  // field 4 (person), length-delimited
  referral_bytes += static_cast<char>(second.size());
  referral_bytes += second;
  ASSERT_LT(second.size(), 128u);
  ASSERT_LT(referral_bytes.size(), 16384u);
  std::string request;
  request += static_cast<char>((1 << 3) | 2);  // SubmitReferralRequest.referral
  request += static_cast<char>(0x80 | (referral_bytes.size() & 0x7f));
  request += static_cast<char>(referral_bytes.size() >> 7);
  request += referral_bytes;
  v1::SubmitReferralResponse r;
  ASSERT_TRUE(SubmitRawBytes(request, &r).ok());
  EXPECT_EQ(r.disposition(), v1::REJECTED);
  ASSERT_GE(r.issues_size(), 1);
  EXPECT_EQ(r.issues(0).code(), "INVALID_VALUE");
  EXPECT_EQ(r.issues(0).path(), "referral.person");
}

TEST_F(ReferralServiceTest, ARequestCarryingTwoPayloadsIsInvalidArgument) {
  v1::SubmitReferralRequest fhir;
  fhir.set_fhir_json(ReadSample("01-fhir-oldham-wellbeing.json"));
  v1::SubmitReferralRequest typed;
  *typed.mutable_referral() = RoytonReferral("both");
  v1::SubmitReferralResponse r;
  const grpc::Status status = SubmitRawBytes(fhir.SerializeAsString() + typed.SerializeAsString(), &r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
}

// --- The same message id with different content is not a duplicate ---

TEST_F(ReferralServiceTest, AnotherMessageUnderAUsedIdIsRejectedNamingTheIdAndNothingOfTheFirst) {
  v1::SubmitReferralResponse first, reused;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m-reused"), &first).ok());
  v1::Referral other = RoytonReferral("m-reused");
  other.mutable_person()->set_nhs_number("9434765919");
  other.mutable_person()->mutable_name()->set_family("Someone-Else");
  ASSERT_TRUE(SubmitTyped(other, &reused).ok());
  EXPECT_EQ(reused.disposition(), v1::REJECTED);
  EXPECT_FALSE(reused.duplicate());
  ASSERT_EQ(reused.issues_size(), 1);
  EXPECT_EQ(reused.issues(0).code(), "MESSAGE_ID_REUSED");
  EXPECT_EQ(reused.issues(0).path(), "referral.message_id");
  EXPECT_NE(reused.issues(0).message().find("m-reused"), std::string::npos);
  const std::string bytes = reused.SerializeAsString();
  for (const std::string& of_the_first :
       {first.referral_id(), first.connector_id(), first.endpoint_id(), std::string("9991951024")}) {
    EXPECT_EQ(bytes.find(of_the_first), std::string::npos) << of_the_first;
  }
  // The first message sent again is still its resend.
  v1::SubmitReferralResponse resend;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m-reused"), &resend).ok());
  EXPECT_TRUE(resend.duplicate());
  EXPECT_EQ(resend.referral_id(), first.referral_id());
  connector_.WaitForDistinct(1, absl::Seconds(20));
  EXPECT_EQ(connector_.calls_per_key().size(), 1u);
}

TEST_F(ReferralServiceTest, AResendDifferingOnlyInTransportIsADuplicateInFhirAndHl7) {
  const std::string fhir = ReadSample("01-fhir-oldham-wellbeing.json");
  v1::SubmitReferralResponse first, again;
  ASSERT_TRUE(SubmitText(true, fhir, &first, "P85901").ok());
  // The Bundle's resourceType moved to its end, other whitespace: the same message.
  std::string reordered = ReplaceOnce(fhir, "\"resourceType\": \"Bundle\",", "");
  reordered.insert(reordered.rfind('}'), ",\r\n\t\"resourceType\":\"Bundle\"\n");
  ASSERT_TRUE(SubmitText(true, reordered, &again, "P85901").ok());
  EXPECT_TRUE(again.duplicate()) << again.DebugString();
  EXPECT_EQ(again.referral_id(), first.referral_id());

  const std::string hl7 = ReadSample("17-hl7-tameside-hospital.hl7");
  std::string lf = hl7;
  for (char& c : lf) c = c == '\r' ? '\n' : c;
  v1::SubmitReferralResponse h1, h2;
  ASSERT_TRUE(SubmitText(false, hl7, &h1, "R9T01").ok());
  ASSERT_TRUE(SubmitText(false, lf, &h2, "R9T01").ok());
  EXPECT_TRUE(h2.duplicate());
  EXPECT_EQ(h2.referral_id(), h1.referral_id());
  // A changed note under the same MSH-10 is another message.
  v1::SubmitReferralResponse h3;
  ASSERT_TRUE(SubmitText(false, ReplaceOnce(hl7, "luncheon club", "bowling club"), &h3, "R9T01").ok());
  EXPECT_EQ(h3.disposition(), v1::REJECTED);
  EXPECT_TRUE(HasIssue(h3, "MESSAGE_ID_REUSED"));
  EXPECT_NE(h3.hl7v2_ack().find("MSA|AR"), std::string::npos) << h3.hl7v2_ack();
  EXPECT_NE(h3.hl7v2_ack().find("205^Duplicate key identifier^HL70357"), std::string::npos) << h3.hl7v2_ack();
}

// --- A gateway owns its port and its data directory ---

TEST_F(ReferralServiceTest, ASecondGatewayCannotListenOnTheFirstOnesPort) {
  GatewayOptions options;
  options.listen = "127.0.0.1:" + std::to_string(server_->port());
  options.data_dir = dir_.path() + "/other";
  options.insecure_plaintext = true;
  auto second = GatewayServer::Start(options, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("already in use"), std::string::npos) << second.status();
}

TEST_F(ReferralServiceTest, ASecondGatewayCannotOpenTheFirstOnesDataDirectory) {
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.path() + "/data";
  options.insecure_plaintext = true;
  auto second = GatewayServer::Start(options, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(
      second.status().message().find("in use by another frontdoor-gateway (pid " + std::to_string(getpid()) + ")"),
      std::string::npos)
      << second.status();
  // Once the first has shut down, the directory is free.
  server_->Shutdown();
  auto after = GatewayServer::Start(options, &clock_);
  EXPECT_TRUE(after.ok()) << after.status();
}

}  // namespace
}  // namespace frontdoor::gateway
