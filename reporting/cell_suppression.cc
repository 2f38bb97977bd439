#include "reporting/cell_suppression.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace frontdoor::reporting {

CellSuppression::Cell CellSuppression::AddCell(int64_t count) {
  counts_.push_back(std::max<int64_t>(count, 0));
  suppressed_.push_back(0);
  std::array<Sum, kDimensions> none;
  none.fill(-1);
  sums_of_cell_.push_back(none);
  return static_cast<Cell>(counts_.size() - 1);
}

absl::Status CellSuppression::AddSum(int dimension, absl::Span<const Cell> parts, Cell total) {
  if (dimension < 0 || dimension >= kDimensions) {
    return absl::InvalidArgumentError(absl::StrCat("dimension ", dimension, " is not 0..", kDimensions - 1));
  }
  if (parts.empty()) return absl::InvalidArgumentError("a sum needs at least one part");
  std::vector<Cell> cells(parts.begin(), parts.end());
  cells.push_back(total);
  for (Cell cell : cells) {
    if (cell < 0 || cell >= CellCount()) return absl::InvalidArgumentError(absl::StrCat("no cell ", cell));
    if (sums_of_cell_[cell][dimension] != -1) {
      return absl::InvalidArgumentError(absl::StrCat("cell ", cell, " is already in a sum of dimension ", dimension));
    }
  }
  std::vector<Cell> sorted = cells;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return absl::InvalidArgumentError("a sum names a cell twice");
  }
  const Sum sum = static_cast<Sum>(sum_dimension_.size());
  for (Cell cell : cells) sums_of_cell_[cell][dimension] = sum;
  sum_cells_.insert(sum_cells_.end(), cells.begin(), cells.end());
  sum_offsets_.push_back(static_cast<int32_t>(sum_cells_.size()));
  sum_dimension_.push_back(static_cast<int8_t>(dimension));
  return absl::OkStatus();
}

int CellSuppression::SuppressedIn(Sum sum) const {
  int n = 0;
  for (Cell cell : CellsOf(sum)) n += suppressed_[cell];
  return n;
}

CellSuppression::Cell CellSuppression::SmallestShownIn(Sum sum) const {
  Cell smallest = -1;
  Cell zero = -1;
  for (Cell cell : CellsOf(sum)) {
    if (suppressed_[cell]) continue;
    if (counts_[cell] == 0) {
      if (zero == -1 || cell < zero) zero = cell;
      continue;
    }
    if (smallest == -1 || counts_[cell] < counts_[smallest] ||
        (counts_[cell] == counts_[smallest] && cell < smallest)) {
      smallest = cell;
    }
  }
  // Only zeros left: hiding one still leaves the suppressed cell two unknowns to share the sum.
  return smallest != -1 ? smallest : zero;
}

void CellSuppression::Suppress(Cell cell, std::vector<Sum>* work) {
  suppressed_[cell] = 1;
  for (Sum sum : sums_of_cell_[cell]) {
    if (sum != -1) work->push_back(sum);
  }
}

void CellSuppression::ResolveLoneCells(std::vector<Sum>* work) {
  while (!work->empty()) {
    const Sum sum = work->back();
    work->pop_back();
    if (SuppressedIn(sum) != 1) continue;
    const Cell other = SmallestShownIn(sum);
    if (other != -1) Suppress(other, work);
  }
}

