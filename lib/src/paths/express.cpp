// express.cpp: a path's coordinates in the basis, and the exact check of its value.
#include "scaleinv/paths/express.hpp"

#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/paths/active.hpp"

namespace scaleinv {

path_expression express(const network& net, const path_basis& basis, std::span<const edge_id> path) {
  path_expression x;
  x.path.assign(path.begin(), path.end());
  x.coordinates = path_coordinates(net, basis, path);
  x.skeleton = basis.skeleton;
  if (!net.has_weights()) return x;
  x.checked = true;
  auto w = net.exact_weights();
  std::span<const mpq_class> ws(w);
  mpq_class product = 1;
  x.value = path_value(ws, path);
  bool defined = true;
  for (const auto& c : x.coordinates) {
    mpq_class b = path_value(ws, std::span<const edge_id>(basis_path(net, basis, c.basis)));
    if (b == 0) {
      defined = false;
      break;
    }
    mpz_class num = b.get_num(), den = b.get_den();
    unsigned long k = static_cast<unsigned long>(c.exponent < 0 ? -c.exponent : c.exponent);
    mpz_pow_ui(num.get_mpz_t(), num.get_mpz_t(), k);
    mpz_pow_ui(den.get_mpz_t(), den.get_mpz_t(), k);
    product *= c.exponent > 0 ? make_rational(num, den) : make_rational(den, num);
  }
  if (defined) x.reconstructed = product;
  return x;
}

path_expression express(const network& net, std::span<const edge_id> path, skeleton_kind skeleton) {
  const path_basis basis = make_basis(net, find_active(net), skeleton);
  return express(net, basis, path);
}

}  // namespace scaleinv
