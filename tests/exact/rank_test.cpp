// tests/exact/rank_test.cpp: exact sparse rank against a plain dense reference elimination over Q,
// on random sparse matrices: full rank, rank-deficient by construction, and large entries.
#include "catch_shim.hpp"

#include "scaleinv/exact/sparse_rank.hpp"
#include "scaleinv/graph/random.hpp"

using namespace scaleinv;

namespace {
// Textbook dense Gaussian elimination over mpq: the reference.
std::size_t dense_rank(std::vector<std::vector<mpq_class>> a, std::size_t cols) {
  std::size_t rank = 0;
  for (std::size_t c = 0; c < cols && rank < a.size(); ++c) {
    std::size_t pivot = rank;
    while (pivot < a.size() && a[pivot][c] == 0) ++pivot;
    if (pivot == a.size()) continue;
    std::swap(a[pivot], a[rank]);
    for (std::size_t r = 0; r < a.size(); ++r) {
      if (r == rank || a[r][c] == 0) continue;
      mpq_class f = a[r][c] / a[rank][c];
      for (std::size_t k = c; k < cols; ++k) a[r][k] -= f * a[rank][k];
    }
    ++rank;
  }
  return rank;
}

sparse_row to_sparse(const std::vector<mpq_class>& dense) {
  sparse_row row;
  for (std::uint32_t c = 0; c < dense.size(); ++c)
    if (dense[c] != 0) row.emplace_back(c, dense[c]);
  return row;
}

std::vector<std::vector<mpq_class>> random_matrix(splitmix64& rng, std::size_t rows, std::size_t cols, double density,
                                                  bool large) {
  std::vector<std::vector<mpq_class>> a(rows, std::vector<mpq_class>(cols, 0));
  for (auto& row : a) {
    for (auto& x : row) {
      if (rng.uniform() >= density) continue;
      if (large) {
        mpz_class v;
        mpz_ui_pow_ui(v.get_mpz_t(), 10, 30 + rng.below(20));
        v += static_cast<unsigned long>(rng.next());
        x = rng.below(2) ? mpq_class(v) : mpq_class(-v);
      } else {
        x = static_cast<long>(rng.below(7)) - 3;
      }
    }
  }
  return a;
}
}  // namespace

TEST_CASE("sparse exact rank equals dense reference rank", "[rank]") {
  const int iterations = 300;
  for (int it = 0; it < iterations; ++it) {
    std::uint64_t seed = 1000 + static_cast<std::uint64_t>(it);
    splitmix64 rng(seed);
    std::size_t rows = 1 + rng.below(25), cols = 1 + rng.below(25);
    bool large = it % 5 == 0;
    auto a = random_matrix(rng, rows, cols, 0.1 + 0.5 * rng.uniform(), large);
    // Rank-deficient by construction in every other case: append combinations of earlier rows.
    if (it % 2 == 1) {
      std::size_t extra = 1 + rng.below(10);
      for (std::size_t k = 0; k < extra; ++k) {
        std::vector<mpq_class> combo(cols, 0);
        for (std::size_t r = 0; r < rows; ++r) {
          mpq_class f(static_cast<long>(rng.below(5)) - 2, static_cast<long>(rng.below(3)) + 1);
          f.canonicalize();
          for (std::size_t c = 0; c < cols; ++c) combo[c] += f * a[r][c];
        }
        a.insert(a.begin() + static_cast<std::ptrdiff_t>(rng.below(a.size() + 1)), combo);
      }
    }
    std::vector<sparse_row> sparse;
    for (const auto& r : a) sparse.push_back(to_sparse(r));
    std::size_t expected = dense_rank(a, cols);
    INFO("seed " << seed << ", " << a.size() << "x" << cols << (large ? ", large entries" : ""));
    REQUIRE(exact_rank(sparse, static_cast<std::uint32_t>(cols)) == expected);
    if (it % 2 == 1) REQUIRE(expected <= rows);
  }
}

