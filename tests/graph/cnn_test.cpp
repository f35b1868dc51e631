// tests/graph/cnn_test.cpp: the 2-D convolutional builder (cnn: specs): layout, the function it
// computes against a direct conv / pool / dense computation, its exact dimension, and refusals.
#include <algorithm>
#include <cmath>

#include "catch_shim.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/equivalence.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"

using namespace scaleinv;

namespace {

edge_id find_edge(const network& net, const std::string& from, const std::string& to) {
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.node_at(net.edge_at(e).from).id == from && net.node_at(net.edge_at(e).to).id == to) return e;
  FAIL("no edge " << from << " -> " << to);
  return npos;
}

double relu(double x) { return x > 0 ? x : 0; }

}  // namespace

TEST_CASE("cnn layout: node ids, parameters per kernel entry, pooling as constant edges", "[builders][cnn]") {
  // 1x4x4 -> conv 2 channels k3 (2x2x2) -> max 2 (2x1x1) -> fc 3 (outputs), with biases.
  const network net = from_spec("cnn:in=1x4x4,layers=c2k3-max2-fc3,bias");
  CHECK(net.count(node_kind::input) == 16);
  CHECK(net.count(node_kind::hidden) == 8 + 2);
  CHECK(net.count(node_kind::output) == 3);
  CHECK(net.count(node_kind::bias) == 2);  // b1 (conv) and b3 (fc); pooling has none
  CHECK(net.num_edges() == 8 * (9 + 1) + 2 * 4 + 3 * (2 + 1));
  CHECK(net.param_names().size() == 2 * 9 + 2);
  CHECK(net.num_parameters() == 2 * 9 + 2 + 3 * 3);  // the fc edges are parameters of their own
  const network_size planned = planned_size(parse_network_spec("cnn:in=1x4x4,layers=c2k3-max2-fc3,bias"));
  CHECK(planned.nodes == static_cast<double>(net.num_nodes()));
  CHECK(planned.edges == static_cast<double>(net.num_edges()));
  // Conv edge (c, c', di, dj) at position (i, j) comes from input (c', i + di, j + dj).
  const edge_id e = find_edge(net, "x0_2_3", "h1_1_1_1");
  REQUIRE(net.param(e) != npos);
  CHECK(net.param_names()[net.param(e)] == "w1_1_0_1_2");
  CHECK(net.param_names()[net.param(find_edge(net, "b1", "h1_1_0_1"))] == "b1_1");
  // Pooling: unit (c, 0, 0) of layer 2 takes channel c's 2x2 window through constant edges of 1.
  const node_id pool = *net.find_node("h2_1_0_0");
  CHECK(net.node_at(pool).act == activation::max_pool());
  CHECK(net.in_edges(pool).size() == 4);
  for (edge_id pe : net.in_edges(pool)) {
    CHECK(net.is_constant(pe));
    CHECK(net.node_at(net.edge_at(pe).from).id.rfind("h1_1_", 0) == 0);
  }
  const edge_id fc = find_edge(net, "h2_1_0_0", "y2");
  CHECK(net.param(fc) == npos);
  CHECK_FALSE(net.is_constant(fc));
  CHECK(net.param(find_edge(net, "b3", "y0")) == npos);
  // Inputs in C x H x W order, as a flattened image.
  std::vector<node_id> inputs;
  for (node_id v = 0; v < net.num_nodes(); ++v)
    if (net.node_at(v).kind == node_kind::input) inputs.push_back(v);
  CHECK(net.node_at(inputs[6]).id == "x0_1_2");
}

