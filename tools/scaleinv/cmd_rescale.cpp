// tools/scaleinv/cmd_rescale.cpp: `scaleinv rescale NET (--seed S | --scales FILE)`: the same function, other weights.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"

namespace scaleinv::cli {
namespace {
struct rescale_options {
  std::string net;
  std::uint64_t seed = 0;
  double spread = 1.0;
  std::string scales;
  std::string output;
  bool print_scales = false;
};

// The scales a --scales file names: exact values, plus whether any was given as a string.
struct scale_file {
  std::vector<mpq_class> scale;
  bool any_string = false;
};

[[noreturn]] void bad_scales(const std::string& path, const std::string& message) {
  throw parse_error(path, 0, 0, message);
}

// Reads {"unit_id": scale, ...}; unlisted nodes keep 1. Every problem is bad input naming the unit.
scale_file read_scales(const network& net, const std::string& path) {
  const std::string text = read_text_file(path);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    throw parse_error(path, 0, 0, "invalid JSON: " + what);
  }
  if (!doc.is_object())
    throw parse_error(
        path, 0, 0, fmt::format("the scales must be a JSON object {{\"unit\": scale, ...}}, not {}", doc.type_name()));
  scale_file out;
  out.scale.assign(net.num_nodes(), mpq_class(1));
  for (const auto& [id, value] : doc.items()) {
    auto fail = [&path](const std::string& message) { bad_scales(path, message); };
    std::optional<node_id> v = net.find_node(id);
    if (!v) fail(fmt::format("unknown unit '{}': the network has no node with that id", id));
    const node& nd = net.node_at(*v);
    if (nd.kind != node_kind::hidden)
      fail(fmt::format("'{}' is {} {} node, not a hidden unit: only hidden units are rescaled", id,
                       nd.kind == node_kind::bias ? "a" : "an", to_string(nd.kind)));
    if (!net.is_scalable(*v))
      fail(fmt::format("'{}' is a {} unit, which is not positively homogeneous: it has no rescaling symmetry", id,
                       nd.act.name()));
    mpq_class c;
    if (value.is_number()) {
      c = mpq_class(value.get<double>());
    } else if (value.is_string()) {
      auto q = parse_rational(value.get<std::string>());
      if (!q)
        fail(fmt::format("scale of '{}' is {}: expected a number or a rational string such as \"3/2\"", id,
                         value.dump()));
      c = *q;
      out.any_string = true;
    } else {
      fail(fmt::format("scale of '{}' must be a number or a rational string, not {}", id, value.type_name()));
    }
    if (sgn(c) <= 0) {
      const std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
      fail(fmt::format("scale of '{}' is {}: scales must be positive", id, shown));
    }
    if (!std::isfinite(c.get_d()))
      fail(fmt::format("scale of '{}' is {}: beyond the range of a double", id, value.dump()));
    out.scale[*v] = c;
  }
  return out;
}
}  // namespace

action add_rescale(CLI::App& app) {
  auto o = std::make_shared<rescale_options>();
  app.add_option("NET", o->net, std::string("the network, with weights; ") + kNetHelp)->required();
  CLI::Option* seed = app.add_option(
      "--seed", o->seed,
      "random scales from this seed: p/q with p, q in 1..9 for exact rational weights, exp(spread * N(0,1)) for "
      "double weights");
  CLI::Option* spread =
      app.add_option("--spread", o->spread, "the log-normal spread for --seed on double weights (default 1.0)")
          ->check(CLI::NonNegativeNumber);
  spread->needs(seed);
  CLI::Option* scales = app.add_option("--scales", o->scales,
                                       "a JSON file {\"unit\": scale, ...}: numbers or rational strings (\"3/2\"), "
                                       "positive, for hidden homogeneous units; unlisted units keep 1");
  scales->excludes(seed);
  CLI::Option* output = app.add_option("-o,--output", o->output,
                                       "write the network to this file (atomically) instead of standard output");
  app.add_flag("--print-scales", o->print_scales,
               "print the scales applied as a JSON object (the --scales format) on standard output; needs -o")
      ->needs(output);
  app.footer(
      "Writes NET with unit v's incoming weights multiplied by c(v) and its outgoing weights divided by it\n"
      "(math.md section 1): the same function, other weights. 'scaleinv equivalent NET OUT' recovers the\n"
      "scales. The result is exact (rational weights) when NET has exact rational weights or a --scales\n"
      "value is a string; otherwise it is computed in double precision. With shared parameters (conv:)\n"
      "the scales must keep every shared parameter shared (one scale per channel); --seed draws one per\n"
      "tie class (the tails of a shared parameter's edges share one, and so do its heads), and --scales\n"
      "that untie a parameter are refused (exit 2) naming it. A constant edge keeps its weight: its ends\n"
      "need one scale (1 when one end is an input, bias or output). --seed draws scales that respect that;\n"
      "--scales that change a constant edge are refused (exit 2) naming the edge.\n"
      "Example: scaleinv rescale example:demo --seed 3 -o b.json && scaleinv equivalent example:demo b.json\n"
      "Exit codes: 0 done, 2 usage error, 3 bad input (unreadable NET or scales file, a network without\n"
      "weights, a scale that is not positive or names no hidden homogeneous unit).");
  return [o, seed, spread, scales](std::ostream& out) {
    if (seed->count() == 0 && scales->count() == 0)
      throw invalid_argument("give --seed S (random scales) or --scales FILE (scales of your own)");
    network net = load_network(o->net);
    if (!net.has_weights() && net.num_edges() > 0)
      throw invalid_network(fmt::format(
          "'{}' has no weights: rescale needs a weighted network (a JSON file with weights, or a spec with init=S)",
          o->net));
    bool exact = net.has_exact_weights();
    std::vector<mpq_class> exact_scale;
    std::vector<double> double_scale;
    if (seed->count() > 0) {
      if (exact && spread->count() > 0)
        throw invalid_argument(
            "--spread applies to double weights; this network has exact rational weights, which --seed rescales "
            "by random rationals p/q (p, q in 1..9)");
      if (exact) exact_scale = random_rational_scales(net, o->seed);
      else double_scale = random_scales(net, o->seed, o->spread);
    } else {
      scale_file file = read_scales(net, o->scales);
      exact = exact || file.any_string;  // JSON numbers on double weights stay in double arithmetic
      if (exact) {
        exact_scale = std::move(file.scale);
      } else {
        for (const auto& c : file.scale) double_scale.push_back(c.get_d());
      }
    }
    network result = exact ? apply_rescaling(net, exact_scale) : apply_rescaling(net, double_scale);
    emit(out, o->output, write_network_json(result));
    if (o->print_scales) {
      nlohmann::ordered_json applied = nlohmann::ordered_json::object();
      for (node_id v = 0; v < net.num_nodes(); ++v) {
        if (!net.is_scalable(v)) continue;
        if (exact) applied[net.node_at(v).id] = to_string(exact_scale[v]);
        else applied[net.node_at(v).id] = double_scale[v];
      }
      out << applied.dump() << "\n";
    }
    return 0;
  };
}

}  // namespace scaleinv::cli
