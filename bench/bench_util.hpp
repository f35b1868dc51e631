// bench/bench_util.hpp: the clock and the median the benchmark programs share.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace scaleinv::bench {

/// Seconds on the steady clock.
inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// The median (upper median for an even count). @pre !v.empty().
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace scaleinv::bench
