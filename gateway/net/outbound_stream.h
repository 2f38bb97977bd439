// OutboundStream: one connection the gateway opens to someone else's server (a referrer's BaRS
// endpoint, a ward's interface engine), plain TCP or TLS, kept open between uses and opened again
// when it broke. Everything runs on an io_context of its own on the caller's thread, each step
// bounded by a deadline: the shape a delivery worker needs, which sends one thing at a time and
// waits for the answer. Over TLS it presents the gateway's client certificate (in `tls`) and
// verifies the server's certificate and that it names `server_name`.
//
//   OutboundStream stream("engine.example", "2576", tls, "engine.example");
//   FRONTDOOR_RETURN_IF_ERROR(stream.Connect(deadline));             // when !stream.open()
//   stream.Expire(deadline);
//   stream.With([&](auto& s) { asio::async_write(s, buffer, [&](auto ec, size_t) { ... }); });
//   stream.Run();                                                      // until the operations end
//
// Not thread-safe: one caller at a time.
#ifndef FRONTDOOR_GATEWAY_NET_OUTBOUND_STREAM_H_
#define FRONTDOOR_GATEWAY_NET_OUTBOUND_STREAM_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"

namespace frontdoor::gateway {

class OutboundStream {
 public:
  OutboundStream(std::string host, std::string port, std::shared_ptr<boost::asio::ssl::context> tls,
                 std::string server_name);
  ~OutboundStream();

  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }
  bool open() const { return connection_ != nullptr; }

  // Resolves, connects and (over TLS) handshakes within `deadline`. UNAVAILABLE naming the step
  // and the cause, or DEADLINE_EXCEEDED.
  absl::Status Connect(absl::Duration deadline);
  // The deadline for what is started next with With.
  void Expire(absl::Duration deadline);
  // Calls `start(stream)` with the open stream (beast::tcp_stream& or its TLS stream&) to start
  // asynchronous operations on it; Run runs them to their end.
  template <class Start>
  void With(Start&& start) {
    if (connection_->tls.has_value()) {
      start(*connection_->tls);
    } else {
      start(connection_->tcp);
    }
  }
  void Run();
  // Forgets the connection (after an error, or a server that said it closes).
  void Close() { connection_.reset(); }

 private:
  struct Connection {
    explicit Connection(boost::asio::io_context& context) : tcp(context) {}
    boost::beast::tcp_stream tcp;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream&>> tls;
  };

  const std::string host_, port_, server_name_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context context_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_OUTBOUND_STREAM_H_
