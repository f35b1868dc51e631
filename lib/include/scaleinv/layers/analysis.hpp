// scaleinv/layers/analysis.hpp: the exact path-space dimension of a layer-level model without
// unrolling it (docs/compact_engine.md): rank(A M) = parameters used on live edges - surviving
// rescalings, where the surviving rescalings are the classes of live hidden channels joined by
// constant edges (pooling, additions), computed per layer from live-position masks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scaleinv/layers/model.hpp"

namespace scaleinv::layers {

/// One surviving rescaling: a class of hidden channels (with the live positions of each) that one
/// scale t > 0 multiplies together, named by its first channel "<layer>[c]".
struct channel_class {
  std::string name;                   ///< the first member, "<layer>[c]"
  std::vector<std::string> members;   ///< every member channel, "<layer>[c]" (layers in model order)
  std::uint64_t units = 0;            ///< live units (channel positions) in the class
};

struct model_analysis {
  std::uint64_t parameters = 0;         ///< as PyTorch counts them (BatchNorm gamma and beta included)
  std::uint64_t folded_parameters = 0;  ///< after folding BatchNorm into the Conv2d / Linear before it
  std::uint64_t unused_parameters = 0;  ///< folded parameters on no live edge (they move no path value)
  std::uint64_t dimension = 0;          ///< rank(A M), exact: folded - unused - surviving
  std::vector<channel_class> surviving; ///< a basis of the surviving rescalings, one per class
  std::uint64_t live_units = 0;         ///< live hidden units (channel positions)
  std::uint64_t dead_channels = 0;      ///< hidden channels with no live position
  /// "compact" when the per-layer engine decided it; "unrolled" when it fell back to the exact
  /// engine on the unrolled network (and `why` says which channel could not be decided).
  std::string method;
  std::string why;
};

struct model_analysis_options {
  /// Fallback: the largest unrolled network (edges) the exact engine may build when the compact
  /// engine cannot decide a channel; beyond it analyze_model throws, naming the channel.
  double max_unrolled_edges = 2e7;
  /// Never fall back (throw instead); for tests that must exercise the compact engine.
  bool compact_only = false;
};

/// @throws invalid_argument as infer_shapes, or when the compact engine cannot decide the model and
/// unrolling it is over the limit (naming the layer and channel).
model_analysis analyze_model(const model& m, const model_analysis_options& options = {});

}  // namespace scaleinv::layers
