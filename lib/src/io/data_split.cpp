// data_split.cpp: the shuffled train/test split and the standardization of features.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "dataset_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/random.hpp"

namespace scaleinv::detail {
namespace {

// A seed for the shuffle that differs from the data's own stream even when both come from `seed`.
std::uint64_t shuffle_seed(std::uint64_t seed) { return splitmix64(seed ^ 0xd1b54a32d192ed03ULL).next(); }

dataset take_columns(const dataset& d, const std::vector<std::size_t>& order, std::size_t begin, std::size_t end) {
  dataset out;
  out.name = d.name;
  out.classes = d.classes;
  auto n = static_cast<Eigen::Index>(end - begin);
  out.x.resize(d.x.rows(), n);
  if (d.targets.rows() > 0) out.targets.resize(d.targets.rows(), n);
  if (!d.labels.empty()) out.labels.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    auto to = static_cast<Eigen::Index>(i - begin), from = static_cast<Eigen::Index>(order[i]);
    out.x.col(to) = d.x.col(from);
    if (out.targets.rows() > 0) out.targets.col(to) = d.targets.col(from);
    if (!d.labels.empty()) out.labels.push_back(d.labels[order[i]]);
  }
  return out;
}

}  // namespace

data_split shuffle_split(const dataset& d, std::uint64_t seed, double test_fraction) {
  std::size_t n = d.size();
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  splitmix64 rng(shuffle_seed(seed));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
  auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
  if (n_test >= n)
    throw invalid_argument(
        fmt::format("a test fraction of {} of {} samples leaves no training samples", test_fraction, n));
  data_split s;
  s.train = take_columns(d, order, 0, n - n_test);
  s.test = take_columns(d, order, n - n_test, n);
  return s;
}

// Standardizes both sets' features with the training set's per-feature mean and (population)
// standard deviation; a feature constant on the training set is only centred. A feature whose
// magnitudes pass 2^480 (or stay below 2^-480) is scaled by a power of two first, exactly, so that
// its sum and squares stay within the range of a double (1e300 spirals noise, tiny CSV columns);
// every other feature is untouched by the scaling (a factor 1), so its result is the same to the bit.
void standardize(data_split& s) {
  const auto f = static_cast<std::size_t>(s.train.x.rows()), n = static_cast<std::size_t>(s.train.x.cols());
  if (n == 0) return;
  // Raw pointers: this runs over 47 million pixels for Fashion-MNIST, also in Debug builds.
  std::vector<double> mean_v(f, 0.0), var_v(f, 0.0), scale_v(f, 1.0);
  std::vector<unsigned char> constant_v(f, 1);
  double* mean = mean_v.data();
  double* var = var_v.data();
  double* scale = scale_v.data();
  unsigned char* constant = constant_v.data();
  const double* x = s.train.x.data();  // column-major: sample j is x[j * f .. j * f + f)
  const double* first = x;
  for (std::size_t j = 0; j < n; ++j) {
    const double* col = x + j * f;
    for (std::size_t i = 0; i < f; ++i) constant[i] &= static_cast<unsigned char>(col[i] == first[i]);
  }
  // The mean and the sum of squared deviations of scale * feature.
  auto moments = [&] {
    std::fill(mean_v.begin(), mean_v.end(), 0.0);
    std::fill(var_v.begin(), var_v.end(), 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const double* col = x + j * f;
      for (std::size_t i = 0; i < f; ++i) mean[i] += col[i] * scale[i];
    }
    for (std::size_t i = 0; i < f; ++i) mean[i] /= static_cast<double>(n);
    for (std::size_t j = 0; j < n; ++j) {
      const double* col = x + j * f;
      for (std::size_t i = 0; i < f; ++i) {
        double dev = col[i] * scale[i] - mean[i];
        var[i] += dev * dev;
      }
    }
  };
  moments();
  // Finite features past about 1e154 overflow the squares (past 1e308 / n the sum): those are
  // scaled by a power of two that brings their largest magnitude to [0.5, 1), which is exact, so
  // the result is the one exact arithmetic would round to. (The fuzz target of --data found
  // blobs:...,spread=2.1e307 standardized to NaN.)
  bool rescaled = false;
  for (std::size_t i = 0; i < f; ++i) {
    // Overflowed squares, or squares so small that they underflow (tiny CSV columns): rescale.
    if (constant[i] || (std::isfinite(var[i]) && var[i] > 1e-280)) continue;
    double largest = 0;
    for (std::size_t j = 0; j < n; ++j) largest = std::max(largest, std::abs(x[j * f + i]));
    int exponent = 0;
    std::frexp(largest, &exponent);
    scale[i] = std::ldexp(1.0, -exponent);
    rescaled = true;
  }
  if (rescaled) moments();
  for (std::size_t i = 0; i < f; ++i) {
    // A constant feature is centred on its exact value, so it becomes exactly 0. mean and var
    // now hold the shift and the scale (of the feature times scale[i]).
    if (constant[i]) {
      mean[i] = first[i];
      var[i] = 1.0;
    } else {
      var[i] = 1.0 / std::sqrt(var[i] / static_cast<double>(n));
    }
  }
  for (dataset* d : {&s.train, &s.test}) {
    double* y = d->x.data();
    const std::size_t cols = static_cast<std::size_t>(d->x.cols());
    for (std::size_t j = 0; j < cols; ++j) {
      double* col = y + j * f;
      for (std::size_t i = 0; i < f; ++i) col[i] = (col[i] * scale[i] - mean[i]) * var[i];
    }
  }
}

}  // namespace scaleinv::detail
