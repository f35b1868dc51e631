// certified_rank.cpp: exact rank, block by block, by elimination of B^T B modulo a prime certified
// by an exactly verified integer kernel basis, or by exact rational elimination, which gives the
// kernel too (the argument is in the header).
#include "scaleinv/exact/certified_rank.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <numeric>

#include "rank_internal.hpp"
#include "scaleinv/exact/sparse_rank.hpp"

namespace scaleinv {

void int_matrix::add_01_row(std::span<const std::uint32_t> columns) {
  for (std::uint32_t c : columns) {
    col.push_back(c);
    val.push_back(1);
  }
  start.push_back(col.size());
}

void int_matrix::add_row(std::span<const std::pair<std::uint32_t, std::int64_t>> entries) {
  for (const auto& [c, v] : entries) {
    col.push_back(c);
    val.push_back(v);
  }
  start.push_back(col.size());
}

namespace detail {
// Three primes just below 2^25 (2^25 - 39, - 49, - 61; tests/exact/certified_rank_test.cpp checks
// that they are prime). Below 2^25, n * p^2 < 2^64 for n <= 8192, which the lazy reduction needs.
constexpr std::array<std::uint64_t, 3> kPrimes{33554393ULL, 33554383ULL, 33554371ULL};
}  // namespace detail

namespace {
using u64 = std::uint64_t;
__extension__ typedef __int128 i128;  // GCC/Clang extension, for exact checks
using detail::compact_matrix;

compact_matrix compact(const int_matrix& a) {
  compact_matrix m;
  std::vector<std::uint32_t> index(a.cols, UINT32_MAX);
  std::vector<std::pair<std::uint32_t, std::int64_t>> row;
  for (std::size_t r = 0; r < a.rows(); ++r) {
    row.clear();
    for (std::size_t k = a.start[r]; k < a.start[r + 1]; ++k) row.emplace_back(a.col[k], a.val[k]);
    std::sort(row.begin(), row.end());
    for (std::size_t k = 0; k < row.size();) {
      std::uint32_t c = row[k].first;
      std::int64_t v = 0;
      for (; k < row.size() && row[k].first == c; ++k) v += row[k].second;
      if (v == 0) continue;
      if (index[c] == UINT32_MAX) {
        index[c] = static_cast<std::uint32_t>(m.used.size());
        m.used.push_back(c);
      }
      m.col.push_back(index[c]);
      m.val.push_back(v);
    }
    m.start.push_back(m.col.size());
  }
  return m;
}

// Singleton-column peeling: a column with one nonzero, in row r, makes r independent of every
// other row, and rank(A) = 1 + rank(A without row r and that column). Repeating it strips the
// private parameters of a weight-sharing matrix (and any tree-like part) in O(nnz) before the
// dense elimination.
struct peeled_matrix {
  std::vector<std::pair<std::uint32_t, std::size_t>> order;  // (compact column, its row), in peel order
  compact_matrix sub;                                        // live rows, unpeeled columns renumbered
  std::vector<std::uint32_t> sub_to_compact;
};

peeled_matrix peel(const compact_matrix& m) {
  const std::size_t n = m.used.size(), rows = m.start.size() - 1;
  std::vector<std::size_t> cstart(n + 1, 0);
  for (auto c : m.col) ++cstart[c + 1];
  for (std::size_t c = 0; c < n; ++c) cstart[c + 1] += cstart[c];
  std::vector<std::size_t> crow(m.col.size()), fill(cstart.begin(), cstart.end() - 1);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = m.start[r]; t < m.start[r + 1]; ++t) crow[fill[m.col[t]]++] = r;
  std::vector<std::size_t> count(n);
  for (std::size_t c = 0; c < n; ++c) count[c] = cstart[c + 1] - cstart[c];
  std::vector<std::uint8_t> row_dead(rows, 0), col_peeled(n, 0);
  std::vector<std::uint32_t> queue;
  for (std::uint32_t c = 0; c < n; ++c)
    if (count[c] == 1) queue.push_back(c);
  peeled_matrix out;
  while (!queue.empty()) {
    std::uint32_t c = queue.back();
    queue.pop_back();
    if (col_peeled[c] != 0 || count[c] != 1) continue;
    std::size_t r = rows;
    for (std::size_t t = cstart[c]; t < cstart[c + 1]; ++t)
      if (row_dead[crow[t]] == 0) r = crow[t];
    row_dead[r] = 1;
    col_peeled[c] = 1;
    out.order.emplace_back(c, r);
    for (std::size_t t = m.start[r]; t < m.start[r + 1]; ++t) {
      std::uint32_t j = m.col[t];
      if (col_peeled[j] != 0) continue;
      if (--count[j] == 1) queue.push_back(j);
    }
  }
  std::vector<std::uint32_t> index(n, UINT32_MAX);
  for (std::uint32_t c = 0; c < n; ++c) {
    if (col_peeled[c] != 0) continue;
    index[c] = static_cast<std::uint32_t>(out.sub_to_compact.size());
    out.sub_to_compact.push_back(c);
    out.sub.used.push_back(m.used[c]);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (row_dead[r] != 0) continue;
    for (std::size_t t = m.start[r]; t < m.start[r + 1]; ++t) {
      out.sub.col.push_back(index[m.col[t]]);  // live rows hold no peeled column
      out.sub.val.push_back(m.val[t]);
    }
    out.sub.start.push_back(out.sub.col.size());
  }
  return out;
}

// The connected blocks of m: two columns are joined when a row holds both. Each block keeps its
// rows (in order) and its columns renumbered in increasing order; `used` maps a block column to
// m's column. Rows without entries belong to no block. A column in no row is a block of its own.
std::vector<compact_matrix> split_blocks(const compact_matrix& m) {
  const std::size_t n = m.used.size(), rows = m.start.size() - 1;
  std::vector<std::uint32_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0U);
  auto find = [&](std::uint32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = m.start[r] + 1; t < m.start[r + 1]; ++t) {
      std::uint32_t x = find(m.col[m.start[r]]), y = find(m.col[t]);
      if (x != y) parent[std::max(x, y)] = std::min(x, y);
    }
  std::vector<std::uint32_t> block_of(n, UINT32_MAX), local(n);
  std::vector<compact_matrix> out;
  for (std::uint32_t c = 0; c < n; ++c) {
    std::uint32_t root = find(c);
    if (block_of[root] == UINT32_MAX) {
      block_of[root] = static_cast<std::uint32_t>(out.size());
      out.emplace_back();
    }
    compact_matrix& b = out[block_of[root]];
    local[c] = static_cast<std::uint32_t>(b.used.size());
    b.used.push_back(c);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (m.start[r] == m.start[r + 1]) continue;
    compact_matrix& b = out[block_of[find(m.col[m.start[r]])]];
    for (std::size_t t = m.start[r]; t < m.start[r + 1]; ++t) {
      b.col.push_back(local[m.col[t]]);
      b.val.push_back(m.val[t]);
    }
    b.start.push_back(b.col.size());
  }
  return out;
}

