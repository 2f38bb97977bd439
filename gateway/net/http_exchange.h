// One HTTP request and its answer as the gateway's HTTP doors see them, without the HTTP library's
// types: what HttpServer (gateway/net/http_server.h) hands a door's handler, and what the handler
// gives back. Header names are lower case.
//
//   void Handle(HttpExchange request, HttpResponder respond) {
//     respond(HttpAnswer{200, {{"content-type", "application/fhir+json"}}, std::move(body)});
//   }
#ifndef FRONTDOOR_GATEWAY_NET_HTTP_EXCHANGE_H_
#define FRONTDOOR_GATEWAY_NET_HTTP_EXCHANGE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace frontdoor::gateway {

struct HttpExchange {
  std::string method;                          // GET, POST, ...
  std::string target;                          // as sent: path and query
  std::map<std::string, std::string> headers;  // lower-case names; a repeated header keeps its last value
  std::string body;
  // The verified client certificate's Subject CN over TLS; "" in plaintext (development) mode.
  std::string tls_identity;

  // The header's value, or "" when absent.
  const std::string& Header(const std::string& lower_case_name) const {
    static const std::string kNone;
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? kNone : it->second;
  }
  // The path without the query string, and the query string without '?'.
  std::string Path() const { return target.substr(0, target.find('?')); }
  std::string Query() const {
    const size_t q = target.find('?');
    return q == std::string::npos ? std::string() : target.substr(q + 1);
  }
};

struct HttpAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after this answer
};

// Answers one exchange, exactly once, from any thread.
using HttpResponder = std::function<void(HttpAnswer)>;
// A door's handler: called on the IoLoop; must not block (store work goes to the StoreWorkQueue).
using HttpHandler = std::function<void(HttpExchange, HttpResponder)>;

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_HTTP_EXCHANGE_H_
