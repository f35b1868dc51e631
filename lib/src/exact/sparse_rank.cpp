// sparse_rank.cpp: exact rational elimination on sparse rows.
#include "scaleinv/exact/sparse_rank.hpp"

#include <algorithm>

namespace scaleinv {
namespace {
// a + factor * b, both sorted; drops zeros. b's first column is >= the column being eliminated.
sparse_row axpy(const sparse_row& a, const mpq_class& factor, const sparse_row& b) {
  sparse_row out;
  out.reserve(a.size() + b.size());
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].first < b[j].first)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].first < a[i].first) {
      out.emplace_back(b[j].first, factor * b[j].second);
      ++j;
    } else {
      mpq_class v = a[i].second + factor * b[j].second;
      if (v != 0) out.emplace_back(a[i].first, std::move(v));
      ++i;
      ++j;
    }
  }
  return out;
}
}  // namespace

sparse_row rational_eliminator::reduce(sparse_row row) const {
  std::size_t pos = 0;
  while (pos < row.size()) {
    std::int64_t p = pivot_of_[row[pos].first];
    if (p < 0) {
      ++pos;
      continue;
    }
    mpq_class factor = -row[pos].second;
    row = axpy(row, factor, pivots_[static_cast<std::size_t>(p)]);  // zeroes row[pos]; left part unchanged
  }
  return row;
}

bool rational_eliminator::add(sparse_row row) {
  row = reduce(std::move(row));
  if (row.empty()) return false;
  mpq_class lead = row.front().second;
  for (auto& [col, value] : row) value /= lead;
  pivot_of_[row.front().first] = static_cast<std::int64_t>(pivots_.size());
  pivots_.push_back(std::move(row));
  return true;
}

std::vector<sparse_row> rational_eliminator::kernel() const {
  const auto n = static_cast<std::uint32_t>(pivot_of_.size());
  // Back substitution, pivot columns from the right: a reduced row keeps its pivot (1) and free
  // columns only, so reducing a row by it creates no entry in another pivot column.
  std::vector<sparse_row> reduced(pivots_.size());
  for (std::uint32_t c = n; c-- > 0;) {
    const std::int64_t p = pivot_of_[c];
    if (p < 0) continue;
    sparse_row row = pivots_[static_cast<std::size_t>(p)];
    std::size_t pos = 1;
    while (pos < row.size()) {
      const std::int64_t q = pivot_of_[row[pos].first];
      if (q < 0) {
        ++pos;
        continue;
      }
      mpq_class factor = -row[pos].second;
      row = axpy(row, factor, reduced[static_cast<std::size_t>(q)]);  // zeroes row[pos]
    }
    reduced[static_cast<std::size_t>(p)] = std::move(row);
  }
  std::vector<std::int64_t> index(n, -1);  // free column -> its kernel vector
  std::vector<sparse_row> out;
  for (std::uint32_t c = 0; c < n; ++c) {
    if (pivot_of_[c] >= 0) continue;
    index[c] = static_cast<std::int64_t>(out.size());
    out.push_back(sparse_row{{c, mpq_class(1)}});
  }
  for (const auto& row : reduced)
    for (std::size_t t = 1; t < row.size(); ++t)
      out[static_cast<std::size_t>(index[row[t].first])].emplace_back(row.front().first, -row[t].second);
  for (auto& v : out) std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  return out;
}

sparse_row make_row(std::span<const std::uint32_t> columns) {
  std::vector<std::uint32_t> sorted(columns.begin(), columns.end());
  std::sort(sorted.begin(), sorted.end());
  sparse_row row;
  for (std::uint32_t c : sorted) {
    if (!row.empty() && row.back().first == c) row.back().second += 1;
    else row.emplace_back(c, mpq_class(1));
  }
  return row;
}

std::size_t exact_rank(const std::vector<std::vector<std::uint32_t>>& rows, std::uint32_t columns) {
  rational_eliminator elim(columns);
  for (const auto& r : rows) elim.add(make_row(r));
  return elim.rank();
}

std::size_t exact_rank(const std::vector<sparse_row>& rows, std::uint32_t columns) {
  rational_eliminator elim(columns);
  for (const auto& r : rows) elim.add(r);
  return elim.rank();
}

}  // namespace scaleinv
