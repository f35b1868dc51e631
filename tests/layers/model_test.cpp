// tests/layers/model_test.cpp: layer-level models: shapes and their refusals, parameter counts
// (torchvision's), unrolled sizes, and the function of an unrolled model against a direct
// computation of its layers.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "catch_shim.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/layers/model.hpp"
#include "scaleinv/layers/zoo.hpp"

using namespace scaleinv;
using namespace scaleinv::layers;

namespace {

std::string refusal(const model& m) {
  try {
    (void)infer_shapes(m);
  } catch (const invalid_argument& e) { return e.what(); }
  return "(accepted)";
}

model tiny(shape3 in) { return model{in, {}}; }

}  // namespace

TEST_CASE("layers: shapes of the zoo models", "[layers]") {
  const model r18 = zoo_model("resnet18");
  const std::vector<shape3> s = infer_shapes(r18);
  CHECK(s[0] == shape3{64, 112, 112});  // conv1
  CHECK(s[3] == shape3{64, 56, 56});    // maxpool
  std::map<std::string, shape3> by_name;
  for (std::size_t i = 0; i < r18.layers.size(); ++i) by_name[r18.layers[i].name] = s[i];
  CHECK(by_name.at("layer2.0.relu") == shape3{128, 28, 28});
  CHECK(by_name.at("layer4.1.relu") == shape3{512, 7, 7});
  CHECK(by_name.at("avgpool") == shape3{512, 1, 1});
  CHECK(s.back() == shape3{1000, 1, 1});
  const std::vector<shape3> l5 = infer_shapes(zoo_model("lenet5"));
  CHECK(l5[5] == shape3{16, 5, 5});
  CHECK(l5[6] == shape3{400, 1, 1});
  const std::vector<shape3> v = infer_shapes(zoo_model("vgg11", shape3{3, 32, 32}));
  CHECK(v.back() == shape3{1000, 1, 1});
  const model r20 = zoo_model("resnet20");
  CHECK(infer_shapes(r20)[r20.layers.size() - 4] == shape3{64, 8, 8});  // the last block's relu
}

TEST_CASE("layers: PyTorch parameter counts equal torchvision's", "[layers]") {
  // torchvision 0.x: sum(p.numel() for p in model.parameters()) of the untrained models.
  CHECK(count_parameters(zoo_model("resnet18")).pytorch == 11689512);
  CHECK(count_parameters(zoo_model("resnet34")).pytorch == 21797672);
  CHECK(count_parameters(zoo_model("resnet50")).pytorch == 25557032);
  CHECK(count_parameters(zoo_model("vgg11")).pytorch == 132863336);
  CHECK(count_parameters(zoo_model("vgg11_bn")).pytorch == 132868840);
  CHECK(count_parameters(zoo_model("lenet5")).pytorch == 61706);
  // ResNet-20 (option B): convs 432 + 6 * 2304 + (4608 + 5 * 9216) + (18432 + 5 * 36864) = 267696,
  // projections 512 + 2048, BatchNorm 2 * (16 + 6 * (16 + 32 + 64) + 32 + 64) = 1568, fc 650.
  CHECK(count_parameters(zoo_model("resnet20")).pytorch == 272474);
}

TEST_CASE("layers: folded parameter counts", "[layers]") {
  // Folding a BatchNorm drops gamma and beta and gives a conv with no bias one bias per channel.
  // ResNet-18 has 4800 BatchNorm channels (64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512).
  CHECK(count_parameters(zoo_model("resnet18")).folded == 11689512 - 4800);
  CHECK(count_parameters(zoo_model("resnet20")).folded == 272474 - 784);
  // VGG-11-BN's convs have biases already: folded, it has VGG-11's parameters.
  CHECK(count_parameters(zoo_model("vgg11_bn")).folded == 132863336);
  CHECK(count_parameters(zoo_model("vgg11")).folded == 132863336);
  CHECK(count_parameters(zoo_model("lenet5")).folded == 61706);
  // Inputs change the flattened width of LeNet's fc1 only.
  CHECK(count_parameters(zoo_model("lenet5", shape3{1, 28, 28})).pytorch == 61706 - 120 * (400 - 256));
}

