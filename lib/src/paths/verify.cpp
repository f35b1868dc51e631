// verify.cpp: enumerate every path, build A, rank it exactly, check every path's coordinates.
#include "scaleinv/paths/verify.hpp"

#include <chrono>
#include <span>
#include <vector>

#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/enumerate.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv {

verify_result verify(const network& net, std::uint64_t max_paths) {
  auto start = std::chrono::steady_clock::now();
  active_subgraph active = find_active(net);
  path_basis basis = make_basis(net, active);
  const std::size_t dimension = active.active_edges - active.active_hidden;
  const auto columns = static_cast<std::uint32_t>(net.num_edges());
  std::vector<std::vector<edge_id>> basis_rows(basis.size());
  for (std::size_t i = 0; i < basis.size(); ++i) basis_rows[i] = basis_path(net, basis, i);
  int_matrix a;
  a.cols = columns;
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
    a.add_01_row(path);
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
  auto enumerated = std::chrono::steady_clock::now();
  rank_certificate rank = certified_rank(a);
  verify_result r;
  r.rank_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - enumerated).count();
  bool agree = rank.rank == dimension;
  if (shared) {
    r.shared_rank = certified_rank(am).rank;
    r.shared_dimension = analyze_shared(net, active, basis).dimension;
    agree = agree && r.shared_rank == r.shared_dimension;
  }
  r.paths = paths;
  r.rank = rank.rank;
  r.rank_method = rank.method;
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
