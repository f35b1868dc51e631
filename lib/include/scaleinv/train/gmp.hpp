// scaleinv/train/gmp.hpp: hyperspherical coordinates of one weight vector, both ways, and the
// gradient of the angles-to-direction map: the per-unit maps of the geometric parameterization
// (GmP, Chen & Ge, NeurIPS 2024; ../shared/design/math.md section 8).
#pragma once

#include <cstddef>
#include <span>

namespace scaleinv::train {

/// The Euclidean norm of w without overflow or underflow for any finite entries (a chain of
/// std::hypot from the last coordinate). 0 for an empty or zero vector.
template <class Scalar>
Scalar stable_norm(std::span<const Scalar> w);

/// Hyperspherical coordinates of w in R^n, n = w.size() >= 1: returns the radius r = ||w|| and
/// writes the n - 1 angles to theta (@pre theta.size() + 1 == w.size()), 0-based:
///
///   theta_k = atan2(||w_{k+1..n-1}||, w_k)   in [0, pi]     for k < n - 2,
///   theta_{n-2} = atan2(w_{n-1}, w_{n-2})     in (-pi, pi]  (the last angle keeps the sign of the
///                                                           last coordinate),
///
/// so that from_spherical(r, theta) gives w back to rounding. Suffix norms are accumulated with
/// std::hypot, so norms near 1e-300 or 1e300 convert without overflow or underflow. Poles: once
/// the remaining coordinates are all zero, their angles are atan2(0, 0) = 0 (a vector with
/// trailing zeros round-trips with exact zeros where the angles are 0, and to rounding where a
/// negative coordinate gives the angle pi); a zero vector has r = 0 and all angles 0 (direction
/// e_1). A negative zero in the last coordinate counts as +0 (the last angle is never -pi).
///
/// n = 1: S^0 has two points and there are no angles; r = |w_0| and, when sign is given, *sign
/// receives the direction, +1 or -1 (+1 for w_0 = 0). For n >= 2, *sign is set to 1.
template <class Scalar>
Scalar to_spherical(std::span<const Scalar> w, std::span<Scalar> theta, Scalar* sign = nullptr);

/// The unit direction u(theta) in R^n, n = u.size() >= 1 (@pre theta.size() + 1 == u.size()):
/// u_0 = cos t_0, u_k = (prod_{j<k} sin t_j) cos t_k for 0 < k < n - 1, u_{n-1} = prod_{j<n-1}
/// sin t_j. Defined for all real angles (the map is 2 pi-periodic in each). n = 1: u_0 = sign.
template <class Scalar>
void direction(std::span<const Scalar> theta, std::span<Scalar> u, Scalar sign = 1);

/// w = r u(theta). @pre theta.size() + 1 == w.size().
template <class Scalar>
void from_spherical(Scalar r, std::span<const Scalar> theta, std::span<Scalar> w, Scalar sign = 1);

/// The vector-Jacobian product of direction(): dtheta_k = sum_i g_i du_i/dtheta_k, in O(n) and
/// with no division by sin (exact at the poles). With s_k = prod_{j<k} sin t_j, R_{n-1} = g_{n-1}
/// and R_k = g_k cos t_k + sin t_k R_{k+1}:  dtheta_k = s_k (cos t_k R_{k+1} - sin t_k g_k).
/// @pre g.size() == theta.size() + 1 == dtheta.size() + 1.
template <class Scalar>
void direction_vjp(std::span<const Scalar> theta, std::span<const Scalar> g, std::span<Scalar> dtheta);

namespace detail {
/// The tile width of the layer maps below (their scratch holds (kGmpTile + 1) * m entries).
inline constexpr std::size_t kGmpTile = 16;

/// direction() for the m units of one layer at once, n >= 2 inputs each. Angles are angle-major:
/// theta[k m + j] is angle k of unit j (k < n - 1). Writes the effective weights row-major,
/// w[j n + k] = u_j(k) scale[k] (scale null: 1), and caches, angle-major like theta, c = cos,
/// s = sin and pre[k m + j] = prod_{i<k} sin theta_i (m (n - 1) entries each), and last[j] =
/// u_j(n - 1). Columns of m units are vectorized; the transpose to rows goes through scratch
/// tile by tile, so no full-size column-major copy of the layer is ever made.
template <class Scalar>
void gmp_layer_forward(const Scalar* theta, std::size_t m, std::size_t n, const Scalar* scale, Scalar* w, Scalar* c,
                       Scalar* s, Scalar* pre, Scalar* last, Scalar* scratch);

/// The chain rule of gmp_layer_forward, from g = dL/dw (row-major m x n) and its caches: writes
/// dtheta (angle-major, direction_vjp of each unit applied to g_j scale) and, when dscale is not
/// null, dscale[k] = sum_j g(j, k) u_j(k).
template <class Scalar>
void gmp_layer_backward(const Scalar* g, std::size_t m, std::size_t n, const Scalar* scale, const Scalar* c,
                        const Scalar* s, const Scalar* pre, const Scalar* last, Scalar* dtheta, Scalar* dscale,
                        Scalar* scratch);
}  // namespace detail

}  // namespace scaleinv::train
