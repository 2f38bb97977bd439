#include "tests/support/http_test_client.h"

#include <chrono>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"

namespace frontdoor::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

std::chrono::steady_clock::duration Chrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

template <class Stream>
absl::StatusOr<HttpReply> Exchange(Stream& stream, const std::string& method, const std::string& target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body) {
  http::request<http::string_body> request(http::string_to_verb(method), target, 11);
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  beast::error_code ec;
  http::write(stream, request, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("read: ", ec.message()));
  HttpReply reply;
  reply.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    reply.headers[absl::AsciiStrToLower(std::string(field.name_string()))] = std::string(field.value());
  }
  reply.body = parser.get().body();
  return reply;
}

}  // namespace

HttpTestClient HttpTestClient::Plain(int port) {
  HttpTestClient client;
  client.port_ = port;
  return client;
}

HttpTestClient HttpTestClient::Tls(int port, std::string ca, std::string cert, std::string key) {
  HttpTestClient client;
  client.port_ = port;
  client.tls_ = true;
  client.ca_ = std::move(ca);
  client.cert_ = std::move(cert);
  client.key_ = std::move(key);
  return client;
}

absl::StatusOr<HttpReply> HttpTestClient::Send(const std::string& method, const std::string& target,
                                               const std::vector<std::pair<std::string, std::string>>& headers,
                                               const std::string& body, absl::Duration timeout) const {
  asio::io_context context;
  beast::tcp_stream tcp(context);
  tcp.expires_after(Chrono(timeout));
  beast::error_code ec;
  tcp.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
  if (!tls_) return Exchange(tcp, method, target, headers, body);

  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.load_verify_file(ca_, ec);
  if (ec) return absl::InvalidArgumentError("cannot load the CA " + ca_);
  if (!cert_.empty()) {
    tls.use_certificate_chain_file(cert_, ec);
    if (!ec) tls.use_private_key_file(key_, asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("cannot load the client certificate " + cert_);
  }
  tls.set_verify_mode(asio::ssl::verify_peer);
  tls.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), tls);
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("TLS handshake: ", ec.message()));
  return Exchange(stream, method, target, headers, body);
}

std::string RawExchange(int port, const std::string& bytes, absl::Duration read_for, int pieces, absl::Duration pause) {
  asio::io_context context;
  tcp::socket socket(context);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  if (ec) return "";
  const size_t piece = pieces > 1 ? (bytes.size() + pieces - 1) / pieces : bytes.size();
  for (size_t at = 0; at < bytes.size(); at += piece) {
    asio::write(socket, asio::buffer(bytes.data() + at, std::min(piece, bytes.size() - at)), ec);
    if (ec) break;
    if (pause > absl::ZeroDuration() && at + piece < bytes.size()) absl::SleepFor(pause);
  }
  // Read until the server closes or the time is up.
  std::string received;
  const absl::Time deadline = absl::Now() + read_for;
  socket.non_blocking(true);
  char buffer[16384];
  while (absl::Now() < deadline) {
    size_t n = socket.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block) {
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    if (ec) break;
    received.append(buffer, n);
  }
  return received;
}

std::vector<int> StatusCodesIn(const std::string& raw) {
  // Each response read in turn with Beast's parser, so a body that quotes "HTTP/1.1" is a body.
  std::vector<int> codes;
  std::string_view rest = raw;
  while (!rest.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(64 << 20);
    beast::error_code ec;
    size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    if (ec || !parser.is_done()) break;
    codes.push_back(parser.get().result_int());
    rest.remove_prefix(used);
  }
  return codes;
}

}  // namespace frontdoor::testing
