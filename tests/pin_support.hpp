// tests/pin_support.hpp: what the pin tests (tests/cli/train_pin_test.cpp,
// tests/train/kernel_pin_test.cpp) share: the name of the platform their hashes are kept for.
#pragma once

#include <string>

#ifdef EIGEN_USE_BLAS
extern "C" char* openblas_get_corename(void);
#endif

namespace scaleinv::test {

/// Pinned hashes of floating-point results depend on the arithmetic the processor's vector units
/// and OpenBLAS's runtime kernel do (packet widths set the order of reductions, FMA contraction the
/// rounding), so they are kept per platform: Eigen's instruction sets, OpenBLAS's core and the
/// build's optimisation, e.g. "x86-64 avx avx2 fma / openblas Zen / release".
inline std::string pin_platform() {
  std::string p = "x86-64";
#ifdef __AVX__
  p += " avx";
#endif
#ifdef __AVX2__
  p += " avx2";
#endif
#ifdef __FMA__
  p += " fma";
#endif
#ifdef __AVX512F__
  p += " avx512f";
#endif
#ifdef EIGEN_USE_BLAS
  p += std::string(" / openblas ") + openblas_get_corename();
#endif
#ifdef NDEBUG
  p += " / release";
#else
  p += " / debug";
#endif
  return p;
}

}  // namespace scaleinv::test
