// verify.cpp: rank A exactly from its Gram matrix, enumerate every path and check its coordinates.
#include "scaleinv/paths/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <stdexcept>
#include <vector>

#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/count.hpp"
#include "scaleinv/paths/enumerate.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {
namespace {
// Entries of A per second that the enumeration with its coordinate check lists (Release, the
// development machine, rounded down: docs/benchmarks.md, "issue 11: verify"), and multiply-adds
// per second of a dense modular elimination (certified_rank on A M).
constexpr double kEntryRate = 2.0e7;
constexpr double kEliminationRate = 1.0e9;
}  // namespace

verify_cost estimate_verify(const network& net) {
  const active_subgraph active = find_active(net);
  const path_counts counts = count_paths(net);
  mpz_class entries = 0;
  for (const mpz_class& n : edge_path_counts(net, counts)) entries += n;
  verify_cost c;
  c.paths = counts.total.get_str();
  c.entries = entries.get_d();
  c.gram = plan_path_gram(net, active);
  c.parameters = net.has_parameter_map() ? net.num_parameters() : 0;
  const double cols = static_cast<double>(c.parameters);
  c.seconds = c.gram.seconds + c.entries / kEntryRate + cols * cols * cols / 6 / kEliminationRate;
  // The shared case keeps A M (12 bytes an entry) and its dense Gram matrix.
  c.bytes = std::max(c.gram.bytes, c.parameters > 0 ? 12 * c.entries + 8 * cols * cols : 0.0);
  return c;
}

verify_result verify(const network& net, std::uint64_t max_paths, double max_seconds) {
  auto start = std::chrono::steady_clock::now();
  const verify_cost cost = estimate_verify(net);
  // More paths than max_paths: for_each_path refuses below, with its own message.
  if (mpz_class(cost.paths) <= mpz_class(static_cast<unsigned long>(max_paths)) && cost.seconds > max_seconds)
    throw too_costly(fmt::format("the check would take about {:.0f} s and {:.0f} MiB ({} paths with {:.3g} entries to "
                                 "list; the rank of A: {} edges eliminated by their path counts, then {} densely), "
                                 "more than the limit of {:g} s",
                                 cost.seconds, cost.bytes / (1024.0 * 1024.0), cost.paths, cost.entries,
                                 cost.gram.diagonal, cost.gram.dense, max_seconds),
                     cost.seconds, cost.bytes);
  active_subgraph active = find_active(net);
  path_basis basis = make_basis(net, active);
  const std::size_t dimension = active.active_edges - active.active_hidden;
  const auto columns = static_cast<std::uint32_t>(net.num_edges());
  std::vector<std::vector<edge_id>> basis_rows(basis.size());
  for (std::size_t i = 0; i < basis.size(); ++i) basis_rows[i] = basis_path(net, basis, i);
  // With shared parameters or constant edges, also A M: the same rows with each edge replaced by
  // its parameter (a constant edge has no column).
  const bool shared = net.has_parameter_map();
  std::vector<std::uint32_t> param_col = shared ? parameter_columns(net) : std::vector<std::uint32_t>{};
  int_matrix am;
  am.cols = static_cast<std::uint32_t>(net.num_parameters());
  std::vector<std::uint32_t> mapped;
  // Coordinates: sum_i exponent_i * row(B_i) must equal row(path), entry by entry. The scratch
  // row is cleared through the list of entries touched, so a path costs O(its coordinates).
  std::vector<std::int64_t> scratch(columns, 0);
  std::vector<edge_id> touched;
  std::uint64_t coordinates_ok = 0;
  std::uint64_t paths = for_each_path(net, max_paths, [&](std::span<const edge_id> path) {
    if (shared) {
      mapped.clear();
      for (edge_id e : path)
        if (param_col[e] != npos) mapped.push_back(param_col[e]);
      am.add_01_row(mapped);
    }
    touched.clear();
    for (edge_id e : path) {
      scratch[e] -= 1;
      touched.push_back(e);
    }
    for (const auto& c : path_coordinates(net, basis, path)) {
      for (edge_id e : basis_rows[c.basis]) {
        scratch[e] += c.exponent;
        touched.push_back(e);
      }
    }
    bool zero = true;
    for (edge_id e : touched) {
      zero = zero && scratch[e] == 0;
      scratch[e] = 0;
    }
    coordinates_ok += zero ? 1 : 0;
  });
  // The rank, from path counts: no enumeration (the listing above is bounded by max_paths).
  const auto rank_start = std::chrono::steady_clock::now();
  const path_gram_rank rank = rank_by_path_gram(net, active, max_seconds - cost.entries / kEntryRate);
  if (!rank.certified)
    throw std::runtime_error(fmt::format("verify: none of the {} primes certified the rank of A", rank.primes_tried));
  const double rank_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - rank_start).count();
  verify_result r;
  r.rank_seconds = rank_seconds;
  bool agree = rank.rank == dimension;
  if (shared) {
    r.shared_rank = certified_rank(am).rank;
    r.shared_dimension = analyze_shared(net, active, basis).dimension;
    agree = agree && r.shared_rank == r.shared_dimension;
  }
  r.paths = paths;
  r.rank = rank.rank;
  r.rank_method = "path-gram";
  r.prime = rank.prime;
  r.dimension = dimension;
  r.shared = shared;
  r.basis_size = basis.size();
  r.coordinates_ok = coordinates_ok;
  r.agree = agree;
  r.coordinates_exact = coordinates_ok == paths;
  // Every path is an integer combination of the basis paths, so they span the row space; there
  // are as many as the rank, so they are a basis (independent), exactly.
  r.basis_independent = r.coordinates_exact && basis.size() == rank.rank;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace scaleinv
