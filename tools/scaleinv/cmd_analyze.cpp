// tools/scaleinv/cmd_analyze.cpp: `scaleinv analyze NET`.
#include <fmt/format.h>

#include <optional>

#include <map>
#include <memory>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/count.hpp"
#include "scaleinv/paths/path_norm.hpp"

namespace scaleinv::cli {
namespace {
struct analyze_options {
  std::string net;
  bool json = false;
  bool edge_paths = false;
  bool path_norm = false;
  std::size_t show = 20;
};

// "t on h1_0, h1_1, ... (196 units); t^-1 on h2_3": one surviving rescaling, units grouped by
// exponent, at most `show` ids per group.
std::string describe(const network& net, const rescaling_direction& dir, std::size_t show) {
  std::map<std::int64_t, std::vector<node_id>> by_exponent;
  for (const auto& [v, k] : dir) by_exponent[k].push_back(v);
  std::string out;
  for (auto it = by_exponent.rbegin(); it != by_exponent.rend(); ++it) {
    const auto& [k, units] = *it;
    std::string ids;
    for (std::size_t i = 0; i < units.size() && i < show; ++i) ids += (i ? ", " : "") + net.node_at(units[i]).id;
    if (units.size() > show) ids += fmt::format(", ... ({} units)", units.size());
    out += fmt::format("{}{} on {}", out.empty() ? "" : "; ", k == 1 ? std::string("t") : fmt::format("t^{}", k), ids);
  }
  return out;
}

std::string grouped(const mpz_class& n) {
  std::string s = n.get_str(), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}
std::string grouped(std::size_t n) { return grouped(mpz_class(static_cast<unsigned long>(n))); }

std::string report(const network& net, const std::string& name, const analysis& r, std::size_t show) {
  std::string out = fmt::format("network          {}\n", name);
  out += fmt::format("inputs           {}{}\n", grouped(r.inputs), r.bias ? fmt::format(" (+{} bias)", r.bias) : "");
  out += fmt::format("hidden           {}{}\n", grouped(r.hidden),
                     r.nonhomogeneous ? fmt::format(" ({} not homogeneous)", r.nonhomogeneous) : "");
  out += fmt::format("outputs          {}\n", grouped(r.outputs));
  out += fmt::format("weights (edges)  {}\n", grouped(r.edges));
  out += fmt::format("parameters       {}{}\n", grouped(r.parameters),
                     r.constants > 0 ? fmt::format("  (+{} constant edge{}, not parameters)", grouped(r.constants),
                                                   r.constants == 1 ? "" : "s")
                                     : "");
  std::string sci;
  if (r.paths >= 1000000) { sci = fmt::format(" ({:.3g})", r.paths.get_d()); }
  out += fmt::format("paths            {}{}\n", grouped(r.paths), sci);
  out += fmt::format("active           {} edges, {} hidden units\n", grouped(r.active_edges), grouped(r.active_hidden));
  if (r.shared) {
    out += fmt::format("dimension        {}  (rank(A M) over the parameters, exact: {})\n", grouped(r.dimension),
                       r.shared->method);
    out += fmt::format("unshared         {}  (E_on - H_on, {})\n", grouped(r.unshared_dimension),
                       r.cert.valid ? "certified" : "CERTIFICATE FAILED: " + r.cert.failure);
    out += fmt::format("rescalings       {} of {} survive the {}{}\n",
                       r.shared->surviving_checked ? grouped(r.shared->surviving.size()) : "unknown",
                       grouped(r.active_hidden),
                       net.has_params() && r.constants > 0 ? "sharing and the constant edges"
                       : net.has_params()                  ? "sharing"
                                                           : "constant edges",
                       r.shared->surviving_checked ? " (each checked on every edge)" : " (no verified kernel)");
    for (std::size_t i = 0; r.shared->surviving_checked && i < r.shared->surviving.size() && i < show; ++i)
      out += fmt::format("  {}: {}\n", i + 1, describe(net, r.shared->surviving[i], 4));
    if (r.shared->surviving_checked && r.shared->surviving.size() > show)
      out += fmt::format("  ... and {} more (all with --json)\n", r.shared->surviving.size() - show);
  } else {
    out += fmt::format("dimension        {}  (E_on - H_on, {})\n", grouped(r.dimension),
                       r.cert.valid ? "certified" : "CERTIFICATE FAILED: " + r.cert.failure);
  }
  out += fmt::format("#weights-#hidden {}\n", r.formula < 0 ? "-" + grouped(static_cast<std::size_t>(-r.formula))
                                                            : grouped(static_cast<std::size_t>(r.formula)));
  if (r.theorem_holds) {
    out += "agree            yes\n";
  } else {
    std::string why;
    for (const auto& reason : r.reasons) why += (why.empty() ? "" : "; ") + reason;
    out += fmt::format("agree            no: {}\n", why);
  }
  if (!r.diagnostics.empty()) {
    out += fmt::format("diagnostics      {}\n", r.diagnostics.size());
    std::size_t shown = 0;
    for (const auto& d : r.diagnostics) {
      if (shown == show) {
        out += fmt::format("  ... and {} more (all with --json, or --show N)\n", r.diagnostics.size() - shown);
        break;
      }
      out += fmt::format("  {}: {}\n", d.severity, d.message);
      ++shown;
    }
  }
  return out;
}
// sqrt(q) to 10 significant digits, whatever its size (a double may not hold it).
std::string sqrt_text(const mpq_class& q) {
  mpf_class f(q, 256);
  f = sqrt(f);
  char buf[64];
  gmp_snprintf(buf, sizeof buf, "%.9Fe", f.get_mpf_t());
  return buf;
}

// q itself when short, else its value to 10 significant digits and its size.
std::string short_text(const mpq_class& q) {
  std::string s = q.get_str();
  if (s.size() <= 40) return s;
  mpf_class f(q, 256);
  char buf[64];
  gmp_snprintf(buf, sizeof buf, "%.9Fe", f.get_mpf_t());
  return fmt::format("{} ({} digits)", buf, s.size());
}
}  // namespace

action add_analyze(CLI::App& app) {
  auto o = std::make_shared<analyze_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_flag("--json", o->json, "print one JSON object instead of the table");
  app.add_flag("--edge-paths", o->edge_paths, "also give the number of paths through each edge (JSON key edge_paths)");
  app.add_flag(
      "--path-norm", o->path_norm,
      "also give the L2 path norm, sqrt(sum over paths of the product of the squared weights) (Neyshabur et al., "
      "NeurIPS 2015): the square exactly (GMP) from the weights as given, by two dynamic programs (JSON key "
      "path_norm: {squared, value})");
  app.add_option("--show", o->show, "diagnostics shown in the table (default 20)")->check(non_negative());
  app.footer(
      "The dimension is that of the path space (the quotient by positive rescaling): E_on - H_on, active\n"
      "edges minus active homogeneous hidden units, certified in O(E) by a basis and a kernel basis.\n"
      "#weights - #hidden is the papers' formula; the report says why the two differ when they do.\n"
      "Example: scaleinv analyze mlp:784-500-500-10,bias");
  return [o](std::ostream& out) {
    network net = load_network(o->net);
    analysis r = analyze(net);
    if (!r.cert.valid) throw error("internal error: the dimension certificate failed: " + r.cert.failure);
    std::optional<mpq_class> norm2;
    if (o->path_norm) {
      if (!net.has_weights() && net.num_edges() > 0)
        throw invalid_network(
            fmt::format("--path-norm needs weights: '{}' has none (a JSON file with weights, or a spec "
                        "with init=S)",
                        o->net));
      norm2 = compute_path_sums(net, net.exact_weights()).squared_norm;
    }
    if (o->json) {
      std::vector<mpz_class> counts;
      if (o->edge_paths) counts = edge_path_counts(net, count_paths(net));
      auto j = analysis_json(net, r, o->net, o->edge_paths ? &counts : nullptr);
      if (norm2) j["path_norm"] = {{"squared", norm2->get_str()}, {"value", sqrt_text(*norm2)}};
      out << j.dump(2) << "\n";
    } else {
      out << report(net, o->net, r, o->show);
      if (norm2)
        out << fmt::format("path norm        {}  (squared: {} exactly)\n", sqrt_text(*norm2), short_text(*norm2));
      if (o->edge_paths) {
        auto counts = edge_path_counts(net, count_paths(net));
        out << "paths per edge\n";
        for (edge_id e = 0; e < counts.size(); ++e)
          out << fmt::format("  {}: {}\n", net.describe_edge(e), grouped(counts[e]));
      }
    }
    return 0;
  };
}

}  // namespace scaleinv::cli