TEST_CASE("a cnn computes conv, ReLU, pooling and a dense layer as written out directly", "[builders][cnn]") {
  // 2x7x6 input -> c3k2 (3x6x5) -> max2 or avg2 (3x3x2) -> c2k2 (2x2x1) -> fc4 (hidden) -> fc3 (outputs).
  for (const char* pool : {"max2", "avg2"}) {
    const std::string spec = std::string("cnn:in=2x7x6,layers=c3k2-") + pool + "-c2k2-fc4-fc3,bias,init=5";
    INFO(spec);
    const network net = from_spec(spec);
    auto weight = [&](const std::string& from, const std::string& to) { return net.weight(find_edge(net, from, to)); };
    splitmix64 rng(9);
    std::vector<double> x(2 * 7 * 6);
    for (double& v : x) v = rng.normal();
    auto X = [&](std::size_t c, std::size_t i, std::size_t j) { return x[(c * 7 + i) * 6 + j]; };
    double h1[3][6][5], h2[3][3][2], h3[2][2][1], h4[4], y[3];
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t j = 0; j < 5; ++j) {
          const std::string to = "h1_" + std::to_string(c) + "_" + std::to_string(i) + "_" + std::to_string(j);
          double s = weight("b1", to);
          for (std::size_t ci = 0; ci < 2; ++ci)
            for (std::size_t di = 0; di < 2; ++di)
              for (std::size_t dj = 0; dj < 2; ++dj)
                s +=
                    weight("x" + std::to_string(ci) + "_" + std::to_string(i + di) + "_" + std::to_string(j + dj), to) *
                    X(ci, i + di, j + dj);
          h1[c][i][j] = relu(s);
        }
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 2; ++j) {
          const double a = h1[c][2 * i][2 * j], b = h1[c][2 * i][2 * j + 1], d = h1[c][2 * i + 1][2 * j],
                       e = h1[c][2 * i + 1][2 * j + 1];
          h2[c][i][j] = pool[0] == 'm' ? std::max(std::max(a, b), std::max(d, e)) : (a + b + d + e) / 4;
        }
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i < 2; ++i) {
        const std::string to = "h3_" + std::to_string(c) + "_" + std::to_string(i) + "_0";
        double s = weight("b3", to);
        for (std::size_t ci = 0; ci < 3; ++ci)
          for (std::size_t di = 0; di < 2; ++di)
            for (std::size_t dj = 0; dj < 2; ++dj)
              s += weight("h2_" + std::to_string(ci) + "_" + std::to_string(i + di) + "_" + std::to_string(dj), to) *
                   h2[ci][i + di][dj];
        h3[c][i][0] = relu(s);
      }
    for (std::size_t u = 0; u < 4; ++u) {
      const std::string to = "h4_" + std::to_string(u);
      double s = weight("b4", to);
      for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < 2; ++i)
          s += weight("h3_" + std::to_string(c) + "_" + std::to_string(i) + "_0", to) * h3[c][i][0];
      h4[u] = relu(s);
    }
    for (std::size_t k = 0; k < 3; ++k) {
      const std::string to = "y" + std::to_string(k);
      y[k] = weight("b5", to);
      for (std::size_t u = 0; u < 4; ++u) y[k] += weight("h4_" + std::to_string(u), to) * h4[u];
    }
    const std::vector<double> w = net.weights();
    const std::vector<double> got =
        evaluate<double>(net, std::span<const double>(w), std::span<const double>(x.data(), x.size()));
    REQUIRE(got.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) CHECK(std::abs(got[k] - y[k]) <= 1e-12 * (1 + std::abs(y[k])));
    // Shared parameters carry one value (He-normal, one draw per parameter).
    CHECK(weight("x0_0_0", "h1_2_0_0") == weight("x0_5_4", "h1_2_5_4"));
  }
}

TEST_CASE("cnn dimension, exactly: parameters minus one rescaling per conv channel and per dense hidden unit",
          "[builders][cnn][theorem]") {
  // EC-Opt's count: pooling (constant edges) ties a channel's pooled units to it and adds no
  // rescaling; a conv channel is one rescaling, a dense hidden unit one. Checked by the exact
  // analysis (analyze_shared: rank of A M over the parameters, and every surviving rescaling checked).
  struct row {
    const char* spec;
    std::size_t rescalings;
  };
  for (row r : {row{"cnn:in=1x6x6,layers=c2k3-max2-fc3,bias", 2}, row{"cnn:in=2x7x6,layers=c3k2-avg2-c2k2-fc4-fc3", 9},
                row{"cnn:in=1x8x8,layers=c3k3-max2-c2k2-max2-fc5-fc2,bias", 10}}) {
    INFO(r.spec);
    const network net = from_spec(r.spec);
    const active_subgraph active = find_active(net);
    const shared_analysis sh = analyze_shared(net, active, make_basis(net, active));
    REQUIRE(sh.surviving_checked);
    CHECK(sh.surviving.size() == r.rescalings);
    CHECK(sh.dimension == net.num_parameters() - r.rescalings);
  }
}

