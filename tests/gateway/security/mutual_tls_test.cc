// Mutual TLS on a real GatewayServer over loopback, with real certificates made by openssl in the
// test: who may connect at all (a certificate from the configured CA, valid now), who the caller is
// (the Subject CN, known to the network), what each may do (IG-8), and certificate rotation
// without a restart.
#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "common/clock.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/security/tls_config.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/auth_context.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::IssuedCertificate;
using frontdoor::testing::ReadWholeFile;
using frontdoor::testing::RoytonReferral;
using frontdoor::testing::TempDir;
using frontdoor::testing::TestCertificates;

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_cert_ = pki_.Issue("frontdoor-gateway", {.server = true, .name = "gateway-server"});
    // The demo network, with certificates re-read every second so rotation is quick to see.
    config_ = dir_.path() + "/gateway.textproto";
    std::ofstream(config_) << "ig_officers: \"ig-officer-oldham\"\noperators: \"frontdoor-operator\"\n"
                           << "tls { reload_interval_seconds: 1 }\n";
    ASSERT_TRUE(StartGateway().ok());
  }
  // (Re)starts the gateway on the same data, refusing client certificates revoked in `crl_dir`.
  absl::Status StartGateway(const std::string& crl_dir = "") {
    if (server_) server_->Shutdown();
    server_.reset();
    GatewayOptions options;
    options.config_path = config_;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.tls_cert = server_cert_.cert;
    options.tls_key = server_cert_.key;
    options.client_ca = pki_.ca_cert();
    options.client_crl_dir = crl_dir;
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    target_ = "127.0.0.1:" + std::to_string(server_->port());
    return absl::OkStatus();
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // A fresh channel (so a fresh handshake) presenting `client`.
  std::unique_ptr<v1::ReferralService::Stub> StubAs(const IssuedCertificate& client) {
    return StubWith(grpc::SslCredentials(pki_.ClientOptions(client)));
  }
  // A fresh channel presenting `client`, for any service.
  std::shared_ptr<grpc::Channel> ChannelAs(const IssuedCertificate& client) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);
    return grpc::CreateCustomChannel(target_, grpc::SslCredentials(pki_.ClientOptions(client)), args);
  }
  std::unique_ptr<v1::ReferralService::Stub> StubWith(std::shared_ptr<grpc::ChannelCredentials> creds) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);  // no connection shared between stubs
    return v1::ReferralService::NewStub(grpc::CreateCustomChannel(target_, creds, args));
  }

  static grpc::Status Submit(v1::ReferralService::Stub* stub, const v1::Referral& referral,
                             v1::SubmitReferralResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = referral;
    return stub->SubmitReferral(&ctx, req, resp);
  }
  static grpc::Status Get(v1::ReferralService::Stub* stub, const std::string& id, v1::GetReferralResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    return stub->GetReferral(&ctx, req, resp);
  }

  TempDir dir_;
  TestCertificates pki_{dir_.path()};
  IssuedCertificate server_cert_;
  std::string config_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::string target_;
};

TEST_F(MutualTlsTest, PracticeWithACertificateFromTheCaSubmitsAndReadsItsOwnReferral) {
  auto stub = StubAs(pki_.Issue("P85901"));
  v1::SubmitReferralResponse resp;
  grpc::Status s = Submit(stub.get(), RoytonReferral("tls-1"), &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(resp.disposition(), v1::ACCEPTED);
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(stub.get(), resp.referral_id(), &got).ok());
  EXPECT_EQ(got.sender_ods(), "P85901");  // the identity came from the certificate's CN
}

