// dataset.cpp: the --data spec: one table of data kinds, each with its loader, then the split and
// the standardization. The readers are idx.cpp, csv.cpp and synthetic.cpp.
#include "scaleinv/io/dataset.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "dataset_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/spec.hpp"

namespace scaleinv {
namespace {

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

// Each kind has a reader of its spec (into data_spec, allocating nothing in proportion to the
// sizes it names) and a loader of the parsed spec.

void parse_fashion(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  const auto& tokens = spec.tokens;
  if (spec.has_colon) {
    if (tokens.size() != 1) p.fail("expected fashion-mnist or fashion-mnist:DIR (a directory name without commas)");
    if (tokens[0].empty()) p.fail("expected a directory after 'fashion-mnist:'");
    d.path = std::string(tokens[0]);
  }
}

data_split load_fashion(const spec_parser& p, const data_spec& d, std::uint64_t) {
  data_split s;
  std::filesystem::path dir = d.path.empty() ? std::string(kFashionDefault) : d.path;
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
    p.fail(fmt::format("the training images have {} pixels but the test images {}", s.train.features(),
                       s.test.features()));
  return s;
}

void parse_idx_pair(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  const auto& tokens = spec.tokens;
  if (tokens.size() < 2 || tokens[0].empty() || tokens[1].empty()) p.fail("expected idx:IMAGES,LABELS[,classes=C]");
  spec_options o = p.options(tokens, 2, "idx", {"classes"}, {});
  if (auto v = o.get("classes")) {
    d.classes = p.positive(*v, "classes");
    if (d.classes > 256) p.fail(fmt::format("classes={} is more than an IDX label byte can name (256)", d.classes));
  }
  d.path = std::string(tokens[0]);
  d.labels = std::string(tokens[1]);
}

data_split load_idx_pair(const spec_parser&, const data_spec& d, std::uint64_t) {
  data_split s;
  s.train = read_idx(d.path, d.labels, d.classes);
  return s;
}

void parse_csv(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  const auto& tokens = spec.tokens;
  if (tokens.empty() || tokens[0].empty()) p.fail("expected csv:PATH[,regression[,targets=K]]");
  std::optional<std::size_t> targets;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    if (t == "regression") d.regression = true;
    else if (t.substr(0, 8) == "targets=") targets = p.positive(t.substr(8), "targets");
    else if (t.empty()) p.fail("empty option (a stray comma?)");
    else p.fail(fmt::format("unknown option '{}' for csv (expected regression, targets=K)", t));
  }
  if (targets && !d.regression) p.fail("targets=K applies to regression CSVs only (add 'regression')");
  d.path = std::string(tokens[0]);
  d.targets = targets.value_or(1);
}

data_split load_csv(const spec_parser&, const data_spec& d, std::uint64_t) {
  data_split s;
  s.train = read_csv(d.path, !d.regression, d.targets);
  return s;
}

void parse_teacher(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  spec_options o =
      p.options(spec.tokens, 0, spec.kind, {"n", "in", "hidden", "out", "seed"}, {"n", "in", "hidden", "out"});
  if (auto v = o.get("seed")) d.seed = p.integer(*v, "seed");
  d.n = p.positive(*o.get("n"), "n");
  d.in = p.positive(*o.get("in"), "in");
  d.hidden = p.positive(*o.get("hidden"), "hidden");
  d.out = p.positive(*o.get("out"), "out");
}

data_split load_teacher(const spec_parser&, const data_spec& d, std::uint64_t seed) {
  data_split s;
  s.train = make_teacher(d.n, d.in, d.hidden, d.out, d.seed.value_or(seed));
  return s;
}

void parse_spirals(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  spec_options o = p.options(spec.tokens, 0, spec.kind, {"n", "noise", "seed"}, {"n"});
  if (auto v = o.get("seed")) d.seed = p.integer(*v, "seed");
  if (auto v = o.get("noise")) d.noise = p.nonnegative_real(*v, "noise");
  d.n = p.positive(*o.get("n"), "n");
}

data_split load_spirals(const spec_parser&, const data_spec& d, std::uint64_t seed) {
  data_split s;
  s.train = make_spirals(d.n, d.noise, d.seed.value_or(seed));
  return s;
}

void parse_blobs(const spec_parser& p, const spec_parts& spec, data_spec& d) {
  spec_options o =
      p.options(spec.tokens, 0, spec.kind, {"n", "in", "classes", "spread", "seed"}, {"n", "in", "classes"});
  if (auto v = o.get("seed")) d.seed = p.integer(*v, "seed");
  if (auto v = o.get("spread")) d.spread = p.nonnegative_real(*v, "spread");
  d.n = p.positive(*o.get("n"), "n");
  d.in = p.positive(*o.get("in"), "in");
  d.classes = p.positive(*o.get("classes"), "classes");
}

data_split load_blobs(const spec_parser&, const data_spec& d, std::uint64_t seed) {
  data_split s;
  s.train = make_blobs(d.n, d.in, d.classes, d.spread, d.seed.value_or(seed));
  return s;
}

// One kind of --data spec (docs/formats.md).
struct data_kind {
  std::string_view name;
  const char* usage;    // its entry in the list of kinds that an unknown kind's message gives
  const char* example;  // synthetic kinds: what "needs options" suggests; nullptr for files
  bool own_split;       // comes with its own test set; else shuffled and split
  void (*parse)(const spec_parser& p, const spec_parts& spec, data_spec& d);
  data_split (*load)(const spec_parser& p, const data_spec& d, std::uint64_t seed);
};

constexpr data_kind kDataKinds[] = {
    {"fashion-mnist", "fashion-mnist[:DIR]", nullptr, true, parse_fashion, load_fashion},
    {"idx", "idx:IMAGES,LABELS", nullptr, false, parse_idx_pair, load_idx_pair},
    {"csv", "csv:PATH", nullptr, false, parse_csv, load_csv},
    {"teacher", "teacher:...", "teacher:n=1000,in=10,hidden=20,out=1", false, parse_teacher, load_teacher},
    {"spirals", "spirals:...", "spirals:n=1000", false, parse_spirals, load_spirals},
    {"blobs", "blobs:...", "blobs:n=1000,in=2,classes=3", false, parse_blobs, load_blobs},
};

// "a, b, ... or z" over the kinds' usage.
std::string kinds_list() {
  std::string out;
  constexpr std::size_t n = std::size(kDataKinds);
  for (std::size_t i = 0; i < n; ++i)
    out += fmt::format("{}{}", i == 0 ? "" : i + 1 == n ? " or " : ", ", kDataKinds[i].usage);
  return out;
}

// The kind a spec names. @throws parse_error listing the kinds.
const data_kind& find_kind(const spec_parser& p, std::string_view name) {
  for (const data_kind& k : kDataKinds)
    if (k.name == name) return k;
  p.fail(fmt::format("unknown data kind '{}' (expected {})", name, kinds_list()));
}

spec_parser parser_for(const std::string& spec) { return spec_parser{fmt::format("data spec '{}'", spec)}; }

void check_test_fraction(double test_fraction) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0))
    throw invalid_argument(fmt::format("the test fraction {} is not in [0, 1)", test_fraction));
}

}  // namespace

