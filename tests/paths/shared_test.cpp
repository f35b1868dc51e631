// tests/paths/shared_test.cpp: the dimension under weight sharing, rank(A M) (math.md section 5),
// computed from the E_on basis rows, against the enumerated A M; and the surviving rescalings.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "support.hpp"

#include "scaleinv/exact/certified_rank.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/shared.hpp"

using namespace scaleinv;

namespace {
// Exact rank of the enumerated A M, by the slow rational reference.
std::size_t enumerated_shared_rank(const network& net) {
  auto col = parameter_columns(net);
  std::vector<std::vector<std::uint32_t>> rows;
  for (const auto& path : enumerate_paths(net, 200000)) {
    std::vector<std::uint32_t> r;
    for (edge_id e : path) r.push_back(col[e]);
    rows.push_back(r);
  }
  return exact_rank(rows, static_cast<std::uint32_t>(net.num_parameters()));
}

shared_analysis shared_of(const network& net, const certified_rank_options& options = {}) {
  active_subgraph a = find_active(net);
  return analyze_shared(net, a, make_basis(net, a), options);
}

// Every block of B M through the exact rational elimination instead of the modular path.
certified_rank_options rational_only() {
  certified_rank_options o;
  o.max_dense_columns = 0;
  return o;
}

// x -> h (relu) -> y style networks built edge by edge; params[i] names edge i's parameter ("" none).
network build(const std::vector<std::pair<std::string, node_kind>>& nodes,
              const std::vector<std::tuple<std::string, std::string, std::string>>& edges) {
  network net;
  for (const auto& [id, kind] : nodes) net.add_node(id, kind);
  for (const auto& [from, to, param] : edges) {
    edge_id e = net.add_edge(*net.find_node(from), *net.find_node(to));
    if (!param.empty()) net.set_param(e, param);
  }
  net.finalize();
  return net;
}
}  // namespace

TEST_CASE("rank(B M) from the basis rows equals the enumerated rank(A M) on random shared DAGs", "[shared][theorem]") {
  std::size_t with_lost_rescalings = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    // Tie random edges into a few parameters.
    splitmix64 rng(seed + 12345);
    std::size_t groups = 1 + rng.below(4);
    network shared;
    for (const auto& n : net.nodes()) shared.add_node(n.id, n.kind, n.act);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      edge_id f = shared.add_edge(net.edge_at(e).from, net.edge_at(e).to);
      if (rng.uniform() < 0.5) shared.set_param(f, fmt::format("k{}", rng.below(groups)));
    }
    shared.finalize();
    shared_analysis s = shared_of(shared);
    INFO("seed " << seed << "\n" << test::dump(shared));
    REQUIRE(s.dimension == enumerated_shared_rank(shared));
    REQUIRE(s.surviving_checked);
    REQUIRE(s.dimension + s.surviving.size() + s.unused_parameters == s.parameters);
    if (s.surviving.size() < find_active(shared).active_hidden) ++with_lost_rescalings;
    // The rational path gives the same rank and the same (reduced echelon) surviving rescalings.
    shared_analysis r = shared_of(shared, rational_only());
    REQUIRE(r.dimension == s.dimension);
    REQUIRE(r.surviving_checked);
    REQUIRE(r.surviving == s.surviving);
  }
  CHECK(with_lost_rescalings > 50);  // the sample must include sharing that breaks rescalings
}

TEST_CASE("sharing that keeps every rescaling: dimension = #parameters - #hidden", "[shared]") {
  // mlp 2-3-1 where each hidden unit's two input edges share one parameter: scaling h multiplies
  // both by the same factor, so all three rescalings survive. P = 3 + 3, H = 3.
  mlp_options o;
  o.widths = {2, 3, 1};
  network plain = make_mlp(o);
  network net;
  for (const auto& n : plain.nodes()) net.add_node(n.id, n.kind, n.act);
  for (edge_id e = 0; e < plain.num_edges(); ++e) {
    edge_id f = net.add_edge(plain.edge_at(e).from, plain.edge_at(e).to);
    if (e < 6) net.set_param(f, fmt::format("in{}", e / 2));
  }
  net.finalize();
  analysis r = analyze(net);
  REQUIRE(r.parameters == 6);
  REQUIRE(r.dimension == 3);
  REQUIRE(r.shared->surviving.size() == 3);
  REQUIRE(enumerated_shared_rank(net) == 3);
}

