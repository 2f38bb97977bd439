// A real HTTP/1.1 client for tests of the gateway's HTTP doors (Boost.Beast over Asio and
// OpenSSL): plain or mutual TLS, one connection per request; and raw bytes over a TCP socket for
// what no well-behaved client sends (chunked bodies, HTTP/1.0, lies in Content-Length, header
// floods, a sender that stalls, pipelining).
//
//   HttpTestClient client = HttpTestClient::Plain(port);
//   absl::StatusOr<HttpReply> r = client.Send("POST", "/FHIR/R4/$process-message",
//                                             {{"content-type", "application/fhir+json"}}, body);
//   std::string answer = RawExchange(port, "GET / HTTP/1.0\r\n\r\n", absl::Seconds(2));
//
// Not thread-safe per client; make one per thread.
#ifndef FRONTDOOR_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_
#define FRONTDOOR_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace frontdoor::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpTestClient {
 public:
  static HttpTestClient Plain(int port);
  // Mutual TLS to 127.0.0.1:port: the server must chain to `ca`; `cert`/`key` may be empty (no
  // client certificate).
  static HttpTestClient Tls(int port, std::string ca, std::string cert, std::string key);

  // One request on a new connection. An error when the connection or the TLS handshake fails or
  // no answer comes within `timeout`.
  absl::StatusOr<HttpReply> Send(const std::string& method, const std::string& target,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body = "", absl::Duration timeout = absl::Seconds(30)) const;

 private:
  int port_ = 0;
  bool tls_ = false;
  std::string ca_, cert_, key_;
};

// Connects to 127.0.0.1:port, sends `bytes` (in pieces `pause` apart when `pieces` > 1), and returns
// everything received until the server closes the connection or `read_for` passes.
std::string RawExchange(int port, const std::string& bytes, absl::Duration read_for, int pieces = 1,
                        absl::Duration pause = absl::ZeroDuration());

// The HTTP status codes of every response in `raw` (pipelined answers), in order.
std::vector<int> StatusCodesIn(const std::string& raw);

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_HTTP_TEST_CLIENT_H_
