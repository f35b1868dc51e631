// tests/fuzz/idx_fuzz.cpp: the IDX reader (read_idx: an image file and a label file, each plain
// or gzipped) on arbitrary bytes, through two scratch files. Input layout (tests/data/fuzz/
// make_idx_seeds.py writes seeds in it):
//
//   byte 0       classes (0: largest label + 1)
//   bytes 1-2    n, the length of the image file, little-endian (at most what is left)
//   n bytes      the image file
//   the rest     the label file
//
// What the reader accepts must be consistent: one label per image, labels below the classes,
// pixels in [0, 1].
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <fmt/format.h>

#include "fuzz_support.hpp"
#include "scaleinv/io/dataset.hpp"

using namespace scaleinv;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::scratch_file images(".idx3"), labels(".idx1");
  if (size < 3) return 0;
  const std::size_t classes = data[0];
  const std::size_t n = std::min<std::size_t>(data[1] | std::size_t{data[2]} << 8, size - 3);
  images.write(data + 3, n);
  labels.write(data + 3 + n, size - 3 - n);
  fuzz::expect_only_scaleinv_errors([&] {
    const dataset d = read_idx(images.path(), labels.path(), classes);
    if (d.labels.size() != d.size()) fuzz::finding(fmt::format("{} labels for {} images", d.labels.size(), d.size()));
    for (int label : d.labels)
      if (label < 0 || static_cast<std::size_t>(label) >= d.classes)
        fuzz::finding(fmt::format("label {} with {} classes", label, d.classes));
    if (d.size() > 0 && (d.x.minCoeff() < 0 || d.x.maxCoeff() > 1)) fuzz::finding("a pixel outside [0, 1]");
  });
  return 0;
}
