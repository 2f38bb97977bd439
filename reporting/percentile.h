// Percentiles of a report's times, interpolated between the nearest ranks: the "inclusive"
// definition (Hyndman and Fan's type 7), which is what a spreadsheet's PERCENTILE.INC and MEDIAN
// give, so that a commissioner who checks a figure by hand gets the same one.
//
//   std::vector<double> days = {1, 2, 3, 4};
//   double median = Percentile(absl::MakeSpan(days), 0.5);  // 2.5
//   double both[2];
//   Percentiles(absl::MakeSpan(days), {0.5, 0.9}, both);    // 2.5, 3.7
//
// Pure; thread-safe.
#ifndef FRONTDOOR_REPORTING_PERCENTILE_H_
#define FRONTDOOR_REPORTING_PERCENTILE_H_

#include "absl/types/span.h"

namespace frontdoor::reporting {

// The `fraction` (0..1, clamped) percentile of `values`: with the values sorted, the one at rank
// h = (n - 1) * fraction, interpolated linearly between ranks floor(h) and floor(h) + 1. Reorders
// `values` (linear time, no full sort). NaN when `values` is empty.
double Percentile(absl::Span<double> values, double fraction);

// out[i] = Percentile(values, fractions[i]) for each i below both sizes, sharing one partial
// ordering of `values` between them (the largest fraction first, each next one within what the
// last left below it). Reorders `values`.
void Percentiles(absl::Span<double> values, absl::Span<const double> fractions, absl::Span<double> out);

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_PERCENTILE_H_
