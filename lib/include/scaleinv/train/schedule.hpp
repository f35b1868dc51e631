// scaleinv/train/schedule.hpp: learning-rate schedules, by epoch.
#pragma once

#include <cstddef>
#include <string>

namespace scaleinv::train {

/// Learning rate at epoch e (0-based): constant; step (lr * gamma^floor(e / step)); exponential
/// (lr * gamma^e).
struct schedule {
  enum class kind { constant, step, exponential } type = kind::constant;
  double lr = 0.01;
  double gamma = 0.1;
  std::size_t step = 10;
  double at(std::size_t epoch) const;
  /// Reads "constant", "step:K:GAMMA", "exp:GAMMA". @throws invalid_argument.
  static schedule parse(const std::string& text, double lr);
};

}  // namespace scaleinv::train
