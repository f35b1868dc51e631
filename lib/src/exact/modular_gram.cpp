// modular_gram.cpp: one modular attempt of certified_rank: G = A^T A modulo a prime, its
// elimination, and the kernel vectors reconstructed as integers and checked exactly against A.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>

#include "rank_internal.hpp"
#include "scaleinv/exact/modular_rank.hpp"

namespace scaleinv::detail {
using u64 = std::uint64_t;
__extension__ typedef __int128 i128;  // GCC/Clang extension, for exact checks

u64 mod_of(std::int64_t v, u64 p) {
  std::int64_t r = v % static_cast<std::int64_t>(p);
  return static_cast<u64>(r < 0 ? r + static_cast<std::int64_t>(p) : r);
}

__extension__ typedef unsigned __int128 u128;

// Barrett reduction of any 64-bit a modulo p < 2^25: q = floor(a * floor(2^64 / p) / 2^64) is
// within 1 of a / p, so one conditional subtraction finishes. A multiply instead of a division.
struct barrett {
  u64 p, m;
  explicit barrett(u64 prime) : p(prime), m(~static_cast<u64>(0) / prime) {}
  u64 reduce(u64 a) const {
    u64 q = static_cast<u64>((static_cast<u128>(a) * m) >> 64);
    u64 r = a - q * p;
    return r >= p ? r - p : r;
  }
};

// The inner loop of the elimination, g[j] += m * u[j] for j in [0, len); the compiler vectorizes it
// (32x32 -> 64-bit products). It is bound by memory traffic, not arithmetic: an AVX2 build of it
// measured no faster on this machine, and a target_clones dispatch was 2.5 times slower.
void lazy_axpy(u64* __restrict g, const std::uint32_t* __restrict u, std::uint32_t m, std::size_t len) {
  for (std::size_t j = 0; j < len; ++j) g[j] += static_cast<u64>(m) * u[j];
}

u64 pow_mod(u64 b, u64 e, u64 p) {
  u64 r = 1;
  b %= p;
  while (e > 0) {
    if (e & 1) r = r * b % p;  // p < 2^25: products fit in 64 bits
    b = b * b % p;
    e >>= 1;
  }
  return r;
}

u64 inverse(u64 a, u64 p) { return pow_mod(a, p - 2, p); }

// Rational reconstruction (Wang): n/d == a mod p with |n|, d <= bound, or false.
bool reconstruct(u64 a, u64 p, std::int64_t bound, std::int64_t& num, std::int64_t& den) {
  std::int64_t r0 = static_cast<std::int64_t>(p), r1 = static_cast<std::int64_t>(a);
  std::int64_t t0 = 0, t1 = 1;
  while (r1 > bound) {
    std::int64_t q = r0 / r1;
    std::int64_t r2 = r0 - q * r1, t2 = t0 - q * t1;
    r0 = r1;
    r1 = r2;
    t0 = t1;
    t1 = t2;
  }
  if (t1 == 0 || std::llabs(t1) > bound) return false;
  if (t1 < 0) {
    t1 = -t1;
    r1 = -r1;
  }
  if (std::gcd(r1, t1) != 1) return false;
  num = r1;
  den = t1;
  return true;
}

// One attempt with prime p: the rank of G mod p and, if every kernel vector verifies, true.
bool modular_gram_attempt(const compact_matrix& a, u64 p, std::size_t& rank,
                          std::vector<std::vector<std::int64_t>>& kernel) {
  const std::size_t n = a.used.size();
  std::vector<u64> g(n * n, 0);
  // G = A^T A mod p. When sum over rows of (row L1 norm)^2 < 2^62, G is accumulated exactly in
  // 64 bits, in place (as signed entries: int64 may alias uint64), and reduced once per entry
  // (path matrices: counts far below p, so no division at all); otherwise each term is reduced as
  // it is added.
  i128 gram_bound = 0;
  for (std::size_t r = 0; r + 1 < a.start.size(); ++r) {
    i128 l1 = 0;
    for (std::size_t t = a.start[r]; t < a.start[r + 1]; ++t) l1 += std::llabs(a.val[t]);
    gram_bound += l1 * l1;
    if (gram_bound >= (static_cast<i128>(1) << 62)) break;
  }
  if (gram_bound < (static_cast<i128>(1) << 62)) {
    auto* exact = reinterpret_cast<std::int64_t*>(g.data());
    for (std::size_t r = 0; r + 1 < a.start.size(); ++r) {
      for (std::size_t i = a.start[r]; i < a.start[r + 1]; ++i) {
        const std::int64_t vi = a.val[i];
        std::int64_t* gi = exact + static_cast<std::size_t>(a.col[i]) * n;
        for (std::size_t j = a.start[r]; j < a.start[r + 1]; ++j) gi[a.col[j]] += vi * a.val[j];
      }
    }
    for (std::size_t i = 0; i < n * n; ++i) {
      const std::int64_t v = exact[i];
      g[i] = v >= 0 && static_cast<u64>(v) < p ? static_cast<u64>(v) : mod_of(v, p);
    }
  } else {
    for (std::size_t r = 0; r + 1 < a.start.size(); ++r) {
      for (std::size_t i = a.start[r]; i < a.start[r + 1]; ++i) {
        u64 vi = mod_of(a.val[i], p);
        u64* gi = g.data() + static_cast<std::size_t>(a.col[i]) * n;
        for (std::size_t j = a.start[r]; j < a.start[r + 1]; ++j) {
          u64& cell = gi[a.col[j]];
          cell = (cell + vi * mod_of(a.val[j], p)) % p;
        }
      }
    }
  }
  std::vector<std::uint32_t> pivot_col;
  rank = symmetric_rank_mod(g, n, p, pivot_col);
  // Kernel vectors mod p, one per non-pivot column, lifted to integers by rational reconstruction.
  std::vector<std::uint8_t> is_pivot(n, 0);
  for (auto c : pivot_col) is_pivot[c] = 1;
  kernel.clear();
  std::vector<std::int64_t> k_vec;
  for (std::size_t j = 0; j < n; ++j) {
    if (is_pivot[j] != 0) continue;
    if (!reconstruct_integer_vector(modular_kernel_vector(g, n, p, pivot_col, j), p, k_vec)) return false;
    kernel.push_back(k_vec);
  }
  // The certificate: A k = 0 exactly, for every row and every kernel vector. Entries of k are
  // below 2^42 and of A below 2^40 (checked by the caller), so each product fits in 128 bits and
  // a row's sum too. When |k| * (largest row L1 norm) < 2^62 the same sums are exact in 64 bits,
  // and the kernel is checked all at once, row by row, from a column-major copy.
  std::int64_t kmax = 0, row_l1 = 0;
  for (const auto& k : kernel)
    for (auto v : k) kmax = std::max<std::int64_t>(kmax, std::llabs(v));
  for (std::size_t row = 0; row + 1 < a.start.size(); ++row) {
    std::int64_t l1 = 0;
    for (std::size_t t = a.start[row]; t < a.start[row + 1]; ++t) l1 += std::llabs(a.val[t]);
    row_l1 = std::max<std::int64_t>(row_l1, l1);
  }
  const std::size_t kd = kernel.size();
  if (kd == 0) return true;
  if (kmax < (1LL << 20) && row_l1 < (1LL << 40)) {
    std::vector<std::int64_t> kt(n * kd), acc(kd);
    for (std::size_t v = 0; v < kd; ++v)
      for (std::size_t c = 0; c < n; ++c) kt[c * kd + v] = kernel[v][c];
    for (std::size_t row = 0; row + 1 < a.start.size(); ++row) {
      std::fill(acc.begin(), acc.end(), 0);
      for (std::size_t t = a.start[row]; t < a.start[row + 1]; ++t) {
        const std::int64_t w = a.val[t];
        const std::int64_t* kc = kt.data() + static_cast<std::size_t>(a.col[t]) * kd;
        for (std::size_t v = 0; v < kd; ++v) acc[v] += w * kc[v];
      }
      for (std::size_t v = 0; v < kd; ++v)
        if (acc[v] != 0) return false;
    }
    return true;
  }
  for (const auto& k : kernel) {
    for (std::size_t row = 0; row + 1 < a.start.size(); ++row) {
      i128 s = 0;
      for (std::size_t t = a.start[row]; t < a.start[row + 1]; ++t) s += static_cast<i128>(a.val[t]) * k[a.col[t]];
      if (s != 0) return false;
    }
  }
  return true;
}

}  // namespace scaleinv::detail

