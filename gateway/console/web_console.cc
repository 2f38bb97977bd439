#include "gateway/console/web_console.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/console/console_assets.h"
#include "gateway/security/caller_identity.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

using kainjow::mustache::data;
using observability::Log;
using observability::LogField;
using observability::LogLevel;

namespace {

constexpr char kDoor[] = "console";
constexpr char kFormType[] = "application/x-www-form-urlencoded";

// A page for someone the console has not identified (no header navigation).
void Standalone(const HttpResponder& respond, bool development, int status, const std::string& title,
                const std::string& reason, const std::string& what_to_do) {
  ConsoleVisit anonymous;
  anonymous.development = development;
  anonymous.respond = respond;
  data view = anonymous.View(title);
  view.set("reason", reason);
  view.set("what_to_do", what_to_do);
  anonymous.Page(status, "refused", std::move(view));
}

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(const std::string& header, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) return std::string(part);
  }
  return "";
}

}  // namespace

WebConsole::WebConsole(WebConsoleDeps deps)
    : deps_(std::move(deps)),
      audit_pages_(deps_.reader),
      delivery_pages_(deps_.admin, deps_.clock),
      report_pages_(deps_.reporter, deps_.clock) {}

std::vector<std::pair<std::string, std::string>> WebConsole::SecurityHeaders(bool tls) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-security-policy",
       "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'"},
      {"x-content-type-options", "nosniff"},
      {"x-frame-options", "DENY"},
      // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the
      // console's own form posts, which CheckForm must refuse. No URL of the console holds
      // patient data, and nothing is sent to another origin.
      {"referrer-policy", "same-origin"},
      {"cross-origin-opener-policy", "same-origin"},
      {"cache-control", "no-store"},
  };
  if (tls) headers.emplace_back("strict-transport-security", "max-age=31536000");
  return headers;
}

HttpAnswer WebConsole::Refusal(int status, const std::string& why) {
  return HttpAnswer{status, {{"content-type", "text/plain; charset=utf-8"}}, absl::StrCat(why, "\n")};
}

HttpResponder WebConsole::Observed(const HttpExchange& request, const char* route, HttpResponder respond,
                                   std::shared_ptr<std::string> identity) const {
  const auto began = std::chrono::steady_clock::now();
  return [this, method = request.method, route, respond = std::move(respond), identity, began](HttpAnswer answer) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    if (deps_.metrics != nullptr) deps_.metrics->ObserveHttpRequest(kDoor, route, answer.status, seconds);
    Log(answer.status >= 500 ? LogLevel::kWarning : LogLevel::kInfo, "http_request",
        answer.status < 400 ? "request answered" : "request refused",
        {{"door", kDoor},
         {"method", method},
         {"route", route},
         {"identity", *identity},
         {"status", answer.status},
         {"duration_ms", seconds * 1000.0}});
    respond(std::move(answer));
  };
}

void WebConsole::SignIn(const HttpExchange& request, const HttpResponder& respond) const {
  ConsoleVisit visit;
  visit.development = true;
  visit.respond = respond;
  visit.csrf = csrf_.TokenFor("");
  if (request.method == "POST") {
    absl::StatusOr<FormFields> form = ParseForm(request.body);
    const std::string identity = form.ok() ? form->Get("identity") : "";
    const bool offered = std::any_of(deps_.sign_in_people.begin(), deps_.sign_in_people.end(),
                                     [&](const auto& p) { return p.first == identity; });
    if (!form.ok() || !csrf_.Check("", form->Get("csrf")) || !offered) {
      return visit.Problem(400, "Sign in", "Choose one of the people listed, then sign in.", "/sign-in",
                           "Back to signing in");
    }
    return respond(HttpAnswer{
        303,
        {{"location", "/"},
         {"set-cookie", absl::StrCat(kConsoleIdentityCookie, "=", identity, "; Path=/; HttpOnly; SameSite=Strict")}},
        ""});
  }
  data view = visit.View("Sign in (development)");
  data people{data::type::list};
  for (const auto& [identity, role] : deps_.sign_in_people) {
    data person;
    person.set("identity", identity);
    person.set("role", role);
    people.push_back(person);
  }
  view.set("people", people);
  visit.Page(200, "sign_in", std::move(view));
}

std::optional<ConsoleVisit> WebConsole::Visit(const HttpExchange& request, const HttpResponder& respond) const {
  std::string identity =
      deps_.development ? CookieValue(request.Header("cookie"), kConsoleIdentityCookie) : request.tls_identity;
  if (identity.empty() || !IsWellFormedIdentity(identity)) {
    if (deps_.development) {
      respond(HttpAnswer{303, {{"location", "/sign-in"}}, ""});
    } else {
      Standalone(respond, false, 401, "Who are you?", "Your browser presented no client certificate.",
                 "Insert your smartcard, or import your certificate into the browser, and reload.");
    }
    return std::nullopt;
  }
  absl::StatusOr<Caller> caller = deps_.authorizer->Identify(identity);
  ConsoleVisit visit;
  visit.development = deps_.development;
  visit.respond = respond;
  if (caller.ok()) {
    visit.caller = *caller;
    visit.may_audit = deps_.authorizer->MayReadAudit(*caller).ok();
    visit.may_operate = deps_.admin->MayOperate(*caller).ok();
    visit.may_report = deps_.reporter != nullptr && deps_.authorizer->MayReadReports(*caller).ok();
  }
  if (!visit.may_audit && !visit.may_operate && !visit.may_report) {
    Standalone(respond, deps_.development, 403, "Not for this certificate",
               caller.ok() ? absl::StrCat("Your certificate names ", identity, ", a ", CallerKindName(caller->kind),
                                          ". The console is for IG officers, operators and commissioners only.")
                           : absl::StrCat("Your certificate names ", identity,
                                          ", whom this network's configuration does not list."),
               "If you should have access, ask the gateway's administrator to add your identity to ig_officers, "
               "operators or commissioners in its configuration.");
    return std::nullopt;
  }
  visit.csrf = csrf_.TokenFor(visit.caller.identity);
  visit.query = request.Query();
  return visit;
}

