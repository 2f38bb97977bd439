#ifndef FRONTDOOR_COMMON_THREADS_H_
#define FRONTDOOR_COMMON_THREADS_H_

#include <string_view>

namespace frontdoor {

// Names the calling thread for `top -H`, `perf report --sort comm` and debuggers, so the engineer
// on call can see which of the gateway's threads is busy. Linux keeps 15 bytes; longer names are
// cut. Best effort: a failure changes nothing else.
void NameThisThread(std::string_view name);

// Lowers the calling thread's scheduling priority to `nice` (1..19; Linux nice values are per
// thread). For background work (WAL and audit checkpoints, deliveries) that must not delay the
// threads answering referrers when the CPUs are busy; it still runs, at a smaller share. Best
// effort, like NameThisThread.
void LowerThisThreadPriority(int nice);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_THREADS_H_