// The rank of one block by exact rational elimination and, unless kernel is null, its kernel: a
// primitive integer vector per free column (block numbering). representable turns false, and the
// kernel is incomplete, when an entry does not fit 64 bits.
std::size_t rational_block(const compact_matrix& b, std::vector<sparse_int_vector>* kernel, bool& representable) {
  rational_eliminator elim(static_cast<std::uint32_t>(b.used.size()));
  for (std::size_t r = 0; r + 1 < b.start.size(); ++r) {
    sparse_row sr;
    for (std::size_t t = b.start[r]; t < b.start[r + 1]; ++t)
      sr.emplace_back(b.col[t], mpq_class(static_cast<long>(b.val[t])));
    std::sort(sr.begin(), sr.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    elim.add(std::move(sr));
  }
  if (kernel == nullptr) return elim.rank();
  mpz_class den, g;
  for (const sparse_row& v : elim.kernel()) {
    den = 1;
    for (const auto& [c, x] : v) mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), x.get_den_mpz_t());
    std::vector<mpz_class> ints;
    g = 0;
    for (const auto& [c, x] : v) {
      ints.push_back(x.get_num() * (den / x.get_den()));
      mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), ints.back().get_mpz_t());
    }
    sparse_int_vector k;
    for (std::size_t i = 0; i < v.size(); ++i) {
      mpz_class q = ints[i] / g;
      if (!mpz_fits_slong_p(q.get_mpz_t())) {
        representable = false;
        return elim.rank();
      }
      k.emplace_back(v[i].first, q.get_si());
    }
    kernel->push_back(std::move(k));
  }
  return elim.rank();
}

// m by columns, and the peel position of each row, for extending and checking sparse vectors.
struct column_index {
  std::vector<std::size_t> start;
  std::vector<std::size_t> row;
  std::vector<std::size_t> peel_pos;  // row -> k when it is the row of pm.order[k], else SIZE_MAX
};

