// tests/train/train_support.hpp: helpers shared by the trainer tests.
#pragma once

#include "scaleinv/graph/random.hpp"
#include "scaleinv/train/model.hpp"

namespace scaleinv::test {

/// A features x batch matrix of standard normal entries, drawn column by column.
inline train::matrix<double> normal_batch(std::size_t features, std::size_t batch, splitmix64& rng) {
  train::matrix<double> x(static_cast<Eigen::Index>(features), static_cast<Eigen::Index>(batch));
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = rng.normal();
  return x;
}

}  // namespace scaleinv::test
