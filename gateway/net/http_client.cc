#include "gateway/net/http_client.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "boost/url/parse.hpp"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

absl::StatusOr<HttpOrigin> ParseHttpUrl(const std::string& url) {
  boost::system::result<boost::urls::url_view> parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return absl::InvalidArgumentError(absl::StrCat("not an absolute URL: ", url));
  HttpOrigin origin;
  if (parsed->scheme() == "https") {
    origin.tls = true;
  } else if (parsed->scheme() != "http") {
    return absl::InvalidArgumentError(absl::StrCat("not an http or https URL: ", url));
  }
  if (parsed->host().empty() || parsed->has_query() || parsed->has_fragment() || parsed->has_userinfo()) {
    return absl::InvalidArgumentError(absl::StrCat("a URL with a host and no query, fragment or user: ", url));
  }
  origin.host = parsed->host();
  origin.port = parsed->has_port() ? std::string(parsed->port()) : (origin.tls ? "443" : "80");
  origin.path = std::string(parsed->encoded_path());
  while (!origin.path.empty() && origin.path.back() == '/') origin.path.pop_back();
  return origin;
}

// One open connection, plain or TLS.
class HttpClient::Connection {
 public:
  explicit Connection(asio::io_context& context) : tcp(context) {}
  beast::tcp_stream tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream&>> tls;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(HttpOrigin origin, std::shared_ptr<asio::ssl::context> tls)
    : origin_(std::move(origin)), tls_(std::move(tls)) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<HttpClient::Reply> HttpClient::Post(const std::string& target,
                                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                                   const std::string& body, absl::Duration deadline) {
  if (origin_.tls && tls_ == nullptr) return absl::FailedPreconditionError("https needs a TLS context");
  const auto expiry = absl::ToChronoNanoseconds(deadline);
  http::request<http::string_body> request(http::verb::post, target, 11);
  request.set(http::field::host, origin_.host);
  request.set(http::field::user_agent, "frontdoor-gateway");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  request.keep_alive(true);

  // Each step runs on context_ with the stream's expiry as its deadline; Post runs it to the end.
  beast::error_code failed;
  std::string step;
  Reply reply;
  bool reused = connection_ != nullptr;
  auto exchange = [&](auto& stream) {
    step = "write";
    http::async_write(stream, request, [&](beast::error_code ec, size_t) {
      if (ec) {
        failed = ec;
        return;
      }
      step = "read";
      auto parser = std::make_shared<http::response_parser<http::string_body>>();
      parser->body_limit(1 << 20);
      http::async_read(stream, connection_->buffer, *parser, [&, parser](beast::error_code ec, size_t) {
        if (ec) {
          failed = ec;
          return;
        }
        reply.status = parser->get().result_int();
        reply.body = std::move(parser->get().body());
        if (!parser->get().keep_alive()) connection_.reset();
      });
    });
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    failed = {};
    context_.restart();
    if (connection_ == nullptr) {
      reused = false;
      connection_ = std::make_unique<Connection>(context_);
      connection_->tcp.expires_after(expiry);
      step = "resolve";
      tcp::resolver resolver(context_);
      beast::error_code ec;
      auto endpoints = resolver.resolve(origin_.host, origin_.port, ec);
      if (ec) {
        connection_.reset();
        return absl::UnavailableError(absl::StrCat("cannot resolve ", origin_.host, ": ", ec.message()));
      }
      step = "connect";
      connection_->tcp.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
        if (ec) {
          failed = ec;
          return;
        }
        if (!origin_.tls) return exchange(connection_->tcp);
        connection_->tls.emplace(connection_->tcp, *tls_);
        SSL_set_tlsext_host_name(connection_->tls->native_handle(), origin_.host.c_str());
        connection_->tls->set_verify_callback(asio::ssl::host_name_verification(origin_.host));
        step = "TLS handshake";
        connection_->tls->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec) {
          if (ec) {
            failed = ec;
            return;
          }
          exchange(*connection_->tls);
        });
      });
    } else {
      connection_->tcp.expires_after(expiry);
      if (origin_.tls) {
        exchange(*connection_->tls);
      } else {
        exchange(connection_->tcp);
      }
    }
    context_.run();
    if (!failed) return reply;
    connection_.reset();
    if (failed == beast::error::timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("no answer from ", origin_.host, " within the deadline (", step, ")"));
    }
    // A kept-alive connection the server had closed: try once more on a new one.
    if (!reused || step == "TLS handshake" || step == "connect") break;
  }
  return absl::UnavailableError(absl::StrCat(origin_.host, ":", origin_.port, ": ", step, ": ", failed.message()));
}

}  // namespace frontdoor::gateway