bool CellSuppression::BreakBridges(int d1, int d2, std::vector<Sum>* work) {
  const int sums = static_cast<int>(sum_dimension_.size());
  // The graph: sums of d1 and d2 are vertices, each suppressed cell with a sum in both an edge.
  std::vector<int32_t> begin(sums + 1, 0);
  for (Cell cell = 0; cell < CellCount(); ++cell) {
    const Sum a = sums_of_cell_[cell][d1], b = sums_of_cell_[cell][d2];
    if (!suppressed_[cell] || a == -1 || b == -1) continue;
    ++begin[a + 1];
    ++begin[b + 1];
  }
  for (int s = 0; s < sums; ++s) begin[s + 1] += begin[s];
  std::vector<std::pair<Sum, Cell>> edges(begin[sums]);  // (other end, edge)
  std::vector<int32_t> fill(begin.begin(), begin.end() - 1);
  for (Cell cell = 0; cell < CellCount(); ++cell) {
    const Sum a = sums_of_cell_[cell][d1], b = sums_of_cell_[cell][d2];
    if (!suppressed_[cell] || a == -1 || b == -1) continue;
    edges[fill[a]++] = {b, cell};
    edges[fill[b]++] = {a, cell};
  }

  // Tarjan's bridges, iteratively; `group` labels the connected groups of suppressed cells.
  std::vector<int32_t> order(sums, -1), low(sums, 0), group(sums, -1);
  std::vector<std::pair<Cell, Sum>> bridges;  // (bridge, its end nearer the root)
  struct Frame {
    Sum vertex;
    Cell via;  // the edge it was reached by; -1 for a root
    int32_t next;
  };
  std::vector<Frame> stack;
  int32_t clock = 0;
  for (Sum root = 0; root < sums; ++root) {
    if (order[root] != -1 || begin[root] == begin[root + 1]) continue;
    order[root] = low[root] = clock++;
    group[root] = root;
    stack.push_back({root, -1, begin[root]});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next < begin[top.vertex + 1]) {
        const auto [next, edge] = edges[top.next++];
        if (edge == top.via) continue;
        if (order[next] == -1) {
          order[next] = low[next] = clock++;
          group[next] = root;
          stack.push_back({next, edge, begin[next]});  // `top` is not used after this
        } else {
          low[top.vertex] = std::min(low[top.vertex], order[next]);
        }
        continue;
      }
      const Frame done = top;
      stack.pop_back();
      if (stack.empty()) break;
      const Sum parent = stack.back().vertex;
      low[parent] = std::min(low[parent], low[done.vertex]);
      if (low[done.vertex] > order[parent]) bridges.push_back({done.via, parent});
    }
  }

  bool changed = false;
  std::vector<char> group_done(sums, 0);
  std::vector<char> near_side(sums, 0);
  for (const auto& [bridge, near_end] : bridges) {
    // One fix per group: a fix may join other bridges' sides too, so the next pass looks again.
    if (group_done[group[near_end]]) continue;
    group_done[group[near_end]] = 1;
    // The bridge's near side: what its near end reaches without it.
    std::fill(near_side.begin(), near_side.end(), 0);
    std::vector<Sum> side = {near_end};
    near_side[near_end] = 1;
    for (size_t i = 0; i < side.size(); ++i) {
      for (int32_t e = begin[side[i]]; e < begin[side[i] + 1]; ++e) {
        const auto [next, edge] = edges[e];
        if (edge == bridge || near_side[next]) continue;
        near_side[next] = 1;
        side.push_back(next);
      }
    }
    // A cell joining the near side to the far side closes a cycle through the bridge.
    Cell join = -1;
    for (Sum sum : side) {
      const int other_dimension = sum_dimension_[sum] == d1 ? d2 : d1;
      for (Cell cell : CellsOf(sum)) {
        const Sum other = sums_of_cell_[cell][other_dimension];
        if (suppressed_[cell] || other == -1 || near_side[other] || group[other] != group[near_end]) continue;
        const bool better = join == -1 || (counts_[cell] != 0 && counts_[join] == 0) ||
                            ((counts_[cell] == 0) == (counts_[join] == 0) &&
                             (counts_[cell] < counts_[join] || (counts_[cell] == counts_[join] && cell < join)));
        if (better) join = cell;
      }
    }
    if (join == -1) continue;  // Not a complete table; nothing joins the sides.
    Suppress(join, work);
    changed = true;
  }
  return changed;
}

bool CellSuppression::BreakPinnedSums(std::vector<Sum>* work) {
  bool changed = false;
  for (Sum sum = 0; sum < static_cast<Sum>(sum_dimension_.size()); ++sum) {
    absl::Span<const Cell> cells = CellsOf(sum);
    if (suppressed_[cells.back()]) continue;  // the total is hidden: this sum pins nothing
    int64_t hidden = 0;
    int parts = 0;
    for (Cell cell : cells.subspan(0, cells.size() - 1)) {
      if (!suppressed_[cell]) continue;
      hidden += counts_[cell];
      ++parts;
    }
    // Zeros are shown, so each hidden part is at least 1: k parts hiding k in all are all 1.
    if (parts < 2 || hidden != parts) continue;
    if (const Cell other = SmallestShownIn(sum); other != -1) {
      Suppress(other, work);
      changed = true;
    }
  }
  return changed;
}

void CellSuppression::Apply() {
  std::vector<Sum> work;
  for (Cell cell = 0; cell < CellCount(); ++cell) suppressed_[cell] = IsSmallCount(counts_[cell]) ? 1 : 0;
  for (Sum sum = 0; sum < static_cast<Sum>(sum_dimension_.size()); ++sum) work.push_back(sum);
  for (;;) {
    ResolveLoneCells(&work);
    bool changed = false;
    for (int d1 = 0; d1 < kDimensions; ++d1) {
      for (int d2 = d1 + 1; d2 < kDimensions; ++d2) {
        if (BreakBridges(d1, d2, &work)) {
          changed = true;
          ResolveLoneCells(&work);
        }
      }
    }
    if (BreakPinnedSums(&work)) {
      changed = true;
      ResolveLoneCells(&work);
    }
    if (!changed) return;
  }
}

}  // namespace frontdoor::reporting
