// scaleinv/exact/certified_rank.hpp: exact rank over Q of sparse integer matrices, fast, with a
// certificate: a rank modulo a prime (a lower bound) met by a verified integer kernel basis (an
// upper bound).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace scaleinv {

/// A sparse integer matrix in compressed rows. Row i holds columns col[start[i]..start[i+1]) with
/// values val[...]; columns within a row need not be sorted and may repeat (repeats add up).
struct int_matrix {
  std::uint32_t cols = 0;
  std::vector<std::size_t> start{0};
  std::vector<std::uint32_t> col;
  std::vector<std::int64_t> val;

  std::size_t rows() const noexcept { return start.size() - 1; }
  /// Appends a row with entry 1 at each listed column (a path's row of the incidence matrix).
  void add_01_row(std::span<const std::uint32_t> columns);
  /// Appends a row of (column, value) pairs.
  void add_row(std::span<const std::pair<std::uint32_t, std::int64_t>> entries);
};

/// How an exact rank was obtained.
struct rank_certificate {
  std::size_t rank = 0;
  /// "modular-gram": rank of A^T A modulo a prime p, with a verified kernel basis of A; or
  /// "rational-elimination": the exact rational fallback (slow, always correct).
  std::string method;
  std::uint64_t prime = 0;      ///< the prime that gave the rank (modular-gram)
  unsigned primes_tried = 0;
  std::size_t peeled = 0;       ///< rows decided by singleton-column peeling before elimination
  /// An integer basis of the kernel {x : A x = 0} over Q, cols - rank vectors, each verified
  /// exactly (A x = 0 in exact integer arithmetic). Filled when asked for, or always by
  /// modular-gram (it is the upper half of the certificate).
  std::vector<std::vector<std::int64_t>> kernel;
};

/// The exact rank of A over Q.
///
/// Why it is exact. (1) rank_Q(A) = rank_Q(G) for G = A^T A, since A x = 0 iff x^T G x = |A x|^2
/// = 0 over the reals. (2) For an integer matrix, rank mod p <= rank over Q (a nonzero minor mod
/// p is a nonzero integer minor), so the elimination of G mod p gives r <= rank_Q(A). (3) From
/// the echelon form mod p, each non-pivot column j gives a kernel vector; rational reconstruction
/// turns it into an integer vector k_j, which is then checked against every row of A in exact
/// (128-bit, overflow-checked) integer arithmetic. k_j is nonzero in column j and zero in the
/// other non-pivot columns, so the cols - r verified vectors are independent and rank_Q(A) <=
/// cols - (cols - r) = r. Lower and upper bounds meet: the rank is r, exactly. When a check fails
/// (p divides a minor, or reconstruction fails), another prime is tried, and after three the exact
/// rational elimination (rational_eliminator) decides. Before all that, singleton columns are
/// peeled: a column with one nonzero entry, in row r, gives rank(A) = 1 + rank(A minus row r and
/// the column); the kernel vectors of the rest extend to the peeled columns exactly.
///
/// Cost: O(nnz * row length) to form G, O(c^3 / 3) word operations for c nonzero columns, and
/// O((c - r) (r^2 + nnz)) for the kernel, with c the columns left after peeling; the dense path is
/// used for c <= 6144, above that the rational fallback.
rank_certificate certified_rank(const int_matrix& a, bool want_kernel = false);

/// The primes certified_rank tries, in order (all below 2^25).
std::span<const std::uint64_t> certified_rank_primes();

}  // namespace scaleinv
