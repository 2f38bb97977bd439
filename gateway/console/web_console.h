// WebConsole: the console's HTTP handler, served by an HttpServer (gateway/net/http_server.h) on
// --console-listen. It decides who is asking and whether they may, then hands the request to the
// audit pages (IG officers), the delivery pages (operators) or the report page (commissioners);
// everything those do goes through the AuditReader, DeliveryAdmin and OutcomeReporter the gRPC
// services use, so the console adds no query or rule.
//
// Who: over TLS, the browser's client certificate CN (from the same client CA as gRPC: an NHS
// smartcard is one), so there is no password and no session to steal. With --insecure-plaintext
// (development only) a sign-in page sets a cookie naming one of the configured IG officers or
// operators, and every page says so. Anyone else sees a page saying why they may not come in.
//
// Web security: patient identifiers travel only in POST bodies (searches), never in a URL;
// every POST carries a CSRF token bound to the person (console_forms.h) and an Origin, when sent,
// must be this console's; pages come from templates that escape every value (console_pages.h);
// the security headers (CSP without inline script, frame-ancestors 'none', nosniff, no-store,
// HSTS over TLS) are SecurityHeaders(), set on every answer by the HttpServer.
//
//   WebConsole console({&reader, &admin, &authorizer, &clock, metrics, /*development=*/false});
//   HttpServer::Start(loop.context(), options, console.Handler(), WebConsole::Refusal);
//
// Each request is logged once (door, method, route template, identity, status, duration: never the
// form) and counted in frontdoor_http_requests_total{door="console"}.
// Thread-safety: Handle may be called concurrently; deps must outlive the console and its server.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_WEB_CONSOLE_H_
#define FRONTDOOR_GATEWAY_CONSOLE_WEB_CONSOLE_H_

#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "gateway/audit_log/audit_reader.h"
#include "gateway/console/audit_pages.h"
#include "gateway/console/console_forms.h"
#include "gateway/console/delivery_pages.h"
#include "gateway/console/report_pages.h"
#include "gateway/delivery/delivery_admin.h"
#include "gateway/net/http_exchange.h"
#include "gateway/security/authorization.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

struct WebConsoleDeps {
  const AuditReader* reader = nullptr;
  const DeliveryAdmin* admin = nullptr;
  const OutcomeReporter* reporter = nullptr;
  const Authorizer* authorizer = nullptr;
  const Clock* clock = nullptr;
  observability::GatewayMetrics* metrics = nullptr;  // null: not counted
  // --insecure-plaintext: identities from the sign-in page, offered from these.
  bool development = false;
  std::vector<std::pair<std::string, std::string>> sign_in_people;  // identity, role
};

inline constexpr char kConsoleIdentityCookie[] = "frontdoor_console_identity";

class WebConsole {
 public:
  explicit WebConsole(WebConsoleDeps deps);

  void Handle(HttpExchange request, HttpResponder respond) const;
  HttpHandler Handler() const {
    return [this](HttpExchange request, HttpResponder respond) { Handle(std::move(request), std::move(respond)); };
  }
  // What the HTTP layer answers when it refuses a request itself (malformed, too slow, too large).
  static HttpAnswer Refusal(int status, const std::string& why);
  // The headers every answer carries; HSTS only over TLS.
  static std::vector<std::pair<std::string, std::string>> SecurityHeaders(bool tls);

 private:
  // The answer logged and counted, then sent.
  HttpResponder Observed(const HttpExchange& request, const char* route, HttpResponder respond,
                         std::shared_ptr<std::string> identity) const;
  // The development sign-in page and its form (plaintext only).
  void SignIn(const HttpExchange& request, const HttpResponder& respond) const;
  // Who is asking, or an answer saying why they may not come in (sent, and nullopt returned).
  std::optional<ConsoleVisit> Visit(const HttpExchange& request, const HttpResponder& respond) const;
  // The visit's POST form, CSRF-checked; false when refused (and answered).
  bool CheckForm(const HttpExchange& request, ConsoleVisit& visit) const;

  const WebConsoleDeps deps_;
  const CsrfTokens csrf_;
  const AuditPages audit_pages_;
  const DeliveryPages delivery_pages_;
  const ReportPages report_pages_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_WEB_CONSOLE_H_
