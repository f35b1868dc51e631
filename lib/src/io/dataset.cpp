// dataset.cpp: IDX (plain or gzip, via zlib), CSV, synthetic sets, and the --data spec.
#include "scaleinv/io/dataset.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/io/spec.hpp"

namespace scaleinv {
namespace {

// ---------------------------------------------------------------------------------------------
// gzip

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates every gzip member of `in` (gzip allows several, concatenated).
std::string gunzip(const std::string& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw error(fmt::format("{}: cannot initialize zlib", path));
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&zs};

  std::string out;
  // The last four bytes (ISIZE) are the uncompressed size mod 2^32: a good first guess.
  std::size_t guess = 1 << 16;
  if (in.size() >= 18) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    std::size_t isize = std::size_t{p[0]} | std::size_t{p[1]} << 8 | std::size_t{p[2]} << 16 | std::size_t{p[3]} << 24;
    guess = std::max(guess, std::min<std::size_t>(isize, std::size_t{1} << 30));
  }
  out.resize(guess);

  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t consumed = 0, produced = 0;
  constexpr std::size_t kChunk = UINT_MAX;  // z_stream counts in uInt
  for (;;) {
    if (zs.avail_in == 0 && consumed < in.size()) {
      zs.next_in = const_cast<Bytef*>(src + consumed);
      zs.avail_in = static_cast<uInt>(std::min(kChunk, in.size() - consumed));
    }
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min(kChunk, out.size() - produced));
    uInt in_before = zs.avail_in, out_before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_before - zs.avail_in;
    produced += out_before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == in.size()) break;
      if (in.size() - consumed >= 2 && static_cast<unsigned char>(in[consumed]) == 0x1f &&
          static_cast<unsigned char>(in[consumed + 1]) == 0x8b) {
        inflateReset(&zs);  // another gzip member follows
        continue;
      }
      throw parse_error(path, 0, 0, fmt::format("{} bytes of trailing garbage after the gzip data", in.size() - consumed));
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == in.size())
      throw parse_error(path, 0, 0, fmt::format("truncated gzip data: the stream ends after {} compressed bytes ({} uncompressed)",
                                                in.size(), produced));
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw parse_error(path, 0, 0, fmt::format("corrupt gzip data: {}", zs.msg != nullptr ? zs.msg : "inflate failed"));
  }
  out.resize(produced);
  return out;
}

// The file's bytes, decompressed when they start with the gzip magic 1f 8b.
std::string read_maybe_gzip(const std::string& path, bool& was_gzip) {
  std::string bytes = read_text_file(path);
  was_gzip = is_gzip(bytes);
  return was_gzip ? gunzip(bytes, path) : bytes;
}

// ---------------------------------------------------------------------------------------------
// IDX

std::uint32_t be32(const std::string& b, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}

