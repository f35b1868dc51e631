// tools/scaleinv/cmd_equivalent.cpp: `scaleinv equivalent NET_A NET_B`: is B a positive rescaling of A?
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "cli.hpp"
#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"

namespace scaleinv::cli {
namespace {
struct equivalent_options {
  std::string a, b;
  bool json = false;
  bool exact = false;
  double tol = 0.0;
};

std::string scale_text(const equivalence_result& r, node_id v) {
  return r.exact ? to_string(r.exact_scales[v]) : fmt::format("{:.10g}", r.scales[v]);
}

std::string group_text(const network& net, const std::vector<node_id>& group) {
  std::string s;
  for (node_id v : group) s += (s.empty() ? "" : ", ") + net.node_at(v).id;
  return "{" + s + "}";
}

void print_table(std::ostream& out, const network& net, const equivalence_result& r) {
  std::vector<char> is_free(net.num_nodes(), 0);
  for (node_id v : r.undetermined) is_free[v] = 1;
  std::vector<node_id> hidden;
  std::size_t id_width = 4, scale_width = 5;
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    if (net.node_at(v).kind != node_kind::hidden) continue;
    hidden.push_back(v);
    id_width = std::max(id_width, net.node_at(v).id.size());
    scale_width = std::max(scale_width, scale_text(r, v).size());
  }
  out << "w_B(u -> v) = w_A(u -> v) * c(v) / c(u), with c = 1 on inputs, bias nodes and outputs\n";
  if (hidden.empty()) {
    out << "(no hidden units)\n";
    return;
  }
  std::string header = fmt::format("{:<{}}  {:<{}}  note", "unit", id_width, "scale", scale_width);
  out << header << "\n";
  for (node_id v : hidden) {
    std::string note;
    if (!net.is_scalable(v)) note = fmt::format("fixed: {} is not positively homogeneous", net.node_at(v).act.name());
    else if (is_free[v]) note = "undetermined";
    std::string line =
        fmt::format("{:<{}}  {:<{}}  {}", net.node_at(v).id, id_width, scale_text(r, v), scale_width, note);
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << "\n";
  }
  if (!r.undetermined_groups.empty()) {
    std::string groups;
    for (const auto& g : r.undetermined_groups) groups += (groups.empty() ? "" : " ") + group_text(net, g);
    out << fmt::format(
        "undetermined: {} unit{} in {} group{} {}: no nonzero edge ties them to an input, bias or output;\n"
        "  the first unit of each group was given scale 1, and any positive multiple of a group's scales\n"
        "  works as well\n",
        r.undetermined.size(), r.undetermined.size() == 1 ? "" : "s", r.undetermined_groups.size(),
        r.undetermined_groups.size() == 1 ? "" : "s", groups);
  }
}
}  // namespace

action add_equivalent(CLI::App& app) {
  auto o = std::make_shared<equivalent_options>();
  app.add_option("NET_A", o->a, std::string("the first weight setting; ") + kNetHelp)->required();
  app.add_option("NET_B", o->b,
                 "the second weight setting: the same graph as NET_A (same nodes, same edges in the same order)")
      ->required();
  app.add_flag("--json", o->json,
               "print JSON: {\"equivalent\", \"exact\", \"tolerance\", \"reason\", \"failed_edge\", \"scales\": "
               "{\"h0\": \"3/2\", ...}, \"undetermined\": [ids], \"undetermined_groups\"}");
  CLI::Option* exact = app.add_flag("--exact", o->exact,
                                    "compare exactly as rationals (the default when both networks have exact rational "
                                    "weights that no double represents)");
  CLI::Option* tol = app.add_option("--tol", o->tol,
                                    "compare in floating point with this relative tolerance, in (0, 1) (the default, "
                                    "with 1e-9, when a network has double weights)");
  exact->excludes(tol);
  app.footer(
      "Decides whether NET_B's weights are NET_A's rescaled by positive scales c(v) of the hidden units:\n"
      "w_B(u -> v) = w_A(u -> v) * c(v) / c(u) for every edge, with c = 1 on inputs, bias nodes, outputs and\n"
      "non-homogeneous (tanh, sigmoid) units; the answer comes with the scales. A weight that is zero in one\n"
      "network only, or that changes sign, rules it out. Units that no nonzero edge ties to a fixed node\n"
      "keep a free scale and are listed as undetermined. A constant edge must have the same weight in both\n"
      "networks, and its ends one scale. This is equivalence of weight settings, not\n"
      "equality of functions: a dead unit, a zero-weight path or a permutation of units can leave the\n"
      "function unchanged without a rescaling.\n"
      "Exit codes: 0 equivalent, 1 not equivalent (the reason names an edge), 2 usage error, 3 bad input\n"
      "(a file or spec that cannot be read, networks that are not the same graph, or a network without weights).");
  return [o, tol](std::ostream& out) {
    equivalence_options options;
    options.exact = o->exact;
    if (tol->count() > 0) {
      if (!(o->tol > 0.0 && o->tol < 1.0)) throw invalid_argument(fmt::format("--tol {} is not in (0, 1)", o->tol));
      options.tolerance = o->tol;
    }
    network a = load_network(o->a);
    network b = load_network(o->b);
    equivalence_result r = rescaling_equivalence(a, b, options);
    if (o->json) {
      out << equivalence_json(a, r, o->a, o->b).dump() << "\n";
    } else if (r.equivalent) {
      out << fmt::format(
          "equivalent: yes ({})\n",
          r.exact ? "exact rational arithmetic" : fmt::format("floating point, relative tolerance {}", r.tolerance));
      print_table(out, a, r);
    } else {
      out << "equivalent: no: " << r.reason << "\n";
    }
    return r.equivalent ? ok : check_failed;
  };
}

}  // namespace scaleinv::cli
