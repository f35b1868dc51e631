// builders_detail.hpp: what the builders share (builders.cpp, cnn.cpp); not installed.
#pragma once

#include <string_view>
#include <vector>

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/spec.hpp"

namespace scaleinv::detail {

/// Refuses a planned network beyond max_built_edges or max_built_nodes (invalid_argument naming
/// `what` and the count).
void check_size(const network_size& s, const char* what);

/// The options of a "cnn:" spec (tokens after the colon). @throws parse_error through p.
cnn_options parse_cnn_options(const spec_parser& p, const std::vector<std::string_view>& tokens);

/// An activation named in a spec; a bad name fails with the spec's subject.
activation parse_spec_activation(const spec_parser& p, std::string_view text);

}  // namespace scaleinv::detail
