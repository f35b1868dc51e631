// tests/fuzz/checkpoint_fuzz.cpp: the checkpoint reader (read_checkpoint) on arbitrary bytes,
// through a scratch file. What it accepts must survive a round trip: written back
// (write_checkpoint_json) and read again, every setting, counter and state value is the same, and
// writing again gives the same text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "scaleinv/io/checkpoint.hpp"

using namespace scaleinv;

namespace {
bool same(const checkpoint& a, const checkpoint& b) {
  const training_settings &s = a.settings, &t = b.settings;
  return !checkpoint_mismatch(s, t) && s.lr == t.lr && s.momentum == t.momentum && s.weight_decay == t.weight_decay &&
         a.epoch == b.epoch && a.batch == b.batch && a.state == b.state && a.params == b.params && a.signs == b.signs &&
         a.net.num_nodes() == b.net.num_nodes() && a.net.num_edges() == b.net.num_edges();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fuzz::scratch_file file(".json"), written(".json");
  const std::string& path = file.write(data, size);
  fuzz::expect_only_scaleinv_errors([&] {
    const checkpoint c = read_checkpoint(path);
    const std::string once = write_checkpoint_json(c);
    written.write(once);
    const checkpoint again =
        fuzz::must("reading back write_checkpoint_json's output", [&] { return read_checkpoint(written.path()); });
    if (!same(c, again)) fuzz::finding("the checkpoint changed in a write and read round trip");
    if (write_checkpoint_json(again) != once) fuzz::finding("write(read(write(c))) differs from write(c)");
  });
  return 0;
}