column_index index_columns(const compact_matrix& m, const peeled_matrix& pm) {
  const std::size_t n = m.used.size(), rows = m.start.size() - 1;
  column_index ci;
  ci.start.assign(n + 1, 0);
  for (auto c : m.col) ++ci.start[c + 1];
  for (std::size_t c = 0; c < n; ++c) ci.start[c + 1] += ci.start[c];
  ci.row.resize(m.col.size());
  std::vector<std::size_t> fill(ci.start.begin(), ci.start.end() - 1);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t t = m.start[r]; t < m.start[r + 1]; ++t) ci.row[fill[m.col[t]]++] = r;
  ci.peel_pos.assign(rows, SIZE_MAX);
  for (std::size_t k = 0; k < pm.order.size(); ++k) ci.peel_pos[pm.order[k].second] = k;
  return ci;
}

// Extends kernel vectors of the unpeeled part to the peeled columns and checks them against every
// row of m, exactly. Row r_k of pm.order[k] = (c_k, r_k) holds c_k, unpeeled columns and columns
// peeled after c_k (a column peeled before had r_k among its live rows, so it was not a singleton),
// so going through the peeled rows from the last peeled back, x_{c_k} = -(rest of row r_k) / a_rc
// is final when set; the whole vector is scaled when a_rc does not divide. Only the rows that hold
// a nonzero entry are visited (a heap of peel positions), so the cost follows the vector's support.
class kernel_builder {
 public:
  kernel_builder(const compact_matrix& m, const peeled_matrix& pm)
      : m_(m), pm_(pm), ci_(index_columns(m, pm)), x_(m.used.size(), 0), row_seen_(m.start.size() - 1, 0) {}

  // sub_vec in pm.sub's numbering; out in m's (compact) numbering, sorted. False on 64-bit
  // overflow or when the check fails.
  bool build(const sparse_int_vector& sub_vec, sparse_int_vector& out) {
    bool ok = extend(sub_vec) && check();
    out.clear();
    for (auto c : touched_) {
      if (ok && x_[c] != 0) out.emplace_back(c, x_[c]);
      x_[c] = 0;
    }
    for (auto r : rows_) row_seen_[r] = 0;
    touched_.clear();
    rows_.clear();
    std::sort(out.begin(), out.end());
    return ok;
  }

 private:
  void set(std::uint32_t c, std::int64_t v) {
    if (x_[c] == 0 && v != 0) touched_.push_back(c);
    x_[c] = v;
  }

  bool extend(const sparse_int_vector& sub_vec) {
    std::vector<std::size_t> heap;  // peel positions of rows still to visit, largest first
    auto visit_rows_of = [&](std::uint32_t c) {
      for (std::size_t t = ci_.start[c]; t < ci_.start[c + 1]; ++t) {
        std::size_t r = ci_.row[t];
        if (ci_.peel_pos[r] == SIZE_MAX || row_seen_[r] != 0) continue;
        row_seen_[r] = 1;
        rows_.push_back(r);
        heap.push_back(ci_.peel_pos[r]);
        std::push_heap(heap.begin(), heap.end());
      }
    };
    for (const auto& [c, v] : sub_vec) set(pm_.sub_to_compact[c], v);
    for (std::size_t i = 0, e = touched_.size(); i < e; ++i) visit_rows_of(touched_[i]);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      auto [c, r] = pm_.order[heap.back()];
      heap.pop_back();
      i128 sum = 0;
      std::int64_t a_rc = 0;
      for (std::size_t t = m_.start[r]; t < m_.start[r + 1]; ++t) {
        if (m_.col[t] == c) a_rc = m_.val[t];
        else if (__builtin_add_overflow(sum, static_cast<i128>(m_.val[t]) * x_[m_.col[t]], &sum)) return false;
      }
      if (sum > INT64_MAX || sum < -INT64_MAX) return false;
      auto s = static_cast<std::int64_t>(sum);
      std::int64_t g = std::gcd(s, a_rc);
      std::int64_t scale = std::llabs(a_rc / (g == 0 ? a_rc : g));
      if (scale != 1) {
        for (auto t : touched_)
          if (__builtin_mul_overflow(x_[t], scale, &x_[t])) return false;
        if (__builtin_mul_overflow(s, scale, &s)) return false;
      }
      set(c, -s / a_rc);
      if (x_[c] != 0) visit_rows_of(c);
    }
    return true;
  }

  // Every row that holds a nonzero entry sums to 0 exactly (the others trivially do).
  bool check() {
    for (std::size_t i = 0; i < touched_.size(); ++i) {
      const std::uint32_t c = touched_[i];
      for (std::size_t t = ci_.start[c]; t < ci_.start[c + 1]; ++t) {
        const std::size_t r = ci_.row[t];
        if (row_seen_[r] == 2) continue;
        if (row_seen_[r] == 0) rows_.push_back(r);
        row_seen_[r] = 2;
        i128 s = 0;
        for (std::size_t u = m_.start[r]; u < m_.start[r + 1]; ++u)
          if (__builtin_add_overflow(s, static_cast<i128>(m_.val[u]) * x_[m_.col[u]], &s)) return exact_row_zero(r);
        if (s != 0) return false;
      }
    }
    return true;
  }

  bool exact_row_zero(std::size_t r) const {
    mpz_class s = 0, v;
    for (std::size_t u = m_.start[r]; u < m_.start[r + 1]; ++u) {
      v = static_cast<long>(m_.val[u]);
      s += v * static_cast<long>(x_[m_.col[u]]);
    }
    return s == 0;
  }

  const compact_matrix& m_;
  const peeled_matrix& pm_;
  column_index ci_;
  std::vector<std::int64_t> x_;
  std::vector<std::uint8_t> row_seen_;  // 1: queued for the extension, 2: checked
  std::vector<std::uint32_t> touched_;
  std::vector<std::size_t> rows_;
};
}  // namespace

