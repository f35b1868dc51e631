// tests/paths/basis_test.cpp: basis paths (math.md section 4): size, exact independence,
// coordinates that rebuild every path exactly, the certificate, and determinism.
#include "catch_shim.hpp"
#include "support.hpp"

#include <fmt/format.h>

#include <map>

#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/basis.hpp"

using namespace scaleinv;

namespace {
// value(B)^k for an integer k, exactly. @pre value != 0 when k < 0.
mpq_class power(const mpq_class& value, std::int64_t k) {
  mpz_class num = value.get_num(), den = value.get_den();
  auto n = static_cast<unsigned long>(k < 0 ? -k : k);
  mpz_pow_ui(num.get_mpz_t(), num.get_mpz_t(), n);
  mpz_pow_ui(den.get_mpz_t(), den.get_mpz_t(), n);
  return k >= 0 ? make_rational(num, den) : make_rational(den, num);
}

void check_basis(const network& net, std::uint64_t seed, skeleton_kind sk = skeleton_kind::first) {
  active_subgraph a = find_active(net);
  path_basis b = make_basis(net, a, sk);
  const auto columns = static_cast<std::uint32_t>(net.num_edges());
  INFO("seed " << seed << ", skeleton " << to_string(sk) << "\n" << test::dump(net));
  REQUIRE(b.size() == a.active_edges - a.active_hidden);
  std::vector<std::vector<edge_id>> rows;
  for (std::size_t i = 0; i < b.size(); ++i) {
    rows.push_back(basis_path(net, b, i));
    REQUIRE(path_problem(net, rows.back()).empty());
  }
  REQUIRE(exact_rank(rows, columns) == b.size());  // exactly independent
  REQUIRE(certify(net, a, b).valid);

  splitmix64 rng(seed);
  std::vector<mpq_class> w = test::random_weights(net, rng);  // nonzero rationals
  std::span<const mpq_class> ws(w);
  std::vector<mpq_class> basis_value;
  for (const auto& r : rows) basis_value.push_back(path_value(ws, std::span<const edge_id>(r)));
  for_each_path(net, 200000, [&](std::span<const edge_id> path) {
    auto coords = path_coordinates(net, b, path);
    std::vector<std::int64_t> row(columns, 0);
    for (edge_id e : path) row[e] -= 1;
    mpq_class product = 1;
    for (const auto& c : coords) {
      REQUIRE(c.exponent != 0);
      for (edge_id e : rows[c.basis]) row[e] += c.exponent;
      product *= power(basis_value[c.basis], c.exponent);
    }
    for (std::int64_t x : row) REQUIRE(x == 0);  // sum of exponents * rows = the path's row
    REQUIRE(product == path_value(ws, path));    // and so the value, exactly
  });
}
}  // namespace

TEST_CASE("basis of random DAGs: size, exact independence, exact coordinates", "[basis][theorem]") {
  for (std::uint64_t seed = 1; seed <= 400; ++seed)
    for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal})
      check_basis(make_random_dag(test::random_case(seed)), seed, sk);
}

TEST_CASE("basis of MLPs and skip MLPs", "[basis][theorem]") {
  for (skeleton_kind sk : {skeleton_kind::first, skeleton_kind::diagonal}) {
    check_basis(test::mlp({3, 4, 3, 2}, true), 1, sk);
    mlp_options o;
    o.widths = {2, 3, 3, 3, 2};
    o.skip_span = 2;
    check_basis(make_mlp(o), 2, sk);
  }
}

TEST_CASE("the diagonal skeleton on an MLP is the G-SGD authors': j mod n(l-1) in, j mod n(l+1) out", "[basis]") {
  for (bool bias : {false, true}) {
    const std::vector<std::size_t> widths{5, 3, 7, 4, 2};
    network net = test::mlp(widths, bias);
    path_basis b = make_basis(net, find_active(net), skeleton_kind::diagonal);
    CHECK(b.skeleton == skeleton_kind::diagonal);
    // Unit ids as make_mlp names them: h<l>_<j>, inputs x<j>, outputs y<j>.
    auto index_of = [&](node_id v) { return std::stoul(net.node_at(v).id.substr(net.node_at(v).id.find('_') + 1)); };
    for (std::size_t l = 1; l + 1 < widths.size(); ++l)
      for (std::size_t j = 0; j < widths[l]; ++j) {
        const node_id v = *net.find_node(fmt::format("h{}_{}", l, j));
        const node_id from = net.edge_at(b.parent_edge[v]).from, to = net.edge_at(b.child_edge[v]).to;
        INFO("bias " << bias << ", layer " << l << ", unit " << j);
        CHECK(net.node_at(from).kind != node_kind::bias);
        const std::string from_id = net.node_at(from).id, to_id = net.node_at(to).id;
        CHECK((l == 1 ? from_id == fmt::format("x{}", j % widths[0]) : index_of(from) == j % widths[l - 1]));
        CHECK((l + 2 == widths.size() ? to_id == fmt::format("y{}", j % widths[l + 1])
                                      : index_of(to) == j % widths[l + 1]));
      }
  }
}

