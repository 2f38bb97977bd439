// The web console's templates and stylesheet (gateway/console/templates/), built into the gateway
// so that it serves everything its pages need itself and cannot find them missing at run time.
//
//   const std::string* css = ConsoleAsset("console.css");
#ifndef FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_ASSETS_H_
#define FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_ASSETS_H_

#include <string>
#include <string_view>

namespace frontdoor::gateway {

// The file's text by its name in templates/ ("audit_search.mustache"); null when there is none.
const std::string* ConsoleAsset(std::string_view name);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_ASSETS_H_
