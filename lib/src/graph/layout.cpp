// layout.cpp: recognising a network as a stack of dense blocks.
#include "scaleinv/graph/layout.hpp"

#include <algorithm>

namespace scaleinv {

std::optional<layer_layout> find_layers(const network& net) {
  const std::size_t n = net.num_nodes();
  std::vector<int> depth(n, 0);
  for (node_id v : net.topological_order()) {
    const node& nd = net.node_at(v);
    if (nd.kind == node_kind::input || nd.kind == node_kind::bias) continue;
    if (nd.kind == node_kind::hidden && nd.act.is_pooling()) return std::nullopt;
    int d = 0;
    for (edge_id e : net.in_edges(v))
      if (net.node_at(net.edge_at(e).from).kind != node_kind::bias) d = std::max(d, depth[net.edge_at(e).from] + 1);
    depth[v] = d;
  }
  int max_depth = 0;
  for (node_id v = 0; v < n; ++v)
    if (net.node_at(v).kind == node_kind::output) max_depth = std::max(max_depth, depth[v]);
  if (max_depth < 1) return std::nullopt;
  std::vector<std::vector<node_id>> layer(static_cast<std::size_t>(max_depth) + 1);
  for (node_id v = 0; v < n; ++v) {
    const node& nd = net.node_at(v);
    if (nd.kind == node_kind::bias) continue;
    if ((nd.kind == node_kind::output) != (depth[v] == max_depth)) return std::nullopt;
    if (nd.kind == node_kind::hidden && depth[v] == 0) return std::nullopt;
    layer[static_cast<std::size_t>(depth[v])].push_back(v);
  }
  layer_layout lay;
  const std::size_t L = layer.size();
  lay.input_nodes = layer[0];
  lay.output_nodes = layer[L - 1];
  for (const auto& l : layer) {
    if (l.empty()) return std::nullopt;
    lay.widths.push_back(l.size());
  }
  std::size_t e = 0;
  for (std::size_t l = 1; l < L; ++l) {
    layer_block& blk = lay.blocks.emplace_back();
    blk.in = lay.widths[l - 1];
    blk.out = lay.widths[l];
    blk.hidden = l + 1 < L;
    if (blk.hidden) {
      blk.act = net.node_at(layer[l][0]).act;
      for (node_id v : layer[l])
        if (!(net.node_at(v).act == blk.act)) return std::nullopt;
    }
    blk.weight_offset = e;
    for (node_id to : layer[l])
      for (node_id from : layer[l - 1]) {
        if (e >= net.num_edges() || net.edge_at(e).from != from || net.edge_at(e).to != to) return std::nullopt;
        ++e;
      }
    if (e < net.num_edges() && net.node_at(net.edge_at(e).from).kind == node_kind::bias) {
      node_id b = net.edge_at(e).from;
      blk.bias_offset = e;
      for (node_id to : layer[l]) {
        if (e >= net.num_edges() || net.edge_at(e).from != b || net.edge_at(e).to != to) return std::nullopt;
        ++e;
      }
      if (net.out_edges(b).size() != layer[l].size()) return std::nullopt;
    }
  }
  if (e != net.num_edges()) return std::nullopt;
  return lay;
}

}  // namespace scaleinv
