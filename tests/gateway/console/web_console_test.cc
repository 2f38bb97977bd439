// The web console of a real gateway on loopback, driven by a real HTTP client: the security
// headers on every answer, who may open what, CSRF and Origin checks before anything is done, an
// IG officer's search recorded in the audit log with no NHS number in any log line, a dead letter
// replayed to its connector, and over HTTPS the client certificate as the only identity.
#include <regex>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "frontdoor/v1/reporting_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "observability/structured_log.h"
#include "reporting/report_text.h"
#include "tests/support/http_test_client.h"
#include "tests/support/test_certificates.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::HttpReply;
using frontdoor::testing::HttpTestClient;
using frontdoor::testing::WaitFor;

constexpr char kNhsNumber[] = "9991951024";  // RoytonReferral's

// The hidden CSRF field of a page.
std::string CsrfOf(const std::string& html) {
  std::smatch m;
  static const std::regex kCsrf("name=\"csrf\" value=\"([0-9a-f]+)\"");
  return std::regex_search(html, m, kCsrf) ? m[1].str() : "";
}

class WebConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    observability::SetLogWriterForTesting([this](const std::string& line) {
      absl::MutexLock lock(&log_mu_);
      log_.push_back(line);
    });
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    observability::SetLogWriterForTesting(nullptr);
  }

  void StartGateway() {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.console_listen = "127.0.0.1:0";
    options.config_path = frontdoor::testing::WriteBulkTestConfig(
        dir_.path(), "delivery { initial_backoff_ms: 20 max_backoff_ms: 100 dead_letter_after_attempts: 1 }");
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->console_port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  }

  HttpReply Send(const std::string& method, const std::string& target, const std::string& cookie = "",
                 const std::string& form = "", std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!cookie.empty()) headers.emplace_back("cookie", cookie);
    if (method == "POST") headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    absl::StatusOr<HttpReply> reply =
        HttpTestClient::Plain(server_->console_port()).Send(method, target, headers, form);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : HttpReply{};
  }

  // Signs in on the development page; returns the cookie to send.
  std::string SignIn(const std::string& identity) {
    const std::string csrf = CsrfOf(Send("GET", "/sign-in").body);
    HttpReply r = Send("POST", "/sign-in", "", "csrf=" + csrf + "&identity=" + identity);
    EXPECT_EQ(r.status, 303) << r.body;
    const std::string cookie = r.Header("set-cookie");
    return cookie.substr(0, cookie.find(';'));
  }

  std::string SubmitRoyton(const std::string& message_id) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = frontdoor::testing::RoytonReferral(message_id);
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(v1::ReferralService::NewStub(channel_)->SubmitReferral(&ctx, req, &resp).ok());
    return resp.referral_id();
  }

  int DeadLetters() {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "frontdoor-operator");
    v1::ListDeadLettersResponse resp;
    EXPECT_TRUE(v1::AdminService::NewStub(channel_)->ListDeadLetters(&ctx, {}, &resp).ok());
    return resp.dead_letters_size();
  }

  std::vector<std::string> LogLines() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

void ExpectSecurityHeaders(const HttpReply& r, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string csp = r.Header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << "no script is allowed from anywhere: " << csp;
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  EXPECT_EQ(r.Header("x-frame-options"), "DENY");
  // Not no-referrer: with it a browser sends `Origin: null` on the console's own forms.
  EXPECT_EQ(r.Header("referrer-policy"), "same-origin");
}

TEST_F(WebConsoleTest, EveryAnswerCarriesTheSecurityHeaders) {
  StartGateway();
  const std::string officer = SignIn("ig-officer-oldham");
  const std::string csrf = CsrfOf(Send("GET", "/audit", officer).body);
  ASSERT_FALSE(csrf.empty());
  ExpectSecurityHeaders(Send("GET", "/"), "a redirect to sign in");
  ExpectSecurityHeaders(Send("GET", "/sign-in"), "the sign-in page");
  ExpectSecurityHeaders(Send("GET", "/static/console.css"), "the stylesheet");
  ExpectSecurityHeaders(Send("GET", "/no-such-page"), "a 404");
  ExpectSecurityHeaders(Send("GET", "/audit/search", officer), "a 405");
  ExpectSecurityHeaders(Send("GET", "/deliveries", officer), "a 403");
  HttpReply results = Send("POST", "/audit/search", officer, "csrf=" + csrf + "&nhs_number=" + kNhsNumber);
  EXPECT_EQ(results.status, 200);
  ExpectSecurityHeaders(results, "search results");
  ExpectSecurityHeaders(Send("POST", "/audit/export", officer, "csrf=" + csrf), "a CSV export");
  // Even what the HTTP layer refuses by itself, before the console sees it.
  absl::StatusOr<HttpReply> huge = HttpTestClient::Plain(server_->console_port())
                                       .Send("POST", "/audit/search", {{"cookie", officer}}, std::string(100000, 'a'));
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->status, 413);
  ExpectSecurityHeaders(*huge, "a body over the console's limit");
}

