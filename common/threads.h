#ifndef FRONTDOOR_COMMON_THREADS_H_
#define FRONTDOOR_COMMON_THREADS_H_

#include <string_view>

namespace frontdoor {

// Names the calling thread for `top -H`, `perf report --sort comm` and debuggers, so the engineer
// on call can see which of the gateway's threads is busy. Linux keeps 15 bytes; longer names are
// cut. Best effort: a failure changes nothing else.
void NameThisThread(std::string_view name);

// Not provided on purpose: lowering a background thread's priority (nice). Every background thread
// here (WAL and audit checkpoints, delivery workers) takes the store's write mutex at times, and a
// low-priority holder starved by busy CPUs would stall every commit behind it (priority
// inversion); an unprivileged thread cannot raise its priority back while it holds the lock.

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_THREADS_H_
