// tests/paths/express_test.cpp: express(), a path in the basis with the exact check of its value:
// every path of random weighted DAGs is rebuilt exactly, a zero basis path leaves the product
// undefined, an unweighted network has coordinates only, and a non-path is refused.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/error.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/express.hpp"

using namespace scaleinv;

TEST_CASE("express: every path of a weighted random DAG is rebuilt exactly", "[express]") {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    splitmix64 rng(seed + 1000);
    net.set_exact_weights(test::random_weights(net, rng));
    INFO("seed " << seed << "\n" << test::dump(net));
    const path_basis basis = make_basis(net, find_active(net));
    for (const auto& path : enumerate_paths(net, 5000)) {
      if (!path_problem(net, path).empty()) continue;  // through a tanh unit: no coordinates
      const path_expression x = express(net, basis, path);
      CHECK(x.checked);
      CHECK(x.path == path);
      REQUIRE(x.reconstructed);
      CHECK(x.values_agree());
      CHECK(*x.reconstructed == x.value);
    }
  }
}

TEST_CASE("express: without weights only the coordinates", "[express]") {
  const network net = test::mlp({2, 3, 1});
  const path_expression x = express(net, std::vector<edge_id>{0, 6});
  CHECK_FALSE(x.checked);
  CHECK_FALSE(x.reconstructed);
  CHECK_FALSE(x.values_agree());
  CHECK_FALSE(x.coordinates.empty());
}

TEST_CASE("express: a basis path of value 0 leaves the product undefined", "[express]") {
  network net = test::mlp({2, 2, 1});
  // Edges: 0 x0->h0, 1 x1->h0, 2 x0->h1, 3 x1->h1, 4 h0->y0, 5 h1->y0. Basis paths go through
  // c(h0) = edge 4, so a zero there makes every basis path through h0 zero.
  net.set_weights({1.0, 2.0, 3.0, 4.0, 0.0, 5.0});
  const path_expression x = express(net, std::vector<edge_id>{1, 4});
  CHECK(x.checked);
  CHECK(x.value == 0);
  CHECK_FALSE(x.reconstructed);
  CHECK_FALSE(x.values_agree());
}

TEST_CASE("express: edges that are no path are refused", "[express]") {
  const network net = test::mlp({2, 2, 1});
  CHECK_THROWS_AS(express(net, std::vector<edge_id>{0, 1}), invalid_argument);
  CHECK_THROWS_AS(express(net, std::vector<edge_id>{99}), invalid_argument);
}
