#include "gateway/net/http_server.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/net/close_connection.h"
#include "gateway/net/tls_contexts.h"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpServer::Shared {
  HttpServerOptions options;
  HttpHandler handler;
  HttpRefusal refuse;
};

namespace {

std::chrono::steady_clock::duration Chrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

// One connection: its requests one after another, each answered before the next is read.
template <class Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, ConnectionSlot slot, std::shared_ptr<const HttpServer::Shared> shared)
      : stream_(std::move(stream)),
        deadline_(stream_.get_executor()),
        slot_(std::move(slot)),
        shared_(std::move(shared)) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(Chrono(shared_->options.handshake_deadline));
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return;  // not a client of this network: nothing to answer
        self->tls_identity_ = PeerCommonName(self->stream_.native_handle());
        self->ReadHeader();
      });
    } else {
      ReadHeader();
    }
  }

 private:
  const HttpServerOptions& options() const { return shared_->options; }

  // Waits for the next request's first bytes for up to idle_timeout (a keep-alive connection's
  // rest); from them on, the whole request must arrive within request_deadline.
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    if (buffer_.size() > 0) return BeginRequest();  // pipelined: already here
    beast::get_lowest_layer(stream_).expires_after(Chrono(options().idle_timeout));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
                              if (ec) return self->Close();  // idle time-out, or the client went away
                              self->buffer_.commit(bytes);
                              self->BeginRequest();
                            });
  }

  // A request has begun: its deadline runs on a timer of the session's own, which cancels the read
  // so the client can still be told (408); the stream's own expiry would close the socket unsaid.
  void BeginRequest() {
    beast::get_lowest_layer(stream_).expires_never();
    timed_out_ = false;
    deadline_.expires_after(Chrono(options().request_deadline));
    deadline_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || self == nullptr) return;  // cancelled: the request arrived in time
      self->timed_out_ = true;
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().cancel(ignored);
    });
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (timed_out_) return Refuse(408, "the request did not arrive in time");
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec == http::error::header_limit) return Refuse(431, "the request's header fields are too large");
    if (ec == http::error::body_limit) return Refuse(413, "the request body is larger than this door accepts");
    if (ec) return Refuse(400, "the request is not a well-formed HTTP/1.1 request");
    const auto& header = parser_->get();
    if (header.version() != 11) return Refuse(400, "HTTP/1.1 is required");
    if (parser_->chunked()) {
      return Refuse(411, "a chunked body is not accepted: send the body with a Content-Length");
    }
    if (parser_->content_length().has_value() && *parser_->content_length() > options().max_body_bytes) {
      return Refuse(413, "the request body is larger than this door accepts");
    }
    if (absl::EqualsIgnoreCase(std::string(header[http::field::expect]), "100-continue")) {
      // The client waits for this before it sends the body (curl does for bodies over 1 KiB).
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      http::async_write(stream_, *cont, [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
        if (ec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnBody(beast::error_code ec) {
    deadline_.cancel();
    if (timed_out_) return Refuse(408, "the request did not arrive in time");
    if (ec == http::error::body_limit) return Refuse(413, "the request body is larger than this door accepts");
    if (ec) return Close();
    http::request<http::string_body> request = parser_->release();
    keep_alive_ = request.keep_alive();
    HttpExchange exchange;
    exchange.method = std::string(request.method_string());
    exchange.target = std::string(request.target());
    for (const auto& field : request) {
      exchange.headers[absl::AsciiStrToLower(std::string(field.name_string()))] = std::string(field.value());
    }
    exchange.body = std::move(request.body());
    exchange.tls_identity = tls_identity_;
    // No deadline while the door works on it (a commit may take a moment); the door answers.
    shared_->handler(std::move(exchange), [self = this->shared_from_this()](HttpAnswer answer) {
      asio::post(self->stream_.get_executor(),
                 [self, answer = std::move(answer)]() mutable { self->Write(std::move(answer)); });
    });
  }

  void Refuse(int status, const std::string& why) {
    deadline_.cancel();
    keep_alive_ = false;
    HttpAnswer answer = shared_->refuse(status, why);
    answer.close = true;
    Write(std::move(answer));
  }

  void Write(HttpAnswer answer) {
    auto response = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status), 11);
    for (const auto& [name, value] : options().common_headers) response->set(name, value);
    for (const auto& [name, value] : answer.headers) response->set(name, value);
    response->body() = std::move(answer.body);
    const bool close = answer.close || !keep_alive_;
    response->keep_alive(!close);
    response->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(Chrono(options().request_deadline));
    http::async_write(stream_, *response,
                      [self = this->shared_from_this(), response, close](beast::error_code ec, size_t) {
                        if (ec || close) return self->Close();
                        self->ReadHeader();
                      });
  }

  void Close() { CloseConnection(stream_, this->shared_from_this()); }

  Stream stream_;
  asio::steady_timer deadline_;  // the request deadline (BeginRequest)
  bool timed_out_ = false;
  ConnectionSlot slot_;
  std::shared_ptr<const HttpServer::Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string tls_identity_;
  bool keep_alive_ = true;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& context,
                                                              const HttpServerOptions& options, HttpHandler handler,
                                                              HttpRefusal refuse) {
  auto shared = std::make_shared<Shared>(Shared{options, std::move(handler), std::move(refuse)});
  auto on_accept = [&context, shared](tcp::socket socket, ConnectionSlot slot) {
    // Each connection on a strand of its own.
    beast::tcp_stream tcp(asio::make_strand(context));
    beast::error_code ec;
    tcp.socket().assign(socket.local_endpoint(ec).protocol(), socket.release(), ec);
    if (ec) return;
    tcp.socket().set_option(tcp::no_delay(true), ec);
    if (shared->options.tls != nullptr) {
      auto session = std::make_shared<HttpSession<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(std::move(tcp), *shared->options.tls), std::move(slot), shared);
      session->Start();
    } else {
      auto session = std::make_shared<HttpSession<beast::tcp_stream>>(std::move(tcp), std::move(slot), shared);
      session->Start();
    }
  };
  absl::StatusOr<std::shared_ptr<TcpListener>> listener =
      TcpListener::Open(context, options.listen, options.name, options.max_connections, std::move(on_accept));
  if (!listener.ok()) return listener.status();
  return std::unique_ptr<HttpServer>(new HttpServer(*std::move(listener)));
}

HttpServer::~HttpServer() { Close(); }

int HttpServer::port() const { return listener_->port(); }
std::string HttpServer::address() const { return listener_->address(); }
size_t HttpServer::open_connections() const { return listener_->open_connections(); }
void HttpServer::Close() { listener_->Close(); }

}  // namespace frontdoor::gateway