const char* idx_type_name(unsigned type) {
  switch (type) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "32-bit float";
    case 0x0E: return "64-bit float";
    default: return nullptr;
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
  if (b.size() < 4) throw parse_error(path, 0, 0, fmt::format("truncated: {} bytes{}, too short for an IDX header", b.size(), after));
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
    throw parse_error(path, 0, 0, fmt::format("magic number 0x{:08x}: IDX data type 0x{:02x} ({}) is not supported, only unsigned bytes (0x08)",
                                              magic, type, idx_type_name(type)));
  }
  idx_array a;
  a.header = 4 + 4 * std::size_t{ndims};
  if (b.size() < a.header)
    throw parse_error(path, 0, 0, fmt::format("truncated: {} bytes{}, too short for the IDX header ({} bytes for {} dimensions)",
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
  if (a.item_bytes == kMax) throw parse_error(path, 0, 0, fmt::format("images of {} pixels are too large to address", shape));
  std::size_t want = mul(a.dims[0], a.item_bytes);
  std::size_t have = b.size() - a.header;
  if (want != have) {
    std::string says = images ? fmt::format("header says {} images of {} = {} bytes", a.dims[0], shape, want)
                              : fmt::format("header says {} labels = {} bytes", a.dims[0], want);
    if (want == kMax) says = fmt::format("header says {} images of {}, more bytes than fit in memory", a.dims[0], shape);
    if (have < want)
      throw parse_error(path, 0, 0, fmt::format("truncated: {}, the file has {} after the {}-byte header{}", says, have, a.header, after));
    throw parse_error(path, 0, 0, fmt::format("{}, but the file has {} after the {}-byte header{} ({} extra bytes)", says, have,
                                              a.header, after, have - want));
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// CSV

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::optional<double> to_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

struct csv_field {
  std::string_view text;
  std::size_t column;  // 1-based character position in the line
};

std::vector<csv_field> split_fields(std::string_view line) {
  std::vector<csv_field> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    std::string_view raw = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t lead = 0;
    while (lead < raw.size() && (raw[lead] == ' ' || raw[lead] == '\t')) ++lead;
    out.push_back({trim(raw), start + lead + 1});
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// synthetic sets

void require(bool ok, const char* message) {
  if (!ok) throw invalid_argument(message);
}

// ---------------------------------------------------------------------------------------------
// load_data helpers

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

data_split shuffle_split(const dataset& d, std::uint64_t seed, double test_fraction) {
  std::size_t n = d.size();
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  splitmix64 rng(shuffle_seed(seed));
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
  auto n_test = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
  if (n_test >= n)
    throw invalid_argument(fmt::format("a test fraction of {} of {} samples leaves no training samples", test_fraction, n));
  data_split s;
  s.train = take_columns(d, order, 0, n - n_test);
  s.test = take_columns(d, order, n - n_test, n);
  return s;
}

// Standardizes both sets' features with the training set's per-feature mean and (population)
// standard deviation; a feature constant on the training set is only centred.
void standardize(data_split& s) {
  const auto f = static_cast<std::size_t>(s.train.x.rows()), n = static_cast<std::size_t>(s.train.x.cols());
  if (n == 0) return;
  // Raw pointers: this runs over 47 million pixels for Fashion-MNIST, also in Debug builds.
  std::vector<double> mean_v(f, 0.0), var_v(f, 0.0);
  std::vector<unsigned char> constant_v(f, 1);
  double* mean = mean_v.data();
  double* var = var_v.data();
  unsigned char* constant = constant_v.data();
  const double* x = s.train.x.data();  // column-major: sample j is x[j * f .. j * f + f)
  const double* first = x;
  for (std::size_t j = 0; j < n; ++j) {
    const double* col = x + j * f;
    for (std::size_t i = 0; i < f; ++i) {
      mean[i] += col[i];
      constant[i] &= static_cast<unsigned char>(col[i] == first[i]);
    }
  }
  for (std::size_t i = 0; i < f; ++i) mean[i] /= static_cast<double>(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double* col = x + j * f;
    for (std::size_t i = 0; i < f; ++i) {
      double dev = col[i] - mean[i];
      var[i] += dev * dev;
    }
  }
  for (std::size_t i = 0; i < f; ++i) {
    // A constant feature is centred on its exact value, so it becomes exactly 0. mean and var
    // now hold the shift and the scale.
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
      for (std::size_t i = 0; i < f; ++i) col[i] = (col[i] - mean[i]) * var[i];
    }
  }
}

constexpr const char* kFashionDefault = "/usr/share/datasets/fashion-mnist";
constexpr const char* kFashionHelp =
    "the Debian package dataset-fashion-mnist provides the Fashion-MNIST files in /usr/share/datasets/fashion-mnist";

std::string fashion_file(const spec_parser& p, const std::filesystem::path& dir, const char* base) {
  std::error_code ec;
  std::filesystem::path plain = dir / base, gz = dir / fmt::format("{}.gz", base);
  if (std::filesystem::exists(plain, ec)) return plain.string();
  if (std::filesystem::exists(gz, ec)) return gz.string();
  p.fail(fmt::format("{} not found, nor {}.gz ({})", plain.string(), base, kFashionHelp));
}

}  // namespace

// -------------------------------------------------------------------------------------------------

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

dataset read_csv(const std::string& path, bool classify, std::size_t targets) {
  if (!classify && targets == 0) throw invalid_argument("a regression CSV needs at least one target column");
  std::string text = read_text_file(path);
  std::string_view all(text);

  std::vector<std::string> names;  // from the header, if any
  std::vector<double> values;      // row-major: one sample after the other
  std::vector<int> labels;
  std::size_t width = 0, width_line = 0, rows = 0, line_no = 0;
  const std::size_t tail = classify ? 1 : targets;

  auto field_name = [&](std::size_t k) {
    return k < names.size() && !names[k].empty() ? fmt::format("field {} ('{}')", k + 1, names[k]) : fmt::format("field {}", k + 1);
  };
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    std::string_view line = all.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? all.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::vector<csv_field> fields = split_fields(line);

    if (width == 0) {  // the first line: the header, or the first sample
      width = fields.size();
      width_line = line_no;
      if (width <= tail) {
        throw parse_error(path, line_no, 0,
                          classify ? fmt::format("has {} field{}: need at least one feature and the label", width, width == 1 ? "" : "s")
                                   : fmt::format("has {} field{}: need at least one feature and {} target{}", width,
                                                 width == 1 ? "" : "s", targets, targets == 1 ? "" : "s"));
      }
      bool numeric = std::all_of(fields.begin(), fields.end(), [](const csv_field& f) { return to_number(f.text).has_value(); });
      if (!numeric) {
        for (const auto& f : fields) names.emplace_back(f.text);
        continue;
      }
    } else if (fields.size() != width) {
      throw parse_error(path, line_no, 0, fmt::format("has {} fields, but line {} has {}", fields.size(), width_line, width));
    }

    for (std::size_t k = 0; k < width; ++k) {
      const csv_field& f = fields[k];
      if (classify && k + 1 == width) {
        int label = 0;
        auto [ptr, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), label);
        if (ec != std::errc{} || ptr != f.text.data() + f.text.size() || f.text.empty() || label < 0)
          throw parse_error(path, line_no, f.column,
                            fmt::format("the label, {}, is '{}', not a non-negative integer class", field_name(k), f.text));
        labels.push_back(label);
        continue;
      }
      std::optional<double> v = to_number(f.text);
      if (!v) throw parse_error(path, line_no, f.column, fmt::format("{} is '{}', not a finite number", field_name(k), f.text));
      values.push_back(*v);
    }
    ++rows;
  }
  if (rows == 0) throw parse_error(path, 0, 0, names.empty() ? "no data rows (the file is empty)" : "no data rows after the header");

  dataset d;
  d.name = path;
  const std::size_t numeric_cols = classify ? width - 1 : width;  // per row in `values`
  const std::size_t features = width - tail;
  d.x.resize(static_cast<Eigen::Index>(features), static_cast<Eigen::Index>(rows));
  if (!classify) d.targets.resize(static_cast<Eigen::Index>(targets), static_cast<Eigen::Index>(rows));
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = values.data() + r * numeric_cols;
    for (std::size_t k = 0; k < features; ++k) d.x(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = row[k];
    if (!classify)
      for (std::size_t k = 0; k < targets; ++k)
        d.targets(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = row[features + k];
  }
  if (classify) {
    d.classes = static_cast<std::size_t>(*std::max_element(labels.begin(), labels.end())) + 1;
    d.labels = std::move(labels);
  }
  return d;
}

dataset make_teacher(std::size_t samples, std::size_t in, std::size_t hidden, std::size_t out, std::uint64_t seed) {
  require(in > 0 && hidden > 0 && out > 0, "teacher: in, hidden and out must be at least 1");
  splitmix64 rng(seed);
  const auto I = static_cast<Eigen::Index>(in), H = static_cast<Eigen::Index>(hidden), O = static_cast<Eigen::Index>(out);
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

data_split load_data(const std::string& spec, std::uint64_t seed, double test_fraction) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0))
    throw invalid_argument(fmt::format("the test fraction {} is not in [0, 1)", test_fraction));
  spec_parser p{fmt::format("data spec '{}'", spec)};
  auto colon = spec.find(':');
  std::string_view kind = std::string_view(spec).substr(0, colon);
  std::vector<std::string_view> tokens;
  if (colon != std::string::npos) tokens = split_on(std::string_view(spec).substr(colon + 1), ',');
  const char* kinds = "fashion-mnist[:DIR], idx:IMAGES,LABELS, csv:PATH, teacher:..., spirals:... or blobs:...";

  data_split s;
  bool own_split = false;
  if (kind == "fashion-mnist") {
    std::filesystem::path dir = kFashionDefault;
    if (colon != std::string::npos) {
      if (tokens.size() != 1) p.fail("expected fashion-mnist or fashion-mnist:DIR (a directory name without commas)");
      if (tokens[0].empty()) p.fail("expected a directory after 'fashion-mnist:'");
      dir = std::string(tokens[0]);
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      p.fail(fmt::format("directory {} does not exist ({})", dir.string(), kFashionHelp));
    std::string train_images = fashion_file(p, dir, "train-images-idx3-ubyte");
    std::string train_labels = fashion_file(p, dir, "train-labels-idx1-ubyte");
    std::string test_images = fashion_file(p, dir, "t10k-images-idx3-ubyte");
    std::string test_labels = fashion_file(p, dir, "t10k-labels-idx1-ubyte");
    s.train = read_idx(train_images, train_labels, 10);
    s.test = read_idx(test_images, test_labels, 10);
    if (s.train.features() != s.test.features())
      p.fail(fmt::format("the training images have {} pixels but the test images {}", s.train.features(), s.test.features()));
    own_split = true;
  } else if (kind == "idx") {
    if (tokens.size() < 2 || tokens[0].empty() || tokens[1].empty()) p.fail("expected idx:IMAGES,LABELS[,classes=C]");
    spec_options o = p.options(tokens, 2, "idx", {"classes"}, {});
    std::size_t classes = 0;
    if (auto v = o.get("classes")) {
      classes = p.positive(*v, "classes");
      if (classes > 256) p.fail(fmt::format("classes={} is more than an IDX label byte can name (256)", classes));
    }
    s.train = read_idx(std::string(tokens[0]), std::string(tokens[1]), classes);
  } else if (kind == "csv") {
    if (tokens.empty() || tokens[0].empty()) p.fail("expected csv:PATH[,regression[,targets=K]]");
    bool regression = false;
    std::optional<std::size_t> targets;
    for (std::size_t i = 1; i < tokens.size(); ++i) {
      std::string_view t = tokens[i];
      if (t == "regression") regression = true;
      else if (t.substr(0, 8) == "targets=") targets = p.positive(t.substr(8), "targets");
      else if (t.empty()) p.fail("empty option (a stray comma?)");
      else p.fail(fmt::format("unknown option '{}' for csv (expected regression, targets=K)", t));
    }
    if (targets && !regression) p.fail("targets=K applies to regression CSVs only (add 'regression')");
    s.train = read_csv(std::string(tokens[0]), !regression, targets.value_or(1));
  } else if (kind == "teacher" || kind == "spirals" || kind == "blobs") {
    if (colon == std::string::npos) p.fail(fmt::format("{} needs options, e.g. {}", kind,
                                                      kind == "teacher" ? "teacher:n=1000,in=10,hidden=20,out=1"
                                                      : kind == "spirals" ? "spirals:n=1000" : "blobs:n=1000,in=2,classes=3"));
    try {
      if (kind == "teacher") {
        spec_options o = p.options(tokens, 0, kind, {"n", "in", "hidden", "out", "seed"}, {"n", "in", "hidden", "out"});
        std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
        s.train = make_teacher(p.positive(*o.get("n"), "n"), p.positive(*o.get("in"), "in"), p.positive(*o.get("hidden"), "hidden"),
                               p.positive(*o.get("out"), "out"), data_seed);
      } else if (kind == "spirals") {
        spec_options o = p.options(tokens, 0, kind, {"n", "noise", "seed"}, {"n"});
        std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
        double noise = o.get("noise") ? p.nonnegative_real(*o.get("noise"), "noise") : 0.05;
        s.train = make_spirals(p.positive(*o.get("n"), "n"), noise, data_seed);
      } else {
        spec_options o = p.options(tokens, 0, kind, {"n", "in", "classes", "spread", "seed"}, {"n", "in", "classes"});
        std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
        double spread = o.get("spread") ? p.nonnegative_real(*o.get("spread"), "spread") : 0.5;
        s.train = make_blobs(p.positive(*o.get("n"), "n"), p.positive(*o.get("in"), "in"), p.positive(*o.get("classes"), "classes"),
                             spread, data_seed);
      }
    } catch (const invalid_argument& e) {
      p.fail(e.what());
    }
  } else {
    p.fail(fmt::format("unknown data kind '{}' (expected {})", kind, kinds));
  }

  if (!own_split) s = shuffle_split(s.train, seed, test_fraction);
  standardize(s);
  s.train.name = spec;
  s.test.name = spec;
  return s;
}

}  // namespace scaleinv
