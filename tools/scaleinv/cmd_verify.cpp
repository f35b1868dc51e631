// tools/scaleinv/cmd_verify.cpp: `scaleinv verify NET`: the independent, enumerating check.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>

#include "cli.hpp"
#include "commands.hpp"
#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/enumerate.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv::cli {
namespace {
struct verify_options {
  std::string net;
  bool json = false;
  std::uint64_t max_paths = 1000000;
};
}  // namespace

action add_verify(CLI::App& app) {
  auto o = std::make_shared<verify_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_flag("--json", o->json, "print JSON: {\"paths\", \"rank\", \"dimension\", \"agree\", ...}");
  app.add_option("--max-paths", o->max_paths, "refuse networks with more paths than this (default 1000000)")
      ->check(non_negative());
  app.footer(
      "Enumerates every path, builds the path-edge incidence matrix A and computes its rank exactly over\n"
      "the rationals (rank of A^T A modulo a prime, certified by an exactly verified kernel basis; see\n"
      "lib/include/scaleinv/exact/certified_rank.hpp), then compares it with the structural dimension\n"
      "E_on - H_on. It also checks that every path's coordinates rebuild its row of A exactly, which with\n"
      "the rank proves the basis paths a basis.\n"
      "Exit code 1 when a check fails.");
  return [o](std::ostream& out) {
    auto start = std::chrono::steady_clock::now();
    network net = load_network(o->net);
    active_subgraph active = find_active(net);
    path_basis basis = make_basis(net, active);
    const std::size_t dimension = active.active_edges - active.active_hidden;
    const auto columns = static_cast<std::uint32_t>(net.num_edges());
    std::vector<std::vector<edge_id>> basis_rows(basis.size());
    for (std::size_t i = 0; i < basis.size(); ++i) basis_rows[i] = basis_path(net, basis, i);
    int_matrix a;
    a.cols = columns;
    // With shared parameters, also A M: the same rows with each edge replaced by its parameter.
    const bool shared = net.has_params();
    std::vector<std::uint32_t> param_col = shared ? parameter_columns(net) : std::vector<std::uint32_t>{};
    int_matrix am;
    am.cols = static_cast<std::uint32_t>(net.num_parameters());
    std::vector<std::uint32_t> mapped;
    // Coordinates: sum_i exponent_i * row(B_i) must equal row(path), entry by entry. The scratch
    // row is cleared through the list of entries touched, so a path costs O(its coordinates).
    std::vector<std::int64_t> scratch(columns, 0);
    std::vector<edge_id> touched;
    std::uint64_t coordinates_ok = 0;
    std::uint64_t paths = for_each_path(net, o->max_paths, [&](std::span<const edge_id> path) {
      a.add_01_row(path);
      if (shared) {
        mapped.clear();
        for (edge_id e : path) mapped.push_back(param_col[e]);
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
    double rank_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - enumerated).count();
    bool agree = rank.rank == dimension;
    std::size_t shared_rank = 0, shared_dimension = 0;
    if (shared) {
      shared_rank = certified_rank(am).rank;
      shared_dimension = analyze_shared(net, active, basis).dimension;
      agree = agree && shared_rank == shared_dimension;
    }
    bool coords = coordinates_ok == paths;
    // Every path is an integer combination of the basis paths, so they span the row space; there
    // are as many as the rank, so they are a basis (independent), exactly.
    bool independent = coords && basis.size() == rank.rank;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o->json) {
      nlohmann::json j = {{"network", o->net},          {"paths", std::to_string(paths)}, {"rank", rank.rank},
                          {"dimension", dimension},     {"agree", agree},                 {"basis_size", basis.size()},
                          {"basis_independent", independent}, {"coordinates_ok", coords},
                          {"rank_method", rank.method}, {"prime", rank.prime},            {"rank_seconds", rank_seconds},
                          {"seconds", seconds}};
      if (shared) {
        j["shared_rank"] = shared_rank;
        j["shared_dimension"] = shared_dimension;
      }
      out << j.dump(2) << "\n";
    } else {
      out << fmt::format("paths            {}\n", paths);
      out << fmt::format("rank of A        {}  (exact over Q: {}{})\n", rank.rank, rank.method,
                         rank.prime != 0 ? fmt::format(", p = {}", rank.prime) : "");
      out << fmt::format("E_on - H_on      {}\n", dimension);
      if (shared) {
        out << fmt::format("rank of A M      {}  (enumerated, exact)\n", shared_rank);
        out << fmt::format("rank of B M      {}  (basis rows, exact: what analyze reports)\n", shared_dimension);
      }
      out << fmt::format("agree            {}\n", agree ? "yes" : "NO");
      out << fmt::format("basis            {} paths: {}\n", basis.size(), independent ? "a basis (spanning, as many as the rank)" : "NOT A BASIS");
      out << fmt::format("coordinates      {} of {} paths rebuilt exactly\n", coordinates_ok, paths);
      out << fmt::format("time             {:.3f} s (rank {:.3f} s)\n", seconds, rank_seconds);
    }
    return agree && independent && coords ? ok : check_failed;
  };
}

}  // namespace scaleinv::cli
