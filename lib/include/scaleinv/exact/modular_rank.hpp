// scaleinv/exact/modular_rank.hpp: the dense kernel of the exact ranks: the rank modulo a prime of
// a symmetric matrix (a Gram matrix), a kernel basis modulo that prime, and the rational
// reconstruction that turns a kernel vector into a small integer vector to be checked exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace scaleinv {

/// The rank modulo p of the dense symmetric n x n matrix g (row-major; entries reduced, < p),
/// by symmetric Gaussian elimination with diagonal pivots (LDL^T on the upper triangle, n^3 / 6
/// multiply-adds with lazy reduction). g is overwritten by the echelon form that
/// modular_kernel_vector reads. pivots receives the pivot columns, increasing.
///
/// Meant for Gram matrices B^T B, which are positive semidefinite over Q: there a zero diagonal
/// entry means a zero row, so skipping it loses nothing. Modulo p a diagonal entry can vanish by
/// accident; the pivots found are still those of a nonsingular principal minor modulo p, so the
/// result is a lower bound of the rank over Q (an integer matrix's rank modulo p never exceeds
/// it), and the kernel vector of the skipped column fails an exact check.
/// @pre p < 2^25 (certified_rank_primes()); any n (the lazy sums are reduced every 8192 pivots).
std::size_t symmetric_rank_mod(std::vector<std::uint64_t>& g, std::size_t n, std::uint64_t p,
                               std::vector<std::uint32_t>& pivots);

/// The kernel vector modulo p of the non-pivot column j, from the echelon form left in g by
/// symmetric_rank_mod: x_j = 1, 0 in every other non-pivot column, the pivot entries by back
/// substitution. O(rank * n).
std::vector<std::uint64_t> modular_kernel_vector(const std::vector<std::uint64_t>& g, std::size_t n, std::uint64_t p,
                                                 const std::vector<std::uint32_t>& pivots, std::size_t j);

/// The inverse of a modulo the prime p < 2^32. @pre a % p != 0.
std::uint64_t inverse_mod(std::uint64_t a, std::uint64_t p);

/// Rational reconstruction (Wang) of every entry of x modulo p as n/d with |n|, d <= 2^12 (so that
/// p > 2 * 2^24 makes it unique), then the common denominator cleared: an integer vector parallel
/// to the rational one that x is the image of. False when some entry has no such n/d or the
/// common denominator passes 2^30: then the caller tries another prime.
bool reconstruct_integer_vector(const std::vector<std::uint64_t>& x, std::uint64_t p, std::vector<std::int64_t>& out);

}  // namespace scaleinv
