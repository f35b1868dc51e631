// tests/fuzz/network_json_fuzz.cpp: the scaleinv.network JSON reader (read_network_json) on
// arbitrary bytes. What it accepts must write back losslessly (write, read, write gives the same
// text), and on small networks the structural answer must come with a valid certificate and agree
// with the enumerating check (verify): the theorem holds for every DAG the reader lets through.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/verify.hpp"

using namespace scaleinv;

namespace {
constexpr std::size_t kAnalyzeEdges = 256;   // analyze is O(V + E); keep each input fast anyway
constexpr std::uint64_t kVerifyPaths = 200;  // verify enumerates every path
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_only_scaleinv_errors([&] {
    const network net = read_network_json(text, "input.json");

    const std::string once = write_network_json(net);
    const network again =
        fuzz::must("reading back write_network_json's output", [&] { return read_network_json(once, "written.json"); });
    if (write_network_json(again) != once)
      fuzz::finding("write(read(write(net))) differs from write(net): the round trip is lossy");

    if (net.num_edges() > kAnalyzeEdges) return;
    const analysis a = analyze(net);
    if (!a.cert.valid) fuzz::finding("analyze: the certificate failed: " + a.cert.failure);
    if (a.paths > kVerifyPaths) return;
    const verify_result v = verify(net, kVerifyPaths);
    if (!v.passed())
      fuzz::finding("verify: the enumerated rank " + std::to_string(v.rank) + " and the structural dimension " +
                    std::to_string(v.dimension) + " disagree, or a basis check failed");
  });
  return 0;
}
