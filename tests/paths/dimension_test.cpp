// tests/paths/dimension_test.cpp: the dimension theorem, rank A = E_on - H_on (math.md section 3),
// checked against the exact rank of the enumerated path-edge matrix.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/count.hpp"

using namespace scaleinv;

TEST_CASE("rank of the enumerated path matrix equals E_on - H_on on 1200 random DAGs", "[dimension][theorem]") {
  std::size_t disagreeing_with_formula = 0, with_tanh = 0, with_dead = 0;
  for (std::uint64_t seed = 1; seed <= 1200; ++seed) {
    random_dag_options o = test::random_case(seed);
    network net = make_random_dag(o);
    active_subgraph a = find_active(net);
    auto en = test::enumerate_and_rank(net);
    INFO("seed " << seed << " (random:seed=" << seed << ",inputs=" << o.inputs << ",hidden=" << o.hidden
                 << ",outputs=" << o.outputs << ",p=" << o.p << (o.bias ? ",bias" : "")
                 << (o.nonhomogeneous > 0 ? ",tanh=0.25" : "") << ")\n"
                 << test::dump(net));
    REQUIRE(en.rank == a.active_edges - a.active_hidden);
    analysis r = analyze(net);
    REQUIRE(r.dimension == en.rank);
    REQUIRE(r.cert.valid);
    REQUIRE(r.cert.rank == en.rank);
    REQUIRE(r.paths == mpz_class(static_cast<unsigned long>(en.paths)));
    if (!r.theorem_holds) ++disagreeing_with_formula;
    if (r.nonhomogeneous > 0) ++with_tanh;
    if (a.scalable_hidden > a.active_hidden) ++with_dead;
  }
  // The sample must exercise the cases where E - H is wrong, or it proves less than it claims.
  CHECK(disagreeing_with_formula > 100);
  CHECK(with_tanh > 100);
  CHECK(with_dead > 50);
}

TEST_CASE("MLPs with and without biases: dimension = #weights - #hidden", "[dimension][theorem]") {
  const std::vector<std::vector<std::size_t>> shapes = {{1, 1},       {2, 3},       {3, 1, 2},      {2, 3, 2},
                                                        {3, 4, 4, 2}, {4, 3, 5, 2}, {2, 2, 2, 2, 2}};
  for (const auto& widths : shapes) {
    for (bool bias : {false, true}) {
      network net = test::mlp(widths, bias);
      std::size_t hidden = net.count(node_kind::hidden);
      auto en = test::enumerate_and_rank(net);
      INFO("widths " << widths.size() << " layers, bias " << bias);
      REQUIRE(en.rank == net.num_edges() - hidden);
      analysis r = analyze(net);
      REQUIRE(r.theorem_holds);
      REQUIRE(r.dimension == net.num_edges() - hidden);
      // paths: product of widths without biases
      if (!bias) {
        mpz_class prod = 1;
        for (auto w : widths) prod *= static_cast<unsigned long>(w);
        REQUIRE(r.paths == prod);
      }
    }
  }
}

TEST_CASE("skip MLPs: dimension = #weights - #hidden, checked by enumeration", "[dimension][theorem]") {
  for (std::size_t span : {2u, 3u}) {
    mlp_options o;
    o.widths = {3, 4, 4, 3, 2};
    o.skip_span = span;
    o.bias = span == 3;
    network net = make_mlp(o);
    auto en = test::enumerate_and_rank(net);
    REQUIRE(en.rank == net.num_edges() - net.count(node_kind::hidden));
    REQUIRE(analyze(net).theorem_holds);
  }
}