TEST_CASE("layers: refusals name the layer", "[layers]") {
  model m = tiny({3, 8, 8});
  m.push(conv2d("big", 4, 11));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'big' (Conv2d)") && Catch::Contains("larger than its padded input 8"));
  m = tiny({3, 8, 8});
  m.push(conv2d("g", 4, 3, 1, 0, true, 2));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'g'") && Catch::Contains("divisible by groups 2"));
  m = tiny({3, 8, 8});
  m.push(conv2d("a", 4, 3, 1, 1));
  m.push(conv2d("b", 4, 3, 2, 1), "input");
  m.push(add("sum", {"a", "b"}));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'sum' (Add)") && Catch::Contains("4x8x8") && Catch::Contains("4x4x4"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3));
  m.push(relu("r"));
  m.push(batch_norm("bn"));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'bn' (BatchNorm)") && Catch::Contains("directly follow"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3));
  m.push(batch_norm("bn"));
  m.push(add("s", {"bn", "c"}));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'bn'") && Catch::Contains("'c' is read by other layers"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3));
  m.push(linear("fc", 10));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'fc' (Linear)") && Catch::Contains("not flat"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3));
  m.push(conv2d("d", 4, 3), "input");
  CHECK_THAT(refusal(m), Catch::Contains("layer 'c'") && Catch::Contains("no later layer reads it"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3), "nowhere");
  CHECK_THAT(refusal(m), Catch::Contains("reads 'nowhere'"));
  m = tiny({3, 8, 8});
  m.push(max_pool2d("p", 2, 2, 2));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'p' (MaxPool2d)") && Catch::Contains("half the kernel"));
  m = tiny({3, 8, 8});
  m.push(conv2d("s", 4, 3, 0));
  CHECK_THAT(refusal(m), Catch::Contains("stride"));
  CHECK_THAT(refusal(tiny({3, 8, 8})), Catch::Contains("no layers"));
  CHECK_THAT(refusal(tiny({1, 1u << 21, 1u << 21})), Catch::Contains("model input") && Catch::Contains("2^40"));
  m = tiny({1, 1u << 19, 1u << 19});
  m.push(conv2d("huge", 16, 1));
  CHECK_THAT(refusal(m), Catch::Contains("layer 'huge'") && Catch::Contains("beyond 2^40"));
  m = tiny({3, 8, 8});
  m.push(conv2d("c", 4, 3));
  m.push(conv2d("c", 4, 3));
  CHECK_THAT(refusal(m), Catch::Contains("a second layer of this name"));
  CHECK_THROWS_WITH(zoo_model("lenet5", shape3{1, 8, 8}), Catch::Contains("layer 'conv2'"));
  CHECK_THROWS_WITH(zoo_model("alexnet"), Catch::Contains("known: lenet5"));
}

