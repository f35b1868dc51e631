// scaleinv/graph/random.hpp: a small, fully specified random generator, so that a seed names the
// same network on every platform (std's distributions are implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>

namespace scaleinv {

/// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): 64-bit state, passes BigCrush, fully defined.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform on [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n). @pre n > 0. (Modulo bias is below 2^-32 for n < 2^32.)
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  /// Standard normal by Box-Muller.
  double normal() noexcept {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t state_;
};

}  // namespace scaleinv