TEST_CASE("a parameter used twice on one path", "[shared]") {
  // x -> h -> y, both edges one parameter k: the path value is k^2, entry 2 in A M; rank 1, and
  // h's rescaling (k -> c k on one edge, k / c on the other) is gone.
  network net = build({{"x", node_kind::input}, {"h", node_kind::hidden}, {"y", node_kind::output}},
                      {{"x", "h", "k"}, {"h", "y", "k"}});
  shared_analysis s = shared_of(net);
  REQUIRE(s.parameters == 1);
  REQUIRE(s.dimension == 1);
  REQUIRE(s.surviving.empty());
  REQUIRE(enumerated_shared_rank(net) == 1);
}

TEST_CASE("a parameter shared across units that must then be rescaled together, or oppositely", "[shared]") {
  std::vector<std::pair<std::string, node_kind>> nodes{
      {"x", node_kind::input}, {"h1", node_kind::hidden}, {"h2", node_kind::hidden}, {"y", node_kind::output}};
  SECTION("into two units: only the joint rescaling of h1 and h2 survives") {
    network net = build(nodes, {{"x", "h1", "k"}, {"x", "h2", "k"}, {"h1", "y", ""}, {"h2", "y", ""}});
    shared_analysis s = shared_of(net);
    REQUIRE(s.parameters == 3);
    REQUIRE(s.dimension == 2);
    REQUIRE(s.surviving.size() == 1);
    REQUIRE(s.surviving[0] == rescaling_direction{{1, 1}, {2, 1}});  // h1 and h2 by the same t
    REQUIRE(enumerated_shared_rank(net) == 2);
  }
  SECTION("into h1 and out of h2: h1 by t needs h2 by 1/t") {
    network net = build(nodes, {{"x", "h1", "k"}, {"h1", "y", ""}, {"x", "h2", ""}, {"h2", "y", "k"}});
    shared_analysis s = shared_of(net);
    REQUIRE(s.dimension == 2);
    REQUIRE(s.surviving.size() == 1);
    REQUIRE(s.surviving[0] == rescaling_direction{{1, 1}, {2, -1}});
    REQUIRE(enumerated_shared_rank(net) == 2);
  }
  SECTION("into and out of h1: h1 cannot be rescaled at all") {
    network net = build(nodes, {{"x", "h1", "k"}, {"h1", "y", "k"}, {"x", "h2", ""}, {"h2", "y", ""}});
    shared_analysis s = shared_of(net);
    REQUIRE(s.surviving.size() == 1);  // only h2's own
    REQUIRE(s.surviving[0] == rescaling_direction{{2, 1}});
    REQUIRE(s.dimension == 3 - 1);
    REQUIRE(enumerated_shared_rank(net) == 2);
  }
  SECTION("a parameter on a dead edge only is unused") {
    network net = build(nodes, {{"x", "h1", ""}, {"h1", "y", ""}, {"x", "h2", "dead"}});
    shared_analysis s = shared_of(net);
    REQUIRE(s.unused_parameters == 1);
    REQUIRE(s.dimension == 1);
  }
}

