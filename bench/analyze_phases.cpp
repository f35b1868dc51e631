// bench/analyze_phases.cpp: where the time of `scaleinv analyze` goes, phase by phase, for a spec.
// Usage: analyze_phases SPEC [REPEATS]   (run a Release build)
#include <fmt/format.h>

#include "bench_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/paths/basis.hpp"
#include "scaleinv/paths/count.hpp"

using namespace scaleinv;

namespace {
double seconds(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

using scaleinv::bench::median;

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: analyze_phases SPEC [REPEATS]\n");
    return 2;
  }
  std::string spec = argv[1];
  int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<double> build, count, active, basis, cert, total;
  std::size_t edges = 0;
  for (int r = 0; r < repeats; ++r) {
    network net;
    build.push_back(seconds([&] { net = from_spec(spec); }));
    edges = net.num_edges();
    path_counts pc;
    count.push_back(seconds([&] { pc = count_paths(net); }));
    active_subgraph a;
    active.push_back(seconds([&] { a = find_active(net); }));
    path_basis b;
    basis.push_back(seconds([&] { b = make_basis(net, a); }));
    certificate c;
    cert.push_back(seconds([&] { c = certify(net, a, b); }));
    if (!c.valid) {
      fmt::print(stderr, "certificate failed: {}\n", c.failure);
      return 1;
    }
    total.push_back(seconds([&] { (void)analyze(net); }));
  }
  fmt::print("{:<34} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>7}\n", "spec", "edges", "build", "count", "active",
             "basis", "certify", "analyze", "ns/edge");
  double sum = median(build) + median(total);
  fmt::print("{:<34} {:>11} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>9.3f} {:>7.1f}\n", spec, edges,
             median(build), median(count), median(active), median(basis), median(cert), median(total),
             1e9 * sum / static_cast<double>(edges));
  return 0;
}
