// tests/fuzz/data_spec_fuzz.cpp: the --data spec reader (parse_data_spec) on arbitrary text, and
// load_data on the synthetic sets (teacher, spirals, blobs) within a small budget of values. The
// kinds that read files (fashion-mnist, idx, csv) are only parsed: their readers have their own
// targets, and a spec must not make the fuzzer read whatever path it names. A loaded set must
// have the samples and features the spec asked for, every value finite after standardization.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "fuzz_support.hpp"
#include "scaleinv/io/dataset.hpp"

using namespace scaleinv;

namespace {
constexpr double kValueBudget = 20000;  // doubles one input may make

void check(const data_spec& d, const dataset& s, const char* which) {
  if (!s.x.allFinite()) fuzz::finding(fmt::format("{} set: a feature is not finite", which));
  if (s.targets.size() > 0 && !s.targets.allFinite())
    fuzz::finding(fmt::format("{} set: a target is not finite", which));
  const std::size_t features = d.kind == "spirals" ? 2 : d.in;
  if (s.features() != features)
    fuzz::finding(fmt::format("{} set: {} features, the spec asks for {}", which, s.features(), features));
  if (d.kind == "teacher" ? static_cast<std::size_t>(s.targets.cols()) != s.size() ||
                                static_cast<std::size_t>(s.targets.rows()) != d.out
                          : s.labels.size() != s.size())
    fuzz::finding(fmt::format("{} set: labels or targets do not match the samples", which));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_scaleinv_errors([&] {
    const data_spec d = parse_data_spec(text);
    if (d.reads_files() || d.planned_values() > kValueBudget) return;
    const data_split s = load_data(d, 1, 0.2);
    if (s.train.size() + s.test.size() != d.n)
      fuzz::finding(fmt::format("{} + {} samples, the spec asks for {}", s.train.size(), s.test.size(), d.n));
    check(d, s.train, "training");
    check(d, s.test, "test");
  });
  return 0;
}
