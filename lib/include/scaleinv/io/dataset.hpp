// scaleinv/io/dataset.hpp: data for the trainer: IDX files (gzipped or not; Fashion-MNIST from
// Debian's dataset-fashion-mnist), CSV, and synthetic sets made from a seed.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

namespace scaleinv {

/// Samples as columns. Classification sets have labels (0..classes-1) and no targets; regression
/// sets have targets (outputs x samples) and no labels.
struct dataset {
  std::string name;
  Eigen::MatrixXd x;          ///< features x samples
  std::vector<int> labels;    ///< one per sample (classification)
  std::size_t classes = 0;    ///< number of classes (classification), 0 for regression
  Eigen::MatrixXd targets;    ///< outputs x samples (regression)

  std::size_t size() const noexcept { return static_cast<std::size_t>(x.cols()); }
  std::size_t features() const noexcept { return static_cast<std::size_t>(x.rows()); }
  bool is_classification() const noexcept { return classes > 0; }
};

/// A training set and a held-out set.
struct data_split {
  dataset train, test;
};

/// Reads an IDX image file (magic 0x00000803, unsigned bytes, any number of dimensions after the
/// count) and an IDX label file (0x00000801), each gzipped (".gz", detected by content) or not.
/// Pixels are scaled to [0, 1]. @throws parse_error naming the file and what is wrong (wrong magic
/// number, truncated data, counts that differ, labels out of range).
dataset read_idx(const std::string& images, const std::string& labels);

/// Reads a CSV of numbers, one sample per line, the label (an integer class, when `classify`) or
/// the regression targets (the last `targets` columns) at the end; a first line that is not
/// numeric is a header and skipped. @throws parse_error with file:line for a ragged row or a field
/// that is not a number.
dataset read_csv(const std::string& path, bool classify, std::size_t targets = 1);

/// Synthetic sets, reproducible from the seed (graph/random.hpp's splitmix64):
/// - teacher: inputs ~ N(0, 1)^in, targets from a random ReLU MLP (in-hidden-out), for MSE;
/// - spirals: two interleaved spirals in the plane, two classes, with Gaussian noise;
/// - blobs: `classes` Gaussian clusters in `in` dimensions.
dataset make_teacher(std::size_t samples, std::size_t in, std::size_t hidden, std::size_t out, std::uint64_t seed);
dataset make_spirals(std::size_t samples, double noise, std::uint64_t seed);
dataset make_blobs(std::size_t samples, std::size_t in, std::size_t classes, double spread, std::uint64_t seed);

/// Resolves a --data argument (docs/formats.md):
///   fashion-mnist[:DIR]                 train/test IDX files from DIR (default
///                                       /usr/share/datasets/fashion-mnist), 60,000 + 10,000;
///   idx:IMAGES,LABELS                   one IDX pair, split by test_fraction;
///   csv:PATH[,regression[,targets=K]]   a CSV, split by test_fraction;
///   teacher:n=N,in=I,hidden=H,out=O     synthetic regression;
///   spirals:n=N[,noise=S]               synthetic, 2 classes;
///   blobs:n=N,in=I,classes=C[,spread=S] synthetic.
/// Sets without their own test split are shuffled with the seed and split. Features are then
/// standardized with the training set's mean and standard deviation (per feature; a constant
/// feature is only centred). @throws parse_error / invalid_argument with a clear message.
data_split load_data(const std::string& spec, std::uint64_t seed, double test_fraction = 0.2);

}  // namespace scaleinv
