// tests/exact/certified_rank_test.cpp: the certified modular rank against the exact rational
// elimination, the kernel it certifies with, and each way the certificate can fail.
#include "catch_shim.hpp"

#include <gmpxx.h>

#include <map>

#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/exact/sparse_rank.hpp"
#include "scaleinv/graph/random.hpp"

using namespace scaleinv;

namespace {
struct both {
  int_matrix a;
  std::vector<sparse_row> rows;
};

void add(both& m, const std::vector<std::pair<std::uint32_t, std::int64_t>>& entries) {
  m.a.add_row(entries);
  // The reference sums repeated columns too.
  std::map<std::uint32_t, mpz_class> sum;
  for (const auto& [c, v] : entries) sum[c] += static_cast<long>(v);
  sparse_row r;
  for (const auto& [c, v] : sum)
    if (v != 0) r.emplace_back(c, mpq_class(v));
  m.rows.push_back(r);
}

// The kernel is a basis of {x : A x = 0}: cols - rank vectors, each nonzero and checked in GMP
// arithmetic against every row that meets its support (the other rows give 0 trivially), and
// independent (the exact rank of the vectors is their number).
void require_kernel_exact(const int_matrix& a, const rank_certificate& c) {
  REQUIRE(c.has_kernel);
  REQUIRE(c.kernel.size() == a.cols - c.rank);
  std::vector<std::vector<std::size_t>> rows_of(a.cols);
  for (std::size_t row = 0; row < a.rows(); ++row)
    for (std::size_t t = a.start[row]; t < a.start[row + 1]; ++t) rows_of[a.col[t]].push_back(row);
  std::vector<sparse_row> kr;
  std::vector<std::int64_t> dense(a.cols, 0);
  for (const auto& k : c.kernel) {
    REQUIRE(!k.empty());
    sparse_row r;
    bool well_formed = true;
    for (std::size_t i = 0; i < k.size(); ++i) {
      well_formed = well_formed && k[i].first < a.cols && k[i].second != 0 && (i == 0 || k[i - 1].first < k[i].first);
      if (!well_formed) break;
      dense[k[i].first] = k[i].second;
      r.emplace_back(k[i].first, mpq_class(static_cast<long>(k[i].second)));
    }
    REQUIRE(well_formed);
    bool zero = true;
    for (const auto& [col, value] : k)
      for (std::size_t row : rows_of[col]) {
        mpz_class s = 0;
        for (std::size_t t = a.start[row]; t < a.start[row + 1]; ++t)
          s += mpz_class(static_cast<long>(a.val[t])) * static_cast<long>(dense[a.col[t]]);
        zero = zero && s == 0;
      }
    INFO("kernel vector of " << k.size() << " entries");
    REQUIRE(zero);
    for (const auto& [col, value] : k) dense[col] = 0;
    kr.push_back(r);
  }
  REQUIRE(exact_rank(kr, a.cols) == c.kernel.size());
}

certified_rank_options rational_only() {
  certified_rank_options o;
  o.max_dense_columns = 0;
  return o;
}
}  // namespace

TEST_CASE("the primes are prime", "[certified_rank]") {
  for (std::uint64_t p : certified_rank_primes()) {
    REQUIRE(p < (1ULL << 25));
    REQUIRE(mpz_probab_prime_p(mpz_class(static_cast<unsigned long>(p)).get_mpz_t(), 40) > 0);
  }
}

