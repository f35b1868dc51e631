// exact.cpp: the exact balancing factor of one group, in rational arithmetic.
#include "detail.hpp"

namespace scaleinv {

using detail::kFixed;
using detail::make_problem;
using detail::problem;

bool exact_balancing_factor(const network& net, const balance_structure& s, std::uint32_t group, unsigned p,
                            mpq_class& factor) {
  if (p == 0 || group >= s.members.size()) return false;
  std::vector<double> wd = net.weights();
  problem pr = make_problem(net, s, wd, static_cast<double>(p));
  if (!pr.live[group]) return false;
  mpq_class in = 0, out = 0;
  auto gof = [&](node_id v) { return s.group_of[v]; };
  auto live_end = [&](std::uint32_t g) { return g == kFixed || pr.live[g]; };
  for (node_id v : s.members[group]) {
    for (edge_id e : net.in_edges(v)) {
      const std::uint32_t t = gof(net.edge_at(e).from);
      if (t == group || !live_end(t)) continue;
      mpq_class a = abs(net.exact_weight(e)), q = 1;
      for (unsigned k = 0; k < p; ++k) q *= a;
      in += q;
    }
    for (edge_id e : net.out_edges(v)) {
      const std::uint32_t h = gof(net.edge_at(e).to);
      if (h == group || !live_end(h)) continue;
      mpq_class a = abs(net.exact_weight(e)), q = 1;
      for (unsigned k = 0; k < p; ++k) q *= a;
      out += q;
    }
  }
  if (in == 0 || out == 0) return false;
  mpq_class ratio = out / in;
  ratio.canonicalize();
  mpz_class num, den;
  if (mpz_root(num.get_mpz_t(), ratio.get_num_mpz_t(), 2 * p) == 0) return false;
  if (mpz_root(den.get_mpz_t(), ratio.get_den_mpz_t(), 2 * p) == 0) return false;
  factor = mpq_class(num, den);
  factor.canonicalize();
  return true;
}

}  // namespace scaleinv
