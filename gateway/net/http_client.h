// HttpClient: the gateway calling out over HTTP/1.1 (Boost.Beast), for pushes to a referrer's own
// endpoint (BaRS feedback). One connection to one origin, kept alive between requests and opened
// again when the server closed it; over TLS it presents the gateway's client certificate and
// verifies the server against the CA configured for it and the URL's host name.
//
//   HttpClient client(*ParseHttpUrl("https://gp.example:9443/FHIR/R4"), tls_context);
//   absl::StatusOr<HttpClient::Reply> r = client.Post("/FHIR/R4/$process-message", headers, body, deadline);
//
// An error status means no answer came (UNAVAILABLE: could not connect, the TLS handshake failed,
// the connection broke; DEADLINE_EXCEEDED: no answer within the deadline); any HTTP status is an
// answer. Not thread-safe: one caller at a time (a delivery worker).
#ifndef FRONTDOOR_GATEWAY_NET_HTTP_CLIENT_H_
#define FRONTDOOR_GATEWAY_NET_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/ssl/context.hpp"
#include "gateway/net/outbound_stream.h"

namespace frontdoor::gateway {

// An absolute http or https URL taken apart.
struct HttpOrigin {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // the URL's path, without a trailing '/' ("" for the root)
};

// INVALID_ARGUMENT for anything but an absolute http(s) URL with a host and no query or fragment.
absl::StatusOr<HttpOrigin> ParseHttpUrl(const std::string& url);

class HttpClient {
 public:
  struct Reply {
    int status = 0;
    std::string body;
  };

  // A client for `origin`; `tls` is required for https (null for http).
  HttpClient(HttpOrigin origin, std::shared_ptr<boost::asio::ssl::context> tls);

  const HttpOrigin& origin() const { return origin_; }

  absl::StatusOr<Reply> Post(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& body, absl::Duration deadline);

 private:
  const HttpOrigin origin_;
  OutboundStream stream_;  // the kept-alive connection
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_HTTP_CLIENT_H_
