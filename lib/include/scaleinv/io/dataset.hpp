// scaleinv/io/dataset.hpp: data for the trainer: IDX files (gzipped or not; Fashion-MNIST from
// Debian's dataset-fashion-mnist), CSV, and synthetic sets made from a seed.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scaleinv {

/// Samples as columns. Classification sets have labels (0..classes-1) and no targets; regression
/// sets have targets (outputs x samples) and no labels.
struct dataset {
  std::string name;
  Eigen::MatrixXd x;        ///< features x samples
  std::vector<int> labels;  ///< one per sample (classification)
  std::size_t classes = 0;  ///< number of classes (classification), 0 for regression
  Eigen::MatrixXd targets;  ///< outputs x samples (regression)

  std::size_t size() const noexcept { return static_cast<std::size_t>(x.cols()); }
  std::size_t features() const noexcept { return static_cast<std::size_t>(x.rows()); }
  bool is_classification() const noexcept { return classes > 0; }
};

/// A training set and a held-out set.
struct data_split {
  dataset train, test;
};

/// Reads an IDX image file (magic 0x000008NN: unsigned bytes, NN >= 2 dimensions, the first the
/// image count, the rest multiplied into the feature count; 0x00000803 for 28x28 images) and an
/// IDX label file (0x00000801), each gzipped or not (detected by the magic bytes 1f 8b, not the
/// name). Header fields are big-endian 32-bit. Pixels are scaled to [0, 1].
/// @param classes when nonzero, every label must be below it and the set has that many classes;
///        when 0, classes = largest label + 1.
/// @throws parse_error naming the file and what is wrong (wrong magic number, truncated data or
///         extra bytes, corrupt gzip data, counts that differ, labels out of range).
dataset read_idx(const std::string& images, const std::string& labels, std::size_t classes = 0);

/// Reads a CSV of numbers, one sample per line, the label (an integer class, when `classify`) or
/// the regression targets (the last `targets` columns) at the end; a first line that is not
/// numeric is a header and skipped (its names then appear in messages). Fields are separated by
/// commas, may be padded with blanks or wrapped in double quotes; blank lines are skipped.
/// classes = largest label + 1. @throws parse_error with file:line for a ragged row, a field that
/// is not a finite number, a label that is not a non-negative integer, or no data rows.
dataset read_csv(const std::string& path, bool classify, std::size_t targets = 1);

/// Synthetic sets, reproducible from the seed (graph/random.hpp's splitmix64):
/// - teacher: targets y = W2 relu(W1 x) of the network `mlp:in-hidden-out,init=seed` (no biases,
///   He-normal weights, drawn first), then inputs x ~ N(0, 1)^in sample by sample, for MSE;
/// - spirals: two interleaved spirals in the plane (radius r = sqrt(u), u ~ U[0, 1), angle
///   3 pi r + pi * class, 1.5 turns each), two classes, plus N(0, noise^2) on each coordinate;
/// - blobs: `classes` Gaussian clusters in `in` dimensions, centres ~ N(0, 1)^in, points
///   centre + spread * N(0, 1)^in.
/// Sample i has class i % classes (i % 2 for spirals), so the classes are balanced.
/// @throws invalid_argument for a zero dimension or class count, or a negative / non-finite
///         noise or spread.
dataset make_teacher(std::size_t samples, std::size_t in, std::size_t hidden, std::size_t out, std::uint64_t seed);
dataset make_spirals(std::size_t samples, double noise, std::uint64_t seed);
dataset make_blobs(std::size_t samples, std::size_t in, std::size_t classes, double spread, std::uint64_t seed);

/// Resolves a --data argument (docs/formats.md):
///   fashion-mnist[:DIR]                 train/test IDX files from DIR (default
///                                       /usr/share/datasets/fashion-mnist), 60,000 + 10,000:
///                                       train-images-idx3-ubyte, train-labels-idx1-ubyte,
///                                       t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each
///                                       plain or with .gz; 10 classes;
///   idx:IMAGES,LABELS[,classes=C]       one IDX pair, split by test_fraction;
///   csv:PATH[,regression[,targets=K]]   a CSV, split by test_fraction;
///   teacher:n=N,in=I,hidden=H,out=O     synthetic regression;
///   spirals:n=N[,noise=S]               synthetic, 2 classes (noise 0.05 by default);
///   blobs:n=N,in=I,classes=C[,spread=S] synthetic (spread 0.5 by default).
/// The synthetic kinds also take seed=S: the data's seed (default: `seed`), so that the data can
/// stay fixed while `seed` varies the shuffle and split.
/// Sets without their own test split are shuffled with the seed (Fisher-Yates, splitmix64) and
/// split, round(test_fraction * n) samples held out. Features are then standardized with the
/// training set's mean and standard deviation (per feature; a feature constant on the training
/// set is only centred). Both sets are named by the spec.
/// @throws parse_error for a malformed spec (unknown kind or key, a bad value), a missing file
///         (naming it) or a bad file; invalid_argument for test_fraction outside [0, 1) or a
///         split that leaves no training samples.
data_split load_data(const std::string& spec, std::uint64_t seed, double test_fraction = 0.2);

/// A --data spec read but not loaded (parse_data_spec): its kind and values. A caller that must
/// bound the work (a fuzz target, a service) checks planned_values() before load_data.
struct data_spec {
  std::string text;         ///< the spec as given: it names the sets, and messages quote it
  std::string kind;         ///< fashion-mnist, idx, csv, teacher, spirals or blobs
  std::string path;         ///< fashion-mnist: the directory ("" for the default); idx: the images; csv: the file
  std::string labels;       ///< idx: the label file
  std::size_t classes = 0;  ///< idx: classes=C (0: largest label + 1); blobs: classes=C
  bool regression = false;  ///< csv
  std::size_t targets = 1;  ///< csv: targets=K
  std::size_t n = 0, in = 0, hidden = 0, out = 0;  ///< the synthetic kinds' sizes (those they take)
  double noise = 0.05;                             ///< spirals
  double spread = 0.5;                             ///< blobs
  std::optional<std::uint64_t> seed;               ///< the synthetic kinds' seed=S (default: load_data's seed)

  /// Whether the data is read from files (fashion-mnist, idx, csv) rather than made from a seed.
  bool reads_files() const noexcept;
  /// The doubles a synthetic set will hold (samples, targets, the teacher's weights), counted in
  /// double so that it cannot overflow; 0 for the kinds read from files (their size is the files').
  double planned_values() const noexcept;
};

/// Reads a --data spec (the forms load_data lists) without reading a file or making a sample.
/// @throws parse_error for a malformed spec (unknown kind or key, a bad value), as load_data.
data_spec parse_data_spec(const std::string& spec);

/// Loads a parsed spec, as load_data(spec.text, seed, test_fraction) does.
/// @throws parse_error / invalid_argument as load_data.
data_split load_data(const data_spec& spec, std::uint64_t seed, double test_fraction = 0.2);

}  // namespace scaleinv
