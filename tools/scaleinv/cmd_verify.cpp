// tools/scaleinv/cmd_verify.cpp: `scaleinv verify NET`: the independent, enumerating check.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>

#include "cli.hpp"
#include "commands.hpp"
#include "scaleinv/exact/sparse_rank.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/enumerate.hpp"

namespace scaleinv::cli {
namespace {
struct verify_options {
  std::string net;
  bool json = false;
  std::uint64_t max_paths = 20000;
};
}  // namespace

action add_verify(CLI::App& app) {
  auto o = std::make_shared<verify_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_flag("--json", o->json, "print JSON: {\"paths\", \"rank\", \"dimension\", \"agree\", ...}");
  app.add_option("--max-paths", o->max_paths, "refuse networks with more paths than this (default 20000)");
  app.footer(
      "Enumerates every path, builds the path-edge incidence matrix A and computes its rank exactly over\n"
      "the rationals (GMP), then compares it with the structural dimension E_on - H_on. It also checks that\n"
      "the basis paths are independent and that every path's coordinates rebuild its row of A exactly.\n"
      "Exit code 1 when a check fails.");
  return [o](std::ostream& out) {
    auto start = std::chrono::steady_clock::now();
    network net = load_network(o->net);
    active_subgraph active = find_active(net);
    path_basis basis = make_basis(net, active);
    const std::size_t dimension = active.active_edges - active.active_hidden;
    const auto columns = static_cast<std::uint32_t>(net.num_edges());
    rational_eliminator all(columns);
    std::uint64_t coordinates_ok = 0, paths = 0;
    std::vector<std::vector<edge_id>> basis_rows(basis.size());
    for (std::size_t i = 0; i < basis.size(); ++i) basis_rows[i] = basis_path(net, basis, i);
    paths = for_each_path(net, o->max_paths, [&](std::span<const edge_id> path) {
      all.add(make_row(path));
      // sum_i exponent_i * row(B_i) must equal row(path), entry by entry.
      std::vector<std::int64_t> row(columns, 0);
      for (edge_id e : path) row[e] -= 1;
      for (const auto& c : path_coordinates(net, basis, path))
        for (edge_id e : basis_rows[c.basis]) row[e] += c.exponent;
      bool zero = true;
      for (std::int64_t x : row) zero = zero && x == 0;
      coordinates_ok += zero ? 1 : 0;
    });
    std::size_t basis_rank = exact_rank(basis_rows, columns);
    bool agree = all.rank() == dimension;
    bool independent = basis_rank == basis.size() && basis.size() == dimension;
    bool coords = coordinates_ok == paths;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (o->json) {
      nlohmann::json j = {{"network", o->net},       {"paths", std::to_string(paths)}, {"rank", all.rank()},
                          {"dimension", dimension},  {"agree", agree},                 {"basis_size", basis.size()},
                          {"basis_rank", basis_rank}, {"basis_independent", independent},
                          {"coordinates_ok", coords}, {"seconds", seconds}};
      out << j.dump(2) << "\n";
    } else {
      out << fmt::format("paths            {}\n", paths);
      out << fmt::format("rank of A        {}  (exact, over Q)\n", all.rank());
      out << fmt::format("E_on - H_on      {}\n", dimension);
      out << fmt::format("agree            {}\n", agree ? "yes" : "NO");
      out << fmt::format("basis            {} paths, rank {}: {}\n", basis.size(), basis_rank,
                         independent ? "independent" : "NOT INDEPENDENT");
      out << fmt::format("coordinates      {} of {} paths rebuilt exactly\n", coordinates_ok, paths);
      out << fmt::format("time             {:.3f} s\n", seconds);
    }
    return agree && independent && coords ? ok : check_failed;
  };
}

}  // namespace scaleinv::cli
