// load.cpp: resolving a NET argument, and the built-in examples.
#include "scaleinv/io/load.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/layers/zoo.hpp"

namespace scaleinv {
namespace {
// demo: two inputs and a bias, three units (h1 leaky ReLU), a skip edge h0 -> y0, a direct edge
// x1 -> y0, and a dead unit h2 (no outgoing edge). E = 10, H = 3, 8 paths; edges 8 and 9 are on
// no path, so E_on = 8, H_on = 2 and the dimension is 6, not E - H = 7.
// mixed: a tanh unit t is a path end and start; E = 11, H = 4, E_on = 11, H_on = 3: dimension 8.
// pool: constant edges (math.md section 9): h0, h1 feed an average pool a (a linear unit with
// constant edges 1/2) and a max pool m (constant edges 1); g mixes them; s adds g to a through an
// identity shortcut (constant 1). E = 17 (5 constant), 12 parameters, H = 6, E_on - H_on = 11;
// the constant edges join h0, h1, a, m and s into one scale class, so 2 rescalings survive and
// the dimension is rank(A M) = 12 - 2 = 10.
// All three are checked by tests/cli/cli_test.cpp and tests/cli/constant_cli_test.cpp.
const std::pair<const char*, const char*> kExamples[] = {
    {"demo", R"({
  "format": "scaleinv.network", "version": 1,
  "name": "demo: skip edge, direct edge, bias, one dead unit",
  "nodes": [
    {"id": "x0", "kind": "input"}, {"id": "x1", "kind": "input"}, {"id": "b", "kind": "bias"},
    {"id": "h0", "kind": "hidden", "activation": "relu"},
    {"id": "h1", "kind": "hidden", "activation": "leaky_relu", "slope": "1/10"},
    {"id": "h2", "kind": "hidden", "activation": "relu"},
    {"id": "y0", "kind": "output"}
  ],
  "edges": [
    {"from": "x0", "to": "h0", "weight": "1/2"}, {"from": "x1", "to": "h0", "weight": "-3/4"},
    {"from": "b", "to": "h0", "weight": "1/8"}, {"from": "x0", "to": "h1", "weight": 2},
    {"from": "h0", "to": "h1", "weight": "-1/3"}, {"from": "h1", "to": "y0", "weight": "5/7"},
    {"from": "h0", "to": "y0", "weight": "3/2"}, {"from": "x1", "to": "y0", "weight": -1},
    {"from": "x0", "to": "h2", "weight": "2/5"}, {"from": "h0", "to": "h2", "weight": 1}
  ]
})"},
    {"mixed", R"({
  "format": "scaleinv.network", "version": 1,
  "name": "mixed activations: bilu, prelu, and a tanh unit that breaks the symmetry",
  "nodes": [
    {"id": "x0", "kind": "input"}, {"id": "x1", "kind": "input"},
    {"id": "h0", "kind": "hidden", "activation": "bilu", "slopes": ["1/4", 2]},
    {"id": "h1", "kind": "hidden", "activation": "prelu", "slope": 0.25},
    {"id": "t", "kind": "hidden", "activation": "tanh"},
    {"id": "h2", "kind": "hidden", "activation": "relu"},
    {"id": "y0", "kind": "output"}, {"id": "y1", "kind": "output"}
  ],
  "edges": [
    {"from": "x0", "to": "h0", "weight": 1}, {"from": "x1", "to": "h0", "weight": -2},
    {"from": "x0", "to": "h1", "weight": "1/3"}, {"from": "x1", "to": "h1", "weight": 3},
    {"from": "h0", "to": "t", "weight": "1/2"}, {"from": "h1", "to": "t", "weight": -1},
    {"from": "t", "to": "h2", "weight": 2}, {"from": "h0", "to": "h2", "weight": "-1/5"},
    {"from": "h2", "to": "y0", "weight": 1}, {"from": "h2", "to": "y1", "weight": -1},
    {"from": "h1", "to": "y1", "weight": "7/4"}
  ]
})"},
    {"pool", R"({
  "format": "scaleinv.network", "version": 1,
  "name": "pool: average and max pooling and an identity shortcut, as constant edges",
  "nodes": [
    {"id": "x0", "kind": "input"}, {"id": "x1", "kind": "input"}, {"id": "x2", "kind": "input"},
    {"id": "x3", "kind": "input"}, {"id": "b", "kind": "bias"},
    {"id": "h0", "kind": "hidden", "activation": "relu"}, {"id": "h1", "kind": "hidden", "activation": "relu"},
    {"id": "a", "kind": "hidden", "activation": "linear"}, {"id": "m", "kind": "hidden", "activation": "max_pool"},
    {"id": "g", "kind": "hidden", "activation": "relu"}, {"id": "s", "kind": "hidden", "activation": "linear"},
    {"id": "y0", "kind": "output"}
  ],
  "edges": [
    {"from": "x0", "to": "h0", "weight": "1/2"}, {"from": "x1", "to": "h0", "weight": -1},
    {"from": "b", "to": "h0", "weight": "1/4"}, {"from": "x2", "to": "h1", "weight": "3/2"},
    {"from": "x3", "to": "h1", "weight": "-2/3"}, {"from": "b", "to": "h1", "weight": "1/8"},
    {"from": "h0", "to": "a", "constant": true, "weight": "1/2"},
    {"from": "h1", "to": "a", "constant": true, "weight": "1/2"},
    {"from": "h0", "to": "m", "constant": true}, {"from": "h1", "to": "m", "constant": true},
    {"from": "a", "to": "g", "weight": 2}, {"from": "m", "to": "g", "weight": "-1/3"},
    {"from": "b", "to": "g", "weight": "1/5"}, {"from": "g", "to": "s", "weight": "3/4"},
    {"from": "a", "to": "s", "constant": true}, {"from": "s", "to": "y0", "weight": "5/3"},
    {"from": "m", "to": "y0", "weight": "-1/2"}
  ]
})"},
};
}  // namespace

std::vector<std::string> example_names() {
  std::vector<std::string> out;
  for (const auto& [name, text] : kExamples) out.emplace_back(name);
  return out;
}

std::string example_json(const std::string& name) {
  for (const auto& [n, text] : kExamples)
    if (name == n) return text;
  std::string list;
  for (const auto& n : example_names()) list += (list.empty() ? "" : ", ") + n;
  throw parse_error("network spec 'example:" + name + "'", 0, 0, "unknown example (known: " + list + ")");
}

network load_network(const std::string& net) {
  if (net.rfind("example:", 0) == 0) {
    std::string name = net.substr(8);
    return read_network_json(example_json(name), "example:" + name);
  }
  if (layers::is_zoo_spec(net)) return layers::zoo_network(net);
  if (is_spec(net)) return from_spec(net);
  // "conv:3-4" is more likely a mistyped spec than a file name: say so when no such file exists.
  auto colon = net.find(':');
  std::error_code ec;
  if (colon != std::string::npos && colon > 0 && !std::filesystem::exists(net, ec) &&
      std::all_of(net.begin(), net.begin() + static_cast<std::ptrdiff_t>(colon),
                  [](unsigned char ch) { return std::isalpha(ch) != 0; })) {
    return from_spec(net);
  }
  return read_network_file(net);
}

}  // namespace scaleinv
