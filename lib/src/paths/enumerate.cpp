// enumerate.cpp: depth-first listing of paths with an explicit stack (no recursion depth limit).
#include "scaleinv/paths/enumerate.hpp"

#include <fmt/format.h>

#include "scaleinv/error.hpp"
#include "scaleinv/paths/count.hpp"

namespace scaleinv {

std::uint64_t for_each_path(const network& net, std::uint64_t max_paths,
                            const std::function<void(std::span<const edge_id>)>& visit) {
  path_counts counts = count_paths(net);
  if (counts.total > mpz_class(static_cast<unsigned long>(max_paths))) {
    throw invalid_argument(fmt::format("the network has {} paths, more than the limit of {} for enumeration",
                                       counts.total.get_str(), max_paths));
  }
  std::vector<edge_id> path;
  std::vector<std::size_t> next;  // per depth: index of the next out-edge to try at that node
  std::uint64_t found = 0;
  for (node_id s = 0; s < net.num_nodes(); ++s) {
    if (!net.is_path_source(s)) continue;
    path.clear();
    next.assign(1, 0);
    node_id at = s;
    while (!next.empty()) {
      auto out = net.out_edges(at);
      std::size_t& i = next.back();
      // Skip edges that lead nowhere; they would only be backtracked from.
      while (i < out.size() && counts.to_sink[net.edge_at(out[i]).to] == 0) ++i;
      if (i == out.size()) {
        next.pop_back();
        if (path.empty()) break;
        at = net.edge_at(path.back()).from;
        path.pop_back();
        continue;
      }
      edge_id e = out[i++];
      path.push_back(e);
      node_id head = net.edge_at(e).to;
      if (net.is_path_sink(head)) {
        visit(path);
        ++found;
        path.pop_back();
      } else {
        at = head;
        next.push_back(0);
      }
    }
  }
  return found;
}

std::vector<std::vector<edge_id>> enumerate_paths(const network& net, std::uint64_t max_paths) {
  std::vector<std::vector<edge_id>> out;
  for_each_path(net, max_paths, [&out](std::span<const edge_id> p) { out.emplace_back(p.begin(), p.end()); });
  return out;
}

}  // namespace scaleinv