TEST_F(WebConsoleTest, AnIgOfficersSearchIsRecordedAndNoNhsNumberReachesAnyLogLine) {
  StartGateway();
  const std::string referral_id = SubmitRoyton("console-search-1");
  const std::string officer = SignIn("ig-officer-oldham");
  const std::string csrf = CsrfOf(Send("GET", "/audit", officer).body);
  HttpReply r = Send("POST", "/audit/search", officer, "csrf=" + csrf + "&nhs_number=999+195+1024&action=decide");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("referral accepted to action-together-oldham"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(kNhsNumber), std::string::npos);
  EXPECT_NE(r.body.find("1 record"), std::string::npos);

  // The search is an audit record (IG-9) about the person searched for, whichever door.
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-frontdoor-client", "ig-officer-tameside");
  v1::QueryAuditRequest q;
  q.set_action("query");
  q.set_nhs_number(kNhsNumber);
  auto reader = v1::AuditService::NewStub(channel_)->QueryAudit(&ctx, q);
  v1::AuditRecord record;
  std::vector<v1::AuditRecord> queries;
  while (reader->Read(&record)) {
    if (record.actor() == "ig-officer-oldham") queries.push_back(record);  // not this query's own record
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_NE(queries[0].detail().find("console search"), std::string::npos) << queries[0].detail();

  const std::vector<std::string> lines = LogLines();
  ASSERT_FALSE(lines.empty());
  bool logged_search = false;
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find(kNhsNumber), std::string::npos) << line;
    EXPECT_EQ(line.find("999 195"), std::string::npos) << line;
    if (line.find("\"route\":\"audit/search\"") != std::string::npos) logged_search = true;
  }
  EXPECT_TRUE(logged_search) << "each request is logged, by its route";
}

TEST_F(WebConsoleTest, WhoMayOpenWhatFollowsTheirRole) {
  StartGateway();
  EXPECT_EQ(Send("GET", "/audit").status, 303) << "nobody signed in";
  HttpReply practice = Send("GET", "/audit", "frontdoor_console_identity=P85901");
  EXPECT_EQ(practice.status, 403);
  EXPECT_NE(practice.body.find("a referring organisation"), std::string::npos) << practice.body;
  EXPECT_NE(practice.body.find("IG officers, operators and commissioners only"), std::string::npos);
  HttpReply stranger = Send("GET", "/", "frontdoor_console_identity=nobody-we-know");
  EXPECT_EQ(stranger.status, 403);
  EXPECT_NE(stranger.body.find("does not list"), std::string::npos) << stranger.body;

  const std::string officer = SignIn("ig-officer-oldham");
  const std::string operator_cookie = SignIn("frontdoor-operator");
  EXPECT_EQ(Send("GET", "/audit", officer).status, 200);
  EXPECT_EQ(Send("GET", "/deliveries", officer).status, 403) << "an IG officer is not an operator";
  EXPECT_EQ(Send("GET", "/deliveries", operator_cookie).status, 200);
  EXPECT_EQ(Send("GET", "/audit", operator_cookie).status, 403) << "an operator does not read the audit log";
  HttpReply bad_sign_in =
      Send("POST", "/sign-in", "", "csrf=" + CsrfOf(Send("GET", "/sign-in").body) + "&identity=P85901");
  EXPECT_EQ(bad_sign_in.status, 400) << "only the configured people are offered";
  EXPECT_TRUE(bad_sign_in.Header("set-cookie").empty());
}

