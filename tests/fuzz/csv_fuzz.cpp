// tests/fuzz/csv_fuzz.cpp: the CSV reader (read_csv) on arbitrary bytes, through a scratch file
// (read_csv takes a path), read three ways: classification, regression with one target and with
// two. What it accepts must be consistent: as many labels (or target columns) as samples, every
// value finite, classes = largest label + 1.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <fmt/format.h>

#include "fuzz_support.hpp"
#include "scaleinv/io/dataset.hpp"

using namespace scaleinv;

namespace {
void check(const dataset& d, bool classify, std::size_t targets) {
  if (d.size() == 0 || d.features() == 0) fuzz::finding("read_csv accepted a file with no samples or no features");
  if (!d.x.allFinite()) fuzz::finding("a feature is not finite");
  if (classify) {
    if (d.labels.size() != d.size()) fuzz::finding(fmt::format("{} labels for {} samples", d.labels.size(), d.size()));
    const int top = *std::max_element(d.labels.begin(), d.labels.end());
    if (top < 0 || d.classes != static_cast<std::size_t>(top) + 1)
      fuzz::finding(fmt::format("classes {} but the largest label is {}", d.classes, top));
  } else {
    if (static_cast<std::size_t>(d.targets.rows()) != targets || static_cast<std::size_t>(d.targets.cols()) != d.size())
      fuzz::finding("the targets do not match the samples");
    if (!d.targets.allFinite()) fuzz::finding("a target is not finite");
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::scratch_file file(".csv");
  const std::string& path = file.write(data, size);
  fuzz::expect_only_scaleinv_errors([&] { check(read_csv(path, true), true, 1); });
  fuzz::expect_only_scaleinv_errors([&] { check(read_csv(path, false, 1), false, 1); });
  fuzz::expect_only_scaleinv_errors([&] { check(read_csv(path, false, 2), false, 2); });
  return 0;
}
