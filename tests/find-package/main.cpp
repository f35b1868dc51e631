// tests/find-package/main.cpp: a program that uses the installed scaleinv package: builds an MLP
// with scaleinv's builders, analyzes it, runs the trainer's model on it, and hashes a data set
// the library computes with Eigen products. Built twice by CMakeLists.txt: `consumer` with its
// own flags, and `consumer_matched` (SCALEINV_CONSUMER_OWN_PRODUCT) with scaleinv::build_flags
// and a matrix product of its own. Prints what run.cmake checks.
#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/paths/analysis.hpp"
#include "scaleinv/train/model.hpp"

static_assert(EIGEN_MAX_ALIGN_BYTES == 64 && EIGEN_MAX_STATIC_ALIGN_BYTES == 64,
              "scaleinv::scaleinv pins Eigen's alignment, heap and static");

#ifdef SCALEINV_CONSUMER_OWN_PRODUCT
// The same Eigen kernel the library instantiates for make_teacher (MatrixXd * MatrixXd): one weak
// symbol, of which the linker keeps this program's copy for both.
Eigen::MatrixXd own_product(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return a * b; }
#endif

namespace {
std::uint64_t fnv1a(const Eigen::MatrixXd& m, std::uint64_t h = 1469598103934665603ull) {
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, m.data() + i, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  return h;
}
}  // namespace

int main() {
  scaleinv::mlp_options options;
  options.widths = {4, 3, 2};
  options.init_seed = 7;
  const scaleinv::network net = scaleinv::make_mlp(options);
  const scaleinv::analysis a = scaleinv::analyze(net);
  std::printf("dimension %zu\n", a.dimension);           // 4*3 + 3*2 - 3 = 15
  std::printf("paths %s\n", a.paths.get_str().c_str());  // 4*3*2 = 24

  // Eigen objects cross the boundary both ways: x is allocated here, the model's result in the
  // library (built with its own flags) and freed here.
  std::vector<double> w(net.num_edges());
  for (std::size_t e = 0; e < w.size(); ++e) w[e] = net.weight(static_cast<scaleinv::edge_id>(e));
  const scaleinv::train::model<double> model(net);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(4, 5);
  double err = 0.0;
  {
    const scaleinv::train::matrix<double> y = model.predict(w, x);
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const std::vector<double> in(x.col(j).data(), x.col(j).data() + x.rows());
      const std::vector<double> ref = scaleinv::evaluate<double>(net, w, in);
      for (Eigen::Index i = 0; i < y.rows(); ++i) err = std::fmax(err, std::fabs(y(i, j) - ref[i]));
    }
    std::printf("predict %tdx%td fast=%d max|model - evaluate| %.1e\n", y.rows(), y.cols(), model.is_fast() ? 1 : 0,
                err);
  }

#ifdef SCALEINV_CONSUMER_OWN_PRODUCT
  const Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(70, 70);
  if (own_product(ones, ones)(0, 0) != 70.0) return 1;
#endif
  const scaleinv::dataset d = scaleinv::make_teacher(300, 64, 64, 8, 3);
  std::printf("teacher %016llx\n", static_cast<unsigned long long>(fnv1a(d.targets, fnv1a(d.x))));
  return a.dimension == 15 && err < 1e-12 ? 0 : 1;
}
