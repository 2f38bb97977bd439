// CellSuppression: statistical disclosure control for counts that add up, the way NHS England
// (formerly NHS Digital) controls small numbers in published health statistics. A report's counts
// are cells; sums say which cells add up to which (a row of groups and its total, a column of
// periods and the whole range, the dispositions and the received count). Apply() decides which
// cells are shown and which are suppressed.
//
//   CellSuppression cells;
//   CellSuppression::Cell a = cells.AddCell(5), b = cells.AddCell(40), total = cells.AddCell(45);
//   FRONTDOOR_RETURN_IF_ERROR(cells.AddSum(/*dimension=*/0, {a, b}, total));
//   cells.Apply();
//   cells.IsSuppressed(a);      // true: 5 is a small number
//   cells.IsSuppressed(b);      // true: 45 - 40 would give the 5 back
//   cells.IsSuppressed(total);  // false
//
// The rules:
//  1. Primary suppression: every count from 1 to 7 (kSmallestSuppressedCount..
//     kLargestSuppressedCount). Zero is shown. The threshold is NHS Digital's for outputs below
//     national level ("Disclosure control methodology for Hospital Episode Statistics (HES) and
//     Emergency Care Data Set (ECDS)", September 2018, adopted since for its other datasets such
//     as SRHAD and NCMP: values 1 to 7 are replaced by '*'; a mean or median over 1 to 7 values
//     is not calculated). That method then rounds every other count to the nearest 5; reports here
//     are exact instead, so they protect the small numbers by secondary suppression, as NHS
//     Digital's earlier rules did (values 1 to 5 replaced by '*', then "secondary suppression ...
//     checking that other values within the data cannot be used to recalculate the original small
//     numbers"), with the newer, wider threshold. See also ISB 1523, the Anonymisation Standard for
//     Publishing Health and Social Care Data.
//  2. Secondary suppression, until nothing changes:
//     a. A sum with exactly one suppressed cell gets its smallest other non-zero cell suppressed
//        too. The total is one of the sum's cells: when it is the only other non-zero one (the
//        rest are zeros), the total is suppressed, since it would give the small number back. (A
//        zero is taken only when nothing else is left.)
//     b. In each two-dimensional table (the cells with a sum in both of two dimensions, with their
//        margins), no suppressed cell is a bridge: the only link between two groups of suppressed
//        cells, whose value is then the difference of the sums on one side (two blocks of four
//        suppressed cells joined through one more). A bridge gets a cell that joins its two sides
//        suppressed too: the smallest non-zero one.
//     c. Zero is shown, so a suppressed count is known to be at least 1: a sum whose shown total
//        leaves k suppressed parts adding up to exactly k (13 shown, 11 shown, two '*': both are 1)
//        gets its smallest other non-zero cell suppressed too.
//     Ties go to the cell added first.
//
// What this guarantees: in every two-dimensional table, no suppressed cell can be worked out
// exactly from the cells and totals shown. (Up to signs, the table's equations, parts - total = 0,
// are the incidence matrix of a bipartite graph whose vertices are the sums and whose edges are
// the suppressed cells; a cell is determined exactly when it lies on no cycle, i.e. when it is a
// bridge; rule 2a removes the bridges at a sum of one suppressed cell, 2b the others. The tests
// check this by linear algebra on random tables.) A
// suppressed cell in three linked dimensions at once (the dispositions of a group in a period) is
// protected in each of its two-dimensional tables. Not covered: narrowing a suppressed cell to a
// range otherwise than by rule 2c (a suppressed count is known to be at least 1), and figures from different reports
// compared with each other (each report request is audited, IG-9).
//
// Thread-compatible: one instance per report; no I/O.
#ifndef FRONTDOOR_REPORTING_CELL_SUPPRESSION_H_
#define FRONTDOOR_REPORTING_CELL_SUPPRESSION_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace frontdoor::reporting {

inline constexpr int64_t kSmallestSuppressedCount = 1;
inline constexpr int64_t kLargestSuppressedCount = 7;

// True for a count primary suppression hides (1..7).
inline bool IsSmallCount(int64_t count) {
  return count >= kSmallestSuppressedCount && count <= kLargestSuppressedCount;
}

class CellSuppression {
 public:
  using Cell = int32_t;
  // Dimensions a sum runs along, e.g. 0 across groups, 1 across periods, 2 across the parts of one
  // figure (the dispositions of the received count).
  static constexpr int kDimensions = 3;

  // A cell holding a count (at least 0). Returns its handle, numbered from 0 in order of adding.
  Cell AddCell(int64_t count);

  // Declares that `parts` add up to `total`, along `dimension`. Every cell is in at most one sum
  // of each dimension. INVALID_ARGUMENT (nothing added) for a dimension outside 0..kDimensions-1,
  // no parts, a cell never added or named twice, or a cell already in a sum of this dimension.
  absl::Status AddSum(int dimension, absl::Span<const Cell> parts, Cell total);

  // Applies the rules above. Call once, after every cell and sum is added.
  void Apply();

  int64_t Count(Cell cell) const { return counts_[cell]; }
  // Meaningful after Apply(): the cell must not be shown.
  bool IsSuppressed(Cell cell) const { return suppressed_[cell] != 0; }
  int CellCount() const { return static_cast<int>(counts_.size()); }

 private:
  using Sum = int32_t;

  int SuppressedIn(Sum sum) const;
  // The unsuppressed cell of `sum` rule 2a suppresses; -1 when there is none.
  Cell SmallestShownIn(Sum sum) const;
  void Suppress(Cell cell, std::vector<Sum>* work);
  // Rule 2a over the sums in `work` (and those it touches), until none has one suppressed cell.
  void ResolveLoneCells(std::vector<Sum>* work);
  // Rule 2b for one pair of dimensions: suppresses one cell for at most one bridge in each group
  // of linked suppressed cells. Returns whether it suppressed anything.
  bool BreakBridges(int d1, int d2, std::vector<Sum>* work);
  // Rule 2c: suppresses one more cell of each sum whose hidden parts its shown total pins to 1 each.
  // Returns whether it suppressed anything.
  bool BreakPinnedSums(std::vector<Sum>* work);

  absl::Span<const Cell> CellsOf(Sum sum) const {
    return absl::MakeConstSpan(sum_cells_).subspan(sum_offsets_[sum], sum_offsets_[sum + 1] - sum_offsets_[sum]);
  }

  std::vector<int64_t> counts_;
  std::vector<char> suppressed_;
  std::vector<std::array<Sum, kDimensions>> sums_of_cell_;  // -1: in no sum of that dimension
  std::vector<int32_t> sum_offsets_ = {0};                  // sum s is sum_cells_[offsets[s]..offsets[s+1])
  std::vector<Cell> sum_cells_;                             // parts, then the total
  std::vector<int8_t> sum_dimension_;
};

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_CELL_SUPPRESSION_H_