TEST_CASE("certified rank equals exact rational elimination on random sparse matrices", "[certified_rank]") {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    splitmix64 rng(seed);
    both m;
    std::uint32_t cols = 1 + static_cast<std::uint32_t>(rng.below(40));
    m.a.cols = cols;
    std::size_t rows = rng.below(60);
    bool zero_one = seed % 3 != 0;
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<std::pair<std::uint32_t, std::int64_t>> e;
      std::size_t len = 1 + rng.below(5);
      for (std::size_t k = 0; k < len; ++k)
        e.emplace_back(static_cast<std::uint32_t>(rng.below(cols)),
                       zero_one ? 1 : static_cast<std::int64_t>(rng.below(11)) - 5);
      add(m, e);
    }
    // Rank-deficient on purpose in half the cases: repeat sums of earlier rows.
    if (seed % 2 == 0 && rows > 2) {
      for (int k = 0; k < 5; ++k) {
        std::size_t i = rng.below(rows), j = rng.below(rows);
        std::vector<std::pair<std::uint32_t, std::int64_t>> e;
        for (std::size_t t = m.a.start[i]; t < m.a.start[i + 1]; ++t) e.emplace_back(m.a.col[t], 2 * m.a.val[t]);
        for (std::size_t t = m.a.start[j]; t < m.a.start[j + 1]; ++t) e.emplace_back(m.a.col[t], -3 * m.a.val[t]);
        add(m, e);
      }
    }
    rank_certificate c = certified_rank(m.a, true);
    INFO("seed " << seed << " rows " << m.a.rows() << " cols " << cols << " method " << c.method);
    const std::size_t rank = exact_rank(m.rows, cols);
    REQUIRE(c.rank == rank);
    // 0/1 matrices (path matrices) have small kernel vectors, so the fast path must decide them;
    // small-integer ones may need large denominators and fall back, which is still exact and
    // gives a verified kernel too.
    if (zero_one) REQUIRE(c.method == "modular-gram");
    require_kernel_exact(m.a, c);
    // The rational elimination alone, on every block: the same rank, a kernel as good.
    rank_certificate r = certified_rank(m.a, true, rational_only());
    REQUIRE(r.rank == rank);
    REQUIRE(r.primes_tried == 0);
    if (r.blocks > 0) REQUIRE(r.method == "rational-elimination");
    require_kernel_exact(m.a, r);
    // Without the kernel: the same rank, no kernel.
    rank_certificate bare = certified_rank(m.a, false, rational_only());
    REQUIRE(bare.rank == rank);
    REQUIRE(!bare.has_kernel);
    REQUIRE(bare.kernel.empty());
  }
}

namespace {
// Block i is [[p_i + 1, 1], [1, 1]], of determinant p_i: singular modulo p_i only. No column has a
// single nonzero, so peeling cannot decide it. With chain, row 0 of block i also has a 1 in the
// last column of block i - 1: the matrix is one connected block, still block lower triangular, so
// its determinant is still the product of the p_i. With twin, a last column repeats column 0
// (rank unchanged, kernel e_0 - e_last).
int_matrix blocks(const std::vector<std::uint64_t>& primes, bool chain = false, bool twin = false) {
  int_matrix a;
  const auto n = static_cast<std::uint32_t>(2 * primes.size());
  a.cols = n + (twin ? 1 : 0);
  for (std::uint32_t i = 0; i < primes.size(); ++i) {
    std::vector<std::pair<std::uint32_t, std::int64_t>> r0{{2 * i, static_cast<std::int64_t>(primes[i]) + 1},
                                                           {2 * i + 1, 1}},
        r1{{2 * i, 1}, {2 * i + 1, 1}};
    if (chain && i > 0) r0.emplace_back(2 * i - 1, 1);
    if (twin && i == 0) {
      r0.emplace_back(n, static_cast<std::int64_t>(primes[i]) + 1);
      r1.emplace_back(n, 1);
    }
    a.add_row(r0);
    a.add_row(r1);
  }
  return a;
}
}  // namespace

TEST_CASE("a prime dividing a minor is caught by the kernel check, and the next prime decides", "[certified_rank]") {
  auto p = certified_rank_primes();
  rank_certificate c = certified_rank(blocks({p[0]}), true);  // rank 1 mod p0, 2 over Q
  REQUIRE(c.rank == 2);
  REQUIRE(c.primes_tried == 2);
  REQUIRE(c.prime == p[1]);
  REQUIRE(c.peeled == 0);
  REQUIRE(c.has_kernel);
  REQUIRE(c.kernel.empty());
}

TEST_CASE("when every prime divides a minor, rational elimination decides, and gives the kernel", "[certified_rank]") {
  auto p = certified_rank_primes();
  SECTION("full rank") {
    rank_certificate c =
        certified_rank(blocks({p[0], p[1], p[2]}, /*chain=*/true));  // each prime sees rank 5; over Q 6
    REQUIRE(c.rank == 6);
    REQUIRE(c.method == "rational-elimination");
    REQUIRE(c.primes_tried == 3);
    REQUIRE(c.blocks == 1);
    REQUIRE(!c.has_kernel);  // not asked for
  }
  SECTION("with a kernel") {
    int_matrix a = blocks({p[0], p[1], p[2]}, /*chain=*/true, /*twin=*/true);
    rank_certificate c = certified_rank(a, true);
    REQUIRE(c.rank == 6);
    REQUIRE(c.method == "rational-elimination");
    REQUIRE(c.primes_tried == 3);
    require_kernel_exact(a, c);
    REQUIRE(c.kernel == std::vector<sparse_int_vector>{{{0, -1}, {6, 1}}});  // the free column 6, scaled to 1
  }
  SECTION("unchained, each block is decided on its own, by the first prime that certifies it") {
    rank_certificate c = certified_rank(blocks({p[0], p[1], p[2]}), true);
    REQUIRE(c.rank == 6);
    REQUIRE(c.method == "modular-gram");
    REQUIRE(c.blocks == 3);
    REQUIRE(c.primes_tried == 2);
    REQUIRE(c.prime == p[1]);
    REQUIRE(c.has_kernel);
  }
}

