// tests/paths/verify_test.cpp: verify(), the enumerating check as a library function: it passes on
// random DAGs, its rank is the enumerated exact rank, shared parameters add rank(A M), and a
// network with too many paths is refused before any work.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/error.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/verify.hpp"

using namespace scaleinv;

TEST_CASE("verify: random DAGs pass, with the enumerated rank and E_on - H_on", "[verify]") {
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    INFO("seed " << seed << "\n" << test::dump(net));
    const verify_result r = verify(net, 200000);
    const auto en = test::enumerate_and_rank(net);
    const analysis a = analyze(net);
    CHECK(r.passed());
    CHECK(r.agree);
    CHECK(r.coordinates_exact);
    CHECK(r.basis_independent);
    CHECK(r.paths == en.paths);
    CHECK(r.coordinates_ok == en.paths);
    CHECK(r.rank == en.rank);
    CHECK(r.dimension == a.dimension);
    CHECK(r.basis_size == a.dimension);
    CHECK_FALSE(r.shared);
    CHECK(r.shared_rank == 0);
    CHECK_FALSE(r.rank_method.empty());
    CHECK(r.rank_seconds >= 0);
    CHECK(r.seconds >= r.rank_seconds);
  }
}

TEST_CASE("verify: MLPs with biases", "[verify]") {
  const network net = test::mlp({3, 4, 3, 2}, true);
  const verify_result r = verify(net);
  CHECK(r.passed());
  // Paths from the inputs and from each layer's bias node; rank E - H.
  CHECK(r.paths == 3 * 4 * 3 * 2 + 4 * 3 * 2 + 3 * 2 + 2);
  CHECK(r.rank == (3 + 1) * 4 + (4 + 1) * 3 + (3 + 1) * 2 - 4 - 3);
}

TEST_CASE("verify: shared parameters add rank(A M) = rank(B M)", "[verify]") {
  conv_options o;
  o.length = 7;
  o.channels = {1, 2, 1};
  o.kernel = 3;
  o.bias = true;
  const network net = make_conv1d(o);
  const verify_result r = verify(net);
  const analysis a = analyze(net);
  REQUIRE(a.shared);
  CHECK(r.passed());
  CHECK(r.shared);
  CHECK(r.shared_rank == r.shared_dimension);
  CHECK(r.shared_dimension == a.dimension);
  CHECK(r.dimension == a.unshared_dimension);
}

TEST_CASE("verify: degenerate networks", "[verify][degenerate]") {
  SECTION("empty") {
    network net;
    net.finalize();
    const verify_result r = verify(net);
    CHECK(r.passed());
    CHECK(r.paths == 0);
    CHECK(r.rank == 0);
  }
  SECTION("a single path") {
    const verify_result r = verify(test::mlp({1, 1, 1}));
    CHECK(r.passed());
    CHECK(r.paths == 1);
    CHECK(r.rank == 1);
  }
  SECTION("no hidden units") {
    const verify_result r = verify(test::mlp({3, 2}));
    CHECK(r.passed());
    CHECK(r.rank == 6);
  }
}

TEST_CASE("verify: too many paths is refused", "[verify]") {
  const network net = test::mlp({10, 10, 10});  // 1000 paths
  CHECK_THROWS_AS(verify(net, 999), invalid_argument);
  CHECK(verify(net, 1000).paths == 1000);
}
