// rank_internal.hpp (private to lib/src/exact): what certified_rank.cpp and modular_gram.cpp share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace scaleinv::detail {

// The dense path's hard limit whatever certified_rank_options says (memory: 8 c^2 bytes), and the
// number of pivots after which symmetric_rank_mod reduces its lazy sums.
inline constexpr std::size_t kMaxLazyColumns = 8192;

// A with repeated columns summed, zeros dropped, columns renumbered to the used ones.
struct compact_matrix {
  std::vector<std::uint32_t> used;  // compact column -> original column
  std::vector<std::size_t> start{0};
  std::vector<std::uint32_t> col;  // compact
  std::vector<std::int64_t> val;
};

// One attempt with prime p (below 2^25, columns at most 8192): the rank of G = A^T A mod p and, if
// every kernel vector reconstructed from G mod p verifies exactly against A, true with the kernel.
bool modular_gram_attempt(const compact_matrix& a, std::uint64_t p, std::size_t& rank,
                          std::vector<std::vector<std::int64_t>>& kernel);

}  // namespace scaleinv::detail
