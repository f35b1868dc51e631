// tests/fuzz/network_spec_fuzz.cpp: the network spec reader (parse_network_spec: "mlp:...",
// "skip:...", "random:...", "conv:...") on arbitrary text. Specs name networks of any size, so the
// target reads the spec, asks planned_size, and builds only networks within a small budget; a spec
// beyond the library's own limits must be refused by build() before it allocates. A built network
// must have exactly the planned nodes and edges (at most the planned edges for a random DAG), which
// checks the size arithmetic against overflow, and a valid dimension certificate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "fuzz_support.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/paths/analysis.hpp"

using namespace scaleinv;

namespace {
constexpr double kNodeBudget = 4000;         // what one input may build
constexpr double kEdgeBudget = 20000;        // edges, or for a random DAG the pairs it draws
constexpr std::size_t kAnalyzeEdges = 2000;  // shared-parameter analysis costs more than O(E)

// Whether the library promises to refuse the spec (builders.hpp: max_built_*).
bool beyond_limits(const network_spec& s, const network_size& n) {
  if (n.nodes > max_built_nodes) return true;
  if (const auto* r = std::get_if<random_dag_options>(&s.options))
    return n.edges * r->p > max_built_edges || n.edges > max_random_pairs;
  return n.edges > max_built_edges;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_scaleinv_errors([&] {
    const network_spec spec = parse_network_spec(text);
    const network_size planned = planned_size(spec);
    if (planned.nodes > kNodeBudget || planned.edges > kEdgeBudget) {
      if (beyond_limits(spec, planned)) {
        try {
          (void)build(spec);
        } catch (const parse_error&) {
          return;  // refused, as promised
        }
        fuzz::finding(fmt::format("build() made a network of {} nodes and {} edges, beyond the limits", planned.nodes,
                                  planned.edges));
      }
      return;  // within the limits but too large for a fuzz iteration
    }
    const network net = build(spec);
    const bool random = std::holds_alternative<random_dag_options>(spec.options);
    if (static_cast<double>(net.num_nodes()) != planned.nodes ||
        (random ? static_cast<double>(net.num_edges()) > planned.edges
                : static_cast<double>(net.num_edges()) != planned.edges))
      fuzz::finding(fmt::format("planned {} nodes and {} edges, built {} and {}", planned.nodes, planned.edges,
                                net.num_nodes(), net.num_edges()));
    if (net.num_edges() > kAnalyzeEdges) return;
    const analysis a = analyze(net);
    if (!a.cert.valid) fuzz::finding("analyze: the certificate failed: " + a.cert.failure);
  });
  return 0;
}
