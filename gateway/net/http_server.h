// HttpServer: HTTP/1.1 on the shared IoLoop (Boost.Beast over Asio and OpenSSL) for the gateway's
// HTTP doors (the FHIR API, the console). It does the HTTP, bounded, and hands each whole request
// to the door's handler; the door decides everything else.
//
// What a hostile or broken client meets: headers bounded (431), a body over the limit refused on
// its Content-Length before any of it is read (413), chunked bodies refused (411: a body's size
// must be known before it is read), HTTP/1.0 and unparseable requests refused (400), a request that
// takes longer than `request_deadline` to arrive once begun cut off (408), an idle keep-alive
// connection closed after `idle_timeout`, a TLS handshake bounded, and at most `max_connections`
// open at once. Pipelined requests are answered in order. Each connection runs on its own strand,
// so none of this holds up another connection.
//
//   HttpServerOptions options;
//   options.listen = "127.0.0.1:8443";
//   options.tls = *ServerTlsContext(files);             // null: plaintext (development)
//   auto server = HttpServer::Start(loop.context(), options, handler, refuse);
//   ... (*server)->port() ...
//   (*server)->Close();
//
// Thread-safety: Close from any thread; the handler runs on the IoLoop and may answer from any.
#ifndef FRONTDOOR_GATEWAY_NET_HTTP_SERVER_H_
#define FRONTDOOR_GATEWAY_NET_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "gateway/net/http_exchange.h"
#include "gateway/net/tcp_listener.h"

namespace frontdoor::gateway {

struct HttpServerOptions {
  std::string listen;                              // HOST:PORT
  std::string name = "HTTP";                       // for messages and logs: "the FHIR API"
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: plaintext
  size_t max_connections = 256;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = (1 << 20) + 64 * 1024;
  absl::Duration request_deadline = absl::Seconds(10);  // from a request's first header to its last byte
  absl::Duration idle_timeout = absl::Seconds(60);      // keep-alive: waiting for the next request
  absl::Duration handshake_deadline = absl::Seconds(10);
  // Added to every answer (security headers, say).
  std::vector<std::pair<std::string, std::string>> common_headers;
};

// The door's answer to a request the server refuses itself (status and why, in words).
using HttpRefusal = std::function<HttpAnswer(int status, const std::string& why)>;

class HttpServer {
 public:
  // UNAVAILABLE when the address cannot be had (in use, say).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& context,
                                                           const HttpServerOptions& options, HttpHandler handler,
                                                           HttpRefusal refuse);
  ~HttpServer();  // Calls Close.

  int port() const;
  std::string address() const;
  size_t open_connections() const;
  // Stops accepting; connections open now end when their request is answered or they idle out.
  void Close();

  struct Shared;  // what every session of this server holds (options, handler)

 private:
  explicit HttpServer(std::shared_ptr<TcpListener> listener) : listener_(std::move(listener)) {}
  std::shared_ptr<TcpListener> listener_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_HTTP_SERVER_H_
