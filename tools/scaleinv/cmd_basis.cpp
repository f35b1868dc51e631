// tools/scaleinv/cmd_basis.cpp: `scaleinv basis NET`.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "commands.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"

namespace scaleinv::cli {
namespace {
struct basis_options {
  std::string net;
  bool json = false;
  std::size_t limit = 0;
  std::string output;
  std::string skeleton = "diagonal";
};

std::string describe_path(const network& net, const std::vector<edge_id>& path) {
  std::string nodes = net.node_at(net.edge_at(path.front()).from).id;
  for (edge_id e : path) nodes += " -> " + net.node_at(net.edge_at(e).to).id;
  return nodes;
}
}  // namespace

action add_basis(CLI::App& app) {
  auto o = std::make_shared<basis_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_flag("--json", o->json, "print JSON: {\"dimension\", \"basis\": [[edge, ...], ...], \"owned\": [edge, ...]}");
  app.add_option("--limit", o->limit, "list at most N basis paths (default 0: all)")->check(non_negative());
  app.add_option("-o,--output", o->output, "write to this file (atomically) instead of standard output");
  app.add_option(
         "--skeleton", o->skeleton,
         "how each unit's p() and c() edges are chosen: diagonal (default; the G-SGD authors' skeleton: on an MLP,\n"
         "unit j's p() comes from unit j mod n(l-1) and its c() goes to unit j mod n(l+1)) or first (the edges of\n"
         "least index)")
      ->check(CLI::IsMember({"diagonal", "first"}));
  app.footer(
      "Basis path i is B(f) = prefix(tail f) + f + suffix(head f) for the i-th free edge f (an active edge\n"
      "that is no unit's chosen incoming edge p(v)); p(v) and c(v) are the skeleton: an active incoming and an\n"
      "active outgoing edge of each unit, chosen from the graph alone by --skeleton (math.md section 4;\n"
      "docs/training.md for the diagonal rule on any DAG).\n"
      "With shared parameters (param in the JSON, conv: specs) these are the E_on - H_on basis paths of the\n"
      "unshared path space; the network's dimension is then rank(A M), printed beside them (JSON:\n"
      "shared_dimension) and reported by analyze.");
  return [o](std::ostream& out) {
    network net = load_network(o->net);
    active_subgraph active = find_active(net);
    path_basis basis = make_basis(net, active, parse_skeleton(o->skeleton));
    std::size_t n = o->limit == 0 ? basis.size() : std::min(o->limit, basis.size());
    // With shared parameters the basis paths are those of the unshared path space (E_on - H_on of
    // them), while the network's dimension is rank(A M): say both, so that the number printed here
    // is not mistaken for what analyze reports.
    std::optional<std::size_t> shared_dimension;
    if (net.has_parameter_map() && !o->json) shared_dimension = analyze_shared(net, active, basis).dimension;
    std::string text;
    if (o->json) {
      text = basis_json(net, basis, o->net, o->limit).dump() + "\n";  // shared_dimension too
    } else {
      const std::string listed = n < basis.size() ? fmt::format(", first {} listed", n) : "";
      if (shared_dimension) {
        text = fmt::format(
            "{} basis paths (the unshared dimension E_on - H_on: a basis of the path space as if every edge had its "
            "own weight), {} skeleton{}\n"
            "{}: the network's dimension is rank(A M) = {} over its {} parameters, what `analyze` "
            "reports\n",
            basis.size(), to_string(basis.skeleton), listed, net.has_params() ? "shared parameters" : "constant edges",
            *shared_dimension, net.num_parameters());
      } else {
        text = fmt::format("{} basis paths (the dimension), {} skeleton{}\n", basis.size(), to_string(basis.skeleton),
                           listed);
      }
      for (std::size_t i = 0; i < n; ++i) {
        auto path = basis_path(net, basis, i);
        std::string edges;
        for (edge_id e : path) edges += (edges.empty() ? "" : ",") + std::to_string(e);
        text +=
            fmt::format("B{}  edges {}  ({})  owns edge {}\n", i, edges, describe_path(net, path), basis.free_edges[i]);
      }
    }
    emit(out, o->output, text);
    return 0;
  };
}

}  // namespace scaleinv::cli
