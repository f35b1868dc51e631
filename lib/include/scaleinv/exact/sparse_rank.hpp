// scaleinv/exact/sparse_rank.hpp: exact rank over the rationals of sparse matrices (GMP).
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace scaleinv {

/// A sparse row: (column, value) pairs with strictly increasing columns and nonzero values.
using sparse_row = std::vector<std::pair<std::uint32_t, mpq_class>>;

/// Gaussian elimination over Q, one row at a time, in exact rational arithmetic. Every stored
/// pivot row has leading entry 1 at its pivot column and no entries left of it; a new row is
/// reduced by the pivots of its columns in increasing column order, which only creates entries to
/// the right, so the loop ends. The rank is the number of pivots: exact, since no arithmetic is
/// rounded. Slow on dense fill-in; meant for checks, not production.
class rational_eliminator {
 public:
  explicit rational_eliminator(std::uint32_t columns) : pivot_of_(columns, -1) {}
  /// Adds a row; returns true when it is independent of the rows added before.
  /// @pre columns < the count given to the constructor, strictly increasing, values nonzero.
  bool add(sparse_row row);
  std::size_t rank() const noexcept { return pivots_.size(); }
  /// Reduces row against the current pivots (without adding it); empty means dependent.
  sparse_row reduce(sparse_row row) const;
  /// A basis of the null space {x : row . x = 0 for every row added}, read off the reduced row
  /// echelon form: one vector per free column j (a column without a pivot), with x_j = 1, 0 in
  /// every other free column, and x_c = -R[c][j] in each pivot column c. columns - rank() vectors,
  /// each sorted by column; independent, since each is the only one nonzero in its free column.
  std::vector<sparse_row> kernel() const;

 private:
  std::vector<std::int64_t> pivot_of_;
  std::vector<sparse_row> pivots_;
};

/// rank over Q of a 0/1 matrix given as the column sets of its rows (each sorted or not; repeated
/// columns add up, as a path using a shared parameter twice has entry 2).
std::size_t exact_rank(const std::vector<std::vector<std::uint32_t>>& rows, std::uint32_t columns);
std::size_t exact_rank(const std::vector<sparse_row>& rows, std::uint32_t columns);

/// Builds a sparse_row from column indices, summing repeats.
sparse_row make_row(std::span<const std::uint32_t> columns);

}  // namespace scaleinv