TEST_CASE("a kernel vector past 64 bits: the rank is exact, the kernel reported missing", "[certified_rank]") {
  // x1 = 2^40 x0, x2 = 2^40 x1: the kernel is (1, 2^40, 2^80).
  int_matrix a;
  a.cols = 3;
  const std::int64_t big = std::int64_t{1} << 40;
  std::vector<std::pair<std::uint32_t, std::int64_t>> r0{{0, big}, {1, -1}}, r1{{1, big}, {2, -1}};
  a.add_row(r0);
  a.add_row(r1);
  rank_certificate c = certified_rank(a, true);
  REQUIRE(c.rank == 2);
  REQUIRE(!c.has_kernel);
  REQUIRE(c.kernel.empty());
  // Within 64 bits the same shape is fine: (1, 2^20, 2^40).
  int_matrix b;
  b.cols = 3;
  std::vector<std::pair<std::uint32_t, std::int64_t>> s0{{0, 1 << 20}, {1, -1}}, s1{{1, 1 << 20}, {2, -1}};
  b.add_row(s0);
  b.add_row(s1);
  rank_certificate d = certified_rank(b, true, rational_only());
  REQUIRE(d.rank == 2);
  require_kernel_exact(b, d);
  REQUIRE(d.kernel == std::vector<sparse_int_vector>{{{0, 1}, {1, 1 << 20}, {2, std::int64_t{1} << 40}}});
}

TEST_CASE("a block-diagonal 0/1 matrix past the dense limit: split into blocks, kernel verified", "[certified_rank]") {
  // 1600 copies of the complete bipartite K_{2,2} incidence (rows a_t + b_s, t, s in {0, 1}): the
  // shape of B M for conv:len=6,ch=1-1600-1,k=2, one block per channel. 6400 columns, rank 3 per
  // block, kernel (1, 1, -1, -1) per block.
  const std::uint32_t channels = 1600;
  int_matrix a;
  a.cols = 4 * channels;
  for (std::uint32_t c = 0; c < channels; ++c)
    for (std::uint32_t t = 0; t < 2; ++t)
      for (std::uint32_t s = 0; s < 2; ++s) {
        std::vector<std::uint32_t> row{4 * c + t, 4 * c + 2 + s};
        a.add_01_row(row);
      }
  REQUIRE(a.cols > certified_rank_options{}.max_dense_columns);
  rank_certificate c = certified_rank(a, true);
  REQUIRE(c.rank == 3 * channels);
  REQUIRE(c.method == "modular-gram");
  REQUIRE(c.blocks == channels);
  REQUIRE(c.largest_block == 4);
  require_kernel_exact(a, c);
  // The same through the rational elimination, block by block.
  rank_certificate r = certified_rank(a, true, rational_only());
  REQUIRE(r.rank == 3 * channels);
  REQUIRE(r.method == "rational-elimination");
  require_kernel_exact(a, r);
}

TEST_CASE("singleton columns are peeled, and the kernel still verifies", "[certified_rank]") {
  // Columns 0 and 3 each occur once; peeling them leaves rows {1,2}, {1,2}: rank 1 + 2 = 3 of 4.
  int_matrix a;
  a.cols = 5;
  std::vector<std::pair<std::uint32_t, std::int64_t>> r0{{0, 3}, {1, 1}}, r1{{1, 2}, {2, 2}},
      r2{{1, 1}, {2, 1}, {3, 5}}, r3{{1, -1}, {2, -1}};
  for (const auto* r : {&r0, &r1, &r2, &r3}) a.add_row(*r);
  rank_certificate c = certified_rank(a, true);
  REQUIRE(c.rank == 3);
  REQUIRE(c.peeled == 2);
  require_kernel_exact(a, c);
}

TEST_CASE("unused columns are kernel vectors, repeated columns add up", "[certified_rank]") {
  int_matrix a;
  a.cols = 4;
  std::vector<std::uint32_t> r0{0, 0}, r1{0};  // (2,0,0,0) and (1,0,0,0): rank 1
  a.add_01_row(r0);
  a.add_01_row(r1);
  rank_certificate c = certified_rank(a, true);
  REQUIRE(c.rank == 1);
  require_kernel_exact(a, c);
  int_matrix empty;
  empty.cols = 3;
  REQUIRE(certified_rank(empty).rank == 0);
}
