// scaleinv/layers/zoo.hpp: well-known image classifiers as layer-level models (torchvision's
// layouts) and the "zoo:" network spec that unrolls them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaleinv/graph/network.hpp"
#include "scaleinv/layers/model.hpp"

namespace scaleinv::layers {

/// "lenet5", "resnet18", "resnet20", "resnet34", "resnet50", "vgg11", "vgg11_bn".
std::vector<std::string> zoo_names();

/// The model `name` at its default input (lenet5 1x32x32, resnet20 3x32x32, the others 3x224x224)
/// or at `input`. @throws invalid_argument for an unknown name (listing the known ones) or an input
/// too small for the model (naming the layer).
model zoo_model(std::string_view name, std::optional<shape3> input = std::nullopt);

/// True when text starts with "zoo:".
bool is_zoo_spec(std::string_view text);

/// The model "zoo:NAME[,input=CxHxW][,init=S]" names (init is accepted and ignored: a model has no
/// weights). @throws parse_error as zoo_network.
model zoo_spec_model(std::string_view spec);

/// Reads "zoo:NAME[,input=CxHxW][,init=S]" and unrolls the model (at most max_built_edges edges),
/// with seeded He-normal weights when init is given (init_weights). @throws parse_error naming the
/// spec and the problem (unknown model, bad option, an input too small, a network too large).
network zoo_network(std::string_view spec);

}  // namespace scaleinv::layers
