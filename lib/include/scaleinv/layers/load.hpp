// scaleinv/layers/load.hpp: NET arguments that name a layer-level model (a zoo spec, an ONNX file,
// a layer-level JSON file), for the commands that analyze a model without unrolling it.
#pragma once

#include <string>

#include "scaleinv/layers/model.hpp"

namespace scaleinv::layers {

/// True when `net` names a layer-level model: "zoo:...", a path ending in ".onnx", or a layer-level
/// JSON file (format "scaleinv.layers"). Cheap: reads at most the start of a file.
bool is_model_spec(const std::string& net);

/// The model `net` names. @throws parse_error / invalid_argument naming the file, line or node.
model load_model(const std::string& net);

}  // namespace scaleinv::layers
