#ifndef FRONTDOOR_COMMON_THREAD_NAME_H_
#define FRONTDOOR_COMMON_THREAD_NAME_H_

#include <string_view>

namespace frontdoor {

// Names the calling thread for `top -H`, `perf report --sort comm` and debuggers, so the engineer
// on call can see which of the gateway's threads is busy. Linux keeps 15 bytes; longer names are
// cut. Best effort: a failure changes nothing else.
void NameThisThread(std::string_view name);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_THREAD_NAME_H_
