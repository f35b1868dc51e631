// tools/scaleinv/cmd_balance.cpp: `scaleinv balance`, `scaleinv canonical` and `scaleinv imbalance`:
// synaptic balance (lib/balance), its canonical form, and how far a network is from balance.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "scaleinv/balance/balance.hpp"
#include "scaleinv/balance/imbalance.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/io/results_json.hpp"

namespace scaleinv::cli {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A spec without init=S gets He-normal weights from `seed` (so `balance mlp:...` just works); a file
// without weights is bad input.
network load_weighted(const std::string& spec, const char* command, std::uint64_t seed, bool* initialised = nullptr) {
  network net = load_network(spec);
  if (!net.has_weights() && net.num_edges() > 0 && is_spec(spec)) {
    init_weights(net, seed);
    if (initialised) *initialised = true;
  }
  if (!net.has_weights() && net.num_edges() > 0)
    throw invalid_network(
        fmt::format("'{}' has no weights: {} needs a weighted network (a JSON file with weights, or a "
                    "spec with init=S)",
                    spec, command));
  return net;
}

std::string iterations_text(const balance_report& r, balance_method m) {
  if (m == balance_method::newton)
    return fmt::format("{} Newton iterations ({} conjugate-gradient steps){}", r.iterations, r.unit_steps,
                       r.sweeps_first > 0 ? fmt::format(", after {} alternating sweeps", r.sweeps_first) : "");
  return fmt::format("{} sweeps ({} unit updates)", r.iterations, r.unit_steps);
}

// Writes weights rounded to `digits` significant digits (0: unchanged).
void round_weights(network& net, int digits) {
  if (digits <= 0) return;
  std::vector<double> w = net.weights();
  for (double& x : w) x = std::strtod(fmt::format("{:.{}e}", x, digits - 1).c_str(), nullptr);  // subnormals too
  net.put_constants(w);  // constant edges keep their exact weights
  net.set_weights(w);
}

struct balance_cli {
  std::string net, output, order = "newton";
  double p = 2.0, tol = 1e-10, depth_factor = 1.0;
  std::size_t max_iterations = 10000;
  std::uint64_t seed = 1;
  bool json = false, compare = false, general = false;
};

}  // namespace

