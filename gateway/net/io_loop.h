// IoLoop: the one Boost.Asio event loop the gateway's doors beyond gRPC share (FHIR over HTTPS,
// HL7 v2 over MLLP, the console): an io_context run by a few threads of its own. A connection's
// work runs on its own strand, so a slow or hostile connection holds only itself; nothing that
// may wait on the disk runs here (store work goes to the StoreWorkQueue).
//
//   IoLoop loop(/*threads=*/2);
//   ... listeners and sessions post to loop.context() ...
//   loop.Start();
//   loop.Stop();   // stops accepting work, ends the threads
//
// Thread-safety: Start and Stop from one owner; context() from any thread.
#ifndef FRONTDOOR_GATEWAY_NET_IO_LOOP_H_
#define FRONTDOOR_GATEWAY_NET_IO_LOOP_H_

#include <optional>
#include <thread>
#include <vector>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"

namespace frontdoor::gateway {

class IoLoop {
 public:
  explicit IoLoop(int threads = 2);
  ~IoLoop();  // Calls Stop.
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  boost::asio::io_context& context() { return context_; }
  void Start();
  // Stops the context (pending handlers are dropped, which closes their sockets) and joins.
  void Stop();

 private:
  const int threads_;
  boost::asio::io_context context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> runners_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_IO_LOOP_H_