TEST_CASE("rank of 0/1 rows with repeated columns sums them", "[rank]") {
  // {0,0} is the row (2, 0); {0} is (1, 0): dependent.
  REQUIRE(exact_rank(std::vector<std::vector<std::uint32_t>>{{0, 0}, {0}}, 2) == 1);
  REQUIRE(exact_rank(std::vector<std::vector<std::uint32_t>>{{0, 1}, {1, 2}, {0, 2}}, 3) == 3);  // det 2 != 0 over Q
  REQUIRE(exact_rank(std::vector<std::vector<std::uint32_t>>{{0, 1}, {1, 2}, {0, 2}, {0, 1, 2}}, 3) == 3);
  REQUIRE(exact_rank(std::vector<std::vector<std::uint32_t>>{}, 4) == 0);
}

TEST_CASE("rational_eliminator reports independence row by row", "[rank]") {
  rational_eliminator e(3);
  REQUIRE(e.add(make_row(std::vector<std::uint32_t>{0, 1})));
  REQUIRE(e.add(make_row(std::vector<std::uint32_t>{1, 2})));
  REQUIRE_FALSE(e.add(sparse_row{{0, mpq_class(2)}, {1, mpq_class(4)}, {2, mpq_class(2)}}));  // 2*r0 + 2*r1
  REQUIRE(e.rank() == 2);
  REQUIRE(e.reduce(sparse_row{{0, mpq_class(1)}, {2, mpq_class(-1)}}).empty());  // r0 - r1
}

TEST_CASE("rational_eliminator's kernel: one vector per free column, exact, on random matrices", "[rank]") {
  for (int it = 0; it < 200; ++it) {
    std::uint64_t seed = 5000 + static_cast<std::uint64_t>(it);
    splitmix64 rng(seed);
    std::size_t rows = rng.below(20), cols = 1 + rng.below(20);
    auto a = random_matrix(rng, rows, cols, 0.1 + 0.5 * rng.uniform(), it % 5 == 0);
    rational_eliminator e(static_cast<std::uint32_t>(cols));
    for (const auto& r : a) e.add(to_sparse(r));
    std::vector<sparse_row> kernel = e.kernel();
    INFO("seed " << seed << ", " << a.size() << "x" << cols);
    REQUIRE(kernel.size() == cols - e.rank());
    std::vector<bool> free_seen(cols, false);
    for (const auto& k : kernel) {
      // Sorted, nonzero; A k = 0 exactly.
      for (std::size_t i = 1; i < k.size(); ++i) REQUIRE(k[i - 1].first < k[i].first);
      std::vector<mpq_class> dense(cols, 0);
      for (const auto& [c, v] : k) {
        REQUIRE(v != 0);
        dense[c] = v;
      }
      for (const auto& r : a) {
        mpq_class s = 0;
        for (std::size_t c = 0; c < cols; ++c) s += r[c] * dense[c];
        REQUIRE(s == 0);
      }
      // Exactly one free column (no pivot: e_c reduces to itself), with entry 1, its own.
      std::vector<std::size_t> free_cols;
      for (const auto& [c, v] : k)
        if (e.reduce(sparse_row{{c, mpq_class(1)}}) == sparse_row{{c, mpq_class(1)}}) {
          free_cols.push_back(c);
          REQUIRE(v == 1);
        }
      REQUIRE(free_cols.size() == 1);
      REQUIRE_FALSE(free_seen[free_cols[0]]);
      free_seen[free_cols[0]] = true;
    }
    // Independent, and with the rows a basis of the whole space: rank(rows + kernel) = cols.
    std::vector<sparse_row> all;
    for (const auto& r : a) all.push_back(to_sparse(r));
    REQUIRE(exact_rank(kernel, static_cast<std::uint32_t>(cols)) == kernel.size());
    for (const auto& k : kernel) all.push_back(k);
    REQUIRE(exact_rank(all, static_cast<std::uint32_t>(cols)) == cols);
  }
}