bool WebConsole::CheckForm(const HttpExchange& request, ConsoleVisit& visit) const {
  // A browser says where a form came from: Origin (absent only from old browsers and non-browser
  // clients, which the CSRF token still holds to) and Sec-Fetch-Site.
  const std::string& origin = request.Header("origin");
  const std::string& host = request.Header("host");
  const std::string& fetch_site = request.Header("sec-fetch-site");
  const bool same_origin = (origin.empty() || origin == absl::StrCat("https://", host) ||
                            (deps_.development && origin == absl::StrCat("http://", host))) &&
                           (fetch_site.empty() || fetch_site == "same-origin" || fetch_site == "none");
  absl::StatusOr<FormFields> form = absl::StartsWith(request.Header("content-type"), kFormType)
                                        ? ParseForm(request.body)
                                        : absl::InvalidArgumentError("not a form");
  if (!same_origin || !form.ok() || !csrf_.Check(visit.caller.identity, form->Get("csrf"))) {
    visit.Problem(403, "That form cannot be accepted",
                  "It came from another site, or from a page older than the gateway's last restart. Nothing was "
                  "done. Go back, reload the page and try again.",
                  "/", "Back to the start");
    return false;
  }
  visit.form = *std::move(form);
  return true;
}

void WebConsole::Handle(HttpExchange request, HttpResponder respond) const {
  const std::string path = request.Path();
  auto identity = std::make_shared<std::string>();
  if (path == "/static/console.css") {
    HttpResponder answer = Observed(request, "static/console.css", std::move(respond), identity);
    if (request.method != "GET") return answer(Refusal(405, "GET only"));
    return answer(HttpAnswer{200, {{"content-type", "text/css; charset=utf-8"}}, *ConsoleAsset("console.css")});
  }
  if (path == "/sign-in" && deps_.development) {
    return SignIn(request, Observed(request, "sign-in", std::move(respond), identity));
  }
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  const char* route = path == "/"                                 ? "home"
                      : path == "/audit"                          ? "audit"
                      : path == "/audit/search"                   ? "audit/search"
                      : path == "/audit/export"                   ? "audit/export"
                      : path == "/audit/verify"                   ? "audit/verify"
                      : absl::StartsWith(path, "/audit/records/") ? "audit/records/{index}"
                      : path == "/deliveries"                     ? "deliveries"
                      : path == "/deliveries/confirm"             ? "deliveries/confirm"
                      : path == "/deliveries/replay"              ? "deliveries/replay"
                      : path == "/reports"                        ? "reports"
                      : path == "/reports.csv"                    ? "reports.csv"
                      : path == "/sign-out" && deps_.development  ? "sign-out"
                                                                  : "unknown";
  HttpResponder answer = Observed(request, route, std::move(respond), identity);
  if (std::string(route) == "unknown") {
    return Standalone(answer, deps_.development, 404, "Not here", "There is no such page in the console.",
                      "Start again from the console's first page, /.");
  }
  const bool wants_post = std::string(route) != "home" && std::string(route) != "audit" &&
                          std::string(route) != "deliveries" && std::string(route) != "audit/records/{index}" &&
                          std::string(route) != "reports" && std::string(route) != "reports.csv";
  if ((wants_post && !post) || (!wants_post && !get)) {
    return answer(HttpAnswer{405,
                             {{"allow", wants_post ? "POST" : "GET"}, {"content-type", "text/plain"}},
                             wants_post ? "POST only\n" : "GET only\n"});
  }
  std::optional<ConsoleVisit> visit = Visit(request, answer);
  if (!visit.has_value()) return;
  *identity = visit->caller.identity;
  if (post && !CheckForm(request, *visit)) return;
  const std::string r = route;
  if (r == "sign-out") {
    return answer(HttpAnswer{
        303,
        {{"location", "/sign-in"}, {"set-cookie", absl::StrCat(kConsoleIdentityCookie, "=; Path=/; Max-Age=0")}},
        ""});
  }
  if (r == "home") {
    data view = visit->View("frontdoor console");
    return visit->Page(200, "home", std::move(view));
  }
  if (absl::StartsWith(r, "reports")) {
    if (!visit->may_report) {
      return visit->Problem(403, "Not allowed", "Only commissioners and IG officers read outcome figures.", "/",
                            "Back to the start");
    }
    return r == "reports" ? report_pages_.Page(*visit) : report_pages_.Csv(*visit);
  }
  const bool audit = absl::StartsWith(r, "audit");
  if ((audit && !visit->may_audit) || (!audit && !visit->may_operate)) {
    return visit->Problem(403, "Not allowed",
                          audit ? "Only IG officers read the audit log (IG-8)." : "Only operators manage deliveries.",
                          "/", "Back to the start");
  }
  if (r == "audit") return audit_pages_.SearchForm(*visit);
  if (r == "audit/search") return audit_pages_.Search(*visit);
  if (r == "audit/export") return audit_pages_.Export(*visit);
  if (r == "audit/verify") return audit_pages_.Verify(*visit);
  if (r == "audit/records/{index}")
    return audit_pages_.Record(*visit, path.substr(std::string("/audit/records/").size()));
  if (r == "deliveries") return delivery_pages_.List(*visit);
  if (r == "deliveries/confirm") return delivery_pages_.Confirm(*visit);
  if (r == "deliveries/replay") return delivery_pages_.Replay(*visit);
}

}  // namespace frontdoor::gateway