action add_balance(CLI::App& app) {
  auto o = std::make_shared<balance_cli>();
  app.add_option("NET", o->net, std::string("the network, with weights; ") + kNetHelp)->required();
  app.add_option("--p", o->p, "the cost's exponent: R = sum |w|^p (default 2)")->check(CLI::PositiveNumber);
  app.add_option("--order", o->order,
                 "newton (default: Newton on the log-scales), forward, backward, alternating (sweeps of closed-form "
                 "unit steps), random (a fresh random order each sweep)")
      ->check(CLI::IsMember({"newton", "forward", "backward", "alternating", "random"}));
  app.add_option("--tol", o->tol, "stop when every live unit has |IN - OUT| <= tol * max(IN, OUT) (default 1e-10)")
      ->check(CLI::Range(0.0, 0.999999));
  app.add_option("--max-iterations", o->max_iterations, "sweeps or Newton iterations at most (default 10000)")
      ->check(non_negative());
  app.add_option("--depth-factor", o->depth_factor,
                 "ENorm's c >= 1: edge e costs c^depth(head of e) |w|^p, so deeper layers end smaller (default 1)")
      ->check(CLI::Range(1.0, 1e300));
  app.add_option("--seed", o->seed,
                 "seed of the random order, and of the He-normal weights a spec without init=S gets (default 1)")
      ->check(non_negative());
  app.add_option("-o,--output", o->output, "write the balanced network (JSON) here, atomically");
  app.add_flag("--compare", o->compare, "also run every other order on the same input and print them side by side");
  app.add_flag("--general", o->general, "do not use the layered-MLP matrix path (for comparison)");
  app.add_flag("--json", o->json, "the report as one JSON object");
  app.footer(
      "Balancing rescales each hidden unit v by c = (OUT(v) / IN(v))^(1/(2p)), IN and OUT the sums of |w|^p over\n"
      "its incoming (bias included) and outgoing edges (Baldi et al., 2024). The function is unchanged and the cost\n"
      "R drops by (sqrt IN - sqrt OUT)^2 per step; every order converges to the same balanced network. Units tied\n"
      "by shared parameters (conv: channels, param groups) or joined by constant edges (fixed weights: pooling,\n"
      "identity shortcuts; never changed, not counted in R) are balanced as one. Units that are not live (no path\n"
      "of nonzero weights from an input or bias, or none to an output) are left alone: see docs/balance.md.\n"
      "Example: scaleinv balance mlp:784-256-256-10,bias,init=1 --compare -o balanced.json\n"
      "Exit codes: 0 converged, 1 not converged within --max-iterations (the network is still written), 2 usage,\n"
      "3 bad input.");
  return [o](std::ostream& out) {
    const auto t0 = std::chrono::steady_clock::now();
    bool initialised = false;
    network net = load_weighted(o->net, "balance", o->seed, &initialised);
    const double load_seconds = seconds_since(t0);
    balance_options bo;
    bo.p = o->p;
    bo.tolerance = o->tol;
    bo.max_iterations = o->max_iterations;
    bo.depth_factor = o->depth_factor;
    bo.seed = o->seed;
    bo.fast = !o->general;
    bo.method = parse_balance_method(o->order);
    std::vector<std::pair<balance_method, std::pair<balance_report, double>>> others;
    if (o->compare)
      for (balance_method m : {balance_method::newton, balance_method::alternating, balance_method::forward,
                               balance_method::backward, balance_method::random}) {
        if (m == bo.method) continue;
        balance_options mo = bo;
        mo.method = m;
        std::vector<double> w = net.weights();
        const auto t1 = std::chrono::steady_clock::now();
        balance_report r = balance_weights(net, w, mo);
        others.push_back({m, {r, seconds_since(t1)}});
      }
    const auto t1 = std::chrono::steady_clock::now();
    balance_report r = balance(net, bo);
    const double seconds = seconds_since(t1);
    if (!o->output.empty()) write_file_atomic(o->output, write_network_json(net));
    if (o->json) {
      nlohmann::ordered_json j = balance_report_json(r, bo.method, seconds);
      j["p"] = o->p;
      j["tolerance"] = o->tol;
      j["depth_factor"] = o->depth_factor;
      j["load_seconds"] = load_seconds;
      j["weights"] = net.num_edges();
      j["initialised"] = initialised;
      if (!o->output.empty()) j["output"] = o->output;
      if (o->compare) {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        all.push_back(balance_report_json(r, bo.method, seconds));
        for (const auto& [m, rs] : others) all.push_back(balance_report_json(rs.first, m, rs.second));
        j["compare"] = all;
      }
      out << j.dump() << "\n";
    } else {
      out << fmt::format(
          "balanced {} (p = {}, order {}{}): {} weights{}, {} unit groups, {} live\n", o->net, o->p,
          to_string(bo.method), o->depth_factor != 1.0 ? fmt::format(", depth factor {}", o->depth_factor) : "",
          net.num_edges(), initialised ? fmt::format(" (He-normal, seed {})", o->seed) : "", r.groups, r.live_groups);
      out << fmt::format("  cost       {:.10g} -> {:.10g}\n", r.cost_before, r.cost_after);
      out << fmt::format("  imbalance  {:.3e} -> {:.3e} (largest |IN - OUT| / max(IN, OUT); tolerance {:.1e})\n",
                         r.max_imbalance_before, r.max_imbalance_after, o->tol);
      out << fmt::format("  work       {}{}\n", iterations_text(r, bo.method),
                         r.converged ? ""
                         : r.iterations < o->max_iterations
                             ? ": NOT converged (stalled at rounding level: the tolerance is "
                               "below what double precision reaches here)"
                             : ": NOT converged within --max-iterations");
      out << fmt::format("  time       {:.3f} s balancing, {:.3f} s loading\n", seconds, load_seconds);
      if (o->compare) {
        out << fmt::format("  {:<12} {:>10} {:>14} {:>12} {:>9}  converged\n", "order", "iterations", "updates/CG",
                           "imbalance", "seconds");
        auto row = [&](balance_method m, const balance_report& x, double s) {
          out << fmt::format("  {:<12} {:>10} {:>14} {:>12.3e} {:>9.3f}  {}\n", to_string(m), x.iterations,
                             x.unit_steps, x.max_imbalance_after, s, x.converged ? "yes" : "no");
        };
        row(bo.method, r, seconds);
        for (const auto& [m, rs] : others) row(m, rs.first, rs.second);
      }
      if (!o->output.empty()) out << fmt::format("  written to {}\n", o->output);
    }
    return r.converged ? 0 : 1;
  };
}

