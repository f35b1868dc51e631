// scaleinv/io/load.hpp: one argument, NET, names a network: a spec, a built-in example, or a file.
#pragma once

#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// "mlp:...", "skip:...", "random:..." (graph/builders.hpp), "example:NAME" (a built-in network),
/// or else the path of a scaleinv.network JSON file. @throws parse_error / invalid_network.
network load_network(const std::string& net);

/// The names accepted after "example:".
std::vector<std::string> example_names();

/// The JSON text of a built-in example. @throws parse_error for an unknown name.
std::string example_json(const std::string& name);

}  // namespace scaleinv