TEST_CASE("layers: unrolled sizes", "[layers]") {
  model m = tiny({1, 4, 4});
  m.push(conv2d("c", 2, 3, 1, 1, true));
  m.push(relu("r"));
  m.push(max_pool2d("p", 2, 2));
  m.push(flatten("f"));
  m.push(linear("fc", 3));
  const network net = unroll(m, 1e6);
  // inputs 16; conv 2 x 16 units + a bias node; pooling 2 x 2 x 2; fc 3 + a bias node.
  CHECK(net.num_nodes() == 16 + 33 + 8 + 4);
  // conv taps in range: (2 + 3 + 3 + 2)^2 per channel = 100, twice, + 32 bias edges; pooling 8 x 4;
  // fc 3 x 8 + 3.
  CHECK(net.num_edges() == 232 + 32 + 27);
  CHECK(net.num_constants() == 32);
  CHECK(net.num_parameters() == count_parameters(m).folded);
  CHECK(net.num_parameters() == 20 + 27);
  CHECK(planned_unroll(m).edges == static_cast<double>(net.num_edges()));
  CHECK(planned_unroll(m).nodes == static_cast<double>(net.num_nodes()));
  CHECK(net.count(node_kind::output) == 3);
  const auto h = net.find_node("c[1,2,3]");
  REQUIRE(h);
  CHECK(net.node_at(*h).act == activation::relu());
  REQUIRE(net.find_node("p[0,1,1]"));
  CHECK(net.node_at(*net.find_node("p[0,1,1]")).act.kind == activation_kind::max_pool);
  REQUIRE(net.find_node("fc[2]"));
  CHECK(net.node_at(*net.find_node("fc[2]")).kind == node_kind::output);
  CHECK(std::find(net.param_names().begin(), net.param_names().end(), "c.w[1,0,2,2]") != net.param_names().end());

  // A ReLU after a pooling layer and a pooling layer last: new units behind constant edges, and
  // outputs behind constant edges 1.
  model q = tiny({1, 4, 4});
  q.push(conv2d("c", 1, 1, 1, 0, false));
  q.push(avg_pool2d("a", 2, 2));
  q.push(relu("r"));
  q.push(max_pool2d("p", 2, 2));
  const network qn = unroll(q, 1e6);
  CHECK(qn.count(node_kind::output) == 1);
  CHECK(qn.num_nodes() == 16 + 16 + 4 + 4 + 1 + 1);
  CHECK(qn.num_edges() == 16 + 16 + 4 + 4 + 1);
  CHECK(planned_unroll(q).edges == static_cast<double>(qn.num_edges()));

  // A conv read by an activation and an Add stays linear; the LeakyReLU is new units behind
  // constant edges, and the Add (the last layer, a plain sum) is the outputs.
  model r = tiny({1, 3, 3});
  r.push(conv2d("c", 1, 1, 1, 0, false));
  r.push(leaky_relu("l", mpq_class(1, 10)));
  r.push(add("s", {"c", "l"}));
  network rn = unroll(r, 1e6);
  CHECK(rn.num_nodes() == 36);
  CHECK(rn.num_edges() == 36);
  CHECK(rn.num_constants() == 27);
  CHECK(rn.count(node_kind::output) == 9);
  CHECK(rn.node_at(*rn.find_node("c[0,1,1]")).act.kind == activation_kind::linear);
  CHECK(rn.node_at(*rn.find_node("l[0,1,1]")).act == activation::leaky_relu(mpq_class(1, 10)));
  init_weights(rn, 5);
  std::vector<double> x(9);
  for (std::size_t k = 0; k < 9; ++k) x[k] = static_cast<double>(k) - 4.5;
  const std::vector<double> y = evaluate<double>(rn, rn.weights(), x);
  const double w = rn.weight(0);
  for (std::size_t k = 0; k < 9; ++k) {
    const double t = w * x[k];
    CHECK(y[k] == Approx(t + (t < 0 ? 0.1 * t : t)));
  }

  CHECK_THROWS_WITH(unroll(zoo_model("resnet18"), 1e6),
                    Catch::Contains("edges; the limit is 1000000") && Catch::Contains("smaller input"));
}

namespace {

// A direct computation of the layers, from the unrolled network's parameter values.
using image = std::vector<double>;  // [c][i][j]
struct tens {
  std::size_t c, h, w;
  image v;
  double at(std::size_t k, long i, long j) const {
    return v[(k * h + static_cast<std::size_t>(i)) * w + static_cast<std::size_t>(j)];
  }
  bool in(long i, long j) const { return i >= 0 && j >= 0 && i < static_cast<long>(h) && j < static_cast<long>(w); }
};

tens conv(const tens& x, const std::map<std::string, double>& p, const std::string& name, std::size_t out,
          std::size_t k, std::size_t s, std::size_t pad, std::size_t groups, std::size_t d = 1) {
  const std::size_t span = d * (k - 1) + 1;
  const std::size_t oh = (x.h + 2 * pad - span) / s + 1, ow = (x.w + 2 * pad - span) / s + 1, gin = x.c / groups;
  tens y{out, oh, ow, image(out * oh * ow, 0.0)};
  for (std::size_t o = 0; o < out; ++o)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j) {
        double sum = p.count(fmt::format("{}.b[{}]", name, o)) ? p.at(fmt::format("{}.b[{}]", name, o)) : 0.0;
        for (std::size_t c = 0; c < gin; ++c)
          for (std::size_t a = 0; a < k; ++a)
            for (std::size_t b = 0; b < k; ++b) {
              const long ii = static_cast<long>(i * s + a * d) - static_cast<long>(pad);
              const long jj = static_cast<long>(j * s + b * d) - static_cast<long>(pad);
              if (x.in(ii, jj))
                sum += p.at(fmt::format("{}.w[{},{},{},{}]", name, o, c, a, b)) *
                       x.at(o / (out / groups) * gin + c, ii, jj);
            }
        y.v[(o * oh + i) * ow + j] = sum;
      }
  return y;
}

