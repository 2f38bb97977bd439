// TcpListener on a real IoLoop of two threads and real loopback sockets: a door closed while it is
// accepting connections closes cleanly (the accept handler and Close never touch the acceptor at
// once), stops taking connections, and the bound on open connections holds.
#include "gateway/net/tcp_listener.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "gateway/net/io_loop.h"
#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Connects to 127.0.0.1:port; false when the connection is refused.
bool Connect(int port, tcp::socket* socket) {
  boost::system::error_code ec;
  socket->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  return !ec;
}

// Until `deadline`, whether a connection to the port is refused (the listener is closed).
bool RefusedWithin(int port, absl::Duration deadline) {
  asio::io_context client;
  const absl::Time until = absl::Now() + deadline;
  while (absl::Now() < until) {
    tcp::socket socket(client);
    if (!Connect(port, &socket)) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

TEST(TcpListenerTest, ClosingTheDoorWhileItAcceptsIsCleanAndStopsNewConnections) {
  IoLoop loop(2);
  loop.Start();
  asio::io_context client;
  // Each round closes the listener from this thread at the moment its accept handler runs on a
  // loop thread, the handler about to start the next accept: the two race for the acceptor.
  for (int round = 0; round < 200; ++round) {
    SCOPED_TRACE(round);
    auto accepted = std::make_shared<absl::Notification>();
    auto listener = TcpListener::Open(loop.context(), "127.0.0.1:0", "the test port", 16,
                                      [accepted](tcp::socket socket, ConnectionSlot) {
                                        boost::system::error_code ignored;
                                        socket.close(ignored);
                                        if (!accepted->HasBeenNotified()) accepted->Notify();
                                      });
    ASSERT_TRUE(listener.ok()) << listener.status();
    const int port = (*listener)->port();
    tcp::socket socket(client);
    ASSERT_TRUE(Connect(port, &socket));
    ASSERT_TRUE(accepted->WaitForNotificationWithTimeout(absl::Seconds(10)));
    (*listener)->Close();
    EXPECT_TRUE(RefusedWithin(port, absl::Seconds(5)));
  }
  loop.Stop();
}

TEST(TcpListenerTest, AConnectionOverTheBoundIsClosedAndTheOthersKeepTheirPlaces) {
  IoLoop loop(2);
  loop.Start();
  absl::Mutex mu;
  std::vector<tcp::socket> kept;      // the connections the door handed over, held open
  std::vector<ConnectionSlot> slots;  // and their places, held: the bound stays reached
  int handed_over = 0;
  auto listener = TcpListener::Open(loop.context(), "127.0.0.1:0", "the test port", 2,
                                    [&](tcp::socket socket, ConnectionSlot slot) {
                                      absl::MutexLock lock(&mu);
                                      ++handed_over;
                                      kept.push_back(std::move(socket));
                                      slots.push_back(std::move(slot));
                                    });
  ASSERT_TRUE(listener.ok()) << listener.status();
  asio::io_context client;
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < 3; ++i) {
    sockets.emplace_back(client);
    ASSERT_TRUE(Connect((*listener)->port(), &sockets.back()));
  }
  // The third is closed by the door: a read on it ends at once.
  char byte;
  boost::system::error_code ec;
  sockets[2].read_some(asio::buffer(&byte, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(handed_over, 2);
  }
  EXPECT_EQ((*listener)->open_connections(), 2u);
  (*listener)->Close();
  loop.Stop();
  absl::MutexLock lock(&mu);
  slots.clear();
  EXPECT_EQ((*listener)->open_connections(), 0u);
}

}  // namespace
}  // namespace frontdoor::gateway
