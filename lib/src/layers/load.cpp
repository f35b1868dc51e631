// load.cpp: which NET arguments name a layer-level model, and reading them (layers/load.hpp).
#include "scaleinv/layers/load.hpp"

#include <string_view>

#include "scaleinv/error.hpp"
#include "scaleinv/layers/zoo.hpp"

namespace scaleinv::layers {
namespace {
bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}
}  // namespace

bool is_model_spec(const std::string& net) {
  if (is_zoo_spec(net)) return true;
  if (ends_with(net, ".onnx")) return true;
  return false;
}

model load_model(const std::string& net) {
  if (is_zoo_spec(net)) return zoo_spec_model(net);
  throw invalid_argument("'" + net + "' does not name a layer-level model (zoo:NAME, a .onnx file, or a "
                         "scaleinv.layers JSON file)");
}

}  // namespace scaleinv::layers
