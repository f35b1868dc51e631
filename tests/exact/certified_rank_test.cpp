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

void require_kernel_exact(const int_matrix& a, const rank_certificate& c) {
  REQUIRE(c.kernel.size() == a.cols - c.rank);
  for (const auto& k : c.kernel) {
    REQUIRE(k.size() == a.cols);
    bool nonzero = false;
    for (auto x : k) nonzero = nonzero || x != 0;
    REQUIRE(nonzero);
    for (std::size_t r = 0; r < a.rows(); ++r) {
      mpz_class s = 0;
      for (std::size_t t = a.start[r]; t < a.start[r + 1]; ++t) s += mpz_class(static_cast<long>(a.val[t])) * static_cast<long>(k[a.col[t]]);
      REQUIRE(s == 0);
    }
  }
  // Independent: rank of the kernel vectors is their number.
  std::vector<sparse_row> kr;
  for (const auto& k : c.kernel) {
    sparse_row r;
    for (std::uint32_t i = 0; i < k.size(); ++i)
      if (k[i] != 0) r.emplace_back(i, mpq_class(static_cast<long>(k[i])));
    kr.push_back(r);
  }
  REQUIRE(exact_rank(kr, a.cols) == c.kernel.size());
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
        e.emplace_back(static_cast<std::uint32_t>(rng.below(cols)), zero_one ? 1 : static_cast<std::int64_t>(rng.below(11)) - 5);
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
    REQUIRE(c.rank == exact_rank(m.rows, cols));
    // 0/1 matrices (path matrices) have small kernel vectors, so the fast path must decide them;
    // small-integer ones may need large denominators and fall back, which is still exact.
    if (zero_one) REQUIRE(c.method == "modular-gram");
    if (c.method == "modular-gram") require_kernel_exact(m.a, c);
  }
}

namespace {
// Block i is [[p_i + 1, 1], [1, 1]], of determinant p_i: singular modulo p_i only. No column has a
// single nonzero, so peeling cannot decide it.
int_matrix blocks(const std::vector<std::uint64_t>& primes) {
  int_matrix a;
  a.cols = static_cast<std::uint32_t>(2 * primes.size());
  for (std::uint32_t i = 0; i < primes.size(); ++i) {
    std::vector<std::pair<std::uint32_t, std::int64_t>> r0{{2 * i, static_cast<std::int64_t>(primes[i]) + 1}, {2 * i + 1, 1}},
        r1{{2 * i, 1}, {2 * i + 1, 1}};
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
  REQUIRE(c.kernel.empty());
}

TEST_CASE("when every prime divides a minor, rational elimination decides", "[certified_rank]") {
  auto p = certified_rank_primes();
  rank_certificate c = certified_rank(blocks({p[0], p[1], p[2]}));  // each prime sees rank 5; over Q 6
  REQUIRE(c.rank == 6);
  REQUIRE(c.method == "rational-elimination");
  REQUIRE(c.primes_tried == 3);
}

TEST_CASE("singleton columns are peeled, and the kernel still verifies", "[certified_rank]") {
  // Columns 0 and 3 each occur once; peeling them leaves rows {1,2}, {1,2}: rank 1 + 2 = 3 of 4.
  int_matrix a;
  a.cols = 5;
  std::vector<std::pair<std::uint32_t, std::int64_t>> r0{{0, 3}, {1, 1}}, r1{{1, 2}, {2, 2}}, r2{{1, 1}, {2, 1}, {3, 5}},
      r3{{1, -1}, {2, -1}};
  for (const auto* r : {&r0, &r1, &r2, &r3}) a.add_row(*r);
  rank_certificate c = certified_rank(a, true);
  REQUIRE(c.rank == 3);
  REQUIRE(c.peeled == 2);
  require_kernel_exact(a, c);
}

TEST_CASE("unused columns are kernel vectors; repeated columns add up", "[certified_rank]") {
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
