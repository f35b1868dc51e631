// bench/train_step.cpp: one training step (forward, backward, update) of scaleinv's SGD, G-SGD
// (the authors' diagonal skeleton, the default, and the first-unit one) and Path-SGD, and of SGD in weight-norm and GmP
// coordinates (the map to the effective weights and its chain rule included), float32, on a random batch; the PyTorch
// peer is bench/torch_step.py. On a network with shared parameters or constant edges (a conv: spec) it times SGD and
// EC-SGD on the parameters instead (tied_weights: effective weights, loss and gradient, the tied gradient, the step).
// Usage: train_step SPEC [BATCH] [STEPS]   (run a Release build; Eigen is single-threaded here)
#include <fmt/format.h>

#include "bench_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/random.hpp"
#include "scaleinv/train/ec_sgd.hpp"
#include "scaleinv/train/gsgd.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"
#include "scaleinv/train/parameterization.hpp"
#include "scaleinv/train/path_sgd.hpp"
#include "scaleinv/train/tied_weights.hpp"

using namespace scaleinv;

using scaleinv::bench::median;
using scaleinv::bench::now;

namespace {
// SGD and EC-SGD on the parameters of a network with shared parameters or constant edges: one step
// is what `scaleinv train` does per batch there.
void bench_tied(const std::string& spec, const network& net, train::model<float>& m, const train::matrix<float>& x,
                const std::vector<int>& labels, int batch, int steps) {
  train::tied_weights<float> tied(net);
  const std::vector<float> p0 = tied.from_weights(net.weights());
  auto run = [&](train::optimizer<float>& opt) {
    std::vector<float> p = p0, w, grad, gp;
    std::vector<double> t;
    for (int s = 0; s < steps; ++s) {
      double t0 = now();
      tied.effective_weights(p, w);
      m.loss_and_gradient(w, x, &labels, nullptr, train::loss_kind::cross_entropy, grad);
      tied.backprop(p, grad, gp);
      opt.step(p, gp, 1e-8);  // tiny: neither run may drift into overflow or dead units, which changes the pass
      t.push_back(now() - t0);
    }
    return median(t);
  };
  train::sgd<float> sgd(p0.size(), {});
  train::ec_sgd<float> ecsgd(std::make_shared<const network>(net), {});
  const double t_sgd = run(sgd), t_ec = run(ecsgd);
  fmt::print(
      "{{\"spec\": \"{}\", \"batch\": {}, \"parameters\": {}, \"edges\": {}, \"sgd_ms\": {:.3f}, \"ecsgd_ms\": {:.3f}, "
      "\"ecsgd_over_sgd\": {:.3f}, \"basis_paths\": {}}}\n",
      spec, batch, p0.size(), net.num_edges(), 1e3 * t_sgd, 1e3 * t_ec, t_ec / t_sgd, *ecsgd.basis_size());
}
}  // namespace

int run(int argc, char** argv) {
  std::string spec = argc > 1 ? argv[1] : "mlp:784-256-256-10,init=1";
  const int batch = argc > 2 ? std::atoi(argv[2]) : 128;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 200;
  if (batch <= 0 || steps <= 0) throw std::invalid_argument("BATCH and STEPS must be positive integers");
  network net = from_spec(spec);
  if (!net.has_weights()) init_weights(net, 1);
  train::model<float> m(net);
  splitmix64 rng(7);
  train::matrix<float> x(static_cast<Eigen::Index>(m.num_inputs()), batch);
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) x(i, j) = static_cast<float>(rng.uniform());
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (auto& l : labels) l = static_cast<int>(rng.below(m.num_outputs()));
  if (net.has_parameter_map()) {
    bench_tied(spec, net, m, x, labels, batch, steps);
    return 0;
  }
  std::vector<float> w0(net.weights().begin(), net.weights().end()), grad;
  auto run = [&](auto& opt) {
    std::vector<float> w = w0;
    std::vector<double> t;
    for (int s = 0; s < steps; ++s) {
      double t0 = now();
      m.loss_and_gradient(w, x, &labels, nullptr, train::loss_kind::cross_entropy, grad);
      opt.step(w, grad, 0.01);
      t.push_back(now() - t0);
    }
    return median(t);
  };
  train::sgd<float> sgd(w0.size(), {});
  train::gsgd<float> gsgd(net, {});  // diagonal skeleton
  train::gsgd<float> gsgd_first(net, {0.0, 0.0, skeleton_kind::first});
  train::path_sgd<float> pathsgd(net, w0.size(), {});
  // A step in other coordinates: effective weights, loss and gradient, chain rule, SGD on the
  // parameters (what `scaleinv train --param ...` does per batch).
  auto run_param = [&](train::param_kind kind) {
    train::parameterization<float> param(net, kind);
    std::vector<float> p = param.from_weights(net.weights()), w, gp;
    train::sgd<float> opt(p.size(), {});
    std::vector<double> t;
    for (int s = 0; s < steps; ++s) {
      double t0 = now();
      param.effective_weights(p, w);
      m.loss_and_gradient(w, x, &labels, nullptr, train::loss_kind::cross_entropy, grad);
      param.backprop(p, grad, gp);
      opt.step(p, gp, 0.01);
      t.push_back(now() - t0);
    }
    return median(t);
  };
  double t_sgd = run(sgd), t_gsgd = run(gsgd), t_first = run(gsgd_first), t_path = run(pathsgd),
         t_wn = run_param(train::param_kind::weightnorm), t_gmp = run_param(train::param_kind::gmp);
  fmt::print(
      "{{\"spec\": \"{}\", \"batch\": {}, \"fast_path\": {}, \"sgd_ms\": {:.3f}, \"gsgd_ms\": {:.3f}, "
      "\"gsgd_over_sgd\": {:.3f}, \"gsgd_first_ms\": {:.3f}, \"pathsgd_ms\": {:.3f}, \"pathsgd_over_sgd\": {:.3f}, "
      "\"basis_paths\": {}, \"weightnorm_ms\": {:.3f}, \"gmp_ms\": {:.3f}, "
      "\"weightnorm_over_sgd\": {:.3f}, \"gmp_over_sgd\": {:.3f}}}\n",
      spec, batch, m.is_fast(), 1e3 * t_sgd, 1e3 * t_gsgd, t_gsgd / t_sgd, 1e3 * t_first, 1e3 * t_path, t_path / t_sgd,
      *gsgd.basis_size(), 1e3 * t_wn, 1e3 * t_gmp, t_wn / t_sgd, t_gmp / t_sgd);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::puts("usage: train_step [SPEC [BATCH [STEPS]]]  (default mlp:784-256-256-10,init=1 128 200)");
    return 0;
  }
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step: error: %s\n", e.what());
    return 2;
  }
}
