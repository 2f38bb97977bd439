// TcpListener: a door's listening socket on the shared IoLoop. It owns its address (no
// SO_REUSEPORT: a second gateway on the same address is refused at start, as for every port),
// bounds how many connections are open at once (one over the bound is closed at once, counted and
// logged once in a while, and the others carry on), and hands each accepted socket, with the slot
// it holds, to the door.
//
//   auto listener = TcpListener::Open(loop.context(), "127.0.0.1:8443", "the FHIR API", 512,
//       [](boost::asio::ip::tcp::socket socket, ConnectionSlot slot) { StartSession(...); });
//   int port = (*listener)->port();
//   (*listener)->Close();
//
// Thread-safety: Close may be called from any thread; the accept callback runs on the IoLoop.
#ifndef FRONTDOOR_GATEWAY_NET_TCP_LISTENER_H_
#define FRONTDOOR_GATEWAY_NET_TCP_LISTENER_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"

namespace frontdoor::gateway {

// One open connection's place in its listener's bound; given back when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::shared_ptr<std::atomic<size_t>> open) : open_(std::move(open)) {}
  ConnectionSlot(ConnectionSlot&&) = default;
  ConnectionSlot& operator=(ConnectionSlot&&) = default;
  ~ConnectionSlot() {
    if (open_) open_->fetch_sub(1);
  }

 private:
  std::shared_ptr<std::atomic<size_t>> open_;
};

class TcpListener : public std::enable_shared_from_this<TcpListener> {
 public:
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket, ConnectionSlot)>;

  // Listens on `address` ("HOST:PORT", port 0 picks one) and accepts until Close. UNAVAILABLE,
  // naming `what` and the cause (the address in use, say), when the address cannot be had.
  static absl::StatusOr<std::shared_ptr<TcpListener>> Open(boost::asio::io_context& context, const std::string& address,
                                                           const std::string& what, size_t max_connections,
                                                           OnAccept on_accept);

  int port() const { return port_; }
  // "HOST:PORT" with the bound port.
  std::string address() const;
  size_t open_connections() const { return open_->load(); }
  void Close();

 private:
  TcpListener(boost::asio::io_context& context, std::string what, size_t max_connections, OnAccept on_accept);
  void Accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  const std::string what_;
  const size_t max_connections_;
  const OnAccept on_accept_;
  std::shared_ptr<std::atomic<size_t>> open_ = std::make_shared<std::atomic<size_t>>(0);
  std::string host_;
  int port_ = 0;
  int64_t refused_unlogged_ = 0;  // on the IoLoop only
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_TCP_LISTENER_H_