TEST_F(MutualTlsTest, PlaintextClientIsRefused) {
  auto stub = StubWith(grpc::InsecureChannelCredentials());
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(stub.get(), RoytonReferral("tls-2"), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MutualTlsTest, TlsClientWithoutACertificateIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadWholeFile(pki_.ca_cert());
  auto stub = StubWith(grpc::SslCredentials(options));
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(stub.get(), RoytonReferral("tls-3"), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MutualTlsTest, CertificateFromAnotherCaIsRefused) {
  auto stub = StubAs(pki_.Issue("P85901", {.other_ca = true}));
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(stub.get(), RoytonReferral("tls-4"), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MutualTlsTest, ExpiredCertificateIsRefused) {
  auto stub = StubAs(pki_.Issue("P85901", {.expired = true}));
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(stub.get(), RoytonReferral("tls-5"), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MutualTlsTest, CertificateWithACommonNameUnknownToTheNetworkIsPermissionDenied) {
  auto stub = StubAs(pki_.Issue("P99999"));
  v1::SubmitReferralResponse resp;
  grpc::Status s = Submit(stub.get(), RoytonReferral("tls-6"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(MutualTlsTest, PracticeReadingAnotherPracticesReferralIsPermissionDenied) {
  auto a = StubAs(pki_.Issue("P85901"));
  auto b = StubAs(pki_.Issue("P85902"));
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(Submit(a.get(), RoytonReferral("tls-7"), &resp).ok());
  v1::GetReferralResponse got;
  EXPECT_EQ(Get(b.get(), resp.referral_id(), &got).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MutualTlsTest, PracticeSubmittingAsAnotherPracticeIsPermissionDenied) {
  auto b = StubAs(pki_.Issue("P85902"));  // the referral names P85901 as its sender
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(b.get(), RoytonReferral("tls-8"), &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MutualTlsTest, ConnectorOrganisationMayNotSubmitReferrals) {
  auto stub = StubAs(pki_.Issue("action-together-oldham"));
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(stub.get(), RoytonReferral("tls-9"), &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MutualTlsTest, IgOfficerMayNotReadAReferral) {
  auto a = StubAs(pki_.Issue("P85901"));
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(Submit(a.get(), RoytonReferral("tls-10"), &resp).ok());
  auto officer = StubAs(pki_.Issue("ig-officer-oldham"));
  v1::GetReferralResponse got;
  EXPECT_EQ(Get(officer.get(), resp.referral_id(), &got).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(MutualTlsTest, ConnectorReportingOnAnotherOrganisationsReferralIsPermissionDenied) {
  auto practice = StubAs(pki_.Issue("P85901"));
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(Submit(practice.get(), RoytonReferral("tls-20"), &resp).ok());
  ASSERT_EQ(resp.endpoint_id(), "action-together-oldham");
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  v1::ReportProgressRequest report;
  report.set_referral_id(resp.referral_id());
  report.set_idempotency_key("report-1");
  report.set_status(v1::PROGRESS_RECEIVED);
  report.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()));

  auto rogue = v1::FeedbackService::NewStub(ChannelAs(pki_.Issue("mind-oldham")));
  grpc::ClientContext rogue_ctx;
  v1::ReportProgressResponse out;
  EXPECT_EQ(rogue->ReportProgress(&rogue_ctx, report, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // The organisation it was routed to may, once the delivery is marked (it follows the connector's answer).
  auto routed = v1::FeedbackService::NewStub(ChannelAs(pki_.Issue("action-together-oldham")));
  grpc::Status status;
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext ctx;
    status = routed->ReportProgress(&ctx, report, &out);
    if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) break;
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();

  // The accepted report is accountable (IG-9): an IG officer finds it, the rogue attempt left none.
  auto officer = v1::AuditService::NewStub(ChannelAs(pki_.Issue("ig-officer-oldham")));
  grpc::ClientContext audit_ctx;
  v1::QueryAuditRequest query;
  query.set_nhs_number("9991951024");
  query.set_outcome("feedback");
  auto reader = officer->QueryAudit(&audit_ctx, query);
  std::vector<v1::AuditRecord> feedback;
  for (v1::AuditRecord record; reader->Read(&record);) feedback.push_back(record);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(feedback.size(), 1u);
  EXPECT_EQ(feedback[0].actor(), "action-together-oldham");
  EXPECT_EQ(feedback[0].referral_id(), resp.referral_id());
  EXPECT_EQ(feedback[0].recipient_endpoint(), "P85901");
}

TEST_F(MutualTlsTest, OnlyAnIgOfficerMayQueryTheAudit) {
  v1::QueryAuditRequest query;
  query.set_nhs_number("9991951024");
  for (const std::string& who : {"P85901", "action-together-oldham", "frontdoor-operator"}) {
    SCOPED_TRACE(who);
    auto stub = v1::AuditService::NewStub(ChannelAs(pki_.Issue(who)));
    grpc::ClientContext ctx;
    auto reader = stub->QueryAudit(&ctx, query);
    v1::AuditRecord record;
    EXPECT_FALSE(reader->Read(&record)) << "no record may reach a non-IG identity";
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  auto officer = v1::AuditService::NewStub(ChannelAs(pki_.Issue("ig-officer-oldham")));
  grpc::ClientContext ctx;
  auto reader = officer->QueryAudit(&ctx, query);
  v1::AuditRecord record;
  while (reader->Read(&record)) {
  }
  EXPECT_TRUE(reader->Finish().ok());
}

// The server certificate a fresh connection is shown, in PEM.
std::string PeerCertificate(v1::ReferralService::Stub* stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetReferralRequest req;
  req.set_referral_id("no-such-referral");
  v1::GetReferralResponse resp;
  stub->GetReferral(&ctx, req, &resp);
  auto auth = ctx.auth_context();
  if (auth == nullptr) return "";
  auto pem = auth->FindPropertyValues("x509_pem_cert");
  return pem.empty() ? "" : std::string(pem[0].data(), pem[0].size());
}

TEST_F(MutualTlsTest, ReplacedServerCertificateIsServedToNewConnectionsWithoutARestart) {
  const IssuedCertificate practice = pki_.Issue("P85901");
  const std::string before = PeerCertificate(StubAs(practice).get());
  ASSERT_EQ(before, ReadWholeFile(server_cert_.cert));

  // A new key and certificate renamed over the served files, as a certificate manager would.
  pki_.Issue("frontdoor-gateway", {.server = true, .name = "gateway-server"});
  const std::string rotated = ReadWholeFile(server_cert_.cert);
  ASSERT_NE(rotated, before);

  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string seen;
  while (absl::Now() < deadline && (seen = PeerCertificate(StubAs(practice).get())) != rotated) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(seen, rotated);
  // And the rotated server still serves.
  v1::SubmitReferralResponse resp;
  EXPECT_TRUE(Submit(StubAs(practice).get(), RoytonReferral("tls-11"), &resp).ok());
}

TEST_F(MutualTlsTest, ARevokedCertificateIsRefusedWhileTheOthersStillConnect) {
  const IssuedCertificate stolen = pki_.Issue("P85901");
  const IssuedCertificate reissued = pki_.Issue("P85901");  // the practice's new certificate
  const IssuedCertificate other = pki_.Issue("P85913");
  const std::string crls = dir_.path() + "/crls";
  pki_.Revoke(stolen, crls);
  ASSERT_TRUE(StartGateway(crls).ok());
  v1::SubmitReferralResponse resp;
  const grpc::Status refused = Submit(StubAs(stolen).get(), RoytonReferral("tls-crl-1"), &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << "the handshake fails: " << refused.error_message();
  EXPECT_TRUE(Submit(StubAs(reissued).get(), RoytonReferral("tls-crl-2"), &resp).ok());
  v1::Referral from_other = RoytonReferral("tls-crl-3");
  from_other.set_sender_ods("P85913");
  EXPECT_TRUE(Submit(StubAs(other).get(), from_other, &resp).ok());
}

TEST_F(MutualTlsTest, ACertificateRevokedAfterStartIsRefusedOnceTheGatewayRestarts) {
  const IssuedCertificate stolen = pki_.Issue("P85901");
  const std::string crls = dir_.path() + "/crls";
  pki_.PublishCrl(crls);  // nothing revoked yet
  ASSERT_TRUE(StartGateway(crls).ok());
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(Submit(StubAs(stolen).get(), RoytonReferral("tls-crl-4"), &resp).ok());
  pki_.Revoke(stolen, crls);
  ASSERT_TRUE(StartGateway(crls).ok());  // the documented way to take up a new CRL
  EXPECT_EQ(Submit(StubAs(stolen).get(), RoytonReferral("tls-crl-5"), &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Submit(StubAs(pki_.Issue("P85901")).get(), RoytonReferral("tls-crl-6"), &resp).ok());
}

TEST(GatewayTlsStartTest, KeyThatDoesNotMatchTheCertificateIsRefusedAtStart) {
  TempDir dir;
  TestCertificates pki(dir.path());
  IssuedCertificate a = pki.Issue("frontdoor-gateway", {.server = true});
  IssuedCertificate b = pki.Issue("frontdoor-gateway", {.server = true});
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path() + "/data";
  options.tls_cert = a.cert;
  options.tls_key = b.key;
  options.client_ca = pki.ca_cert();
  SystemClock clock;
  auto server = GatewayServer::Start(options, &clock);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("does not belong"), std::string::npos) << server.status();
}

TEST(GatewayTlsStartTest, AnExpiredCrlIsRefusedAtStartRatherThanRefusingEveryClient) {
  TempDir dir;
  TestCertificates pki(dir.path());
  IssuedCertificate server = pki.Issue("frontdoor-gateway", {.server = true});
  pki.PublishCrl(dir.path() + "/crls", /*expired=*/true);
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path() + "/data";
  options.tls_cert = server.cert;
  options.tls_key = server.key;
  options.client_ca = pki.ca_cert();
  options.client_crl_dir = dir.path() + "/crls";
  SystemClock clock;
  auto started = GatewayServer::Start(options, &clock);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(started.status().message().find("expired at 2020-01-02T00:00:00Z"), std::string::npos) << started.status();
  EXPECT_NE(started.status().message().find("every client certificate would be refused"), std::string::npos);
}

// CheckCrlDirectory: what gRPC would otherwise show only at a handshake, or never.
class CrlDirectoryTest : public ::testing::Test {
 protected:
  absl::StatusOr<CrlSummary> Check() { return CheckCrlDirectory(crls_, pki_.ca_cert(), absl::Now()); }
  std::string Crl() { return pki_.PublishCrl(dir_.path() + "/made"); }  // outside crls_

  TempDir dir_;
  TestCertificates pki_{dir_.path()};
  std::string crls_ = dir_.path() + "/crls";
};

TEST_F(CrlDirectoryTest, CountsTheRevokedCertificatesAndTheNextUpdate) {
  pki_.Revoke(pki_.Issue("P85901"), crls_);
  pki_.Revoke(pki_.Issue("P85913"), crls_);
  std::ofstream(crls_ + "/README") << "CRLs of the client CA\n";  // other files are left alone
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->crls, 1);
  EXPECT_EQ(got->revoked, 2);
  EXPECT_GT(got->next_update, absl::Now() + absl::Hours(24 * 6)) << "default_crl_days = 7";
  EXPECT_LT(got->next_update, absl::Now() + absl::Hours(24 * 8));
}

TEST_F(CrlDirectoryTest, ACrlNotNamedByItsHashIsRefusedForItWouldNeverBeRead) {
  std::filesystem::create_directories(crls_);
  std::filesystem::copy_file(Crl(), crls_ + "/revoked.crl");
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find("revoked.crl is not named by its issuer's hash"), std::string::npos)
      << got.status();
  EXPECT_NE(got.status().message().find("openssl rehash"), std::string::npos);
}

TEST_F(CrlDirectoryTest, ACrlLinkedUnderItsHashByOpensslRehashIsRead) {
  std::filesystem::create_directories(crls_);
  std::filesystem::copy_file(Crl(), crls_ + "/ca.crl.pem");
  ASSERT_TRUE(frontdoor::testing::RunShell("openssl rehash '" + crls_ + "'"));
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->crls, 1) << "the link, once";
}

TEST_F(CrlDirectoryTest, ACrlUnderAnotherIssuersHashIsRefused) {
  std::filesystem::create_directories(crls_);
  std::filesystem::copy_file(Crl(), crls_ + "/0badc0de.r0");
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("named for another issuer's hash"), std::string::npos) << got.status();
}

TEST_F(CrlDirectoryTest, ACrlFromAnImpostorCaWithTheSameNameIsRefused) {
  // Same subject name as the real CA (so the same hash), another key: its signature does not verify.
  TempDir other_dir;
  TestCertificates impostor(other_dir.path());
  impostor.PublishCrl(crls_);
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("is not signed by a CA of the client CA file"), std::string::npos)
      << got.status();
}

TEST_F(CrlDirectoryTest, AnExpiredCrlIsRefused) {
  pki_.PublishCrl(crls_, /*expired=*/true);
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("expired at 2020-01-02T00:00:00Z"), std::string::npos) << got.status();
}

TEST_F(CrlDirectoryTest, AHashNamedFileThatIsNotACrlIsRefused) {
  std::filesystem::create_directories(crls_);
  std::ofstream(crls_ + "/1a2b3c4d.r0") << "not a CRL";
  absl::StatusOr<CrlSummary> got = Check();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("1a2b3c4d.r0 is not a PEM CRL"), std::string::npos) << got.status();
}

TEST_F(CrlDirectoryTest, AnEmptyOrMissingDirectoryIsRefused) {
  std::filesystem::create_directories(crls_);
  absl::StatusOr<CrlSummary> empty = Check();
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("holds no CRL named by hash"), std::string::npos) << empty.status();
  crls_ = dir_.path() + "/no-such-dir";
  EXPECT_EQ(Check().status().code(), absl::StatusCode::kNotFound);
}

TEST(GatewayTlsStartTest, NeitherTlsNorPlaintextIsRefusedAtStartAndSaysHow) {
  TempDir dir;
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path() + "/data";
  SystemClock clock;
  auto server = GatewayServer::Start(options, &clock);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(server.status().message().find("--tls-cert"), std::string::npos);
}

}  // namespace
}  // namespace frontdoor::gateway