TEST_CASE("a non-skeleton edge lies on exactly one basis path", "[basis][theorem]") {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    network net = make_random_dag(test::random_case(seed));
    active_subgraph a = find_active(net);
    path_basis b = make_basis(net, a);
    std::vector<int> skeleton(net.num_edges(), 0), on(net.num_edges(), 0);
    for (node_id v = 0; v < net.num_nodes(); ++v) {
      if (b.parent_edge[v] != npos) skeleton[b.parent_edge[v]] = 1;
      if (b.child_edge[v] != npos) skeleton[b.child_edge[v]] = 1;
    }
    for (std::size_t i = 0; i < b.size(); ++i)
      for (edge_id e : basis_path(net, b, i)) ++on[e];
    INFO("seed " << seed);
    for (edge_id e = 0; e < net.num_edges(); ++e) {
      if (a.is_active_edge(e) && skeleton[e] == 0) REQUIRE(on[e] == 1);
      if (!a.is_active_edge(e)) REQUIRE(on[e] == 0);
    }
  }
}

TEST_CASE("the basis depends on the graph alone", "[basis]") {
  network n1 = make_random_dag(test::random_case(42));
  network n2 = make_random_dag(test::random_case(42));
  init_weights(n2, 7);
  path_basis b1 = make_basis(n1, find_active(n1)), b2 = make_basis(n2, find_active(n2));
  REQUIRE(b1.free_edges == b2.free_edges);
  REQUIRE(b1.parent_edge == b2.parent_edge);
  REQUIRE(b1.child_edge == b2.child_edge);
  REQUIRE(b1.index_of == b2.index_of);
}

TEST_CASE("the certificate rejects a tampered basis", "[basis][certificate]") {
  network net = test::mlp({3, 4, 2}, true);
  active_subgraph a = find_active(net);
  path_basis good = make_basis(net, a);
  REQUIRE(certify(net, a, good).valid);
  REQUIRE(certify(net, a, good).rank == net.num_edges() - 4);

  SECTION("p(v) pointing at an edge that does not enter v") {
    path_basis b = good;
    node_id h = *net.find_node("h1_0");
    b.parent_edge[h] = net.out_edges(h)[0];
    auto c = certify(net, a, b);
    REQUIRE_FALSE(c.valid);
    REQUIRE(c.failure.find("h1_0") != std::string::npos);
  }
  SECTION("a free edge missing") {
    path_basis b = good;
    b.free_edges.pop_back();
    REQUIRE_FALSE(certify(net, a, b).valid);
  }
  SECTION("a p-edge listed as free") {
    path_basis b = good;
    node_id h = *net.find_node("h1_1");
    b.free_edges.push_back(b.parent_edge[h]);
    REQUIRE_FALSE(certify(net, a, b).valid);
  }
  SECTION("an edge marked active that lies on no path") {
    network dead = make_random_dag(test::random_case(5));
    active_subgraph da = find_active(dead);
    path_basis db = make_basis(dead, da);
    REQUIRE(certify(dead, da, db).valid);
    for (edge_id e = 0; e < dead.num_edges(); ++e) {
      if (!da.is_active_edge(e)) {
        active_subgraph wrong = da;
        wrong.edge_on[e] = 1;
        REQUIRE_FALSE(certify(dead, wrong, db).valid);
        break;
      }
    }
  }
}

TEST_CASE("path_coordinates rejects what is not a path", "[basis]") {
  network net = test::mlp({2, 2, 1});  // edges 0..3 into h1_0,h1_1 (target-major); 4,5 into y0
  path_basis b = make_basis(net, find_active(net));
  std::vector<edge_id> ok{0, 4};
  REQUIRE_NOTHROW(path_coordinates(net, b, ok));
  std::vector<edge_id> empty, broken{0, 5}, short_path{0}, starts_hidden{4}, missing{0, 99};
  REQUIRE_THROWS_WITH(path_coordinates(net, b, empty), Catch::Contains("at least one edge"));
  REQUIRE_THROWS_WITH(path_coordinates(net, b, broken), Catch::Contains("is not followed by an edge leaving 'h1_0'"));
  REQUIRE_THROWS_WITH(path_coordinates(net, b, short_path), Catch::Contains("ends at hidden unit 'h1_0'"));
  REQUIRE_THROWS_WITH(path_coordinates(net, b, starts_hidden), Catch::Contains("starts at hidden unit"));
  REQUIRE_THROWS_WITH(path_coordinates(net, b, missing), Catch::Contains("edge 99 does not exist"));
}
