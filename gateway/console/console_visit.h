// One request to the console once it is known who is asking: the person, what their roles let
// them see, their CSRF token, the form they sent, and how to answer with a page. The audit and
// delivery pages take one of these; the WebConsole (web_console.h) makes it.
//
//   kainjow::mustache::data view = visit.View("Audit log");
//   visit.Page(200, "audit_search", std::move(view));
//
// Thread-safety: copyable; answer once, from any thread.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_VISIT_H_
#define FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_VISIT_H_

#include <string>
#include <string_view>

#include "gateway/console/console_forms.h"
#include "gateway/net/http_exchange.h"
#include "gateway/security/authorization.h"
#include "kainjow/mustache.hpp"

namespace frontdoor::gateway {

struct ConsoleVisit {
  Caller caller;
  bool may_audit = false;
  bool may_operate = false;
  bool may_report = false;   // outcome figures (commissioners, IG officers)
  bool development = false;  // --insecure-plaintext: the sign-in page, and a banner on every page
  std::string csrf;          // this person's token, for every form
  FormFields form;           // a POST's fields
  std::string query;         // a GET's query string (never patient data)
  HttpResponder respond;

  // The view every page starts from: title, who is signed in, their roles, the CSRF token.
  kainjow::mustache::data View(const std::string& title) const;
  // Renders page `name`; a page that cannot be rendered is a plain 500 (and a log line).
  void Page(int status, const std::string& name, kainjow::mustache::data view) const;
  // A page that says what went wrong and where to go back to.
  void Problem(int status, const std::string& title, const std::string& message, const std::string& back_href,
               const std::string& back_text) const;
};

// A page (HTML) answer; a status that shows a problem is still a page.
HttpAnswer HtmlAnswer(int status, std::string html);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_VISIT_H_