bool data_spec::reads_files() const noexcept { return kind == "fashion-mnist" || kind == "idx" || kind == "csv"; }

double data_spec::planned_values() const noexcept {
  const double n_ = static_cast<double>(n), in_ = static_cast<double>(in), hidden_ = static_cast<double>(hidden),
               out_ = static_cast<double>(out);
  if (kind == "teacher")
    return n_ * (in_ + out_) + hidden_ * (in_ + out_) + n_ * hidden_;  // x, targets, weights, relu(W1 x)
  if (kind == "spirals") return n_ * 2;
  if (kind == "blobs") return n_ * in_ + in_ * static_cast<double>(classes);  // samples and centres
  return 0;
}

data_spec parse_data_spec(const std::string& spec) {
  const spec_parser p = parser_for(spec);
  const spec_parts parts = split_spec(spec);
  const data_kind& kind = find_kind(p, parts.kind);
  if (kind.example != nullptr && !parts.has_colon)
    p.fail(fmt::format("{} needs options, e.g. {}", parts.kind, kind.example));
  data_spec d;
  d.text = spec;
  d.kind = std::string(kind.name);
  kind.parse(p, parts, d);
  return d;
}

data_split load_data(const data_spec& spec, std::uint64_t seed, double test_fraction) {
  check_test_fraction(test_fraction);
  const spec_parser p = parser_for(spec.text);
  const data_kind& kind = find_kind(p, spec.kind);
  data_split s;
  if (kind.example == nullptr) {
    s = kind.load(p, spec, seed);
  } else {
    try {
      s = kind.load(p, spec, seed);
    } catch (const invalid_argument& e) { p.fail(e.what()); }
  }
  if (!kind.own_split) s = detail::shuffle_split(s.train, seed, test_fraction);
  detail::standardize(s);
  s.train.name = spec.text;
  s.test.name = spec.text;
  return s;
}

data_split load_data(const std::string& spec, std::uint64_t seed, double test_fraction) {
  check_test_fraction(test_fraction);  // first, as before a spec is read
  return load_data(parse_data_spec(spec), seed, test_fraction);
}

}  // namespace scaleinv
