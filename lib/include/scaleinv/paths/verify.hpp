// scaleinv/paths/verify.hpp: the independent check of the structural answers: the rank of the
// path-edge incidence matrix A computed exactly over Q (from its Gram matrix of path counts), and
// every path listed and its basis coordinates checked against its row of A.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/path_gram.hpp"

namespace scaleinv {

/// What `scaleinv verify` reports.
struct verify_result {
  std::uint64_t paths = 0;    ///< paths enumerated (rows of A)
  std::size_t rank = 0;       ///< rank of A over Q, exact (rank_by_path_gram)
  std::string rank_method;    ///< how the rank was certified: "path-gram"
  std::uint64_t prime = 0;    ///< the prime that certified the rank
  std::size_t dimension = 0;  ///< the structural answer E_on - H_on
  /// With shared parameters: rank(A M) from the enumerated rows, and rank(B M) from the basis rows
  /// (what analyze reports); both 0 without.
  bool shared = false;
  std::size_t shared_rank = 0, shared_dimension = 0;
  std::size_t basis_size = 0;        ///< basis paths (make_basis)
  std::uint64_t coordinates_ok = 0;  ///< paths whose coordinates rebuild their row of A exactly
  /// rank == dimension (and, when shared, shared_rank == shared_dimension).
  bool agree = false;
  bool coordinates_exact = false;  ///< coordinates_ok == paths
  /// Every path is an integer combination of the basis paths (coordinates_exact), so they span
  /// the row space; there are as many as the rank, so they are a basis, exactly.
  bool basis_independent = false;
  double rank_seconds = 0;  ///< wall time of the rank of A
  double seconds = 0;       ///< wall time of the whole check
  /// Every check passed: agree, coordinates_exact and basis_independent.
  bool passed() const noexcept { return agree && coordinates_exact && basis_independent; }
};

/// What verify will cost, before any of it is done. O(V + E) plus big-integer path counts.
struct verify_cost {
  std::string paths;           ///< the exact number of paths (decimal: it may pass 2^64)
  double entries = 0;          ///< entries of A (the sum of the path lengths), listed by the coordinate check
  path_gram_plan gram;         ///< the rank of A
  std::size_t parameters = 0;  ///< with shared parameters, the columns of A M (else 0)
  double seconds = 0;          ///< estimated wall time (the development machine, one core)
  double bytes = 0;            ///< estimated peak memory
};

/// @pre net.is_finalized().
verify_cost estimate_verify(const network& net);

/// Computes rank A exactly over Q from its Gram matrix without enumeration (rank_by_path_gram),
/// then enumerates every path of net (for_each_path), checks its coordinates (path_coordinates)
/// against its row of A, and with shared parameters builds A M and ranks it (certified_rank).
/// A failed check is a result (passed() false), not a throw.
/// @pre net.is_finalized().
/// @throws invalid_argument, before enumerating, when net has more than max_paths paths;
/// too_costly, before the expensive work, when the estimated time (estimate_verify, then the
/// Schur complement's size) passes max_seconds; std::runtime_error in the unheard-of case that none
/// of the primes certifies the rank.
verify_result verify(const network& net, std::uint64_t max_paths = 1000000, double max_seconds = 60);

}  // namespace scaleinv
