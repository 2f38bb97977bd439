#include "gateway/console/console_pages.h"

#include "absl/strings/str_cat.h"
#include "gateway/console/console_assets.h"

namespace frontdoor::gateway {

namespace {

absl::StatusOr<const std::string*> Template(const std::string& name) {
  const std::string* text = ConsoleAsset(absl::StrCat(name, ".mustache"));
  if (text == nullptr) return absl::InternalError(absl::StrCat("the console has no template ", name));
  return text;
}

}  // namespace

absl::StatusOr<std::string> RenderPage(const std::string& name, kainjow::mustache::data view) {
  absl::StatusOr<const std::string*> page = Template(name);
  if (!page.ok()) return page.status();
  for (const char* partial : {"header", "footer"}) {
    absl::StatusOr<const std::string*> text = Template(partial);
    if (!text.ok()) return text.status();
    view.set(partial, kainjow::mustache::partial([text = *text] { return *text; }));
  }
  kainjow::mustache::mustache tmpl(**page);
  if (!tmpl.is_valid()) {
    return absl::InternalError(
        absl::StrCat("the console's template ", name, " does not parse: ", tmpl.error_message()));
  }
  std::string html = tmpl.render(view);
  if (!tmpl.is_valid()) {
    return absl::InternalError(absl::StrCat("the console's page ", name, " did not render: ", tmpl.error_message()));
  }
  return html;
}

absl::Status CheckConsolePages() {
  for (const char* name : {"header", "footer"}) {
    absl::StatusOr<const std::string*> text = Template(name);
    if (!text.ok()) return text.status();
  }
  if (ConsoleAsset("console.css") == nullptr) return absl::InternalError("the console has no stylesheet");
  for (const char* name : kConsolePages) {
    absl::StatusOr<std::string> html = RenderPage(name, kainjow::mustache::data());
    if (!html.ok()) return html.status();
  }
  return absl::OkStatus();
}

}  // namespace frontdoor::gateway
