#include "gateway/mllp/mllp_client.h"

#include <array>
#include <functional>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/mllp/mllp_framer.h"

namespace frontdoor::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

class MllpClient::Connection {
 public:
  explicit Connection(asio::io_context& context) : tcp(context) {}
  beast::tcp_stream tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream&>> tls;
};

MllpClient::MllpClient(std::string host, std::string port, std::shared_ptr<asio::ssl::context> tls,
                       std::string server_name)
    : host_(std::move(host)), port_(std::move(port)), server_name_(std::move(server_name)), tls_(std::move(tls)) {}

MllpClient::~MllpClient() = default;

absl::StatusOr<std::string> MllpClient::Send(std::string_view message, absl::Duration deadline) {
  const auto expiry = absl::ToChronoNanoseconds(deadline);
  const std::string frame = MllpFrame(message);
  beast::error_code failed;
  std::string step;
  std::optional<std::string> answer;
  std::string framing_error;
  std::optional<MllpFramer> framer;
  std::array<char, 8192> buffer{};

  // Write the frame, then read until one whole frame came back.
  std::function<void()> read_answer;
  auto exchange = [&](auto& stream) {
    step = "write";
    asio::async_write(stream, asio::buffer(frame), [&, s = &stream](beast::error_code ec, size_t) {
      if (ec) {
        failed = ec;
        return;
      }
      step = "read the acknowledgment";
      read_answer = [&, s] {
        s->async_read_some(asio::buffer(buffer), [&](beast::error_code ec, size_t n) {
          if (ec) {
            failed = ec;
            return;
          }
          for (MllpEvent& event : framer->Feed(std::string_view(buffer.data(), n))) {
            if (event.kind == MllpEvent::kFrame && !answer.has_value()) answer = std::move(event.message);
            if (event.kind != MllpEvent::kFrame) framing_error = event.what;
          }
          if (!answer.has_value() && framing_error.empty()) read_answer();
        });
      };
      read_answer();
    });
  };

  const bool reused = connection_ != nullptr;
  for (int attempt = 0; attempt < 2; ++attempt) {
    failed = {};
    framer.emplace(1 << 20);
    context_.restart();
    if (connection_ == nullptr) {
      connection_ = std::make_unique<Connection>(context_);
      connection_->tcp.expires_after(expiry);
      tcp::resolver resolver(context_);
      beast::error_code ec;
      auto endpoints = resolver.resolve(host_, port_, ec);
      if (ec) {
        connection_.reset();
        return absl::UnavailableError(absl::StrCat("cannot resolve ", host_, ": ", ec.message()));
      }
      step = "connect";
      connection_->tcp.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
        if (ec) {
          failed = ec;
          return;
        }
        if (tls_ == nullptr) return exchange(connection_->tcp);
        connection_->tls.emplace(connection_->tcp, *tls_);
        SSL_set_tlsext_host_name(connection_->tls->native_handle(), server_name_.c_str());
        connection_->tls->set_verify_callback(asio::ssl::host_name_verification(server_name_));
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
      if (tls_ != nullptr) {
        exchange(*connection_->tls);
      } else {
        exchange(connection_->tcp);
      }
    }
    context_.run();
    if (answer.has_value()) return *std::move(answer);
    connection_.reset();
    if (!framing_error.empty()) {
      return absl::UnavailableError(absl::StrCat(host_, ":", port_, " answered with bad framing: ", framing_error));
    }
    if (failed == beast::error::timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("no acknowledgment from ", host_, ":", port_, " within the deadline (", step, ")"));
    }
    // A kept connection the engine had closed: once more on a new one.
    if (!reused || attempt > 0 || step == "connect" || step == "TLS handshake") break;
  }
  return absl::UnavailableError(absl::StrCat(host_, ":", port_, ": ", step, ": ", failed.message()));
}

}  // namespace frontdoor::gateway
