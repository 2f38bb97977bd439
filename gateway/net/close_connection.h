// How a door ends a connection: over TLS with a close_notify (bounded to two seconds: a peer that
// never answers it does not hold the socket) and then the socket; in plain TCP, the sending side shut
// and the socket closed. `owner` (the session's shared_ptr) is kept alive until it is done.
//
//   CloseConnection(stream_, this->shared_from_this());
//
// Called on the connection's strand.
#ifndef FRONTDOOR_GATEWAY_NET_CLOSE_CONNECTION_H_
#define FRONTDOOR_GATEWAY_NET_CLOSE_CONNECTION_H_

#include <chrono>
#include <type_traits>

#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"

namespace frontdoor::gateway {

template <class Stream, class Owner>
void CloseConnection(Stream& stream, Owner owner) {
  namespace beast = boost::beast;
  beast::error_code ignored;
  if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    stream.async_shutdown([&stream, owner](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
    });
  } else {
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
  }
}

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_CLOSE_CONNECTION_H_
