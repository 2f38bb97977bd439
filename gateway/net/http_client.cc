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

HttpClient::HttpClient(HttpOrigin origin, std::shared_ptr<asio::ssl::context> tls)
    : origin_(std::move(origin)), stream_(origin_.host, origin_.port, std::move(tls), origin_.host) {}

absl::StatusOr<HttpClient::Reply> HttpClient::Post(const std::string& target,
                                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                                   const std::string& body, absl::Duration deadline) {
  http::request<http::string_body> request(http::verb::post, target, 11);
  request.set(http::field::host, origin_.host);
  request.set(http::field::user_agent, "frontdoor-gateway");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  request.keep_alive(true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = stream_.open();
    if (!reused) {
      if (absl::Status connected = stream_.Connect(deadline); !connected.ok()) return connected;
    }
    beast::error_code failed;
    std::optional<Reply> reply;
    bool server_closes = false;
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    stream_.Expire(deadline);
    stream_.With([&](auto& s) {
      http::async_write(s, request, [&](beast::error_code ec, size_t) {
        if (ec) {
          failed = ec;
          return;
        }
        http::async_read(s, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec) {
            failed = ec;
            return;
          }
          reply = Reply{static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
          server_closes = !parser.get().keep_alive();
        });
      });
    });
    stream_.Run();
    if (reply.has_value()) {
      if (server_closes) stream_.Close();
      return *std::move(reply);
    }
    stream_.Close();
    if (failed == beast::error::timeout) {
      return absl::DeadlineExceededError(absl::StrCat("no answer from ", origin_.host, " within the deadline"));
    }
    // A kept-alive connection the server had closed meanwhile: once more on a new one.
    if (!reused) return absl::UnavailableError(absl::StrCat(origin_.host, ":", origin_.port, ": ", failed.message()));
  }
  return absl::UnavailableError("the connection broke twice");
}

}  // namespace frontdoor::gateway
