// synthetic.cpp: data sets made from a seed: teacher (regression), spirals and blobs.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/dataset.hpp"

namespace scaleinv {
namespace {

void require(bool ok, const char* message) {
  if (!ok) throw invalid_argument(message);
}

}  // namespace

dataset make_teacher(std::size_t samples, std::size_t in, std::size_t hidden, std::size_t out, std::uint64_t seed) {
  require(in > 0 && hidden > 0 && out > 0, "teacher: in, hidden and out must be at least 1");
  splitmix64 rng(seed);
  const auto I = static_cast<Eigen::Index>(in), H = static_cast<Eigen::Index>(hidden),
             O = static_cast<Eigen::Index>(out);
  // The draw order of graph/builders.cpp's init_weights on mlp:in-hidden-out: layer by layer,
  // target-major (row-major W), N(0, 2 / fan_in).
  Eigen::MatrixXd w1(H, I), w2(O, H);
  for (Eigen::Index j = 0; j < H; ++j)
    for (Eigen::Index i = 0; i < I; ++i) w1(j, i) = rng.normal() * std::sqrt(2.0 / static_cast<double>(in));
  for (Eigen::Index k = 0; k < O; ++k)
    for (Eigen::Index j = 0; j < H; ++j) w2(k, j) = rng.normal() * std::sqrt(2.0 / static_cast<double>(hidden));
  dataset d;
  d.name = fmt::format("teacher:n={},in={},hidden={},out={},seed={}", samples, in, hidden, out, seed);
  d.x.resize(I, static_cast<Eigen::Index>(samples));
  for (Eigen::Index s = 0; s < d.x.cols(); ++s)
    for (Eigen::Index i = 0; i < I; ++i) d.x(i, s) = rng.normal();
  d.targets = w2 * (w1 * d.x).cwiseMax(0.0);
  return d;
}

dataset make_spirals(std::size_t samples, double noise, std::uint64_t seed) {
  require(std::isfinite(noise) && noise >= 0, "spirals: the noise must be a non-negative number");
  // A normal draw is below 9 in magnitude (Box-Muller on 53-bit uniforms): 1e300 keeps every
  // sample finite, where 1.21e308 made infinities (found by tests/fuzz/data_spec_fuzz.cpp).
  require(noise <= 1e300, "spirals: the noise must be at most 1e300, so that every sample is finite");
  constexpr double pi = 3.141592653589793;
  splitmix64 rng(seed);
  dataset d;
  d.name = fmt::format("spirals:n={},noise={},seed={}", samples, noise, seed);
  d.classes = 2;
  d.x.resize(2, static_cast<Eigen::Index>(samples));
  d.labels.resize(samples);
  for (std::size_t s = 0; s < samples; ++s) {
    int c = static_cast<int>(s % 2);
    double r = std::sqrt(rng.uniform());
    double angle = 3.0 * pi * r + pi * c;
    double nx = rng.normal(), ny = rng.normal();
    d.x(0, static_cast<Eigen::Index>(s)) = r * std::cos(angle) + noise * nx;
    d.x(1, static_cast<Eigen::Index>(s)) = r * std::sin(angle) + noise * ny;
    d.labels[s] = c;
  }
  return d;
}

dataset make_blobs(std::size_t samples, std::size_t in, std::size_t classes, double spread, std::uint64_t seed) {
  require(in > 0 && classes > 0, "blobs: in and classes must be at least 1");
  require(classes <= static_cast<std::size_t>(std::numeric_limits<int>::max()), "blobs: too many classes");
  require(std::isfinite(spread) && spread >= 0, "blobs: the spread must be a non-negative number");
  require(spread <= 1e300,
          "blobs: the spread must be at most 1e300, so that every sample is finite");  // as spirals' noise
  splitmix64 rng(seed);
  const auto I = static_cast<Eigen::Index>(in);
  Eigen::MatrixXd centres(I, static_cast<Eigen::Index>(classes));
  for (Eigen::Index c = 0; c < centres.cols(); ++c)
    for (Eigen::Index i = 0; i < I; ++i) centres(i, c) = rng.normal();
  dataset d;
  d.name = fmt::format("blobs:n={},in={},classes={},spread={},seed={}", samples, in, classes, spread, seed);
  d.classes = classes;
  d.x.resize(I, static_cast<Eigen::Index>(samples));
  d.labels.resize(samples);
  for (std::size_t s = 0; s < samples; ++s) {
    auto c = static_cast<Eigen::Index>(s % classes);
    for (Eigen::Index i = 0; i < I; ++i) d.x(i, static_cast<Eigen::Index>(s)) = centres(i, c) + spread * rng.normal();
    d.labels[s] = static_cast<int>(c);
  }
  return d;
}

}  // namespace scaleinv