TEST_F(WebConsoleTest, AReplayNeedsTheOperatorsTokenFromThisSiteThenReachesTheConnector) {
  connector_.FailNext(1);  // with one attempt allowed, the first delivery is a dead letter
  StartGateway();
  SubmitRoyton("console-replay-1");
  ASSERT_TRUE(WaitFor([&] { return DeadLetters() == 1; }, absl::Seconds(20)));
  const std::string operator_cookie = SignIn("frontdoor-operator");
  const std::string officer = SignIn("ig-officer-oldham");
  HttpReply page = Send("GET", "/deliveries", operator_cookie);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("action-together-oldham"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("name=\"outbox_id\" value=\"([0-9]+)\"")));
  const std::string outbox_id = m[1].str();
  const std::string csrf = CsrfOf(page.body);
  const std::string officers_csrf = CsrfOf(Send("GET", "/audit", officer).body);

  EXPECT_EQ(Send("POST", "/deliveries/replay", operator_cookie, "outbox_id=" + outbox_id).status, 403) << "no token";
  EXPECT_EQ(
      Send("POST", "/deliveries/replay", operator_cookie, "csrf=" + officers_csrf + "&outbox_id=" + outbox_id).status,
      403)
      << "someone else's token";
  EXPECT_EQ(Send("POST", "/deliveries/replay", operator_cookie, "csrf=" + csrf + "&outbox_id=" + outbox_id,
                 {{"origin", "https://evil.example"}})
                .status,
            403)
      << "a form posted from another site";
  EXPECT_EQ(Send("POST", "/deliveries/replay", operator_cookie, "csrf=" + csrf + "&outbox_id=" + outbox_id,
                 {{"origin", "null"}})
                .status,
            403)
      << "a form from an opaque origin (a sandboxed frame, a data: page)";
  EXPECT_EQ(Send("POST", "/deliveries/replay", operator_cookie, "csrf=" + csrf + "&outbox_id=" + outbox_id,
                 {{"sec-fetch-site", "cross-site"}})
                .status,
            403)
      << "the browser says the form came from another site";
  EXPECT_EQ(connector_.WaitForDistinct(1, absl::Milliseconds(500)), 0);
  EXPECT_EQ(DeadLetters(), 1) << "nothing was replayed";

  HttpReply confirm = Send("POST", "/deliveries/confirm", operator_cookie, "csrf=" + csrf + "&outbox_id=" + outbox_id);
  ASSERT_EQ(confirm.status, 200);
  EXPECT_NE(confirm.body.find("Replay now"), std::string::npos);
  EXPECT_EQ(DeadLetters(), 1) << "confirming is not replaying";
  const std::string host = "127.0.0.1:" + std::to_string(server_->console_port());
  HttpReply replay = Send("POST", "/deliveries/replay", operator_cookie, "csrf=" + csrf + "&outbox_id=" + outbox_id,
                          {{"origin", "http://" + host}, {"host", host}, {"sec-fetch-site", "same-origin"}});
  EXPECT_EQ(replay.status, 303);
  EXPECT_EQ(replay.Header("location"), "/deliveries?replayed=1");
  EXPECT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1) << "the replayed delivery arrives";
  EXPECT_EQ(DeadLetters(), 0);
  EXPECT_NE(Send("GET", "/deliveries?replayed=1", operator_cookie).body.find("1 delivery is pending again"),
            std::string::npos);
}

TEST_F(WebConsoleTest, CommissionersSeeOutcomeFiguresAndItsCsvIsTheServicesReport) {
  StartGateway();
  for (int i = 0; i < 9; ++i) SubmitRoyton("console-report-" + std::to_string(i));
  const std::string commissioner = SignIn("commissioner-oldham-tameside");
  EXPECT_EQ(Send("GET", "/audit", commissioner).status, 403) << "figures, not the audit log";
  EXPECT_EQ(Send("GET", "/deliveries", commissioner).status, 403);
  EXPECT_EQ(Send("GET", "/reports", SignIn("frontdoor-operator")).status, 403);
  EXPECT_EQ(Send("GET", "/reports", SignIn("ig-officer-oldham")).status, 200) << "IG officers answer for them too";

  const std::string today = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
  const std::string query = "from=2026-01-01&to=" + today + "&period=month&by=team";
  HttpReply page = Send("GET", "/reports?" + query, commissioner);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Outcome figures"), std::string::npos);
  EXPECT_NE(page.body.find("oldham-north-royton-wellbeing"), std::string::npos);
  EXPECT_NE(page.body.find("<svg class=\"chart\""), std::string::npos) << "a chart drawn by the gateway";
  EXPECT_NE(page.body.find("<caption>Referrals received each month</caption>"), std::string::npos)
      << "and a table alongside it for a screen reader";
  EXPECT_EQ(page.body.find(kNhsNumber), std::string::npos);
  EXPECT_EQ(Send("GET", "/reports?period=fortnight", commissioner).status, 400);
  // An address that cannot be read is said to be so, never answered with the default report.
  HttpReply broken = Send("GET", "/reports?from=%zz", commissioner);
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(broken.body.find("x-www-form-urlencoded"), std::string::npos) << broken.body;
  EXPECT_EQ(broken.body.find("<svg class=\"chart\""), std::string::npos) << "no report of the defaults";
  EXPECT_EQ(Send("GET", "/reports.csv?from=%zz", commissioner).status, 400);

  HttpReply csv = Send("GET", "/reports.csv?" + query, commissioner);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  v1::ReportRequest request;
  request.set_from_date("2026-01-01");
  request.set_to_date(today);
  request.set_period(v1::ReportRequest::MONTH);
  request.set_breakdown(v1::ReportRequest::TEAM);
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-frontdoor-client", "commissioner-oldham-tameside");
  v1::Report report;
  ASSERT_TRUE(v1::ReportingService::NewStub(channel_)->GetReport(&ctx, request, &report).ok());
  EXPECT_EQ(csv.body, reporting::ReportCsv(report)) << "the console's CSV is the service's report";
  EXPECT_NE(csv.body.find(",oldham-north-royton-wellbeing,false,9,9,0,"), std::string::npos) << csv.body;
}

