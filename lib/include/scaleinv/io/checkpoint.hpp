// scaleinv/io/checkpoint.hpp: a training checkpoint as a serializable struct: the network with its
// (effective) weights, the settings the run was made with, where it stopped, and the optimizer's
// and coordinates' state. Written as the scaleinv.network JSON format plus a "training" member
// (docs/formats.md), so every command that reads a network reads a checkpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// The options a run was made with, as a checkpoint records them.
struct training_settings {
  std::string optimizer = "sgd";
  std::string param = "weights";
  std::string balance = "none";
  std::string data;
  std::uint64_t seed = 1;
  bool float64 = false;
  std::uint64_t batch_size = 128;
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  std::string skeleton = "diagonal";  ///< G-SGD's skeleton (paths/basis.hpp), and --skeleton-one's
  bool skeleton_one = false;          ///< every skeleton weight was set to 1 at the start
};

struct checkpoint {
  network net;  ///< with the effective weights (a network with the run's function)
  training_settings settings;
  std::uint64_t epoch = 0;    ///< epochs completed
  std::uint64_t batch = 0;    ///< batches of epoch `epoch` completed
  std::vector<double> state;  ///< the optimizer's state (optimizer::state())
  /// The coordinates' parameters and fixed signs, when the run trained other coordinates than the
  /// weights (--param weightnorm or gmp).
  std::optional<std::vector<double>> params, signs;
};

/// The checkpoint as JSON text: the network in write_network_json's layout plus "training".
std::string write_checkpoint_json(const checkpoint& c);

/// Reads a checkpoint file. Settings missing from checkpoints of older versions take the values
/// those versions used (param "weights", balance "none", skeleton "first", skeleton_one false). @throws parse_error
/// naming the file for malformed JSON, a network error, no "training" member or a malformed one.
checkpoint read_checkpoint(const std::string& path);

/// The first setting that a run continuing the checkpoint must share with it and does not, as
/// "KEY = VALUE" with the checkpoint's value as JSON (for example `optimizer = "sgd"`); nullopt
/// when every such setting agrees. The settings that must agree (optimizer, param, balance, seed,
/// float64, batch_size, data, skeleton, skeleton_one) and those that may change (lr, momentum,
/// weight_decay) are one table in checkpoint.cpp.
std::optional<std::string> checkpoint_mismatch(const training_settings& saved, const training_settings& run);

}  // namespace scaleinv