tens pool(const tens& x, std::size_t k, std::size_t s, std::size_t pad, bool is_max) {
  const std::size_t oh = (x.h + 2 * pad - k) / s + 1, ow = (x.w + 2 * pad - k) / s + 1;
  tens y{x.c, oh, ow, image(x.c * oh * ow, 0.0)};
  for (std::size_t c = 0; c < x.c; ++c)
    for (std::size_t i = 0; i < oh; ++i)
      for (std::size_t j = 0; j < ow; ++j) {
        double acc = is_max ? -INFINITY : 0.0;
        for (std::size_t a = 0; a < k; ++a)
          for (std::size_t b = 0; b < k; ++b) {
            const long ii = static_cast<long>(i * s + a) - static_cast<long>(pad);
            const long jj = static_cast<long>(j * s + b) - static_cast<long>(pad);
            if (!x.in(ii, jj)) continue;  // max: -inf padding; average: a zero that still counts
            acc = is_max ? std::max(acc, x.at(c, ii, jj)) : acc + x.at(c, ii, jj);
          }
        y.v[(c * oh + i) * ow + j] = is_max ? acc : acc / static_cast<double>(k * k);
      }
  return y;
}

tens relu_of(tens x) {
  for (double& t : x.v) t = std::max(t, 0.0);
  return x;
}

}  // namespace

TEST_CASE("layers: the unrolled network computes the model", "[layers]") {
  model m = tiny({2, 5, 5});
  m.push(conv2d("c1", 4, 3, 1, 1, true));
  m.push(relu("r1"));
  m.push(conv2d("dw", 4, 3, 1, 2, true, 4, 2));  // depthwise, dilation 2
  m.push(conv2d("c2", 4, 3, 2, 1, false, 2));
  m.push(batch_norm("bn2"));
  m.push(avg_pool2d("ap", 3, 2, 1), "r1");
  m.push(add("sum", {"bn2", "ap"}));
  m.push(relu("r2"));
  m.push(max_pool2d("mp", 2, 1, 1));
  m.push(global_avg_pool("gap"));
  m.push(flatten("flat"));
  m.push(linear("fc", 3));
  network net = unroll(m, 1e6);
  init_weights(net, 7);
  CHECK(net.num_parameters() == count_parameters(m).folded);
  std::map<std::string, double> p;
  for (edge_id e = 0; e < net.num_edges(); ++e)
    if (net.param(e) != npos) p[net.param_names()[net.param(e)]] = net.weight(e);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 5; ++trial) {
    tens x{2, 5, 5, image(50)};
    for (double& t : x.v) t = normal(rng);
    const tens r1 = relu_of(conv(x, p, "c1", 4, 3, 1, 1, 1));
    tens s = conv(conv(r1, p, "dw", 4, 3, 1, 2, 4, 2), p, "c2", 4, 3, 2, 1, 2);
    const tens ap = pool(r1, 3, 2, 1, false);
    for (std::size_t k = 0; k < s.v.size(); ++k) s.v[k] += ap.v[k];
    const tens mp = pool(relu_of(s), 2, 1, 1, true);
    std::vector<double> gap(4, 0.0);
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t k = 0; k < mp.h * mp.w; ++k)
        gap[c] += mp.v[c * mp.h * mp.w + k] / static_cast<double>(mp.h * mp.w);
    const std::vector<double> y = evaluate<double>(net, net.weights(), x.v);
    REQUIRE(y.size() == 3);
    for (std::size_t o = 0; o < 3; ++o) {
      double want = p.at(fmt::format("fc.b[{}]", o));
      for (std::size_t c = 0; c < 4; ++c) want += p.at(fmt::format("fc.w[{},{}]", o, c)) * gap[c];
      CHECK(y[o] == Approx(want).margin(1e-12));
    }
  }
}
