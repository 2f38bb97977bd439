// What the load generators report from their latencies (microseconds, sorted): a percentile in
// milliseconds, the nearest-rank value. Shared by frontdoor-loadgen and frontdoor-http-loadgen so
// that their figures compare.
#ifndef FRONTDOOR_BENCH_LATENCY_H_
#define FRONTDOOR_BENCH_LATENCY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace frontdoor::bench {

inline double Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[i] / 1000.0;
}

}  // namespace frontdoor::bench

#endif  // FRONTDOOR_BENCH_LATENCY_H_
