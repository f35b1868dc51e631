// scaleinv/paths/verify.hpp: the independent, enumerating check of the structural answers: every
// path listed, the path-edge incidence matrix A built, its rank computed exactly over Q, and every
// path's basis coordinates checked against its row of A.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// What `scaleinv verify` reports.
struct verify_result {
  std::uint64_t paths = 0;         ///< paths enumerated (rows of A)
  std::size_t rank = 0;            ///< rank of A over Q, exact (certified_rank)
  std::string rank_method;         ///< how the rank was certified (rank_certificate::method)
  std::uint64_t prime = 0;         ///< the prime of a modular-gram rank, else 0
  std::size_t dimension = 0;       ///< the structural answer E_on - H_on
  /// With shared parameters: rank(A M) from the enumerated rows, and rank(B M) from the basis rows
  /// (what analyze reports); both 0 without.
  bool shared = false;
  std::size_t shared_rank = 0, shared_dimension = 0;
  std::size_t basis_size = 0;      ///< basis paths (make_basis)
  std::uint64_t coordinates_ok = 0;  ///< paths whose coordinates rebuild their row of A exactly
  /// rank == dimension (and, when shared, shared_rank == shared_dimension).
  bool agree = false;
  bool coordinates_exact = false;  ///< coordinates_ok == paths
  /// Every path is an integer combination of the basis paths (coordinates_exact), so they span
  /// the row space; there are as many as the rank, so they are a basis, exactly.
  bool basis_independent = false;
  double rank_seconds = 0;         ///< wall time of the rank of A
  double seconds = 0;              ///< wall time of the whole check
  /// Every check passed: agree, coordinates_exact and basis_independent.
  bool passed() const noexcept { return agree && coordinates_exact && basis_independent; }
};

/// Enumerates every path of net (for_each_path), builds A (and A M with shared parameters),
/// computes the ranks exactly, and checks every path's coordinates (path_coordinates) against its
/// row of A. A failed check is a result (passed() false), not a throw.
/// @pre net.is_finalized().
/// @throws invalid_argument, before enumerating, when net has more than max_paths paths.
verify_result verify(const network& net, std::uint64_t max_paths = 1000000);

}  // namespace scaleinv