TEST_CASE("convolutions: one surviving rescaling per hidden channel", "[shared]") {
  for (bool bias : {false, true}) {
    conv_options o;
    o.length = 10;
    o.channels = {2, 3, 2, 1};
    o.kernel = 3;
    o.bias = bias;
    network net = make_conv1d(o);
    analysis r = analyze(net);
    std::size_t params = 2 * 3 * 3 + 3 * 2 * 3 + 2 * 1 * 3 + (bias ? 3 + 2 + 1 : 0);
    INFO("bias " << bias);
    REQUIRE(r.parameters == params);
    REQUIRE(r.shared->surviving.size() == 3 + 2);
    REQUIRE(r.dimension == params - 5);
    REQUIRE(enumerated_shared_rank(net) == r.dimension);
    // Each direction is exactly one channel's units, all with exponent 1.
    for (const auto& dir : r.shared->surviving) {
      std::string prefix = net.node_at(dir.front().first).id.substr(0, 5);  // "h1_0_", ...
      std::size_t channel_size = 0;
      for (const auto& n : net.nodes()) channel_size += n.id.rfind(prefix, 0) == 0 ? 1 : 0;
      REQUIRE(dir.size() == channel_size);
      for (const auto& [v, k] : dir) {
        REQUIRE(k == 1);
        REQUIRE(net.node_at(v).id.rfind(prefix, 0) == 0);
      }
    }
  }
}

TEST_CASE("convolutions through the rational elimination: the same rescalings", "[shared]") {
  network net = from_spec("conv:len=9,ch=2-3-2-1,k=3,bias");
  shared_analysis s = shared_of(net), r = shared_of(net, rational_only());
  REQUIRE(s.surviving_checked);
  REQUIRE(s.surviving.size() == 3 + 2);
  REQUIRE(r.method == "rational-elimination");
  REQUIRE(r.surviving_checked);
  REQUIRE(r.dimension == s.dimension);
  REQUIRE(r.surviving == s.surviving);
}

TEST_CASE("a conv net past the dense limit: one surviving rescaling per channel, verified", "[shared]") {
  // 6400 parameters, more than certified_rank's dense limit: this used to fall back to the
  // rational elimination without a kernel and report 0 survivors. B M splits into one block per
  // channel, each decided modulo a prime, with the kernel.
  const std::size_t channels = 1600;
  network net = from_spec(fmt::format("conv:len=6,ch=1-{}-1,k=2", channels));
  REQUIRE(net.num_parameters() > certified_rank_options{}.max_dense_columns);
  shared_analysis s = shared_of(net);
  REQUIRE(s.parameters == 4 * channels);
  REQUIRE(s.dimension == 3 * channels);
  REQUIRE(s.surviving_checked);
  REQUIRE(s.surviving.size() == channels);
  // Each direction scales exactly one channel's 5 units, all alike; every channel once.
  std::vector<int> seen(channels, 0);
  for (const auto& dir : s.surviving) {
    REQUIRE(dir.size() == 5);
    const std::string& first = net.node_at(dir.front().first).id;  // h1_<channel>_<position>
    const std::string prefix = first.substr(0, first.rfind('_') + 1);
    for (const auto& [v, k] : dir) {
      REQUIRE(net.node_at(v).id.rfind(prefix, 0) == 0);
      REQUIRE(k == dir.front().second);
      REQUIRE((k == 1 || k == -1));
    }
    ++seen[std::stoul(prefix.substr(3))];
  }
  REQUIRE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

TEST_CASE("conv specs and their weights", "[shared][builders]") {
  network net = from_spec("conv:len=8,ch=1-2-1,k=3,bias,init=4");
  REQUIRE(net.num_parameters() == 1 * 2 * 3 + 2 + 2 * 1 * 3 + 1);
  REQUIRE(net.has_weights());
  for (edge_id e = 0; e < net.num_edges(); ++e)
    for (edge_id f = 0; f < net.num_edges(); ++f)
      if (net.param(e) == net.param(f)) REQUIRE(net.weight(e) == net.weight(f));
  REQUIRE_THROWS_WITH(from_spec("conv:len=4,ch=1-2-2-1,k=3"), Catch::Contains("leaves no positions"));
  REQUIRE_THROWS_WITH(from_spec("conv:ch=1-2,k=3"), Catch::Contains("needs len=L"));
}
