// bench/verify_vs_flint.cpp: `scaleinv verify` (enumeration and coordinates included) against
// FLINT's fmpz_mat_rank, and optionally nmod_mat_rank, on the same dense path-edge matrix, in one
// run, with the ranks compared. Usage: verify_vs_flint [--nmod] [--repeats N] SPEC...
#include <flint/flint.h>
#include <flint/fmpz_mat.h>
#include <flint/nmod_mat.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include "bench_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/paths/enumerate.hpp"

using scaleinv::bench::median;
using scaleinv::bench::now;

int main(int argc, char** argv) {
  bool nmod = false;
  int repeats = 3;
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--nmod") == 0) nmod = true;
    else if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
    else specs.emplace_back(argv[i]);
  }
  if (specs.empty()) specs = {"mlp:10-16-16-10", "mlp:16-24-24-10"};
  fmt::print("{:<18} {:>7} {:>6} {:>6} {:>10} {:>10} {:>8} {:>10} {:>8}\n", "spec", "paths", "edges", "rank",
             "verify s", "fmpz s", "ratio", nmod ? "nmod s" : "", nmod ? "ratio" : "");
  for (const auto& spec : specs) {
    // scaleinv: the whole verify command, in-process, as a user runs it.
    std::vector<double> ours;
    nlohmann::json result;
    for (int r = 0; r < repeats; ++r) {
      std::ostringstream out, err;
      double t0 = now();
      int code = scaleinv::cli::run({"verify", spec, "--json", "--max-paths", "10000000"}, out, err);
      ours.push_back(now() - t0);
      if (code != 0) {
        fmt::print(stderr, "verify {} failed ({}): {}\n", spec, code, err.str());
        return 1;
      }
      result = nlohmann::json::parse(out.str());
    }
    // FLINT: the same matrix, dense, built outside the timing.
    scaleinv::network net = scaleinv::load_network(spec);
    auto paths = scaleinv::enumerate_paths(net, 10000000);
    const auto rows = static_cast<slong>(paths.size()), cols = static_cast<slong>(net.num_edges());
    fmpz_mat_t a;
    fmpz_mat_init(a, rows, cols);
    for (slong i = 0; i < rows; ++i)
      for (auto e : paths[static_cast<std::size_t>(i)])
        fmpz_add_ui(fmpz_mat_entry(a, i, e), fmpz_mat_entry(a, i, e), 1);
    std::vector<double> theirs;
    slong flint_rank = 0;
    for (int r = 0; r < repeats; ++r) {
      fmpz_mat_t copy;
      fmpz_mat_init_set(copy, a);
      double t0 = now();
      flint_rank = fmpz_mat_rank(copy);
      theirs.push_back(now() - t0);
      fmpz_mat_clear(copy);
    }
    double nmod_s = 0;
    slong nmod_rank = 0;
    if (nmod) {
      nmod_mat_t b;
      nmod_mat_init(b, rows, cols, 33554393UL);
      for (slong i = 0; i < rows; ++i)
        for (slong j = 0; j < cols; ++j) nmod_mat_entry(b, i, j) = fmpz_get_ui(fmpz_mat_entry(a, i, j));
      double t0 = now();
      nmod_rank = nmod_mat_rank(b);
      nmod_s = now() - t0;
      nmod_mat_clear(b);
    }
    fmpz_mat_clear(a);
    auto rank = result.at("rank").get<slong>();
    if (rank != flint_rank || (nmod && rank != nmod_rank)) {
      fmt::print(stderr, "{}: ranks differ: scaleinv {}, fmpz_mat_rank {}, nmod_mat_rank {}\n", spec, rank, flint_rank,
                 nmod_rank);
      return 1;
    }
    double o = median(ours), t = median(theirs);
    fmt::print("{:<18} {:>7} {:>6} {:>6} {:>10.4f} {:>10.3f} {:>7.1f}x", spec, rows, cols, rank, o, t, t / o);
    if (nmod) fmt::print(" {:>10.2f} {:>7.1f}x", nmod_s, nmod_s / o);
    fmt::print("\n");
  }
  flint_cleanup();
  return 0;
}
