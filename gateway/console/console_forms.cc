#include "gateway/console/console_forms.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "boost/url/params_view.hpp"

namespace frontdoor::gateway {

namespace {

constexpr size_t kMaxFields = 64;
constexpr size_t kMaxFieldBytes = 4096;

}  // namespace

absl::StatusOr<FormFields> ParseForm(std::string_view body) {
  FormFields form;
  if (body.empty()) return form;
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;  // form encoding writes a space as '+'
  size_t count = 0;
  try {
    boost::urls::params_view params(body, opts);
    for (const boost::urls::param& p : params) {
      if (++count > kMaxFields) return absl::InvalidArgumentError("the form has too many fields");
      if (p.key.size() > kMaxFieldBytes || p.value.size() > kMaxFieldBytes) {
        return absl::InvalidArgumentError("a form field is too long");
      }
      form.values.emplace(p.key, p.value);
    }
  } catch (const std::exception&) {
    return absl::InvalidArgumentError("the form is not application/x-www-form-urlencoded");
  }
  return form;
}

CsrfTokens::CsrfTokens() {
  if (RAND_bytes(key_, sizeof(key_)) != 1) std::abort();  // no randomness: nothing is safe to serve
}

std::string CsrfTokens::TokenFor(std::string_view identity) const {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_, sizeof(key_), reinterpret_cast<const unsigned char*>(identity.data()), identity.size(), mac,
       &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(mac), length));
}

bool CsrfTokens::Check(std::string_view identity, std::string_view token) const {
  const std::string expected = TokenFor(identity);
  return token.size() == expected.size() && CRYPTO_memcmp(token.data(), expected.data(), expected.size()) == 0;
}

}  // namespace frontdoor::gateway