namespace scaleinv {
using detail::barrett;

std::size_t symmetric_rank_mod(std::vector<std::uint64_t>& g, std::size_t n, std::uint64_t p,
                               std::vector<std::uint32_t>& pivots) {
  // Symmetric Gaussian elimination mod p (LDL^T, diagonal pivots, upper triangle only: n^3 / 6
  // word operations) with lazy reduction: g_ij += (p - f) * u_j without a modulo. An entry receives
  // one addition of < p^2 < 2^50 per pivot before it is read; after kMaxLazyColumns (8192) pivots
  // the trailing entries are reduced, so no sum passes 8192 * 2^50 + p < 2^64. Over Q a PSD matrix
  // whose diagonal entry is 0 has a zero row, so skipping it loses nothing; modulo p a diagonal
  // entry may vanish by accident, and then the pivots found are still those of a nonsingular (mod p)
  // principal minor, a lower bound, while the kernel vector of the skipped column fails an exact check.
  pivots.clear();
  std::vector<std::uint32_t> prow(n);
  const barrett br(p);
  std::size_t lazy = 0;
  for (std::size_t c = 0; c < n; ++c) {
    std::uint64_t* pr = g.data() + c * n;
    std::uint64_t d = br.reduce(pr[c]);
    if (d == 0) continue;
    std::uint64_t inv = detail::inverse(d, p);
    for (std::size_t j = c + 1; j < n; ++j) {
      std::uint64_t x = br.reduce(pr[j]);
      pr[j] = x;                                                 // g_cj, reduced: the multipliers below
      prow[j] = static_cast<std::uint32_t>(br.reduce(x * inv));  // u_cj = g_cj / g_cc
    }
    for (std::size_t i = c + 1; i < n; ++i) {
      std::uint64_t f = pr[i];  // g_ci = g_ic by symmetry
      if (f == 0) continue;
      detail::lazy_axpy(g.data() + i * n + i, prow.data() + i, static_cast<std::uint32_t>(p - f), n - i);
    }
    // The echelon row used by the back substitution: u_cj for j > c (row c is final now).
    for (std::size_t j = c + 1; j < n; ++j) pr[j] = prow[j];
    pivots.push_back(static_cast<std::uint32_t>(c));
    if (++lazy == detail::kMaxLazyColumns) {
      lazy = 0;
      for (std::size_t i = c + 1; i < n; ++i)
        for (std::size_t j = i; j < n; ++j) g[i * n + j] = br.reduce(g[i * n + j]);
    }
  }
  return pivots.size();
}

std::vector<std::uint64_t> modular_kernel_vector(const std::vector<std::uint64_t>& g, std::size_t n, std::uint64_t p,
                                                 const std::vector<std::uint32_t>& pivots, std::size_t j) {
  const barrett br(p);
  std::vector<std::uint64_t> x(n, 0);
  x[j] = 1;
  for (std::size_t i = pivots.size(); i-- > 0;) {
    const std::uint64_t* ui = g.data() + static_cast<std::size_t>(pivots[i]) * n;  // pivot i's row: no row swaps
    std::uint64_t s = 0;  // terms < 2^50: reduce after every block of 4096
    for (std::size_t k0 = pivots[i] + 1; k0 < n; k0 += 4096) {
      const std::size_t k1 = std::min(n, k0 + 4096);
      for (std::size_t k = k0; k < k1; ++k) s += ui[k] * x[k];
      s = br.reduce(s);
    }
    x[pivots[i]] = (p - s) % p;
  }
  return x;
}

std::uint64_t inverse_mod(std::uint64_t a, std::uint64_t p) { return detail::inverse(a % p, p); }

bool reconstruct_integer_vector(const std::vector<std::uint64_t>& x, std::uint64_t p, std::vector<std::int64_t>& out) {
  const auto bound = static_cast<std::int64_t>(1) << 12;  // sqrt(p / 2) > 2^12
  const std::size_t n = x.size();
  std::vector<std::int64_t> num(n, 0), den(n, 1);
  std::int64_t lcm = 1;
  for (std::size_t k = 0; k < n; ++k) {
    if (x[k] == 0) continue;
    if (!detail::reconstruct(x[k], p, bound, num[k], den[k])) return false;
    lcm = std::lcm(lcm, den[k]);
    if (lcm > (static_cast<std::int64_t>(1) << 30)) return false;
  }
  out.assign(n, 0);
  for (std::size_t k = 0; k < n; ++k) out[k] = num[k] * (lcm / den[k]);
  return true;
}

}  // namespace scaleinv
