// scaleinv/train/model.hpp: forward and backward passes of a network from the graph model, for a
// batch, in float or double: a kernel per block of a layered network (graph/layout.hpp; dense
// blocks are Eigen matrix products) and a general path for any DAG (skip edges, pooling, mixed
// activations).
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "scaleinv/graph/layout.hpp"
#include "scaleinv/graph/network.hpp"

namespace scaleinv::train {

template <class Scalar>
using matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

enum class loss_kind { cross_entropy, mse };

/// Loss and gradient of a network on a batch. Inputs X are inputs x batch (one column per sample,
/// inputs in input-node order); targets are class indices (cross-entropy: softmax over the
/// outputs, mean over the batch) or an outputs x batch matrix (mse: mean over the batch of
/// 1/2 ||y - t||^2).
template <class Scalar>
class model {
 public:
  /// @pre net->is_finalized(). Uses the block kernels when find_layers succeeds and fast is true.
  /// The model shares ownership of the network.
  explicit model(std::shared_ptr<const network> net, bool fast = true);
  /// The same on a copy of net.
  explicit model(const network& net, bool fast = true) : model(std::make_shared<const network>(net), fast) {}

  bool is_fast() const noexcept { return layout_.has_value(); }
  std::size_t num_inputs() const noexcept { return inputs_.size(); }
  std::size_t num_outputs() const noexcept { return outputs_.size(); }

  /// Outputs (outputs x batch) for weights w (one per edge).
  matrix<Scalar> predict(const std::vector<Scalar>& w, const matrix<Scalar>& x) const;

  /// Mean loss; grad (resized to one per edge) receives dL/dw.
  Scalar loss_and_gradient(const std::vector<Scalar>& w, const matrix<Scalar>& x, const std::vector<int>* labels,
                           const matrix<Scalar>* targets, loss_kind loss, std::vector<Scalar>& grad) const;

  /// Mean loss only (and, for cross-entropy, the number of correct argmax predictions).
  Scalar loss(const std::vector<Scalar>& w, const matrix<Scalar>& x, const std::vector<int>* labels,
              const matrix<Scalar>* targets, loss_kind loss, std::size_t* correct = nullptr) const;

 private:
  /// w's data, or an aligned copy of it: Eigen's vectorized kernels split a product into peeled
  /// scalar and packet parts by the address of their operands, so the rounding of the MLP path
  /// would otherwise depend on where the allocator put w (and a resumed run would not repeat the
  /// straight one bit for bit). Aligned to EIGEN_MAX_ALIGN_BYTES, the split is the same every run.
  const Scalar* aligned_weights(const std::vector<Scalar>& w) const;

  std::shared_ptr<const network> net_;
  std::optional<layer_layout> layout_;
  mutable std::vector<Scalar, Eigen::aligned_allocator<Scalar>> w_copy_, grad_copy_;  // see aligned_weights
  // The MLP path's activations and deltas, kept from call to call: allocated per call, each
  // (units x batch) matrix crossed glibc's mmap threshold and every step paid fresh page faults.
  mutable std::vector<matrix<Scalar>> a_, z_;
  mutable matrix<Scalar> d_, prev_;
  std::vector<node_id> inputs_, outputs_;
  std::vector<std::int32_t> input_index_, output_index_;  // per node, or -1
};

/// The loss's gradient with respect to the outputs (outputs x batch), and the mean loss.
template <class Scalar>
Scalar loss_gradient(const matrix<Scalar>& y, const std::vector<int>* labels, const matrix<Scalar>* targets,
                     loss_kind loss, matrix<Scalar>& dy, std::size_t* correct = nullptr);

}  // namespace scaleinv::train