std::span<const std::uint64_t> certified_rank_primes() { return detail::kPrimes; }

rank_certificate certified_rank(const int_matrix& a, bool want_kernel) {
  return certified_rank(a, want_kernel, certified_rank_options{});
}

rank_certificate certified_rank(const int_matrix& a, bool want_kernel, const certified_rank_options& options) {
  rank_certificate out;
  const compact_matrix m = compact(a);
  const bool small_entries =
      std::all_of(m.val.begin(), m.val.end(), [](std::int64_t v) { return std::llabs(v) < (1LL << 40); });
  const peeled_matrix pm = peel(m);
  const std::vector<compact_matrix> blocks = split_blocks(pm.sub);
  out.peeled = pm.order.size();
  out.blocks = blocks.size();
  bool rational = false, representable = true;
  std::size_t rank = 0, last_prime = 0;
  std::vector<sparse_int_vector> sub_kernel;  // pm.sub's numbering
  for (const compact_matrix& b : blocks) {
    out.largest_block = std::max(out.largest_block, b.used.size());
    bool decided = false;
    if (b.used.size() <= std::min(options.max_dense_columns, detail::kMaxLazyColumns) && small_entries) {
      unsigned tried = 0;
      for (u64 p : detail::kPrimes) {
        ++tried;
        std::size_t block_rank = 0;
        std::vector<std::vector<std::int64_t>> block_kernel;
        if (!detail::modular_gram_attempt(b, p, block_rank, block_kernel)) continue;
        rank += block_rank;
        last_prime = std::max<std::size_t>(last_prime, tried);
        for (const auto& k : block_kernel) {
          sparse_int_vector v;
          for (std::size_t i = 0; i < k.size(); ++i)
            if (k[i] != 0) v.emplace_back(b.used[i], k[i]);
          sub_kernel.push_back(std::move(v));
        }
        decided = true;
        break;
      }
      out.primes_tried = std::max(out.primes_tried, tried);
    }
    if (decided) continue;
    rational = true;
    std::vector<sparse_int_vector> block_kernel;
    rank += rational_block(b, want_kernel && representable ? &block_kernel : nullptr, representable);
    for (auto& k : block_kernel) {
      for (auto& entry : k) entry.first = b.used[entry.first];
      sub_kernel.push_back(std::move(k));
    }
  }
  out.rank = rank + pm.order.size();
  out.method = rational ? "rational-elimination" : "modular-gram";
  out.prime = last_prime == 0 ? 0 : detail::kPrimes[last_prime - 1];
  if (!want_kernel || !representable) return out;

  // Extended to the peeled columns, checked against all of A, back to the original columns; every
  // unused column is a kernel vector of its own.
  kernel_builder builder(m, pm);
  sparse_int_vector x;
  for (const auto& k : sub_kernel) {
    if (!builder.build(k, x)) {
      out.kernel.clear();
      return out;
    }
    for (auto& entry : x) entry.first = m.used[entry.first];
    std::sort(x.begin(), x.end());
    out.kernel.push_back(x);
  }
  std::vector<std::uint8_t> used(a.cols, 0);
  for (auto c : m.used) used[c] = 1;
  for (std::uint32_t c = 0; c < a.cols; ++c)
    if (used[c] == 0) out.kernel.push_back(sparse_int_vector{{c, 1}});
  out.has_kernel = out.kernel.size() == a.cols - out.rank;
  if (!out.has_kernel) out.kernel.clear();
  return out;
}

}  // namespace scaleinv
