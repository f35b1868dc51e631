// tests/train/kernel_pin_test.cpp: every optimizer's kernels, pinned by a hash of the trained
// parameters' bytes after a few library steps from a fixed seed: SGD, G-SGD (diagonal and first
// skeleton), Path-SGD, EC-SGD and SGD in weight-norm and GmP coordinates, with and without momentum
// and weight decay, with and without biases, on MLPs (the layered fast paths), on a skip net and a
// random DAG (the general paths) and on conv: specs (tied parameters), in float and double.
// Written before the optimizer kernels were rewritten for speed (issue 10 "no slower", issue 13):
// a rewrite must leave every hash as it is. If one changes, the rewrite altered the arithmetic.
#include "catch_shim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "pin_support.hpp"
#include "train/train_support.hpp"

#include "scaleinv/graph/builders.hpp"
#include "scaleinv/train/coordinates.hpp"
#include "scaleinv/train/model.hpp"
#include "scaleinv/train/optimizer.hpp"

using namespace scaleinv;

namespace {

struct pin_case {
  const char* spec;
  const char* optimizer;
  train::param_kind param = train::param_kind::weights;
  double momentum = 0, weight_decay = 0;
  skeleton_kind skeleton = skeleton_kind::diagonal;
};

// FNV-1a over the bytes of the parameters, in order, and their count.
template <class Scalar>
std::uint64_t bytes_hash(const std::vector<Scalar>& p) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const Scalar x : p) {
    unsigned char b[sizeof(Scalar)];
    std::memcpy(b, &x, sizeof(Scalar));
    for (const unsigned char c : b) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  return h ^ p.size();
}

// Four steps of what the trainer does per batch (train/trainer.cpp): effective weights, loss and
// gradient on a seeded random batch, the chain rule to the parameters, weight decay where the
// optimizer does not decay itself, the optimizer's step. Returns the final parameters.
template <class Scalar>
std::vector<Scalar> run(const pin_case& c) {
  const auto net = std::make_shared<const network>(from_spec(c.spec));
  train::model<Scalar> m(net);
  auto coords = train::make_coordinates<Scalar>(*net, c.param);
  std::vector<Scalar> p = coords->from_weights(net->weights()), w, grad, grad_p;
  const bool decays = coords->is_identity() || train::find_optimizer(c.optimizer).decays_itself;
  const train::optimizer_options o{c.momentum, decays ? c.weight_decay : 0.0, c.skeleton};
  auto opt = train::make_optimizer<Scalar>(c.optimizer, net, p.size(), o);
  splitmix64 rng(11);
  for (int s = 0; s < 4; ++s) {
    const train::matrix<Scalar> x = test::normal_batch(m.num_inputs(), 16, rng).template cast<Scalar>();
    std::vector<int> labels(16);
    for (int& l : labels) l = static_cast<int>(rng.below(m.num_outputs()));
    if (coords->is_identity()) {
      m.loss_and_gradient(p, x, &labels, nullptr, train::loss_kind::cross_entropy, grad);
      opt->step(p, grad, 0.02);
      continue;
    }
    coords->effective_weights(p, w);
    m.loss_and_gradient(w, x, &labels, nullptr, train::loss_kind::cross_entropy, grad);
    coords->backprop(p, grad, grad_p);
    if (!decays) coords->add_weight_decay(p, grad_p, c.weight_decay);
    opt->step(p, grad_p, 0.02);
  }
  return p;
}

