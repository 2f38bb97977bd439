#include "gateway/net/outbound_stream.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

OutboundStream::OutboundStream(std::string host, std::string port, std::shared_ptr<asio::ssl::context> tls,
                               std::string server_name)
    : host_(std::move(host)), port_(std::move(port)), server_name_(std::move(server_name)), tls_(std::move(tls)) {}

OutboundStream::~OutboundStream() = default;

absl::Status OutboundStream::Connect(absl::Duration deadline) {
  connection_ = std::make_unique<Connection>(context_);
  connection_->tcp.expires_after(absl::ToChronoNanoseconds(deadline));
  beast::error_code ec;
  tcp::resolver resolver(context_);
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) {
    connection_.reset();
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host_, ": ", ec.message()));
  }
  beast::error_code failed;
  const char* step = "connect";
  context_.restart();
  connection_->tcp.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec || tls_ == nullptr) {
      failed = ec;
      return;
    }
    Connection& c = *connection_;
    c.tls.emplace(c.tcp, *tls_);
    SSL_set_tlsext_host_name(c.tls->native_handle(), server_name_.c_str());
    c.tls->set_verify_callback(asio::ssl::host_name_verification(server_name_));
    step = "TLS handshake";
    c.tls->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec) { failed = ec; });
  });
  context_.run();
  if (!failed) return absl::OkStatus();
  connection_.reset();
  if (failed == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat(host_, ":", port_, ": ", step, ": no answer within the deadline"));
  }
  return absl::UnavailableError(absl::StrCat(host_, ":", port_, ": ", step, ": ", failed.message()));
}

void OutboundStream::Expire(absl::Duration deadline) {
  connection_->tcp.expires_after(absl::ToChronoNanoseconds(deadline));
}

void OutboundStream::Run() {
  context_.restart();
  context_.run();
}

}  // namespace frontdoor::gateway
