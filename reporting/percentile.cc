#include "reporting/percentile.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <vector>

namespace frontdoor::reporting {

double Percentile(absl::Span<double> values, double fraction) {
  double out = 0;
  Percentiles(values, absl::MakeConstSpan(&fraction, 1), absl::MakeSpan(&out, 1));
  return out;
}

void Percentiles(absl::Span<double> values, absl::Span<const double> fractions, absl::Span<double> out) {
  const size_t wanted = std::min(fractions.size(), out.size());
  if (values.empty()) {
    std::fill(out.begin(), out.begin() + wanted, std::numeric_limits<double>::quiet_NaN());
    return;
  }
  std::vector<size_t> order(wanted);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return fractions[a] > fractions[b]; });

  const size_t n = values.size();
  // values[0, end) holds the `end` smallest values; `at_end` is the value of rank `end`.
  size_t end = n;
  double at_end = 0;
  for (size_t i : order) {
    const double rank = static_cast<double>(n - 1) * std::clamp(fractions[i], 0.0, 1.0);
    const size_t below = std::min(static_cast<size_t>(std::floor(rank)), end - 1);
    std::nth_element(values.begin(), values.begin() + below, values.begin() + end);
    const double low = values[below];
    if (below + 1 < n) {
      // Everything after `below` is at least `low`; the next rank is the smallest of them.
      at_end = below + 1 < end ? *std::min_element(values.begin() + below + 1, values.begin() + end) : at_end;
    }
    const double weight = rank - static_cast<double>(below);
    out[i] = weight == 0 || below + 1 >= n ? low : low + weight * (at_end - low);
    end = below + 1;
  }
}

}  // namespace frontdoor::reporting
