// tests/cli/train_pin_test.cpp: the trainer's final weights, pinned by hash, for short runs that
// cover every optimizer, coordinate system, schedule, loss, balancing mode and precision. Written
// before the trainer moved from tools/ into lib/ (issue "The library as the product") so that the
// move, and any later refactoring, is checked to be bit-identical. If a hash changes, the change
// altered the arithmetic of training: that is a behaviour change, to be made on purpose and said.
#include "catch_shim.hpp"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "pin_support.hpp"

using namespace scaleinv::test;

namespace {
// FNV-1a over the 64-bit patterns of the weights, in edge order, and the count.
std::uint64_t weight_hash(const nlohmann::json& net) {
  std::uint64_t h = 1469598103934665603ULL;
  std::size_t count = 0;
  for (const auto& e : net.at("edges")) {
    const double w = e.at("weight").get<double>();
    std::uint64_t bits = std::bit_cast<std::uint64_t>(w);
    for (int k = 0; k < 8; ++k) {
      h ^= (bits >> (8 * k)) & 0xFF;
      h *= 1099511628211ULL;
    }
    ++count;
  }
  return h ^ count;
}

// The hashes depend on the platform (pin_support.hpp). On a platform not in the table the runs are
// still made twice and must agree bit for bit, and the hashes to add are printed.
struct pinned_platform {
  const char* name;
  std::vector<std::uint64_t> hashes;  // one per run, in order
};
}  // namespace

TEST_CASE("pinned training runs reproduce their final weights bit for bit", "[cli][train][pin]") {
  const std::vector<std::string> spirals{"--data", "spirals:n=300", "--batch", "32", "--seed", "5", "--quiet"};
  const std::vector<std::string> teacher{
      "--data", "teacher:n=200,in=4,hidden=6,out=2,seed=2", "--batch", "16", "--seed", "7", "--quiet"};
  const std::vector<std::vector<std::string>> runs{
      {plus({"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.1"}, spirals)},
      {plus({"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.05", "--momentum", "0.9", "--weight-decay",
             "0.001", "--float64", "--schedule", "step:2:0.5"},
            spirals)},
      {plus({"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.02", "--optimizer", "gsgd", "--momentum", "0.5",
             "--skeleton", "first"},
            spirals)},
      {plus({"train", "mlp:2-10-10-2", "--epochs", "3", "--lr", "0.02", "--optimizer", "gsgd", "--float64",
             "--weight-decay", "0.001", "--schedule", "exp:0.9", "--skeleton", "first"},
            spirals)},
      {plus({"train", "skip:2-8-8-8-2,span=2", "--epochs", "3", "--lr", "0.05", "--momentum", "0.9"}, spirals)},
      {plus({"train", "skip:2-8-8-8-2,span=2", "--epochs", "3", "--lr", "0.01", "--optimizer", "gsgd", "--float64",
             "--skeleton", "first"},
            spirals)},
      {plus({"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.1", "--param", "weightnorm", "--momentum",
             "0.9", "--weight-decay", "0.001"},
            spirals)},
      {plus({"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.1", "--param", "gmp", "--float64"}, spirals)},
      {plus(
          {"train", "mlp:2-10-10-2,bias", "--epochs", "3", "--lr", "0.1", "--momentum", "0.9", "--balance", "every=5"},
          spirals)},
      {plus({"train", "mlp:2-10-10-2,bias,act=leaky_relu:0.1", "--epochs", "2", "--lr", "0.1", "--balance", "before",
             "--init-rescale", "1", "--float64"},
            spirals)},
      {plus({"train", "mlp:4-6-2,bias", "--epochs", "3", "--lr", "0.05", "--loss", "mse"}, teacher)},
      {plus({"train", "random:seed=4,inputs=4,hidden=9,outputs=2,p=0.5", "--epochs", "2", "--lr", "0.02"}, teacher)},
  };
  const std::vector<pinned_platform> pinned{
      {"x86-64 avx avx2 fma / openblas Zen / release",
       {0x1d523708d8a13c6b, 0x4cb321266d89c19, 0x6c20ed182eadb45b, 0x1ed4507e97f2282c, 0xc2cb6c826484a2a0,
        0x3102ac240ca16b9d, 0xeb6bc99773256fe5, 0x7ce754628b6fe504, 0x201f69f17346bacb, 0xd64f1b3da30ba0e1,
        0x738a83f252e3daef, 0xe869cbb7384503b5}},
      {"x86-64 avx avx2 fma avx512f / openblas Haswell / release",
       {0x1d523708d8a13c6b, 0xfd4717fcd62ed648, 0x554a1b0f2889a4f0, 0xbf268072da97ab0f, 0xc2cb6c826484a2a0,
        0x3102ac240ca16b9d, 0x7f8f55765a1796c6, 0xf070425ef060479b, 0x201f69f17346bacb, 0x53f9b7cbe070f535,
        0x738a83f252e3daef, 0xe869cbb7384503b5}},
  };
  const std::string here = pin_platform();
  const pinned_platform* known = nullptr;
  for (const auto& p : pinned)
    if (here == p.name) known = &p;
  temp_dir dir;
  std::string table;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string out = dir.file("pin" + std::to_string(i) + ".json");
    auto args = plus(runs[i], {"-o", out});
    cli_result r = run(args);
    INFO(describe_run(args, r));
    REQUIRE(r.code == 0);
    const std::uint64_t h = weight_hash(nlohmann::json::parse(read_file(out)));
    table += fmt::format("{}0x{:x}", i == 0 ? "" : ", ", h);
    INFO("platform " << here << ", run " << i << " hash 0x" << std::hex << h);
    if (known != nullptr) {
      REQUIRE(known->hashes.size() == runs.size());
      CHECK(h == known->hashes[i]);
    } else {
      REQUIRE(run(args).code == 0);
      CHECK(weight_hash(nlohmann::json::parse(read_file(out))) == h);
    }
  }
  if (known == nullptr)
    WARN("no pinned hashes for platform \"" << here << "\": add {\"" << here << "\", {" << table << "}}");
}
