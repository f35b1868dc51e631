// idx.cpp: IDX image and label files (plain or gzipped), as used by MNIST and Fashion-MNIST.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "dataset_detail.hpp"
#include "scaleinv/error.hpp"

namespace scaleinv {
namespace {

std::uint32_t be32(const std::string& b, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

const char* idx_type_name(unsigned type) {
  switch (type) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "16-bit integer";
    case 0x0C:
      return "32-bit integer";
    case 0x0D:
      return "32-bit float";
    case 0x0E:
      return "64-bit float";
    default:
      return nullptr;
  }
}

struct idx_array {
  std::vector<std::uint32_t> dims;  // dims[0] = count
  std::size_t header = 0;           // bytes before the data
  std::size_t item_bytes = 1;       // product of dims[1..]
};

// Checks the header and the length of an IDX file of unsigned bytes: images (>= 2 dimensions) or
// labels (exactly 1).
idx_array parse_idx(const std::string& b, const std::string& path, bool images, bool gz) {
  const char* what = images ? "0x00000803 (an IDX image file)" : "0x00000801 (an IDX label file)";
  const char* after = gz ? " (after decompression)" : "";
  if (b.size() < 4)
    throw parse_error(path, 0, 0, fmt::format("truncated: {} bytes{}, too short for an IDX header", b.size(), after));
  std::uint32_t magic = be32(b, 0);
  unsigned type = (magic >> 8) & 0xff, ndims = magic & 0xff;
  bool dims_ok = images ? ndims >= 2 : ndims == 1;
  if ((magic >> 16) != 0 || idx_type_name(type) == nullptr || (type == 0x08 && !dims_ok)) {
    std::string hint;
    if (images && magic == 0x00000801) hint = "; this is an IDX label file (images and labels swapped?)";
    if (!images && (magic & 0xffffff00) == 0x00000800 && ndims >= 2)
      hint = fmt::format("; this is an IDX image file of {} dimensions (images and labels swapped?)", ndims);
    throw parse_error(path, 0, 0, fmt::format("wrong magic number 0x{:08x}, expected {}{}", magic, what, hint));
  }
  if (type != 0x08) {
    throw parse_error(
        path, 0, 0,
        fmt::format("magic number 0x{:08x}: IDX data type 0x{:02x} ({}) is not supported, only unsigned bytes (0x08)",
                    magic, type, idx_type_name(type)));
  }
  idx_array a;
  a.header = 4 + 4 * std::size_t{ndims};
  if (b.size() < a.header)
    throw parse_error(path, 0, 0,
                      fmt::format("truncated: {} bytes{}, too short for the IDX header ({} bytes for {} dimensions)",
                                  b.size(), after, a.header, ndims));
  for (unsigned d = 0; d < ndims; ++d) a.dims.push_back(be32(b, 4 + 4 * std::size_t{d}));

  // Sizes saturate at SIZE_MAX: anything that large is longer than the file anyway.
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  auto mul = [&](std::size_t x, std::size_t y) { return (y != 0 && x > kMax / y) ? kMax : x * y; };
  std::string shape;
  for (unsigned d = 1; d < ndims; ++d) {
    if (a.dims[d] == 0) throw parse_error(path, 0, 0, fmt::format("image dimension {} is 0 in the header", d));
    a.item_bytes = mul(a.item_bytes, a.dims[d]);
    shape += fmt::format("{}{}", d == 1 ? "" : "x", a.dims[d]);
  }
  // An image is a column of an Eigen matrix: its pixel count must fit an Eigen::Index, even when the
  // header claims 0 images (then the file length cannot bound it; found by tests/fuzz/idx_fuzz.cpp).
  constexpr auto kMaxIndex = static_cast<std::size_t>(std::numeric_limits<Eigen::Index>::max());
  if (a.item_bytes > kMaxIndex)
    throw parse_error(path, 0, 0, fmt::format("images of {} pixels are too large to address", shape));
  std::size_t want = mul(a.dims[0], a.item_bytes);
  std::size_t have = b.size() - a.header;
  if (want != have) {
    std::string says = images ? fmt::format("header says {} images of {} = {} bytes", a.dims[0], shape, want)
                              : fmt::format("header says {} labels = {} bytes", a.dims[0], want);
    if (want == kMax)
      says = fmt::format("header says {} images of {}, more bytes than fit in memory", a.dims[0], shape);
    if (have < want)
      throw parse_error(
          path, 0, 0,
          fmt::format("truncated: {}, the file has {} after the {}-byte header{}", says, have, a.header, after));
    throw parse_error(path, 0, 0,
                      fmt::format("{}, but the file has {} after the {}-byte header{} ({} extra bytes)", says, have,
                                  a.header, after, have - want));
  }
  return a;
}

}  // namespace

using detail::read_maybe_gzip;

dataset read_idx(const std::string& images, const std::string& labels, std::size_t classes) {
  bool images_gz = false, labels_gz = false;
  std::string img = read_maybe_gzip(images, images_gz);
  idx_array ia = parse_idx(img, images, true, images_gz);
  std::string lab = read_maybe_gzip(labels, labels_gz);
  idx_array la = parse_idx(lab, labels, false, labels_gz);
  if (ia.dims[0] != la.dims[0])
    throw parse_error(labels, 0, 0, fmt::format("{} images in {} but {} labels", ia.dims[0], images, la.dims[0]));

  const std::size_t n = ia.dims[0], f = ia.item_bytes;
  dataset d;
  d.name = images;
  d.labels.resize(n);
  int top = -1;
  const auto* lp = reinterpret_cast<const unsigned char*>(lab.data() + la.header);
  for (std::size_t i = 0; i < n; ++i) {
    if (classes != 0 && lp[i] >= classes)
      throw parse_error(labels, 0, 0, fmt::format("label {} at index {} is out of range 0..{}", lp[i], i, classes - 1));
    d.labels[i] = lp[i];
    top = std::max(top, static_cast<int>(lp[i]));
  }
  d.classes = classes != 0 ? classes : static_cast<std::size_t>(top + 1);

  d.x.resize(static_cast<Eigen::Index>(f), static_cast<Eigen::Index>(n));
  const auto* ip = reinterpret_cast<const unsigned char*>(img.data() + ia.header);
  double* out = d.x.data();  // column-major: image i is column i, in the file's pixel order
  for (std::size_t k = 0; k < n * f; ++k) out[k] = static_cast<double>(ip[k]) / 255.0;
  return d;
}

}  // namespace scaleinv
