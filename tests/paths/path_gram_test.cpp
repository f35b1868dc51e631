// tests/paths/path_gram_test.cpp: the rank of A from its Gram matrix of path counts equals the
// rank of the enumerated A, the exact kernel check agrees with enumeration, and the cost estimate
// of verify refuses what it cannot do in time before doing any of it (issue 11 item 3).
#include "catch_shim.hpp"
#include "support.hpp"

#include <cstdint>
#include <vector>

#include "scaleinv/graph/random.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/path_gram.hpp"
#include "scaleinv/paths/verify.hpp"

using namespace scaleinv;

namespace {
// A k = 0 by enumeration: every path's sum of k is 0.
bool annihilates_by_enumeration(const std::vector<std::vector<edge_id>>& rows, const std::vector<std::int64_t>& k) {
  for (const auto& row : rows) {
    std::int64_t s = 0;
    for (edge_id e : row) s += k[e];
    if (s != 0) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("path gram: the rank equals the rank of the enumerated A on random DAGs", "[path_gram]") {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const network net = make_random_dag(test::random_case(seed));
    INFO("seed " << seed << "\n" << test::dump(net));
    const active_subgraph active = find_active(net);
    const path_gram_rank r = rank_by_path_gram(net, active, 1e9);
    const auto en = test::enumerate_and_rank(net);
    REQUIRE(r.certified);
    CHECK(r.rank == en.rank);
    CHECK(r.kernel_vectors == active.active_edges - r.rank);
    CHECK(r.prime != 0);
    const path_gram_plan plan = plan_path_gram(net, active);
    CHECK(plan.columns == active.active_edges);
    CHECK(plan.diagonal + plan.dense == plan.columns);
  }
}

TEST_CASE("path gram: layered and degenerate networks", "[path_gram][degenerate]") {
  SECTION("MLPs, with and without biases: rank E - H") {
    for (bool bias : {false, true}) {
      const network net = test::mlp({8, 32, 32, 4}, bias);
      const active_subgraph active = find_active(net);
      const path_gram_rank r = rank_by_path_gram(net, active, 1e9);
      REQUIRE(r.certified);
      CHECK(r.rank == active.active_edges - active.active_hidden);
      CHECK(r.kernel_vectors == 64);
      // The widest level is the 32 x 32 middle layer (tails at depth 1; bias nodes have depth 0,
      // so their edges into the second layer are on level 0 with the inputs' edges).
      const path_gram_plan plan = plan_path_gram(net, active);
      CHECK(plan.diagonal == 32u * 32);
      CHECK(plan.dense == (bias ? 9u * 32 + 32 + 33 * 4 : 8u * 32 + 32 * 4));
    }
  }
  SECTION("no paths, a single path, no hidden units") {
    network empty;
    empty.finalize();
    CHECK(rank_by_path_gram(empty, find_active(empty), 1).rank == 0);
    const network one = test::mlp({1, 1, 1});
    CHECK(rank_by_path_gram(one, find_active(one), 1).rank == 1);
    const network flat = test::mlp({3, 2});
    const path_gram_rank r = rank_by_path_gram(flat, find_active(flat), 1);
    CHECK(r.rank == 6);
    CHECK(r.kernel_vectors == 0);
  }
}

TEST_CASE("path gram: the exact kernel check agrees with enumeration", "[path_gram]") {
  splitmix64 rng(5);
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const network net = make_random_dag(test::random_case(seed));
    INFO("seed " << seed << "\n" << test::dump(net));
    const active_subgraph active = find_active(net);
    const auto rows = enumerate_paths(net, 200000);
    // The rescaling of a scalable unit: +1 on its edges in, -1 on its edges out. In the kernel.
    for (node_id v = 0; v < net.num_nodes(); ++v) {
      if (!net.is_scalable(v)) continue;
      std::vector<std::int64_t> k(net.num_edges(), 0);
      for (edge_id e : net.in_edges(v)) k[e] += 1;
      for (edge_id e : net.out_edges(v)) k[e] -= 1;
      CHECK(annihilates_every_path(net, active, k));
      CHECK(annihilates_by_enumeration(rows, k));
    }
    // Random small vectors on the active edges: the two checks agree either way.
    for (int t = 0; t < 20; ++t) {
      std::vector<std::int64_t> k(net.num_edges(), 0);
      for (edge_id e = 0; e < net.num_edges(); ++e)
        if (active.is_active_edge(e) && rng.below(3) == 0) k[e] = static_cast<std::int64_t>(rng.below(3)) - 1;
      CHECK(annihilates_every_path(net, active, k) == annihilates_by_enumeration(rows, k));
    }
  }
}

// Issue 11 item 3: verify mlp:8-128-128-4 (524,288 paths) ran for more than 10 minutes, and
// nothing bounded what the default accepted.
TEST_CASE("verify: the cost is estimated, and what passes the limit is refused before the work",
          "[path_gram][verify]") {
  SECTION("mlp:8-128-128-4: the 128 x 128 layer eliminated by its path counts, 1,536 edges densely") {
    const verify_cost c = estimate_verify(test::mlp({8, 128, 128, 4}));
    CHECK(c.paths == "524288");
    CHECK(c.entries == 3.0 * 524288);
    CHECK(c.gram.diagonal == 128u * 128);
    CHECK(c.gram.dense == 8u * 128 + 128 * 4);
    CHECK(c.gram.kernel == 256);
    CHECK(c.seconds < 30);  // an estimate from sizes, not a timing
  }
  SECTION("a deeper MLP needs a dense elimination of 17,920 columns: refused with the estimate") {
    const network net = test::mlp({8, 128, 128, 128, 4});
    const verify_cost c = estimate_verify(net);
    CHECK(c.gram.dense == 8u * 128 + 128 * 128 + 128 * 4);
    CHECK(c.seconds > 300);
    CHECK(c.bytes > 2e9);
    try {
      verify(net, 100000000);
      FAIL("not refused");
    } catch (const too_costly& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(e.seconds() == c.seconds);
      CHECK(what.find("the check would take about ") == 0);
      CHECK(what.find(" MiB (67108864 paths with 2.68e+08 entries to list; the rank of A: 16384 edges eliminated by "
                      "their path counts, then 17920 densely), more than the limit of 60 s") != std::string::npos);
    }
  }
  SECTION("the limit is the caller's; the rank's own check refuses too") {
    const network net = test::mlp({8, 32, 32, 4});
    CHECK_THROWS_AS(verify(net, 1000000, 1e-6), too_costly);
    CHECK_THROWS_AS(rank_by_path_gram(net, find_active(net), 1e-6), too_costly);
    CHECK(verify(net, 1000000, 1e9).passed());
  }
}