TEST_CASE("cnn specs that cannot be built are refused, naming the layer", "[builders][cnn]") {
  struct bad {
    const char* spec;
    const char* message;
  };
  for (bad b :
       {bad{"cnn:in=1x6x6,layers=c2k7-fc2", "layer 1 (c2k7): kernel 7 is larger than its 6x6 input"},
        bad{"cnn:in=1x6x6,layers=c2k3-max5-fc2", "layer 2 (max5): window 5 is larger than its 4x4 input"},
        bad{"cnn:in=1x6x6,layers=fc3-c2k1", "layer 2 (c2k1) follows a dense layer"},
        bad{"cnn:in=1x6x6,layers=c2k3-max2", "must be conv or fc, not pooling (max2)"},
        bad{"cnn:in=1x6,layers=fc3", "is not CxHxW"}, bad{"cnn:in=1x6x6,layers=q3", "layer 'q3' is none of"},
        bad{"cnn:in=1x6x6,layers=c0k3-fc2", "conv channels must be at least 1"},
        bad{"cnn:in=1x6x6", "needs in=CxHxW and layers="}, bad{"cnn:in=1x6x6,layers=fc2,pad=1", "unknown option"},
        bad{"cnn:in=1x100000x100000,layers=c100k3-fc10", "edges; the limit is"}}) {
    INFO(b.spec);
    CHECK_THROWS_WITH(from_spec(b.spec),
                      Catch::Contains(b.message) && Catch::Contains(std::string("'") + b.spec + "'"));
  }
}

TEST_CASE("random scales on shared parameters: one per tie class, so the parameters stay shared",
          "[cnn][equivalence][shared]") {
  // A 1-D conv (shared kernels only) and a 2-D CNN (shared kernels and max-pooling constants).
  for (const char* spec : {"conv:len=6,ch=1-2-2-1,k=2,init=3", "cnn:in=1x6x6,layers=c2k3-max2-fc2,bias,init=4"}) {
    INFO(spec);
    network net = load_network(spec);
    REQUIRE(net.has_params());
    const std::vector<node_id> cls = tie_classes(net);
    // Every shared parameter's tails lie in one class, and so do its heads.
    std::vector<node_id> tail_class(net.param_names().size(), npos - 1), head_class(tail_class);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      const std::uint32_t p = net.param(e);
      if (p == npos) continue;
      const node_id t = cls[net.edge_at(e).from], h = cls[net.edge_at(e).to];
      if (tail_class[p] == npos - 1) tail_class[p] = t, head_class[p] = h;
      CHECK(tail_class[p] == t);
      CHECK(head_class[p] == h);
    }
    std::size_t moved = 0;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      const std::vector<mpq_class> q = random_rational_scales(net, seed);
      for (node_id v = 0; v < net.num_nodes(); ++v)
        if (net.is_scalable(v)) CHECK(q[v] == (cls[v] == npos ? mpq_class(1) : q[cls[v]]));
      // Exact: the rescaled network keeps every parameter shared (apply_rescaling checks it and
      // threw here before the draws followed the tie classes) and is equivalent with these scales.
      const network b = apply_rescaling(net, q);
      equivalence_options exact;
      exact.exact = true;
      const auto r = rescaling_equivalence(net, b, exact);
      REQUIRE(r.equivalent);
      REQUIRE(r.exact_scales.size() == net.num_nodes());
      for (node_id v = 0; v < net.num_nodes(); ++v)
        if (net.is_scalable(v) && std::find(r.undetermined.begin(), r.undetermined.end(), v) == r.undetermined.end()) {
          CHECK(r.exact_scales[v] == q[v]);
          moved += q[v] != 1;
        }
      network d = apply_rescaling(net, random_scales(net, seed, 1.0));
      CHECK(rescaling_equivalence(net, d).equivalent);
    }
    CHECK(moved > 0);
  }
}
