// gmp.cpp: hyperspherical coordinates of one vector (GmP's per-unit maps), scalar reference code,
// and their layer-wise forms across units (vectorized columns).

// GCC 12 warns that _mm512_undefined_epi32's self-initialised register is uninitialised where
// Eigen's AVX-512 sin/cos inline it (GCC bug 105593, fixed in GCC 13). The warning is attributed
// to the system header's lines, so it is silenced for this file, before any include; this file
// keeps only these maps.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "scaleinv/train/gmp.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <vector>

#include "scaleinv/error.hpp"

namespace scaleinv::train {

template <class Scalar>
Scalar stable_norm(std::span<const Scalar> w) {
  Scalar s = 0;
  for (std::size_t i = w.size(); i-- > 0;) s = std::hypot(w[i], s);
  return s;
}

template <class Scalar>
Scalar to_spherical(std::span<const Scalar> w, std::span<Scalar> theta, Scalar* sign) {
  const std::size_t n = w.size();
  if (n == 0 || theta.size() + 1 != n)
    throw invalid_argument("to_spherical: n >= 1 coordinates and n - 1 angles expected");
  if (sign != nullptr) *sign = Scalar(1);
  if (n == 1) {
    if (sign != nullptr && std::signbit(w[0]) && w[0] != Scalar(0)) *sign = Scalar(-1);
    return std::abs(w[0]);
  }
  // The last angle from the last two coordinates (its sign is the last coordinate's; adding +0
  // turns a -0 into +0, so the angle is never -pi), then suffix norms from the back:
  // s = ||w_{k+1..n-1}|| before theta_k = atan2(s, w_k).
  // Every other coordinate gets + 0 too: atan2(+0, -0) would be pi, and an all-zero suffix must
  // give the angle 0 whatever the sign of its zeros.
  theta[n - 2] = std::atan2(w[n - 1] + Scalar(0), w[n - 2] + Scalar(0));
  Scalar s = std::hypot(w[n - 1], w[n - 2]);
  for (std::size_t k = n - 2; k-- > 0;) {
    theta[k] = std::atan2(s, w[k] + Scalar(0));
    s = std::hypot(w[k], s);
  }
  return s;
}

template <class Scalar>
void direction(std::span<const Scalar> theta, std::span<Scalar> u, Scalar sign) {
  const std::size_t n = u.size();
  if (n == 0 || theta.size() + 1 != n)
    throw invalid_argument("direction: n >= 1 coordinates and n - 1 angles expected");
  Scalar p = n == 1 ? sign : Scalar(1);
  for (std::size_t k = 0; k + 1 < n; ++k) {
    u[k] = p * std::cos(theta[k]);
    p *= std::sin(theta[k]);
  }
  u[n - 1] = p;
}

template <class Scalar>
void from_spherical(Scalar r, std::span<const Scalar> theta, std::span<Scalar> w, Scalar sign) {
  direction(theta, w, sign);
  for (Scalar& x : w) x *= r;
}

template <class Scalar>
void direction_vjp(std::span<const Scalar> theta, std::span<const Scalar> g, std::span<Scalar> dtheta) {
  const std::size_t n = g.size();
  if (n == 0 || theta.size() + 1 != n || dtheta.size() + 1 != n)
    throw invalid_argument("direction_vjp: n >= 1 gradient entries and n - 1 angles expected");
  if (n == 1) return;
  std::vector<Scalar> s(n - 1);
  Scalar p = 1;
  for (std::size_t k = 0; k + 1 < n; ++k) {
    s[k] = p;
    p *= std::sin(theta[k]);
  }
  Scalar R = g[n - 1];
  for (std::size_t k = n - 1; k-- > 0;) {
    const Scalar c = std::cos(theta[k]), sn = std::sin(theta[k]);
    dtheta[k] = s[k] * (c * R - sn * g[k]);
    R = g[k] * c + sn * R;
  }
}

namespace detail {
namespace {
template <class Scalar>
using col_vec = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
}  // namespace

template <class Scalar>
void gmp_layer_forward(const Scalar* theta, std::size_t m, std::size_t n, const Scalar* scale, Scalar* w, Scalar* c,
                       Scalar* s, Scalar* pre, Scalar* last, Scalar* scratch) {
  using V = Eigen::Map<col_vec<Scalar>>;
  using CV = Eigen::Map<const col_vec<Scalar>>;
  const auto M = static_cast<Eigen::Index>(m);
  V run(last, M);  // prod_{i<k} sin t_i, which ends as u(n - 1)
  run.setOnes();
  for (std::size_t k0 = 0; k0 < n; k0 += kGmpTile) {
    const std::size_t k1 = std::min(n, k0 + kGmpTile);
    // Directions u(k), k0 <= k < k1, into the tile's columns, scaled by scale[k].
    for (std::size_t k = k0; k < k1; ++k) {
      V u(scratch + (k - k0) * m, M);
      if (k + 1 < n) {
        CV t(theta + k * m, M);
        V ck(c + k * m, M), sk(s + k * m, M);
        ck = t.cos();
        sk = t.sin();
        V(pre + k * m, M) = run;
        u = run * ck;
        run *= sk;
      } else {
        u = run;
      }
      if (scale != nullptr) u *= scale[k];
    }
    // Transpose the tile into rows j, columns k0..k1 of w.
    for (std::size_t j = 0; j < m; ++j) {
      // Fetch row j's part of the next tile for writing (rows are n apart, see gmp_layer_backward).
      if (k1 < n) __builtin_prefetch(w + j * n + k1, 1);
      for (std::size_t k = k0; k < k1; ++k) w[j * n + k] = scratch[(k - k0) * m + j];
    }
  }
}

template <class Scalar>
void gmp_layer_backward(const Scalar* g, std::size_t m, std::size_t n, const Scalar* scale, const Scalar* c,
                        const Scalar* s, const Scalar* pre, const Scalar* last, Scalar* dtheta, Scalar* dscale,
                        Scalar* scratch) {
  using V = Eigen::Map<col_vec<Scalar>>;
  using CV = Eigen::Map<const col_vec<Scalar>>;
  const auto M = static_cast<Eigen::Index>(m);
  // R_k = g_k cos t_k + sin t_k R_{k+1} (R_{n-1} = g_{n-1}); dtheta_k = s_k (cos t_k R_{k+1} -
  // sin t_k g_k), g = dL/du = dL/dw scale. R lives in the last column of the scratch tile, which
  // the transposes below never write.
  V R(scratch + kGmpTile * m, M);
  const std::size_t tiles = (n + kGmpTile - 1) / kGmpTile;
  for (std::size_t t = tiles; t-- > 0;) {
    const std::size_t k0 = t * kGmpTile, k1 = std::min(n, k0 + kGmpTile);
    for (std::size_t j = 0; j < m; ++j) {
      // The tiles run right to left: fetch row j's part of the next one while this one is read
      // (rows are n apart; the hardware prefetcher follows that stride late or not at all).
      if (k0 > 0) __builtin_prefetch(g + j * n + k0 - kGmpTile);
      for (std::size_t k = k0; k < k1; ++k) scratch[(k - k0) * m + j] = g[j * n + k];
    }
    for (std::size_t k = k1; k-- > k0;) {
      V gk(scratch + (k - k0) * m, M);
      const bool is_last = k + 1 == n;
      if (dscale != nullptr) {
        if (is_last) dscale[k] = (gk * CV(last, M)).sum();
        else dscale[k] = (gk * CV(pre + k * m, M) * CV(c + k * m, M)).sum();
      }
      if (scale != nullptr) gk *= scale[k];
      if (is_last) {
        R = gk;
        continue;
      }
      CV ck(c + k * m, M), sk(s + k * m, M);
      V(dtheta + k * m, M) = CV(pre + k * m, M) * (ck * R - sk * gk);
      R = gk * ck + sk * R;
    }
  }
}

template void gmp_layer_forward(const float*, std::size_t, std::size_t, const float*, float*, float*, float*, float*,
                                float*, float*);
template void gmp_layer_forward(const double*, std::size_t, std::size_t, const double*, double*, double*, double*,
                                double*, double*, double*);
template void gmp_layer_backward(const float*, std::size_t, std::size_t, const float*, const float*, const float*,
                                 const float*, const float*, float*, float*, float*);
template void gmp_layer_backward(const double*, std::size_t, std::size_t, const double*, const double*, const double*,
                                 const double*, const double*, double*, double*, double*);
}  // namespace detail

template float stable_norm(std::span<const float>);
template double stable_norm(std::span<const double>);
template float to_spherical(std::span<const float>, std::span<float>, float*);
template double to_spherical(std::span<const double>, std::span<double>, double*);
template void direction(std::span<const float>, std::span<float>, float);
template void direction(std::span<const double>, std::span<double>, double);
template void from_spherical(float, std::span<const float>, std::span<float>, float);
template void from_spherical(double, std::span<const double>, std::span<double>, double);
template void direction_vjp(std::span<const float>, std::span<const float>, std::span<float>);
template void direction_vjp(std::span<const double>, std::span<const double>, std::span<double>);

}  // namespace scaleinv::train
