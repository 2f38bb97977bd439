// What the console's forms send, read safely: an application/x-www-form-urlencoded body parsed by
// Boost.URL, and the CSRF tokens that every state-changing or patient-revealing POST must carry.
//
//   absl::StatusOr<FormFields> form = ParseForm(request.body);
//   CsrfTokens csrf;                                // a fresh key per gateway start
//   std::string token = csrf.TokenFor("ig.officer"); // into every form, hidden
//   if (!csrf.Check("ig.officer", form->Get("csrf"))) refuse();
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_FORMS_H_
#define FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_FORMS_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace frontdoor::gateway {

struct FormFields {
  std::map<std::string, std::string> values;  // a repeated name keeps its first value

  // The value, or "" when absent.
  const std::string& Get(const std::string& name) const {
    static const std::string kNone;
    auto it = values.find(name);
    return it == values.end() ? kNone : it->second;
  }
};

// INVALID_ARGUMENT for a body that is not form encoding, has more than 64 fields, or a name or value
// over 4,096 bytes.
absl::StatusOr<FormFields> ParseForm(std::string_view body);

// Tokens bound to an identity: HMAC-SHA256 of it under a key drawn at construction. A token taken
// from one person's page is no use for another's, and none survives a restart of the gateway.
class CsrfTokens {
 public:
  CsrfTokens();
  std::string TokenFor(std::string_view identity) const;
  // True when `token` is the one TokenFor(identity) gives (compared in constant time).
  bool Check(std::string_view identity, std::string_view token) const;

 private:
  unsigned char key_[32];
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_CONSOLE_FORMS_H_