// Rejected messages are counted (by who sent them), so the figures page shows them beside the
// refused: received is accepted + refused + rejected on the page too.
TEST_F(WebConsoleTest, TheFiguresPageShowsRejectedMessages) {
  StartGateway();
  for (int i = 0; i < 8; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = frontdoor::testing::RoytonReferral("console-rejected-" + std::to_string(i));
    req.mutable_referral()->mutable_person()->set_nhs_number("9991951025");  // wrong check digit
    v1::SubmitReferralResponse resp;
    ASSERT_TRUE(v1::ReferralService::NewStub(channel_)->SubmitReferral(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.disposition(), v1::REJECTED);
  }
  const std::string commissioner = SignIn("commissioner-oldham-tameside");
  HttpReply page;
  EXPECT_TRUE(WaitFor(
      [&] {
        page = Send("GET", "/reports", commissioner);
        return page.body.find("<dt>Rejected</dt><dd>8</dd>") != std::string::npos;
      },
      absl::Seconds(10)))
      << page.body;
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<dt>Referrals received</dt><dd>8</dd>"), std::string::npos);
  EXPECT_NE(page.body.find("<th scope=\"col\">Rejected</th>"), std::string::npos) << "a column in the tables too";
}

TEST(WebConsoleTlsTest, OverHttpsTheClientCertificateIsTheIdentity) {
  frontdoor::testing::TempDir dir;
  frontdoor::testing::TestCertificates pki(dir.path());
  const auto server_cert = pki.Issue("frontdoor-gateway", {.server = true, .name = "server"});
  const auto officer = pki.Issue("ig-officer-oldham");
  const auto practice = pki.Issue("P85901");
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.path() + "/data";
  options.tls_cert = server_cert.cert;
  options.tls_key = server_cert.key;
  options.client_ca = pki.ca_cert();
  options.console_listen = "127.0.0.1:0";
  options.config_path = frontdoor::testing::WriteBulkTestConfig(dir.path());
  SystemClock clock;
  auto server = GatewayServer::Start(options, &clock);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->console_port();

  absl::StatusOr<HttpReply> home =
      HttpTestClient::Tls(port, pki.ca_cert(), officer.cert, officer.key).Send("GET", "/", {});
  ASSERT_TRUE(home.ok()) << home.status();
  EXPECT_EQ(home->status, 200);
  EXPECT_NE(home->body.find("Signed in as <strong>ig-officer-oldham</strong>"), std::string::npos) << home->body;
  EXPECT_EQ(home->body.find("Development mode"), std::string::npos);
  EXPECT_EQ(home->Header("strict-transport-security"), "max-age=31536000");
  ExpectSecurityHeaders(*home, "over TLS");
  // A cookie cannot name someone else: over TLS only the certificate counts.
  absl::StatusOr<HttpReply> spoof =
      HttpTestClient::Tls(port, pki.ca_cert(), practice.cert, practice.key)
          .Send("GET", "/audit", {{"cookie", "frontdoor_console_identity=ig-officer-oldham"}});
  ASSERT_TRUE(spoof.ok());
  EXPECT_EQ(spoof->status, 403);
  EXPECT_NE(spoof->body.find("Your certificate names P85901, a referring organisation"), std::string::npos)
      << spoof->body;
  absl::StatusOr<HttpReply> sign_in =
      HttpTestClient::Tls(port, pki.ca_cert(), officer.cert, officer.key).Send("GET", "/sign-in", {});
  ASSERT_TRUE(sign_in.ok());
  EXPECT_EQ(sign_in->status, 404) << "there is no sign-in page with certificates";
  EXPECT_FALSE(HttpTestClient::Tls(port, pki.ca_cert(), "", "").Send("GET", "/", {}).ok())
      << "no certificate, no connection";
  (*server)->Shutdown();
}

}  // namespace
}  // namespace frontdoor::gateway
