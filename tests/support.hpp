// tests/support.hpp: shared helpers for the theorem tests: seeded random networks and weights,
// and the enumerated exact rank that the structural answers are checked against.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/exact/rational.hpp"
#include "scaleinv/exact/sparse_rank.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/enumerate.hpp"

namespace scaleinv::test {

/// A plain MLP (relu, no weights) of the given widths.
inline network mlp(std::vector<std::size_t> widths, bool bias = false) {
  mlp_options o;
  o.widths = std::move(widths);
  o.bias = bias;
  return make_mlp(o);
}

/// An MLP with He-normal weights from seed (graph/builders.hpp init_weights).
inline network weighted_mlp(std::vector<std::size_t> widths, bool bias, std::uint64_t seed, activation act = {}) {
  mlp_options o;
  o.widths = std::move(widths);
  o.bias = bias;
  o.act = act;
  o.init_seed = seed;
  return make_mlp(o);
}

/// A nonzero rational p/q with |p| <= 9, 1 <= q <= 9 (canonical).
inline mpq_class random_rational(splitmix64& rng) {
  long p = static_cast<long>(rng.below(9)) + 1;
  if (rng.below(2) == 0) p = -p;
  long q = static_cast<long>(rng.below(9)) + 1;
  return make_rational(p, q);
}

/// A positive rational scale in [1/9, 9].
inline mpq_class random_scale(splitmix64& rng) {
  long p = static_cast<long>(rng.below(9)) + 1;
  long q = static_cast<long>(rng.below(9)) + 1;
  return make_rational(p, q);
}

inline std::vector<mpq_class> random_weights(const network& net, splitmix64& rng) {
  std::vector<mpq_class> w;
  w.reserve(net.num_edges());
  for (std::size_t e = 0; e < net.num_edges(); ++e) w.push_back(random_rational(rng));
  return w;
}

/// The options of the i-th random DAG of a property test: small enough to enumerate, and
/// covering biases, tanh units, sparse and dense graphs, and zero hidden units.
inline random_dag_options random_case(std::uint64_t seed) {
  splitmix64 rng(seed * 7919 + 17);
  random_dag_options o;
  o.seed = seed;
  o.inputs = 1 + rng.below(4);
  o.hidden = rng.below(11);
  o.outputs = 1 + rng.below(3);
  o.p = 0.15 + 0.6 * rng.uniform();
  o.bias = rng.below(3) == 0;
  o.nonhomogeneous = rng.below(4) == 0 ? 0.25 : 0.0;
  return o;
}

/// For INFO messages: the graph as JSON.
inline std::string dump(const network& net) { return write_network_json(net); }

struct enumerated {
  std::uint64_t paths = 0;
  std::size_t rank = 0;
  std::vector<std::vector<edge_id>> rows;
};

/// Every path, and the exact rank of the path-edge matrix over Q.
inline enumerated enumerate_and_rank(const network& net, std::uint64_t max_paths = 200000) {
  enumerated r;
  r.rows = enumerate_paths(net, max_paths);
  r.paths = r.rows.size();
  r.rank = exact_rank(r.rows, static_cast<std::uint32_t>(net.num_edges()));
  return r;
}

/// s contains part.
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace scaleinv::test
