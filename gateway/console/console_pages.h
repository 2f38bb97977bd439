// The console's pages: one mustache template per page (templates/*.mustache, built in), rendered
// by kainjow::mustache, which HTML-escapes every {{value}} (& < > " '), so nothing a record or a
// form holds can become markup. Every page shares the header and footer partials.
//
//   kainjow::mustache::data view;
//   view.set("title", "Audit log");
//   absl::StatusOr<std::string> html = RenderPage("audit_search", view);
//
// Pure; thread-safe (each render parses its own template: they are small, and the library's
// renderer is not const).
#ifndef FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_PAGES_H_
#define FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_PAGES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kainjow/mustache.hpp"

namespace frontdoor::gateway {

// The names of every page template (without ".mustache").
inline constexpr const char* kConsolePages[] = {"home",           "refused",      "problem",      "sign_in",
                                                "audit_search",   "audit_record", "audit_verify", "deliveries",
                                                "replay_confirm", "reports"};

// The page `name` with `view` (header and footer partials added); INTERNAL when the template is
// missing or does not parse.
absl::StatusOr<std::string> RenderPage(const std::string& name, kainjow::mustache::data view);

// OK when every page and partial is there and parses: checked when the console starts, so a
// broken template stops the gateway at once instead of failing one page later.
absl::Status CheckConsolePages();

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_PAGES_H_