std::vector<pin_case> cases() {
  using train::param_kind;
  std::vector<pin_case> out;
  // MLPs: the layered kernels. Widths not multiples of a packet, so that every vector loop has a
  // tail; one of them wide enough for whole packets.
  for (const char* spec : {"mlp:13-17-9-4,init=3", "mlp:13-17-9-4,bias,init=3", "mlp:40-33-19-5,init=2"}) {
    out.push_back({spec, "sgd"});
    out.push_back({spec, "sgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "gsgd"});
    out.push_back({spec, "gsgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "gsgd", param_kind::weights, 0, 0, skeleton_kind::first});
    out.push_back({spec, "gsgd", param_kind::weights, 0.5, 1e-3, skeleton_kind::first});
    out.push_back({spec, "pathsgd"});
    out.push_back({spec, "pathsgd", param_kind::weights, 0, 1e-3});
    out.push_back({spec, "pathsgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "ecsgd"});
    out.push_back({spec, "ecsgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "sgd", param_kind::weightnorm});
    out.push_back({spec, "sgd", param_kind::weightnorm, 0.9, 1e-3});
    out.push_back({spec, "sgd", param_kind::gmp});
    out.push_back({spec, "sgd", param_kind::gmp, 0.9, 1e-3});
  }
  // General DAGs: the general paths.
  for (const char* spec : {"skip:5-7-7-7-3,span=2,init=2", "skip:5-7-7-7-3,span=2,bias,init=2",
                           "random:seed=4,inputs=4,hidden=9,outputs=2,p=0.5,init=2"}) {
    out.push_back({spec, "sgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "gsgd"});
    out.push_back({spec, "gsgd", param_kind::weights, 0.5, 1e-3, skeleton_kind::first});
    out.push_back({spec, "pathsgd"});
    out.push_back({spec, "pathsgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "ecsgd", param_kind::weights, 0.9, 1e-3});
  }
  // conv: specs: shared parameters (tied coordinates).
  for (const char* spec : {"conv:len=12,ch=1-3-2,k=3,init=1", "conv:len=12,ch=1-3-2,k=3,bias,init=1"}) {
    out.push_back({spec, "sgd"});
    out.push_back({spec, "sgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "pathsgd"});
    out.push_back({spec, "pathsgd", param_kind::weights, 0.9, 1e-3});
    out.push_back({spec, "ecsgd"});
    out.push_back({spec, "ecsgd", param_kind::weights, 0.9, 1e-3});
  }
  return out;
}

std::string describe(const pin_case& c) {
  return fmt::format("{} --optimizer {} --param {} --momentum {} --weight-decay {} --skeleton {}", c.spec, c.optimizer,
                     train::to_string(c.param), c.momentum, c.weight_decay,
                     c.skeleton == skeleton_kind::first ? "first" : "diagonal");
}

template <class Scalar>
bool all_finite(const std::vector<Scalar>& p) {
  for (const Scalar x : p)
    if (!std::isfinite(x)) return false;
  return true;
}

struct pinned_platform {
  const char* name;
  std::vector<std::uint64_t> hashes;  // per case: float, then double
};

}  // namespace

// The hashes depend on the platform (tests/pin_support.hpp: Eigen's packets, FMA, OpenBLAS's core),
// so they are kept per platform, as in tests/cli/train_pin_test.cpp; on a platform not in the table
// every run is made twice and must agree bit for bit, and the hashes to add are printed.
TEST_CASE("optimizer kernels reproduce their pinned parameters bit for bit", "[train][pin]") {
  const std::vector<pinned_platform> pinned{
      {"x86-64 avx avx2 fma avx512f / openblas Haswell / release",
       {0xcd7caceb06e1df2,  0x502a21ae1c76ac39, 0xf71c6efcc346bb9,  0x26e6643758dc44a9, 0xf4df3d77ec1c679d,
        0xd831e00db252eaf4, 0xe516fe3544df2a8d, 0x29617dae89d2f49b, 0xb134eece2da78bea, 0xd11a425ab8d95ef6,
        0x8e65a6c26f0ea3b1, 0xdff833b461bfff39, 0x7fd4e2cd9ea50f32, 0xff50f9d0c364370a, 0x2aa8623a7fc3d5c2,
        0xe04fff2dd5947e3e, 0x3b0b0ed61cfff117, 0x27f23eba4511c8e0, 0xf4df3d77ec1c679d, 0xd831e00db252eaf4,
        0xe516fe3544df2a8d, 0x29617dae89d2f49b, 0xd068a827c13039e3, 0x1d50651b2beaeaad, 0x1bc21b7f04f87e0a,
        0x387cfddc0dfae20,  0x3ecce80e9a760f5,  0x35d9d60d6053ea52, 0x7778dce62c2b7640, 0xd8f53b68c76c5d30,
        0x8465c69594e49437, 0x25504eb0bccdac82, 0xe063c9b34b7e63cb, 0xda3071826d5afcd0, 0x23756fd32ec8f258,
        0x963cad8a1a9ee872, 0xa3e5392a831030f1, 0x75c405623297df0c, 0xf5744e77b797eab2, 0xef4b995404845509,
        0xe212beab54f48a74, 0xd5eeab72bf5cb205, 0xe24e7c152416f3f4, 0xda206c173c14714d, 0x6730cea98ac49e95,
        0x2251442e6a06986b, 0xdfaa68ed12c337e,  0x352dc4c9e4f274c7, 0x23756fd32ec8f258, 0x963cad8a1a9ee872,
        0xa3e5392a831030f1, 0x75c405623297df0c, 0xf4202da73d4312e6, 0x8338a7db5e3dca90, 0xdac58b38cdda9471,
        0x791774f5d53f06d7, 0xb3c85f932ec2d6ca, 0x8e2f02dbd7eb8ffb, 0x84dc047025074b65, 0x2d3de0d56a26d1de,
        0xc3864da111301662, 0xabacf1b84a239477, 0x2b91ba18b21df89b, 0xddfbc941aa368f75, 0xc4506f286277faf4,
        0x753f7efae193c6a4, 0x99c2eb131f69a43c, 0x95b6c9d027438129, 0xb5afa3369c3aec7c, 0xe25935e7f5ffc3a8,
        0x7421bd8c7370488d, 0x7ca8a3970aeba062, 0xb5e70fb282b1be27, 0x9a23d24f6a181fc6, 0xccb9c4ef7cd66d15,
        0xfa30bb075f028f52, 0x323d9f2896cde2f0, 0xa6a67d7b90e9ad37, 0xc4506f286277faf4, 0x753f7efae193c6a4,
        0x99c2eb131f69a43c, 0x95b6c9d027438129, 0xe1e5c08acbb206ef, 0x1e4d737c56de6e57, 0xb8d9c45520469ab8,
        0xfd395ba62d57ce3b, 0xe361caf0f7890f9d, 0x36121a16c9cacbdd, 0xd4ceef52305a7ec4, 0xc4b9d830c07bb84e,
        0x74dfcb60725bb926, 0xbeeeab772156af8f, 0xa20c815f419f49b9, 0x8b9c739b363ea02,  0x562be0465496e660,
        0xe1f1565b71b617b9, 0xad20b50817c3aa79, 0xb9e1a5bf20cdf2b2, 0xb363bc0d0bae125a, 0xc3fa12fc6f38bcb2,
        0xbe7ca4afa485d4d6, 0x665abcf256c97ca8, 0xe61bef2e5c644ca4, 0xefd23c87d647a4ac, 0xa268edfda234cb18,
        0x28f7120f750ab014, 0x9201c7d5bfd689a7, 0x4a0b2657f26d4984, 0xe1e976418f048403, 0x84e5f3392b1eee11,
        0xc3cfe401d2a43494, 0x5d0851f29ba32585, 0xa15659d9c20d5b77, 0xa9354c8ad045ade7, 0xe38b181208ac32ea,
        0x15dae03709471b24, 0x7a8eba189ea2aef5, 0x4934001cfa2f2365, 0xb159b63ba12cb317, 0x2038664aadb151db,
        0xcebd256be2c2038b, 0x3222acbb96807766, 0x2b717f06efab5529, 0x490afb02f4c22b4c, 0x84b295f7e5669324,
        0x3be13b3f3df9f541, 0xf122feb4a7990dc6, 0x1086197aee93e8d7, 0x844c9f09fae8922d, 0x53b4096fecb66fc8,
        0xfed155711ed53093, 0x6cd73af95bcc3d1,  0x769014248cecf4d8, 0xb7b0aed61a7fb982, 0x43492cfb0a7624dc,
        0x6a00593928643b82, 0x7a562167b73044cf, 0x5c4e6b6f12b3353d, 0x9865af35d491aa67, 0x518761fe9099cb71,
        0x18f26b96010b769e, 0x2a53d69981e1d4ad, 0xc4442f32b86553d4, 0xd5a4fb68a8e06044, 0xda14bb42081a51dc,
        0x807db8c20dd5e8dc, 0x12a5a2ca1d6dda35, 0x403480a76942ae8a, 0x9f7ec50cb27a42cc, 0x17311f03272eb2f5}},
  };
  const std::string here = test::pin_platform();
  const pinned_platform* known = nullptr;
  for (const auto& p : pinned)
    if (here == p.name) known = &p;
  const std::vector<pin_case> all = cases();
  std::vector<std::uint64_t> got;
  for (const pin_case& c : all) {
    INFO(describe(c) << " on " << here);
    const std::vector<float> pf = run<float>(c);
    const std::vector<double> pd = run<double>(c);
    REQUIRE(all_finite(pf));
    REQUIRE(all_finite(pd));
    got.push_back(bytes_hash(pf));
    got.push_back(bytes_hash(pd));
    if (known == nullptr) {
      CHECK(bytes_hash(run<float>(c)) == got[got.size() - 2]);
      CHECK(bytes_hash(run<double>(c)) == got.back());
    }
  }
  if (known != nullptr) {
    REQUIRE(known->hashes.size() == got.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO(describe(all[i / 2]) << (i % 2 == 0 ? " in float" : " in double") << " on " << here);
      CHECK(got[i] == known->hashes[i]);
    }
    return;
  }
  std::string table;
  for (std::size_t i = 0; i < got.size(); ++i) table += fmt::format("{}0x{:x}", i == 0 ? "" : ", ", got[i]);
  WARN("no pinned hashes for platform \"" << here << "\": add {\"" << here << "\", {" << table << "}}");
}
