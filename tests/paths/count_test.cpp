// tests/paths/count_test.cpp: exact path counts by dynamic programming, against enumeration and
// closed forms, including counts far beyond 64 bits.
#include "catch_shim.hpp"
#include "support.hpp"

#include "scaleinv/paths/count.hpp"

using namespace scaleinv;

TEST_CASE("path counts equal enumeration, in total and per edge", "[count]") {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    path_counts c = count_paths(net);
    std::vector<unsigned long> through(net.num_edges(), 0);
    std::uint64_t n = for_each_path(net, 1000000, [&](std::span<const edge_id> p) {
      for (edge_id e : p) ++through[e];
    });
    INFO("seed " << seed);
    REQUIRE(c.total == mpz_class(static_cast<unsigned long>(n)));
    auto per_edge = edge_path_counts(net, c);
    for (edge_id e = 0; e < net.num_edges(); ++e) REQUIRE(per_edge[e] == mpz_class(through[e]));
  }
}

TEST_CASE("MLP path counts are products of widths", "[count]") {
  REQUIRE(count_paths(test::mlp({784, 500, 500, 10})).total == mpz_class("1960000000"));
  REQUIRE(count_paths(test::mlp({1024, 2048, 2048, 2048, 10})).total == mpz_class("87960930222080"));
  // With one bias node per layer: paths from layer l's bias skip the layers before it.
  // 3-4-2,bias: 3*4*2 + (bias into hidden) 1*4*2 + (bias into outputs) 1*2 = 24 + 8 + 2 = 34.
  REQUIRE(count_paths(test::mlp({3, 4, 2}, true)).total == 34);
}

TEST_CASE("counts beyond 64 bits are exact", "[count]") {
  // 31 layers of width 10: 10^31 paths, past 2^64 (about 1.8e19) at the 20th layer.
  std::vector<std::size_t> widths(31, 10);
  path_counts c = count_paths(test::mlp(widths));
  mpz_class expected;
  mpz_ui_pow_ui(expected.get_mpz_t(), 10, 31);
  REQUIRE(c.total == expected);
  // Per edge: 10^29 paths through every edge (10^k before it, 10^(29-k) after it).
  auto per_edge = edge_path_counts(test::mlp(widths), c);
  mpz_class each;
  mpz_ui_pow_ui(each.get_mpz_t(), 10, 29);
  REQUIRE(per_edge.front() == each);
  REQUIRE(per_edge.back() == each);
}

TEST_CASE("enumeration refuses above the limit and says how many paths there are", "[count]") {
  network net = test::mlp({6, 6, 6, 6});
  REQUIRE_THROWS_WITH(enumerate_paths(net, 100), Catch::Contains("1296 paths") && Catch::Contains("limit of 100"));
  REQUIRE(enumerate_paths(net, 1296).size() == 1296);
}
