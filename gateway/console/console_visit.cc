#include "gateway/console/console_visit.h"

#include <utility>

#include "gateway/console/console_pages.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

HttpAnswer HtmlAnswer(int status, std::string html) {
  return HttpAnswer{status, {{"content-type", "text/html; charset=utf-8"}}, std::move(html)};
}

kainjow::mustache::data ConsoleVisit::View(const std::string& title) const {
  kainjow::mustache::data view;
  view.set("title", title);
  view.set("development", development);
  view.set("signed_in", !caller.identity.empty());
  view.set("identity", caller.identity);
  view.set("role", may_audit && may_operate ? "IG officer and operator"
                   : may_audit              ? "IG officer"
                   : may_operate            ? "operator"
                                            : CallerKindName(caller.kind));
  view.set("may_report", may_report);
  view.set("may_audit", may_audit);
  view.set("may_operate", may_operate);
  view.set("csrf", csrf);
  return view;
}

void ConsoleVisit::Page(int status, const std::string& name, kainjow::mustache::data view) const {
  absl::StatusOr<std::string> html = RenderPage(name, std::move(view));
  if (!html.ok()) {
    observability::Log(observability::LogLevel::kError, "console", "a page could not be rendered",
                       {{"page", name}, {"error", std::string(html.status().message())}});
    respond(HttpAnswer{500, {{"content-type", "text/plain; charset=utf-8"}}, "The console could not show this page."});
    return;
  }
  respond(HtmlAnswer(status, *std::move(html)));
}

void ConsoleVisit::Problem(int status, const std::string& title, const std::string& message,
                           const std::string& back_href, const std::string& back_text) const {
  kainjow::mustache::data view = View(title);
  view.set("message", message);
  view.set("back_href", back_href);
  view.set("back_text", back_text);
  Page(status, "problem", std::move(view));
}

}  // namespace frontdoor::gateway