namespace {
struct canonical_cli {
  std::uint64_t seed = 1;
  std::string net, output;
  double tol = 1e-13;
  int digits = 0;
  bool json = false;
};
}  // namespace

action add_canonical(CLI::App& app) {
  auto o = std::make_shared<canonical_cli>();
  app.add_option("NET", o->net, std::string("the network, with weights; ") + kNetHelp)->required();
  app.add_option("-o,--output", o->output, "write the canonical network here (atomically); default standard output");
  app.add_option("--tol", o->tol, "balancing tolerance (default 1e-13)")->check(CLI::Range(0.0, 0.999999));
  app.add_option("--digits", o->digits,
                 "round every weight to this many significant digits (1..17; default: full precision)")
      ->check(CLI::Range(1, 17));
  CLI::Option* output_opt = app.get_option("--output");
  app.add_flag("--json", o->json, "with -o: a JSON report on standard output")->needs(output_opt);
  app.add_option("--seed", o->seed, "He-normal weights from this seed for a spec without init=S (default 1)")
      ->check(non_negative());
  app.footer(
      "The canonical form of NET's rescaling orbit: NET balanced for p = 2 (the unique minimiser of sum w^2 over\n"
      "all positive rescalings), then every unit that is not live fixed by the rule of docs/balance.md (its\n"
      "nonzero weights' magnitudes get geometric mean 1). Two rescaling-equivalent networks give the same\n"
      "canonical network up to rounding: weights agree to about 1e-12 relative, not bit for bit. Compare two\n"
      "canonical files weight by weight with a relative tolerance, or write both with --digits 10, which makes\n"
      "them identical unless a weight falls within rounding of a 10-digit boundary.\n"
      "Example: scaleinv rescale example:demo --seed 3 -o b.json && scaleinv canonical b.json -o cb.json\n"
      "Exit codes: 0 done, 1 the balancing did not reach --tol (the network is still written), 2 usage (also: shared\n"
      "parameters whose rescalings are not tie groups), 3 bad input.");
  return [o](std::ostream& out) {
    network net = load_weighted(o->net, "canonical", o->seed);
    const auto t0 = std::chrono::steady_clock::now();
    balance_report r = canonicalize(net, o->tol);
    const double seconds = seconds_since(t0);
    round_weights(net, o->digits);
    if (o->output.empty() || o->output == "-") {
      out << write_network_json(net);
      return r.converged ? 0 : 1;
    }
    write_file_atomic(o->output, write_network_json(net));
    if (o->json) {
      nlohmann::ordered_json j = balance_report_json(r, balance_method::newton, seconds);
      j["order"] = "newton, then alternating sweeps if needed";
      j["p"] = 2;
      j["tolerance"] = o->tol;
      j["digits"] = o->digits;
      j["output"] = o->output;
      out << j.dump() << "\n";
    } else {
      out << fmt::format(
          "canonical form of {} written to {}: cost {:.10g} -> {:.10g}, largest imbalance {:.3e}{}, {} of {} "
          "unit groups live\n",
          o->net, o->output, r.cost_before, r.cost_after, r.max_imbalance_after,
          r.converged ? "" : fmt::format(" (NOT within --tol {:.1e}: exit 1)", o->tol), r.live_groups, r.groups);
    }
    return r.converged ? 0 : 1;
  };
}

