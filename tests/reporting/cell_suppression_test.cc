// Unit tests of reporting/cell_suppression: primary suppression of 1..7, secondary suppression of a
// lone small cell (the next smallest, or a total that would give it back), cascades across rows
// and columns, bridges between blocks of suppressed cells, and, over many random tables, that no
// suppressed cell can be worked out from what is shown (checked by linear algebra, independently
// of how the rules work).
#include "reporting/cell_suppression.h"

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace frontdoor::reporting {
namespace {

using Cell = CellSuppression::Cell;
using ::testing::HasSubstr;

// A table of counts with its margins: interior[r][c], each row's total in the last column, each
// column's total in the last row. Sums: rows along dimension 0, columns along dimension 1.
struct Table {
  int rows = 0, columns = 0;  // with the margins
  std::vector<Cell> cells;    // row-major, margins included
  Cell at(int r, int c) const { return cells[r * columns + c]; }
};

Table AddTable(CellSuppression* s, const std::vector<std::vector<int64_t>>& interior) {
  Table t;
  t.rows = static_cast<int>(interior.size()) + 1;
  t.columns = static_cast<int>(interior[0].size()) + 1;
  std::vector<int64_t> counts(t.rows * t.columns, 0);
  for (int r = 0; r + 1 < t.rows; ++r) {
    for (int c = 0; c + 1 < t.columns; ++c) {
      const int64_t v = interior[r][c];
      counts[r * t.columns + c] = v;
      counts[r * t.columns + t.columns - 1] += v;
      counts[(t.rows - 1) * t.columns + c] += v;
      counts[(t.rows - 1) * t.columns + t.columns - 1] += v;
    }
  }
  for (int64_t v : counts) t.cells.push_back(s->AddCell(v));
  for (int r = 0; r < t.rows; ++r) {
    std::vector<Cell> parts;
    for (int c = 0; c + 1 < t.columns; ++c) parts.push_back(t.at(r, c));
    EXPECT_TRUE(s->AddSum(0, parts, t.at(r, t.columns - 1)).ok());
  }
  for (int c = 0; c < t.columns; ++c) {
    std::vector<Cell> parts;
    for (int r = 0; r + 1 < t.rows; ++r) parts.push_back(t.at(r, c));
    EXPECT_TRUE(s->AddSum(1, parts, t.at(t.rows - 1, c)).ok());
  }
  return t;
}

// The table as text, "*" for a suppressed cell; rows separated by " / ".
std::string Shown(const CellSuppression& s, const Table& t) {
  std::string out;
  for (int r = 0; r < t.rows; ++r) {
    if (r > 0) out += " / ";
    for (int c = 0; c < t.columns; ++c) {
      if (c > 0) out += " ";
      out += s.IsSuppressed(t.at(r, c)) ? "*" : absl::StrCat(s.Count(t.at(r, c)));
    }
  }
  return out;
}

// Exact linear algebra modulo a large prime (the ranks of these small +-1 matrices are the same
// as over the rationals): is a hidden cell determined by the sums, given every shown cell?
class Attacker {
 public:
  static constexpr uint64_t kPrime = (uint64_t{1} << 61) - 1;

  // sums[i] = cells, total last; hidden[c]: cell c is not shown.
  Attacker(const std::vector<bool>& hidden, const std::vector<std::vector<Cell>>& sums) {
    for (Cell c = 0; c < static_cast<Cell>(hidden.size()); ++c) {
      if (hidden[c]) {
        column_[c] = static_cast<int>(unknowns_.size());
        unknowns_.push_back(c);
      }
    }
    for (const std::vector<Cell>& sum : sums) {
      std::vector<uint64_t> row(unknowns_.size(), 0);
      bool any = false;
      for (size_t i = 0; i < sum.size(); ++i) {
        auto it = column_.find(sum[i]);
        if (it == column_.end()) continue;
        row[it->second] = i + 1 == sum.size() ? kPrime - 1 : 1;  // total: -1
        any = true;
      }
      if (any) equations_.push_back(row);
    }
  }

  bool Determines(Cell cell) const {
    std::vector<std::vector<uint64_t>> with = equations_;
    std::vector<uint64_t> unit(unknowns_.size(), 0);
    unit[column_.at(cell)] = 1;
    with.push_back(unit);
    return Rank(with) == Rank(equations_);
  }

 private:
  static uint64_t Mul(uint64_t a, uint64_t b) { return static_cast<uint64_t>((unsigned __int128)a * b % kPrime); }
  static uint64_t Inverse(uint64_t a) {
    uint64_t result = 1, e = kPrime - 2;
    while (e > 0) {
      if (e & 1) result = Mul(result, a);
      a = Mul(a, a);
      e >>= 1;
    }
    return result;
  }
  static int Rank(std::vector<std::vector<uint64_t>> m) {
    int rank = 0;
    const size_t columns = m.empty() ? 0 : m[0].size();
    for (size_t c = 0; c < columns && rank < static_cast<int>(m.size()); ++c) {
      size_t pivot = rank;
      while (pivot < m.size() && m[pivot][c] == 0) ++pivot;
      if (pivot == m.size()) continue;
      std::swap(m[pivot], m[rank]);
      const uint64_t inv = Inverse(m[rank][c]);
      for (size_t r = 0; r < m.size(); ++r) {
        if (r == static_cast<size_t>(rank) || m[r][c] == 0) continue;
        const uint64_t factor = Mul(m[r][c], inv);
        for (size_t k = 0; k < columns; ++k) m[r][k] = (m[r][k] + kPrime - Mul(factor, m[rank][k])) % kPrime;
      }
      ++rank;
    }
    return rank;
  }

  std::vector<Cell> unknowns_;
  std::map<Cell, int> column_;
  std::vector<std::vector<uint64_t>> equations_;
};

std::vector<bool> Hidden(const CellSuppression& s) {
  std::vector<bool> hidden;
  for (Cell c = 0; c < s.CellCount(); ++c) hidden.push_back(s.IsSuppressed(c));
  return hidden;
}

std::vector<std::vector<Cell>> SumsOf(const Table& t) {
  std::vector<std::vector<Cell>> sums;
  for (int r = 0; r < t.rows; ++r) {
    sums.emplace_back();
    for (int c = 0; c < t.columns; ++c) sums.back().push_back(t.at(r, c));
  }
  for (int c = 0; c < t.columns; ++c) {
    sums.emplace_back();
    for (int r = 0; r < t.rows; ++r) sums.back().push_back(t.at(r, c));
  }
  return sums;
}

TEST(CellSuppressionTest, CountsFromOneToSevenAreSuppressedAndZeroIsShown) {
  CellSuppression s;
  const Cell zero = s.AddCell(0), one = s.AddCell(1), seven = s.AddCell(7), eight = s.AddCell(8);
  s.Apply();
  EXPECT_FALSE(s.IsSuppressed(zero));
  EXPECT_TRUE(s.IsSuppressed(one));
  EXPECT_TRUE(s.IsSuppressed(seven));
  EXPECT_FALSE(s.IsSuppressed(eight));
  EXPECT_FALSE(IsSmallCount(0));
  EXPECT_TRUE(IsSmallCount(1));
  EXPECT_TRUE(IsSmallCount(7));
  EXPECT_FALSE(IsSmallCount(8));
}

TEST(CellSuppressionTest, ALoneSmallCellTakesTheNextSmallestCellOfItsSumWithIt) {
  CellSuppression s;
  const Cell small = s.AddCell(5), large = s.AddCell(40), next = s.AddCell(12), total = s.AddCell(57);
  ASSERT_TRUE(s.AddSum(0, {small, large, next}, total).ok());
  s.Apply();
  EXPECT_TRUE(s.IsSuppressed(small));
  EXPECT_TRUE(s.IsSuppressed(next)) << "57 - 40 - 12 would give the 5 back";
  EXPECT_FALSE(s.IsSuppressed(large));
  EXPECT_FALSE(s.IsSuppressed(total));
}

TEST(CellSuppressionTest, SuppressedCellsATotalPinsToOneEachTakeAnotherCellWithThem) {
  // 13 received: 11 by one team, 1 and 1 by two others. Zeros are shown, so each '*' is at least
  // 1, and two of them making 13 - 11 = 2 would both be 1: the 11 must go too.
  CellSuppression cells;
  const CellSuppression::Cell big = cells.AddCell(11), a = cells.AddCell(1), b = cells.AddCell(1),
                              zero = cells.AddCell(0), total = cells.AddCell(13);
  ASSERT_TRUE(cells.AddSum(0, {big, a, b, zero}, total).ok());
  cells.Apply();
  EXPECT_TRUE(cells.IsSuppressed(a));
  EXPECT_TRUE(cells.IsSuppressed(b));
  EXPECT_TRUE(cells.IsSuppressed(big));
  EXPECT_FALSE(cells.IsSuppressed(zero));
  EXPECT_FALSE(cells.IsSuppressed(total));

  // 1 and 2 hidden under a shown total: (1, 2) or (2, 1), not pinned; nothing more is hidden.
  CellSuppression other;
  const CellSuppression::Cell c = other.AddCell(20), d = other.AddCell(1), e = other.AddCell(2), t = other.AddCell(23);
  ASSERT_TRUE(other.AddSum(0, {c, d, e}, t).ok());
  other.Apply();
  EXPECT_TRUE(other.IsSuppressed(d) && other.IsSuppressed(e));
  EXPECT_FALSE(other.IsSuppressed(c));
}

TEST(CellSuppressionTest, ATotalThatWouldGiveTheSmallCellBackCostsTheOtherCell) {
  // Two groups: tameside 5, oldham 30, total 35 (35 - 30 = 5).
  CellSuppression s;
  const Cell oldham = s.AddCell(30), tameside = s.AddCell(5), total = s.AddCell(35);
  ASSERT_TRUE(s.AddSum(0, {oldham, tameside}, total).ok());
  s.Apply();
  EXPECT_TRUE(s.IsSuppressed(tameside));
  EXPECT_TRUE(s.IsSuppressed(oldham));
  EXPECT_FALSE(s.IsSuppressed(total));
}

TEST(CellSuppressionTest, TheTotalIsSuppressedWhenItIsTheOnlyOtherNonZeroCell) {
  // Column 0 has 3 and 9: the 3 takes the 9. Row 1 is then 9, 0 with total 9: the total would give
  // the 9 back, and there is nothing else to suppress.
  CellSuppression s;
  const Table t = AddTable(&s, {{3, 40}, {9, 0}});
  s.Apply();
  EXPECT_EQ(Shown(s, t), "* 40 * / * 0 * / 12 40 52");
}

TEST(CellSuppressionTest, SecondarySuppressionCascadesAcrossRowsAndColumns) {
  // The 2 in the corner takes the next smallest of its column, the 60 below it; that leaves the
  // 60 alone in its row, so it takes the 9 beside it; the 9 alone in its column takes the 8 above
  // it, which closes a square: every row and column now has two suppressed cells.
  CellSuppression s;
  const Table t = AddTable(&s, {{2, 8, 50}, {60, 9, 10}, {70, 80, 90}});
  s.Apply();
  EXPECT_EQ(Shown(s, t), "* * 50 60 / * * 10 79 / 70 80 90 240 / 132 97 150 379");
  const Attacker attacker(Hidden(s), SumsOf(t));
  for (Cell c : t.cells) {
    if (s.IsSuppressed(c)) {
      EXPECT_FALSE(attacker.Determines(c)) << "cell " << c;
    }
  }
}

TEST(CellSuppressionTest, ABridgeBetweenTwoBlocksOfSuppressedCellsIsClosed) {
  // Two blocks of four small cells, joined through one more small cell at (1, 2): every row and
  // column has none or at least two suppressed cells, so rule 2a is content, yet the cell at (1, 2)
  // links the blocks alone and could be worked out (next test). A cell joining the blocks is
  // suppressed too: the smallest, (3, 0) = 9.
  CellSuppression s;
  const Table t = AddTable(&s, {{1, 2, 30, 31},  //
                                {3, 4, 5, 32},
                                {33, 34, 6, 7},
                                {9, 35, 1, 2}});
  s.Apply();
  EXPECT_EQ(Shown(s, t), "* * 30 31 64 / * * * 32 44 / 33 34 * * 80 / * 35 * * 47 / 46 75 42 72 235");
  const Attacker attacker(Hidden(s), SumsOf(t));
  for (Cell c : t.cells) {
    if (s.IsSuppressed(c)) {
      EXPECT_FALSE(attacker.Determines(c)) << "cell " << c;
    }
  }
}

TEST(CellSuppressionTest, ABridgeLeftOpenWouldBeWorkedOut) {
  // The primary suppressions of the table above, alone (what rule 2a leaves): the bridge at (1, 2)
  // is determined by the sums, the cells of the two blocks are not. This guards the attacker, so
  // that the tests that use it mean something.
  CellSuppression s;
  const Table t = AddTable(&s, {{1, 2, 30, 31}, {3, 4, 5, 32}, {33, 34, 6, 7}, {9, 35, 1, 2}});
  std::vector<bool> primary;
  for (Cell c = 0; c < s.CellCount(); ++c) primary.push_back(IsSmallCount(s.Count(c)));
  const Attacker attacker(primary, SumsOf(t));
  EXPECT_TRUE(attacker.Determines(t.at(1, 2)));
  for (auto [r, c] : {std::pair{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3}}) {
    EXPECT_FALSE(attacker.Determines(t.at(r, c))) << r << "," << c;
  }
}

TEST(CellSuppressionTest, ThreeLinkedDimensionsLeaveNoLoneSuppressedCell) {
  // received = accepted + refused + rejected, for two groups: refused 3 in group 0.
  CellSuppression s;
  const Table received = AddTable(&s, {{43, 50}});
  const Table accepted = AddTable(&s, {{40, 50}});
  const Table refused = AddTable(&s, {{3, 0}});
  const Table rejected = AddTable(&s, {{0, 0}});
  for (int r = 0; r < received.rows; ++r) {
    for (int c = 0; c < received.columns; ++c) {
      ASSERT_TRUE(s.AddSum(2, {accepted.at(r, c), refused.at(r, c), rejected.at(r, c)}, received.at(r, c)).ok());
    }
  }
  s.Apply();
  // The 3 refused takes the 40 accepted (received 43 would give it back), and in turn what the
  // rows and columns need.
  EXPECT_EQ(Shown(s, refused), "* 0 * / * 0 *");
  EXPECT_EQ(Shown(s, accepted), "* 50 * / * 50 *");
  EXPECT_EQ(Shown(s, received), "43 50 93 / 43 50 93");
  EXPECT_EQ(Shown(s, rejected), "0 0 0 / 0 0 0");
}

TEST(CellSuppressionTest, NoSuppressedCellOfARandomTableCanBeWorkedOut) {
  std::mt19937 random(20250401);  // Deterministic: the same tables every run.
  for (int round = 0; round < 300; ++round) {
    const int rows = 2 + static_cast<int>(random() % 4), columns = 2 + static_cast<int>(random() % 5);
    std::vector<std::vector<int64_t>> interior(rows, std::vector<int64_t>(columns));
    for (auto& row : interior) {
      for (int64_t& v : row) {
        const int kind = static_cast<int>(random() % 10);
        v = kind < 4 ? 1 + random() % 7 : kind < 6 ? 0 : 8 + random() % 50;
      }
    }
    CellSuppression s;
    const Table t = AddTable(&s, interior);
    s.Apply();
    const std::vector<std::vector<Cell>> sums = SumsOf(t);
    for (const std::vector<Cell>& sum : sums) {
      int suppressed = 0;
      for (Cell c : sum) suppressed += s.IsSuppressed(c);
      EXPECT_NE(suppressed, 1) << "round " << round << ": " << Shown(s, t);
    }
    const Attacker attacker(Hidden(s), sums);
    for (Cell c : t.cells) {
      if (IsSmallCount(s.Count(c))) {
        EXPECT_TRUE(s.IsSuppressed(c));
      }
      if (s.IsSuppressed(c)) {
        EXPECT_FALSE(attacker.Determines(c)) << "round " << round << ": " << Shown(s, t);
      }
    }
  }
}

TEST(CellSuppressionTest, AddSumRefusesWhatIsNotASum) {
  CellSuppression s;
  const Cell a = s.AddCell(1), b = s.AddCell(2), total = s.AddCell(3);
  EXPECT_THAT(s.AddSum(3, {a, b}, total).message(), HasSubstr("dimension"));
  EXPECT_THAT(s.AddSum(-1, {a, b}, total).message(), HasSubstr("dimension"));
  EXPECT_THAT(s.AddSum(0, {}, total).message(), HasSubstr("at least one part"));
  EXPECT_THAT(s.AddSum(0, {a, 7}, total).message(), HasSubstr("no cell 7"));
  EXPECT_THAT(s.AddSum(0, {a, a}, total).message(), HasSubstr("twice"));
  ASSERT_TRUE(s.AddSum(0, {a, b}, total).ok());
  EXPECT_THAT(s.AddSum(0, {a}, b).message(), HasSubstr("already in a sum of dimension 0"));
  EXPECT_TRUE(s.AddSum(1, {a}, b).ok()) << "another dimension is fine";
}

}  // namespace
}  // namespace frontdoor::reporting
