#include "gateway/net/tcp_listener.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/ip/address.hpp"
#include "boost/asio/strand.hpp"
#include "gateway/net/listen_address.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace asio = boost::asio;
using asio::ip::tcp;
using observability::Log;
using observability::LogLevel;

// The acceptor lives on a strand of its own: its accept handler (which starts the next accept) and
// Close (posted from any thread) never run at once, as an Asio object's operations must not.
TcpListener::TcpListener(asio::io_context& context, std::string what, size_t max_connections, OnAccept on_accept)
    : acceptor_(asio::make_strand(context)),
      what_(std::move(what)),
      max_connections_(max_connections),
      on_accept_(std::move(on_accept)) {}

absl::StatusOr<std::shared_ptr<TcpListener>> TcpListener::Open(asio::io_context& context, const std::string& address,
                                                               const std::string& what, size_t max_connections,
                                                               OnAccept on_accept) {
  const size_t colon = address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": '", address, "' is not HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  tcp::resolver resolver(context);
  auto found = resolver.resolve(host.empty() ? "0.0.0.0" : host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, " (", what, "): the address does not resolve"));
  }
  auto listener = std::shared_ptr<TcpListener>(new TcpListener(context, what, max_connections, std::move(on_accept)));
  const tcp::endpoint endpoint = *found.begin();
  listener->acceptor_.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only (a restart may bind while old connections sit in TIME_WAIT); never
  // SO_REUSEPORT, which would let a second gateway listen beside this one.
  if (!ec) listener->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) listener->acceptor_.bind(endpoint, ec);
  if (!ec) listener->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(ListenFailure(what, address));
  listener->host_ = host;
  listener->port_ = listener->acceptor_.local_endpoint().port();
  listener->Accept();
  return listener;
}

std::string TcpListener::address() const { return absl::StrCat(host_, ":", port_); }

void TcpListener::Accept() {
  acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      if (self->open_->fetch_add(1) >= self->max_connections_) {
        self->open_->fetch_sub(1);
        // Over the bound: closed at once, so that the connections already open keep their share.
        if (self->refused_unlogged_++ % 100 == 0) {
          Log(LogLevel::kWarning, "connection_limit", "connections refused: the door's connection limit is reached",
              {{"door", self->what_},
               {"max_connections", static_cast<int64_t>(self->max_connections_)},
               {"refused_so_far", self->refused_unlogged_}});
        }
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        self->on_accept_(std::move(socket), ConnectionSlot(self->open_));
      }
    }
    self->Accept();
  });
}

void TcpListener::Close() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

}  // namespace frontdoor::gateway
