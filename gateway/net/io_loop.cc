#include "gateway/net/io_loop.h"

#include <algorithm>

#include "common/threads.h"

namespace frontdoor::gateway {

IoLoop::IoLoop(int threads) : threads_(std::max(1, threads)), context_(threads_) {}

IoLoop::~IoLoop() { Stop(); }

void IoLoop::Start() {
  if (!runners_.empty()) return;
  work_.emplace(boost::asio::make_work_guard(context_));
  for (int i = 0; i < threads_; ++i) {
    runners_.emplace_back([this] {
      NameThisThread("fd-net");
      context_.run();
    });
  }
}

void IoLoop::Stop() {
  work_.reset();
  context_.stop();
  for (std::thread& t : runners_) {
    if (t.joinable()) t.join();
  }
  runners_.clear();
}

}  // namespace frontdoor::gateway