namespace {
// A positive statistic and its base-10 logarithm: the double in %e form when it holds the number
// (a normal double, or an exact 0), else mantissa and exponent from the logarithm ("3.000000e+600"):
// weights of 1e300 give sums no double holds (imbalance_report::wide).
std::string sci(double value, double log10_value, int digits) {
  if (std::isnormal(value) || (value == 0 && std::isinf(log10_value))) return fmt::format("{:.{}e}", value, digits);
  if (!std::isfinite(log10_value)) return fmt::format("{}", value);
  double e = std::floor(log10_value), m = std::pow(10.0, log10_value - e);
  if (std::stod(fmt::format("{:.{}f}", m, digits)) >= 10.0) m /= 10, e += 1;  // 9.9999999 rounds up to 10
  return fmt::format("{:.{}f}e{}{:02.0f}", m, digits, e < 0 ? '-' : '+', std::abs(e));
}

struct imbalance_cli {
  std::uint64_t seed = 1;
  std::string net;
  double p = 2.0, depth_factor = 1.0;
  bool units = false, json = false;
};
}  // namespace

action add_imbalance(CLI::App& app) {
  auto o = std::make_shared<imbalance_cli>();
  app.add_option("NET", o->net, std::string("the network, with weights; ") + kNetHelp)->required();
  app.add_option("--p", o->p, "the cost's exponent (default 2)")->check(CLI::PositiveNumber);
  app.add_option("--depth-factor", o->depth_factor, "ENorm's c >= 1 (default 1)")->check(CLI::Range(1.0, 1e300));
  app.add_flag("--units", o->units, "one row per unit group instead of per layer");
  app.add_option("--seed", o->seed, "He-normal weights from this seed for a spec without init=S (default 1)")
      ->check(non_negative());
  app.add_flag("--json", o->json, "JSON output");
  app.footer(
      "Per layer (units grouped by depth: the longest path from an input or bias), the number of unit groups, how\n"
      "many are live, the mean IN and OUT (sums of |w|^p over incoming and outgoing live edges), the largest and\n"
      "the mean relative imbalance |IN - OUT| / max(IN, OUT), and the mean |log(OUT / IN)|. A tied group (a\n"
      "convolution channel) counts once, at the depth of its first unit. Sums that no double holds (weights of\n"
      "1e300) are computed from logarithms and printed from them; the relative imbalance is right to rounding either "
      "way.\n"
      "Example: scaleinv imbalance mlp:784-256-256-10,bias,init=1");
  return [o](std::ostream& out) {
    network net = load_weighted(o->net, "imbalance", o->seed);
    const imbalance_report r = imbalance(net, o->p, o->depth_factor);
    if (o->json) {
      out << imbalance_json(r, o->units).dump() << "\n";
    } else if (o->units) {
      out << fmt::format("{:<16} {:>6} {:>5} {:>14} {:>14} {:>11} {:>10}\n", "unit", "depth", "live", "IN", "OUT",
                         "relative", "log(O/I)");
      for (const auto& u : r.units) {
        std::string name = u.unit;
        if (u.members > 1) name += fmt::format(" (+{})", u.members - 1);
        out << fmt::format("{:<16} {:>6} {:>5} {:>14} {:>14} {:>11.3e} {:>10.4f}\n", name, u.depth,
                           u.live ? "yes" : "no", sci(u.in, u.log10_in, 6), sci(u.out, u.log10_out, 6), u.relative,
                           u.log_ratio);
      }
    } else {
      out << fmt::format("{:>5} {:>7} {:>6} {:>13} {:>13} {:>11} {:>11} {:>12}\n", "depth", "groups", "live", "mean IN",
                         "mean OUT", "max rel", "mean rel", "mean |log|");
      for (const auto& l : r.layers)
        out << fmt::format("{:>5} {:>7} {:>6} {:>13} {:>13} {:>11.3e} {:>11.3e} {:>12.4f}\n", l.depth, l.groups, l.live,
                           sci(l.mean_in, l.log10_mean_in, 6), sci(l.mean_out, l.log10_mean_out, 6), l.max_relative,
                           l.mean_relative, l.mean_abs_log_ratio);
    }
    if (!o->json) {
      const bool held = std::isnormal(r.cost) || (r.cost == 0 && std::isinf(r.log10_cost));
      out << fmt::format(
          "cost sum |w|^{} over live edges: {}; largest relative imbalance {:.3e}\n", o->p,
          held ? fmt::format("{:.10g}", r.cost) : sci(r.cost, r.log10_cost, 9) + " (beyond the range of a double)",
          r.max_relative);
    }
    return 0;
  };
}

}  // namespace scaleinv::cli
