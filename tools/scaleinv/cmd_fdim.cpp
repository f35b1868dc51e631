// tools/scaleinv/cmd_fdim.cpp: `scaleinv fdim NET`: the functional dimension beside the path-space dimension.
#include <fmt/format.h>

#include <cmath>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/functional_dimension.hpp"

namespace scaleinv::cli {
namespace {
struct fdim_options {
  std::string net;
  std::size_t inputs = 0;  // 0: the default
  std::uint64_t seed = 1;
  bool json = false;
};

std::string listed(const network& net, const std::vector<node_id>& nodes) {
  constexpr std::size_t kShown = 8;
  std::string s;
  for (std::size_t i = 0; i < nodes.size() && i < kShown; ++i) s += (i ? ", " : "") + net.node_at(nodes[i]).id;
  if (nodes.size() > kShown) s += fmt::format(" and {} more", nodes.size() - kShown);
  return s;
}

std::string report(const std::string& name, const network& net, const functional_dimension_result& r) {
  const numerical_rank& s = r.spectrum;
  std::string out = fmt::format("network              {}\n", name);
  out += fmt::format("functional dimension {}  (numerical rank of the {} x {} Jacobian)\n", r.functional_dimension,
                     r.rows, r.parameters);
  out += fmt::format("path dimension       {}  ({}, the upper bound)\n", r.path_dimension,
                     net.has_parameter_map() ? "rank(A M) over the parameters" : "E_on - H_on");
  out += fmt::format("parameters           {}\n", r.parameters);
  out += fmt::format("rows                 {}  ({} input sample{} x {} output{})\n", r.rows, r.inputs,
                     r.inputs == 1 ? "" : "s", r.outputs, r.outputs == 1 ? "" : "s");
  out += fmt::format("samples              standard normal, seed {}\n", r.seed);
  out += r.drawn_weights ? fmt::format("weights              He-normal, seed {} (the network has none)\n", r.seed)
                         : std::string("weights              the network's own\n");
  out += fmt::format("threshold            {:.3g}  (max(rows, cols) * 2^-52 * sigma_max, sigma_max {:.6g})\n",
                     s.threshold, s.sigma_max);
  if (s.smallest_kept && s.largest_dropped) {
    auto gap = s.gap();
    out += fmt::format("spectral gap         {}  (smallest kept {:.3g} / largest dropped {:.3g})\n",
                       std::isinf(*gap) ? std::string("inf") : fmt::format("{:.3g}", *gap), *s.smallest_kept,
                       *s.largest_dropped);
  } else if (s.smallest_kept) {
    out += fmt::format("spectral gap         none dropped  (full rank min(rows, cols); smallest {:.3g})\n",
                       *s.smallest_kept);
  } else {
    out += "spectral gap         none kept  (the Jacobian is zero)\n";
  }
  if (!r.dead_units.empty())
    out += fmt::format("dead units           {}  ({}: slope 0 on every input sample)\n", r.dead_units.size(),
                       listed(net, r.dead_units));
  if (!r.linear_units.empty())
    out += fmt::format("linear units         {}  ({}: on one side of the kink on every input sample)\n",
                       r.linear_units.size(), listed(net, r.linear_units));
  if (r.functional_dimension >= r.path_dimension) {
    out += "agree                yes: the functional dimension reaches the path dimension\n";
    return out;
  }
  out +=
      fmt::format("agree                no: {} below the path dimension\n", r.path_dimension - r.functional_dimension);
  if (r.rows < r.path_dimension)
    out +=
        fmt::format("why                  {} rows cannot have rank {}: use more --inputs\n", r.rows, r.path_dimension);
  if (!r.dead_units.empty() || !r.linear_units.empty())
    out += "why                  the dead and linear units above: their kinks are never crossed on these inputs\n";
  out +=
      "usual reasons        too few input samples (try more --inputs or another --seed), units inactive on\n"
      "                     every input (dead ReLUs) or active on every input, and hidden symmetries of this\n"
      "                     parameter or architecture (Grigsby et al.) that positive rescaling does not explain\n";
  return out;
}
}  // namespace

action add_fdim(CLI::App& app) {
  auto o = std::make_shared<fdim_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_option("--inputs", o->inputs,
                 "number of random input samples N (default ceil(4 P / O) + 1 for P parameters and O outputs)")
      ->check(CLI::PositiveNumber);
  // CLI11 2.1 reads "-1" into an unsigned as 2^64 - 1: refuse signs explicitly.
  app.add_option("--seed", o->seed,
                 "seed of the input samples, and of the weights when the network has none (default 1)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", o->json, "print one JSON object instead of the table");
  app.footer(
      "The functional dimension at one parameter (Grigsby, Lindsey et al.): the rank of the Jacobian of the\n"
      "outputs on N standard-normal inputs with respect to all parameters, by back-propagation (no finite\n"
      "differences), ranked in double precision by SVD: singular values above max(rows, cols) * 2^-52 * sigma_max\n"
      "(numpy's matrix_rank). It is at most the path-space dimension of `analyze`. Weights: the network's own, or\n"
      "He-normal from --seed. Refuses Jacobians of more than 2e7 doubles.\n"
      "Example: scaleinv fdim mlp:3-4-2,bias --inputs 100");
  return [o](std::ostream& out) {
    network net = load_network(o->net);
    functional_dimension_options options;
    if (o->inputs > 0) options.inputs = o->inputs;
    options.seed = o->seed;
    functional_dimension_result r = functional_dimension(net, options);
    if (o->json) out << functional_dimension_json(net, r, o->net).dump(2) << "\n";
    else out << report(o->net, net, r);
    return 0;
  };
}

}  // namespace scaleinv::cli
