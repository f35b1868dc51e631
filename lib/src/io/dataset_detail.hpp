// lib/src/io/dataset_detail.hpp: what the dataset sources share (private to lib/src/io).
#pragma once

#include <cstdint>
#include <string>

#include "scaleinv/io/dataset.hpp"

namespace scaleinv::detail {

/// The file's bytes, decompressed when they start with the gzip magic 1f 8b (gzip.cpp); was_gzip
/// says which. @throws parse_error for an unreadable file or corrupt, truncated or trailing data.
std::string read_maybe_gzip(const std::string& path, bool& was_gzip);

/// d shuffled with the seed (Fisher-Yates, splitmix64) and split, round(test_fraction * n)
/// samples held out (data_split.cpp). @throws invalid_argument when no training sample is left.
data_split shuffle_split(const dataset& d, std::uint64_t seed, double test_fraction);

/// Standardizes both sets' features with the training set's per-feature mean and (population)
/// standard deviation; a feature constant on the training set is only centred (data_split.cpp).
void standardize(data_split& s);

}  // namespace scaleinv::detail
