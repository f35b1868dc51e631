// path_norm.cpp: the two dynamic programs of the L2 path norm and Path-SGD's gamma.
#include "scaleinv/paths/path_norm.hpp"

namespace scaleinv {

template <class T>
path_sums<T> compute_path_sums(const network& net, const std::vector<T>& w) {
  const std::size_t n = net.num_nodes();
  path_sums<T> s;
  s.in.assign(n, T(0));
  s.out.assign(n, T(0));
  const auto& order = net.topological_order();
  for (node_id v : order) {
    T arriving = T(0);
    for (edge_id e : net.in_edges(v)) arriving += w[e] * w[e] * s.in[net.edge_at(e).from];
    if (net.is_path_sink(v)) s.squared_norm += arriving;
    s.in[v] = net.is_path_source(v) ? T(1) : arriving;
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const node_id v = *it;
    if (net.is_path_sink(v)) {
      s.out[v] = T(1);
      continue;
    }
    T leaving = T(0);
    for (edge_id e : net.out_edges(v)) leaving += w[e] * w[e] * s.out[net.edge_at(e).to];
    s.out[v] = leaving;
  }
  return s;
}

template path_sums<float> compute_path_sums(const network&, const std::vector<float>&);
template path_sums<double> compute_path_sums(const network&, const std::vector<double>&);
template path_sums<mpq_class> compute_path_sums(const network&, const std::vector<mpq_class>&);

}  // namespace scaleinv
