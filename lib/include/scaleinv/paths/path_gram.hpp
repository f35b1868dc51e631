// scaleinv/paths/path_gram.hpp: the exact rank of the path-edge incidence matrix A from its Gram
// matrix G = A^T A, built from path counts without listing a single path, and what that will cost.
#pragma once

#include <cstddef>
#include <cstdint>

#include <string>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/network.hpp"
#include "scaleinv/paths/active.hpp"

namespace scaleinv {

/// A request refused before the work because its estimated cost passes the caller's limit; the
/// message gives the estimated time and memory and the limit.
class too_costly : public invalid_argument {
 public:
  too_costly(const std::string& message, double seconds, double bytes)
      : invalid_argument(message), seconds_(seconds), bytes_(bytes) {}
  double seconds() const noexcept { return seconds_; }  ///< the estimated wall time
  double bytes() const noexcept { return bytes_; }      ///< the estimated peak memory

 private:
  double seconds_, bytes_;
};

/// The sizes that decide the cost of rank_by_path_gram, and its estimate.
struct path_gram_plan {
  std::size_t columns = 0;  ///< active edges: the columns of A that are not 0
  /// The largest level of active edges (edges whose tails have one longest-path depth). No path
  /// holds two of them, so G is diagonal on them, with their path counts on the diagonal: they are
  /// eliminated first, one division each, and their Schur complement touches only the pairs of
  /// other edges that share a path with one of them.
  std::size_t diagonal = 0;
  std::size_t dense = 0;     ///< the other active edges: their Schur complement is eliminated densely
  std::size_t interior = 0;  ///< scalable hidden units: the table of path counts between them
  std::size_t kernel = 0;    ///< the kernel vectors expected (H_on, from the structure; an estimate)
  double seconds = 0;        ///< estimated wall time, one core of the development machine
  double bytes = 0;          ///< estimated peak memory
};

/// O(V + E). @pre net.is_finalized(); active = find_active(net).
path_gram_plan plan_path_gram(const network& net, const active_subgraph& active);

/// An exact rank of A over Q obtained from G.
struct path_gram_rank {
  std::size_t rank = 0;
  bool certified = false;   ///< false: no prime certified it, and rank means nothing
  std::uint64_t prime = 0;  ///< the prime that certified it
  unsigned primes_tried = 0;
  std::size_t kernel_vectors = 0;  ///< columns - rank integer kernel vectors, each checked exactly
};

/// A k = 0 exactly, without listing a path: along every path the entries of k (one per edge; those
/// of inactive edges are ignored) sum to 0. True iff every path prefix that reaches a scalable unit
/// has one common sum and every path arrives at its sink with sum 0 (two prefixes with different
/// sums, completed by one suffix, would give two paths with different sums). O(V + E), exact.
/// @pre k.size() == net.num_edges(); active = find_active(net).
bool annihilates_every_path(const network& net, const active_subgraph& active, const std::vector<std::int64_t>& k);

/// The rank of A (rows: every path; columns: edges; A_pe = 1 when path p holds edge e) over Q,
/// exactly, without enumerating paths.
///
/// G_ef is the number of paths through both e and f: paths(source -> tail e) * paths(head e ->
/// tail f) * paths(head f -> sink) when e precedes f, counted by dynamic programming modulo a prime
/// p < 2^25. rank_Q(A) = rank_Q(G). Modulo p, the diagonal level is eliminated by its path counts
/// and the Schur complement of the other edges densely (symmetric_rank_mod): r = rank_p(G) <=
/// rank_Q(G), a lower bound. Each non-pivot column gives a kernel vector modulo p, lifted to an
/// integer vector k by rational reconstruction and checked exactly, still without enumeration
/// (annihilates_every_path, in 128-bit integers). The columns - r checked vectors are independent (each is nonzero in
/// its own non-pivot column, zero in the others), so rank_Q(A) <= r. When reconstruction or a check fails (p divides a
/// minor or a path count), the next prime is tried; after three, certified is false.
///
/// @param max_seconds refuse, before the expensive part, when the pairs sharing a path with the
/// diagonal level make the Schur complement cost more than this (plan_path_gram cannot see them).
/// @throws too_costly in that case, or when plan_path_gram's own estimate passes max_seconds.
/// @pre net.is_finalized(); active = find_active(net).
path_gram_rank rank_by_path_gram(const network& net, const active_subgraph& active, double max_seconds);

}  // namespace scaleinv
