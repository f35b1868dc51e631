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

/// A sparse integer vector: (column, value) pairs, columns increasing, values nonzero.
using sparse_int_vector = std::vector<std::pair<std::uint32_t, std::int64_t>>;

/// How an exact rank was obtained.
struct rank_certificate {
  std::size_t rank = 0;
  /// "modular-gram" when every block (below) was decided by the rank of its B^T B modulo a prime
  /// with a verified kernel basis, or needed no elimination; "rational-elimination" when at least
  /// one block was decided by the exact rational elimination (too large for the dense modular
  /// path, or no prime certified it). Either way the rank is exact.
  std::string method;
  std::uint64_t prime = 0;        ///< the last prime some block needed (0: no block needed one)
  unsigned primes_tried = 0;      ///< the most primes any one block tried
  std::size_t peeled = 0;         ///< rows decided by singleton-column peeling before elimination
  std::size_t blocks = 0;         ///< connected blocks left after peeling, each decided on its own
  std::size_t largest_block = 0;  ///< columns of the largest block
  /// True when `kernel` holds a basis of the kernel {x : A x = 0} over Q: cols - rank integer
  /// vectors, each verified exactly (A x = 0 in exact integer arithmetic). Set only when the
  /// kernel was asked for; false also in the rare case that a kernel vector does not fit 64-bit
  /// entries (the rank is exact all the same; the kernel is then left empty).
  bool has_kernel = false;
  std::vector<sparse_int_vector> kernel;
};

/// Tuning of certified_rank; the defaults are what production uses.
struct certified_rank_options {
  /// Blocks with at most this many columns (and never more than 8192) are eliminated densely
  /// modulo a prime (8 c^2 bytes for c columns); larger blocks go to the exact rational
  /// elimination. 0 sends every block there.
  std::size_t max_dense_columns = 6144;
};

/// The exact rank of A over Q, and with want_kernel a verified integer basis of its kernel.
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
/// rational elimination (rational_eliminator) decides; its reduced echelon form gives the kernel
/// too (one vector per free column, scaled to a primitive integer vector and checked exactly).
///
/// Before all that, singleton columns are peeled: a column with one nonzero entry, in row r,
/// gives rank(A) = 1 + rank(A minus row r and the column); the kernel vectors of the rest extend
/// to the peeled columns exactly. What is left splits into connected blocks (columns joined by a
/// row holding both: for a convolution, one block per channel); A is block diagonal in them, so
/// its rank is the sum of the blocks' ranks and its kernel the direct sum of theirs, and each
/// block is decided on its own.
///
/// Cost: O(nnz) to peel and split; per block of c columns, O(nnz * row length) to form G,
/// O(c^3 / 6) word operations and 8 c^2 bytes for the elimination, O((c - r) (r^2 + nnz)) for
/// the kernel; blocks above options.max_dense_columns columns go to the rational elimination
/// (exact, slower, memory in its fill-in).
rank_certificate certified_rank(const int_matrix& a, bool want_kernel = false);
rank_certificate certified_rank(const int_matrix& a, bool want_kernel, const certified_rank_options& options);

/// The primes certified_rank tries, in order (all below 2^25).
std::span<const std::uint64_t> certified_rank_primes();

}  // namespace scaleinv
