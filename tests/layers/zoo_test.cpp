// tests/layers/zoo_test.cpp: the zoo models unrolled at small inputs: the "zoo:" spec, and the
// exact shared dimension of each against the closed form "parameters minus the classes of hidden
// channels joined by constant edges" (math.md section 9).
#include <fmt/format.h>

#include <map>
#include <numeric>
#include <set>

#include "catch_shim.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/layers/zoo.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/shared.hpp"

using namespace scaleinv;

namespace {

struct union_find {
  std::vector<std::size_t> up;
  explicit union_find(std::size_t n) : up(n) { std::iota(up.begin(), up.end(), 0); }
  std::size_t find(std::size_t a) { return up[a] == a ? a : up[a] = find(up[a]); }
  void join(std::size_t a, std::size_t b) { up[find(a)] = find(b); }
};

// The closed form's S: classes of hidden channels (a unit's channel is its id up to the first
// ',' or ']': "layer1.0.conv1[5") joined by constant edges, less those a constant edge ties to an
// input or output (their scale is fixed).
std::size_t channel_classes(const network& net) {
  const std::size_t n = net.num_nodes();
  union_find uf(n + 1);  // n: the fixed scale
  std::map<std::string, std::size_t> channel;
  for (node_id v = 0; v < n; ++v) {
    const node& nd = net.node_at(v);
    if (nd.kind != node_kind::hidden) {
      uf.join(v, n);
      continue;
    }
    const std::string key = nd.id.substr(0, nd.id.find_first_of(",]"));
    auto [it, fresh] = channel.emplace(key, v);
    if (!fresh) uf.join(v, it->second);
  }
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.is_constant(e)) uf.join(net.edge_at(e).from, net.edge_at(e).to);
  std::set<std::size_t> classes;
  for (node_id v = 0; v < n; ++v)
    if (uf.find(v) != uf.find(n)) classes.insert(uf.find(v));
  return classes.size();
}

}  // namespace

TEST_CASE("zoo: spec, weights and refusals", "[layers][zoo]") {
  const network net = load_network("zoo:resnet20,input=3x4x4,init=3");
  CHECK(net.has_weights());
  CHECK(net.count(node_kind::output) == 10);
  CHECK(net.find_node("layer3.2.conv2[63]"));
  CHECK_THROWS_WITH(load_network("zoo:alexnet"),
                    Catch::Contains("network spec 'zoo:alexnet'") && Catch::Contains("unknown zoo model"));
  CHECK_THROWS_WITH(load_network("zoo:lenet5,input=1x8x8"), Catch::Contains("layer 'conv2'"));
  CHECK_THROWS_WITH(load_network("zoo:lenet5,input=1x8"), Catch::Contains("not CxHxW"));
  CHECK_THROWS_WITH(load_network("zoo:lenet5,depth=3"), Catch::Contains("unknown option"));
  CHECK_THROWS_WITH(load_network("zoo:vgg11"), Catch::Contains("edges; the limit is 1000000000"));
}

shared_analysis analyze(const network& net) {
  const active_subgraph a = find_active(net);
  return analyze_shared(net, a, make_basis(net, a));
}

// Unrolled at these inputs (analyze: about 2 s and 1 s in a Release build), every parameter that
// appears lies on an active edge and the closed form holds. LeNet-5 at 1x16x16 uses every kernel
// entry (15,626 parameters, fc1 reads 16 features); ResNet-20 at 3x1x1 only the kernels' centres
// (33,738 of 271,690 folded parameters). Measured, not run here: ResNet-20 at 3x2x2 (47,946
// parameters, dimension 47,498 = 47,946 - 448, 12 s) and ResNet-18 at 3x1x1 (1,910,632
// parameters, dimension 1,907,752 = 1,910,632 - 2,880, 48 s and 1.7 GB).
TEST_CASE("zoo: exact shared dimension at small inputs", "[layers][zoo]") {
  for (const char* spec : {"zoo:lenet5,input=1x16x16", "zoo:resnet20,input=3x1x1"}) {
    CAPTURE(spec);
    const network net = load_network(spec);
    const shared_analysis r = analyze(net);
    const std::size_t S = channel_classes(net);
    CHECK(r.unused_parameters == 0);
    CHECK(r.surviving_checked);
    CHECK(r.surviving.size() == S);
    CHECK(r.dimension == net.num_parameters() - S);
  }
  const network lenet = load_network("zoo:lenet5,input=1x16x16");
  CHECK(lenet.num_parameters() ==
        layers::count_parameters(layers::zoo_model("lenet5", layers::shape3{1, 16, 16})).folded);
  CHECK(channel_classes(lenet) == 6 + 16 + 120 + 84);  // pooling joins conv1 / conv2 to their pools
  const network r20 = load_network("zoo:resnet20,input=3x1x1");
  CHECK(channel_classes(r20) == 448);
  const network_size planned = layers::planned_unroll(layers::zoo_model("resnet20", layers::shape3{3, 1, 1}));
  CHECK(planned.edges == static_cast<double>(r20.num_edges()));
  CHECK(planned.nodes == static_cast<double>(r20.num_nodes()));
}

// Where the closed form fails: positions reached only through padding. conv1 (1x1 kernel, padding
// 1, no bias) on a 1x1 input leaves 8 of its 9 positions with no incoming edge; they are on no
// path, so conv2's 8 off-centre taps per channel pair are parameters on no active edge.
TEST_CASE("zoo: padding-only positions leave parameters unused", "[layers][zoo]") {
  using namespace scaleinv::layers;
  model m{{1, 1, 1}, {}};
  m.push(conv2d("c1", 2, 1, 1, 1, false));
  m.push(relu("r1"));
  m.push(conv2d("c2", 2, 3, 1, 0, false));
  m.push(relu("r2"));
  m.push(flatten("f"));
  m.push(linear("fc", 1, false));
  const network net = unroll(m, 1e6);
  const shared_analysis r = analyze(net);
  CHECK(net.num_parameters() == 2 + 2 * 2 * 9 + 2);
  CHECK(r.unused_parameters == 2 * 2 * 8);
  // S = 4 channel classes, all active: dimension = P - U - S.
  CHECK(r.surviving.size() == 4);
  CHECK(r.dimension == 40 - 32 - 4);
  CHECK(channel_classes(net) == 4);
}
