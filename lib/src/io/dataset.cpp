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

data_split load_fashion(const spec_parser& p, const spec_parts& spec, std::uint64_t) {
  const auto& tokens = spec.tokens;
  data_split s;
  std::filesystem::path dir = kFashionDefault;
  if (spec.has_colon) {
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
  return s;
}

data_split load_idx_pair(const spec_parser& p, const spec_parts& spec, std::uint64_t) {
  const auto& tokens = spec.tokens;
  if (tokens.size() < 2 || tokens[0].empty() || tokens[1].empty()) p.fail("expected idx:IMAGES,LABELS[,classes=C]");
  spec_options o = p.options(tokens, 2, "idx", {"classes"}, {});
  std::size_t classes = 0;
  if (auto v = o.get("classes")) {
    classes = p.positive(*v, "classes");
    if (classes > 256) p.fail(fmt::format("classes={} is more than an IDX label byte can name (256)", classes));
  }
  data_split s;
  s.train = read_idx(std::string(tokens[0]), std::string(tokens[1]), classes);
  return s;
}

data_split load_csv(const spec_parser& p, const spec_parts& spec, std::uint64_t) {
  const auto& tokens = spec.tokens;
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
  data_split s;
  s.train = read_csv(std::string(tokens[0]), !regression, targets.value_or(1));
  return s;
}

data_split load_teacher(const spec_parser& p, const spec_parts& spec, std::uint64_t seed) {
  spec_options o = p.options(spec.tokens, 0, spec.kind, {"n", "in", "hidden", "out", "seed"}, {"n", "in", "hidden", "out"});
  std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
  data_split s;
  s.train = make_teacher(p.positive(*o.get("n"), "n"), p.positive(*o.get("in"), "in"), p.positive(*o.get("hidden"), "hidden"),
                         p.positive(*o.get("out"), "out"), data_seed);
  return s;
}

data_split load_spirals(const spec_parser& p, const spec_parts& spec, std::uint64_t seed) {
  spec_options o = p.options(spec.tokens, 0, spec.kind, {"n", "noise", "seed"}, {"n"});
  std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
  double noise = o.get("noise") ? p.nonnegative_real(*o.get("noise"), "noise") : 0.05;
  data_split s;
  s.train = make_spirals(p.positive(*o.get("n"), "n"), noise, data_seed);
  return s;
}

data_split load_blobs(const spec_parser& p, const spec_parts& spec, std::uint64_t seed) {
  spec_options o = p.options(spec.tokens, 0, spec.kind, {"n", "in", "classes", "spread", "seed"}, {"n", "in", "classes"});
  std::uint64_t data_seed = o.get("seed") ? p.integer(*o.get("seed"), "seed") : seed;
  double spread = o.get("spread") ? p.nonnegative_real(*o.get("spread"), "spread") : 0.5;
  data_split s;
  s.train = make_blobs(p.positive(*o.get("n"), "n"), p.positive(*o.get("in"), "in"), p.positive(*o.get("classes"), "classes"),
                       spread, data_seed);
  return s;
}

// One kind of --data spec (docs/formats.md).
struct data_kind {
  std::string_view name;
  const char* usage;    // its entry in the list of kinds that an unknown kind's message gives
  const char* example;  // synthetic kinds: what "needs options" suggests; nullptr for files
  bool own_split;       // comes with its own test set; else shuffled and split
  data_split (*load)(const spec_parser& p, const spec_parts& spec, std::uint64_t seed);
};

constexpr data_kind kDataKinds[] = {
    {"fashion-mnist", "fashion-mnist[:DIR]", nullptr, true, load_fashion},
    {"idx", "idx:IMAGES,LABELS", nullptr, false, load_idx_pair},
    {"csv", "csv:PATH", nullptr, false, load_csv},
    {"teacher", "teacher:...", "teacher:n=1000,in=10,hidden=20,out=1", false, load_teacher},
    {"spirals", "spirals:...", "spirals:n=1000", false, load_spirals},
    {"blobs", "blobs:...", "blobs:n=1000,in=2,classes=3", false, load_blobs},
};

// "a, b, ... or z" over the kinds' usage.
std::string kinds_list() {
  std::string out;
  constexpr std::size_t n = std::size(kDataKinds);
  for (std::size_t i = 0; i < n; ++i) out += fmt::format("{}{}", i == 0 ? "" : i + 1 == n ? " or " : ", ", kDataKinds[i].usage);
  return out;
}

}  // namespace

data_split load_data(const std::string& spec, std::uint64_t seed, double test_fraction) {
  if (!(test_fraction >= 0.0 && test_fraction < 1.0))
    throw invalid_argument(fmt::format("the test fraction {} is not in [0, 1)", test_fraction));
  spec_parser p{fmt::format("data spec '{}'", spec)};
  const spec_parts parts = split_spec(spec);
  const data_kind* kind = nullptr;
  for (const data_kind& k : kDataKinds)
    if (k.name == parts.kind) kind = &k;
  if (kind == nullptr) p.fail(fmt::format("unknown data kind '{}' (expected {})", parts.kind, kinds_list()));

  data_split s;
  if (kind->example == nullptr) {
    s = kind->load(p, parts, seed);
  } else {
    if (!parts.has_colon) p.fail(fmt::format("{} needs options, e.g. {}", parts.kind, kind->example));
    try {
      s = kind->load(p, parts, seed);
    } catch (const invalid_argument& e) {
      p.fail(e.what());
    }
  }
  if (!kind->own_split) s = detail::shuffle_split(s.train, seed, test_fraction);
  detail::standardize(s);
  s.train.name = spec;
  s.test.name = spec;
  return s;
}

}  // namespace scaleinv
