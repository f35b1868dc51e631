// zoo.cpp: LeNet-5, VGG-11 (with and without BatchNorm), ResNet-18/34/50 (torchvision's layouts)
// and the CIFAR ResNet-20 as layer-level models, and the "zoo:" spec.
#include "scaleinv/layers/zoo.hpp"

#include <fmt/format.h>

#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/spec.hpp"

namespace scaleinv::layers {
namespace {

// LeNet-5 as it is usually written today: ReLU and max pooling where the 1998 paper had scaled
// tanh units and trainable subsampling, and a full C3 (every map reads all six, not the paper's
// sparse table). 61,706 parameters at 1x32x32.
model lenet5(shape3 in) {
  model m{in, {}};
  m.push(conv2d("conv1", 6, 5));
  m.push(relu("relu1"));
  m.push(max_pool2d("pool1", 2, 2));
  m.push(conv2d("conv2", 16, 5));
  m.push(relu("relu2"));
  m.push(max_pool2d("pool2", 2, 2));
  m.push(flatten("flatten"));
  m.push(linear("fc1", 120));
  m.push(relu("relu3"));
  m.push(linear("fc2", 84));
  m.push(relu("relu4"));
  m.push(linear("fc3", 10));
  return m;
}

// torchvision.models.vgg11 / vgg11_bn: configuration "A"; module indices as torchvision's.
model vgg11(shape3 in, bool bn) {
  model m{in, {}};
  std::size_t idx = 0;
  const auto name = [&](const char* part) { return fmt::format("{}.{}", part, idx++); };
  for (int c : {64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1}) {
    if (c < 0) {
      m.push(max_pool2d(name("features"), 2, 2));
      continue;
    }
    m.push(conv2d(name("features"), static_cast<std::size_t>(c), 3, 1, 1, true));
    if (bn) m.push(batch_norm(name("features")));
    m.push(relu(name("features")));
  }
  m.push(adaptive_avg_pool2d("avgpool", 7, 7));
  m.push(flatten("flatten"));
  idx = 0;
  m.push(linear(name("classifier"), 4096));
  m.push(relu(name("classifier")));
  m.push(identity(name("classifier")));  // Dropout: the identity at inference
  m.push(linear(name("classifier"), 4096));
  m.push(relu(name("classifier")));
  m.push(identity(name("classifier")));
  m.push(linear(name("classifier"), 1000));
  return m;
}

// Conv (no bias) + BatchNorm, optionally + ReLU, reading `from`; returns the last layer's name.
std::string conv_bn(model& m, const std::string& p, const std::string& from, std::size_t out, std::size_t k,
                    std::size_t stride, const std::string& conv, const std::string& bn, const std::string& act) {
  m.push(conv2d(p + conv, out, k, stride, k / 2, false), from);
  std::string last = m.push(batch_norm(p + bn));
  if (!act.empty()) last = m.push(relu(p + act));
  return last;
}

// A residual block (basic: two 3x3 convs; bottleneck: 1x1, 3x3 with the stride, 1x1 to 4 planes)
// with a 1x1 projection + BatchNorm shortcut where the stride or width changes; returns its output.
std::string block(model& m, const std::string& p, const std::string& from, std::size_t in_ch, std::size_t planes,
                  std::size_t stride, bool bottleneck) {
  const std::size_t out_ch = bottleneck ? planes * 4 : planes;
  std::string x;
  if (bottleneck) {
    x = conv_bn(m, p, from, planes, 1, 1, "conv1", "bn1", "relu1");
    x = conv_bn(m, p, x, planes, 3, stride, "conv2", "bn2", "relu2");
    x = conv_bn(m, p, x, out_ch, 1, 1, "conv3", "bn3", "");
  } else {
    x = conv_bn(m, p, from, planes, 3, stride, "conv1", "bn1", "relu1");
    x = conv_bn(m, p, x, planes, 3, 1, "conv2", "bn2", "");
  }
  std::string shortcut = from;
  if (stride != 1 || in_ch != out_ch)
    shortcut = conv_bn(m, p, from, out_ch, 1, stride, "downsample.0", "downsample.1", "");
  m.push(add(p + "add", {x, shortcut}));
  return m.push(relu(p + "relu"));
}

// torchvision.models.resnet*: the stem, four stages, global average pooling and fc.
model resnet(shape3 in, const std::vector<std::size_t>& blocks, bool bottleneck) {
  model m{in, {}};
  m.push(conv2d("conv1", 64, 7, 2, 3, false));
  m.push(batch_norm("bn1"));
  m.push(relu("relu"));
  std::string x = m.push(max_pool2d("maxpool", 3, 2, 1));
  std::size_t ch = 64;
  for (std::size_t s = 0; s < 4; ++s) {
    const std::size_t planes = std::size_t{64} << s;
    for (std::size_t b = 0; b < blocks[s]; ++b) {
      x = block(m, fmt::format("layer{}.{}.", s + 1, b), x, ch, planes, b == 0 && s > 0 ? 2 : 1, bottleneck);
      ch = bottleneck ? planes * 4 : planes;
    }
  }
  m.push(global_avg_pool("avgpool"), x);
  m.push(flatten("flatten"));
  m.push(linear("fc", 1000));
  return m;
}

// The CIFAR ResNet-20 of He et al. (2016), section 4.2: a 3x3 conv to 16 channels, three stages of
// three basic blocks at 16, 32, 64 channels (stride 2 entering stages 2 and 3), global average
// pooling and fc to 10 classes. Shortcuts: option B (a 1x1 projection + BatchNorm where the shape
// changes, identity elsewhere), not the paper's option A (zero padding, no parameters).
model resnet20(shape3 in) {
  model m{in, {}};
  m.push(conv2d("conv1", 16, 3, 1, 1, false));
  m.push(batch_norm("bn1"));
  std::string x = m.push(relu("relu"));
  std::size_t ch = 16;
  for (std::size_t s = 0; s < 3; ++s)
    for (std::size_t b = 0; b < 3; ++b) {
      x = block(m, fmt::format("layer{}.{}.", s + 1, b), x, ch, std::size_t{16} << s, b == 0 && s > 0 ? 2 : 1, false);
      ch = std::size_t{16} << s;
    }
  m.push(global_avg_pool("avgpool"), x);
  m.push(flatten("flatten"));
  m.push(linear("fc", 10));
  return m;
}

}  // namespace

std::vector<std::string> zoo_names() {
  return {"lenet5", "resnet18", "resnet20", "resnet34", "resnet50", "vgg11", "vgg11_bn"};
}

model zoo_model(std::string_view name, std::optional<shape3> input) {
  const shape3 image = input.value_or(shape3{3, 224, 224});
  model m;
  if (name == "lenet5") m = lenet5(input.value_or(shape3{1, 32, 32}));
  else if (name == "vgg11") m = vgg11(image, false);
  else if (name == "vgg11_bn") m = vgg11(image, true);
  else if (name == "resnet18") m = resnet(image, {2, 2, 2, 2}, false);
  else if (name == "resnet34") m = resnet(image, {3, 4, 6, 3}, false);
  else if (name == "resnet50") m = resnet(image, {3, 4, 6, 3}, true);
  else if (name == "resnet20") m = resnet20(input.value_or(shape3{3, 32, 32}));
  else {
    std::string list;
    for (const auto& n : zoo_names()) list += (list.empty() ? "" : ", ") + n;
    throw invalid_argument(fmt::format("unknown zoo model '{}' (known: {})", name, list));
  }
  (void)infer_shapes(m);  // an input too small fails here, naming the layer
  return m;
}

bool is_zoo_spec(std::string_view text) { return text.rfind("zoo:", 0) == 0; }

namespace {
struct zoo_spec {
  model m;
  std::optional<std::uint64_t> seed;
};
zoo_spec parse_zoo_spec(std::string_view spec) {
  const spec_parser p{"network spec '" + std::string(spec) + "'"};
  const spec_parts parts = split_spec(spec);
  if (parts.kind != "zoo" || parts.tokens.empty() || parts.tokens[0].empty())
    p.fail("expected zoo:NAME[,input=CxHxW][,init=S]");
  const std::string name(parts.tokens[0]);
  const spec_options o = p.options(parts.tokens, 1, "zoo", {"input", "init"}, {});
  std::optional<shape3> input;
  if (auto v = o.get("input")) {
    const std::vector<std::string_view> dims = split_on(*v, 'x');
    if (dims.size() != 3) p.fail("input='" + std::string(*v) + "' is not CxHxW (as 3x32x32)");
    input = shape3{p.positive(dims[0], "input channels"), p.positive(dims[1], "input height"),
                   p.positive(dims[2], "input width")};
  }
  zoo_spec z;
  if (auto v = o.get("init")) z.seed = p.integer(*v, "init seed");
  try {
    z.m = zoo_model(name, input);
  } catch (const invalid_argument& e) { p.fail(e.what()); }
  return z;
}
}  // namespace

model zoo_spec_model(std::string_view spec) { return parse_zoo_spec(spec).m; }

network zoo_network(std::string_view spec) {
  zoo_spec z = parse_zoo_spec(spec);
  try {
    network net = unroll(z.m, max_built_edges);
    if (z.seed) init_weights(net, *z.seed);
    return net;
  } catch (const invalid_argument& e) {
    spec_parser{"network spec '" + std::string(spec) + "'"}.fail(e.what());
  }
}

}  // namespace scaleinv::layers
