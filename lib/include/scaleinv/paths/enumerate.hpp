// scaleinv/paths/enumerate.hpp: listing every path, for independent checks on small networks only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// Calls visit(path) for every path, in depth-first order from each source in node order. The
/// span is valid only during the call. Returns the number of paths.
/// @throws invalid_argument, before visiting anything, when the network has more than max_paths
/// paths (the message gives the exact count).
std::uint64_t for_each_path(const network& net, std::uint64_t max_paths,
                            const std::function<void(std::span<const edge_id>)>& visit);

/// Every path as a list of edge ids. @throws invalid_argument as for_each_path.
std::vector<std::vector<edge_id>> enumerate_paths(const network& net, std::uint64_t max_paths);

}  // namespace scaleinv
