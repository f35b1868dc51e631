"""scaleinv.torch on CNNs: convolutions, pooling, BatchNorm folding and residual additions unrolled
into networks with shared parameters and constant edges. The strongest check is the function:
the unrolled network evaluated by the C++ library equals model(x) in float64."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import scaleinv
import scaleinv.torch as st

torch.set_num_threads(1)


def randomize_bn(model, seed=0):
    """BatchNorm statistics and affine parameters far from the identity, so folding matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) * 2 - 1)
                m.running_var.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
                if m.weight is not None:
                    m.weight.copy_(torch.rand(n, generator=g) * 1.5 + 0.5)
                    m.bias.copy_(torch.rand(n, generator=g) * 2 - 1)
    return model


def prepared(model, seed=0):
    torch.manual_seed(seed)
    for p in model.parameters():  # re-draw every parameter: fixed by the seed, whatever the order of creation
        with torch.no_grad():
            p.copy_(torch.randn_like(p) * 0.5)
    return randomize_bn(model.double().eval(), seed)


def assert_same_function(model, x, net=None):
    net = net or st.to_network(model, x)
    got = net.evaluate(x.reshape(len(x), -1).numpy())
    want = model(x).detach().reshape(len(x), -1).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    return net


class LeNet(nn.Module):
    """The classic: same-padded 5x5 conv, max pooling, relu after pooling in the second stage."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.relu(self.pool(self.conv2(x)))  # relu of max_pool units: new units, constant edges
        x = x.view(x.size(0), -1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def test_lenet_computes_the_model_function_and_loses_one_dimension_per_hidden_channel():
    model = prepared(LeNet())
    x = torch.randn(3, 1, 28, 28, dtype=torch.float64)
    net = assert_same_function(model, x)
    r = st.analyze(model, x)
    p = sum(q.numel() for q in model.parameters())
    assert r["parameters"] == p == 61706 == r["unrolled"]["parameters"]
    hidden = 6 + 16 + 120 + 84
    assert r["surviving_rescalings"] == hidden
    assert r["dimension"] == p - hidden
    assert r["rescalings"][:2] == ["conv1[0]", "conv1[1]"] and r["rescalings"][-1] == "fc2[83]"
    assert "conv2[15]" in r["rescalings"]
    ids = {v["id"] for v in net.nodes}
    assert {"conv1[5]@27,27", "conv1.bias", "x783", "fc3[9]"} <= ids


def test_a_lenet_like_model_matches_the_cnn_spec():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6, 10)).double().eval()
    x = torch.randn(2, 1, 12, 12, dtype=torch.float64)
    ours = assert_same_function(model, x)
    spec = scaleinv.Network.from_spec("cnn:in=1x12x12,layers=c4k3-max2-c6k3-max2-fc10,bias")
    assert (ours.num_nodes, ours.num_edges, ours.num_parameters) == (spec.num_nodes, spec.num_edges,
                                                                      spec.num_parameters)
    a, b = st.analyze(model, x), scaleinv.analyze(spec)
    assert a["dimension"] == b["dimension"] == a["parameters"] - (4 + 6)
    assert a["surviving_rescalings"] == b["shared"]["surviving_rescalings"] == 10
    assert a["rescalings"] == [f"0[{c}]" for c in range(4)] + [f"3[{c}]" for c in range(6)]


def vgg_block(padding):
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=padding, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=padding), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 5))


def test_a_vgg_block_with_batchnorm_folds_it_and_matches_the_cnn_spec():
    model = prepared(vgg_block(0), seed=4)
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    ours = assert_same_function(model, x)
    spec = scaleinv.Network.from_spec("cnn:in=3x8x8,layers=c4k3-c4k3-max2-fc5,bias")
    assert (ours.num_nodes, ours.num_edges, ours.num_parameters) == (spec.num_nodes, spec.num_edges,
                                                                      spec.num_parameters)
    a = st.analyze(model, x)
    assert a["dimension"] == scaleinv.analyze(spec)["dimension"]
    # BatchNorm's 16 parameters are folded into the convs: the first conv gains a bias (4).
    assert a["parameters"] == a["unrolled"]["parameters"] + 16 - 4
    assert a["surviving_rescalings"] == 8 and a["dimension"] == a["unrolled"]["parameters"] - 8

    padded = prepared(vgg_block(1), seed=5)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    assert_same_function(padded, x)
    assert st.analyze(padded, x)["surviving_rescalings"] == 8


class BasicBlock(nn.Module):
    """torchvision's BasicBlock: one ReLU module applied twice, `out += identity`."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    def __init__(self, project):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 2, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(2)
        self.layer1 = nn.Sequential(BasicBlock(2, 3, 2) if project else BasicBlock(2, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3 if project else 2, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def folded(conv, bn):
    """(weight, bias) of conv followed by bn in eval mode, float64 numpy: written out here, apart
    from scaleinv.torch."""
    s = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().numpy()
    w = conv.weight.detach().numpy() * s[:, None, None, None]
    b = bn.bias.detach().numpy() - bn.running_mean.detach().numpy() * s
    return w, b


def hand_built_resnet(model, hw):
    """The network of TinyResNet written out with loops, as scaleinv.network JSON: explicit
    addition units (relu) fed by constant edges, shared parameters named per kernel entry."""
    nodes, edges = [], []

    def node(i, kind, act=None):
        nodes.append({"id": i, "kind": kind, **({"activation": act} if act else {})})
        return i

    def conv(name, src, w, b, stride, pad, act):
        cout, cin, k, _ = w.shape
        h = len(src[0])
        oh = (h + 2 * pad - k) // stride + 1
        bias = node(f"{name}.b", "bias")
        out = [[[node(f"{name}_{o}_{i}_{j}", "hidden", act) for j in range(oh)] for i in range(oh)]
               for o in range(cout)]
        for o in range(cout):
            for i in range(oh):
                for j in range(oh):
                    for c in range(cin):
                        for di in range(k):
                            for dj in range(k):
                                y, z = i * stride - pad + di, j * stride - pad + dj
                                if 0 <= y < h and 0 <= z < h:
                                    edges.append({"from": src[c][y][z], "to": out[o][i][j],
                                                  "weight": float(w[o, c, di, dj]),
                                                  "param": f"{name}.w{o}{c}{di}{dj}"})
                    edges.append({"from": bias, "to": out[o][i][j], "weight": float(b[o]), "param": f"{name}.b{o}"})
        return out

    x = [[[node(f"x{(c * hw + i) * hw + j}", "input") for j in range(hw)] for i in range(hw)] for c in range(2)]
    stem = conv("stem", x, *folded(model.conv1, model.bn1), 1, 1, "relu")
    blk = model.layer1[0]
    stride = blk.conv1.stride[0]
    h1 = conv("c1", stem, *folded(blk.conv1, blk.bn1), stride, 1, "relu")
    h2 = conv("c2", h1, *folded(blk.conv2, blk.bn2), 1, 1, "linear")
    sc = stem if blk.downsample is None else conv("sc", stem, *folded(*blk.downsample), stride, 0, "linear")
    out = []
    for o in range(len(h2)):
        n = len(h2[o])
        out.append([[node(f"add_{o}_{i}_{j}", "hidden", "relu") for j in range(n)] for i in range(n)])
        for i in range(n):
            for j in range(n):
                edges.append({"from": h2[o][i][j], "to": out[o][i][j], "constant": True})
                edges.append({"from": sc[o][i][j], "to": out[o][i][j], "constant": True})
    pooled = [node(f"avg_{o}", "hidden", "linear") for o in range(len(out))]
    for o, ch in enumerate(out):
        n = len(ch)
        for row in ch:
            for u in row:
                edges.append({"from": u, "to": pooled[o], "constant": True, "weight": f"1/{n * n}"})
    fc_w, fc_b = model.fc.weight.detach().numpy(), model.fc.bias.detach().numpy()
    fb = node("fc.b", "bias")
    for k in range(fc_w.shape[0]):
        y = node(f"y{k}", "output")
        for o, u in enumerate(pooled):
            edges.append({"from": u, "to": y, "weight": float(fc_w[k, o])})
        edges.append({"from": fb, "to": y, "weight": float(fc_b[k])})
    return scaleinv.Network.from_json(json.dumps({"format": "scaleinv.network", "version": 1, "nodes": nodes,
                                                  "edges": edges}), "hand-built")


@pytest.mark.parametrize("project", [False, True])
def test_a_resnet_basic_block_matches_a_hand_built_network(project):
    model = prepared(TinyResNet(project), seed=6 + project)
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    ours = assert_same_function(model, x)
    hand = hand_built_resnet(model, 4)
    assert_same_function(model, x, hand)  # the hand-built network computes the model too
    a, b = st.analyze(model, x), scaleinv.analyze(hand)
    assert a["dimension"] == b["dimension"]
    assert a["surviving_rescalings"] == b["shared"]["surviving_rescalings"]
    assert a["unrolled"]["parameters"] == hand.num_parameters == ours.num_parameters
    if project:
        # stem (2), conv1 (3), conv2 joined with the projection by the addition (3)
        assert a["surviving_rescalings"] == 8
        assert "layer1.0.downsample.0[2]+layer1.0.conv2[2]" in a["rescalings"]  # in the order of the calls
    else:
        # conv1 (2); the identity shortcut joins the stem's channels with conv2's (2)
        assert a["surviving_rescalings"] == 4
        assert a["rescalings"][:2] == ["conv1[0]+layer1.0.conv2[0]", "conv1[1]+layer1.0.conv2[1]"]
    assert a["dimension"] == a["unrolled"]["parameters"] - a["surviving_rescalings"]


class Functional(nn.Module):
    """Functional pooling and a residual addition of pooled tensors."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 2 * 2, 2)

    def forward(self, x):
        h = F.relu(self.conv(x))
        m = F.max_pool2d(h, kernel_size=2, stride=2)
        a = F.adaptive_avg_pool2d(h, (2, 2))
        return self.fc(torch.flatten(m + a, 1))


class Adds(nn.Module):
    """Additions of tensors that are not fresh: new units; torch.add; a pooled residual."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 3, 1)
        self.fc = nn.Linear(3 * 2 * 2, 2)

    def forward(self, x):
        u = torch.relu(self.a(x))
        v = F.leaky_relu(self.b(x), 0.2)
        w = torch.add(u, v) + u  # u used twice: new addition units
        return self.fc(F.avg_pool2d(w, 2).flatten(1))


@pytest.mark.parametrize("model, shape", [
    (nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding="same",
                   dilation=2, groups=2), nn.PReLU(4), nn.Flatten(), nn.Linear(4 * 3 * 3, 3)), (2, 5, 5)),
    (nn.Sequential(nn.Conv2d(2, 3, 4, padding="same"), nn.LeakyReLU(0.1), nn.MaxPool2d(3, 2, padding=1,
                   ceil_mode=True), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)), (2, 7, 7)),
    (nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.MaxPool2d(2, stride=1, dilation=2), nn.Flatten(),
                   nn.Linear(2 * 3 * 3, 2)), (1, 6, 6)),
    (nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
                   nn.Conv2d(2, 2, 1), nn.ReLU(), nn.AvgPool2d(2, count_include_pad=False, padding=1),
                   nn.Flatten(), nn.Linear(2 * 2 * 2, 2)), (1, 5, 5)),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.AvgPool2d(2, divisor_override=3), nn.Identity(),
                   nn.AdaptiveAvgPool2d((2, 3)), nn.Flatten(), nn.Linear(12, 2)), (1, 12, 13)),
    (nn.Sequential(nn.Conv1d(2, 3, 3, padding=1), nn.BatchNorm1d(3), nn.ReLU(), nn.MaxPool1d(2),
                   nn.Flatten(), nn.Linear(3 * 4, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)), (2, 8)),
    (Adds(), (2, 4, 4)),
    (Functional(), (2, 5, 4)),
])
def test_layers_compute_the_model_function(model, shape):
    model = prepared(model, seed=8)
    x = torch.randn(3, *shape, dtype=torch.float64)
    assert_same_function(model, x)
    r = st.analyze(model, x)
    assert r["dimension"] <= r["unrolled"]["parameters"] and r["surviving_rescalings"] >= 1


def test_analyze_timing_and_size_of_lenet(capsys):
    import time
    model = LeNet().eval()
    x = torch.zeros(1, 1, 28, 28)
    t0 = time.perf_counter()
    net = st.to_network(model, x)
    t1 = time.perf_counter()
    r = st.analyze(model, x)
    t2 = time.perf_counter()
    assert net.num_edges == r["unrolled"]["edges"] == 419878
    with capsys.disabled():
        print(f"\nLeNet 1x28x28: {net.num_edges} edges, to_network {t1 - t0:.2f} s, analyze {t2 - t1:.2f} s")


class Shortcut(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) + 1.0


@pytest.mark.parametrize("model, x, pattern", [
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Flatten(), nn.Linear(8, 2)), torch.zeros(1, 1, 4, 4),
     r"module '1' \(Tanh\) is not supported"),
    (nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), nn.Flatten(), nn.Linear(32, 2)),
     torch.zeros(1, 1, 4, 4), r"module '0' \(Conv2d\) has padding_mode 'reflect'"),
    (nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 2)).eval(), torch.zeros(1, 4),
     r"module '0' \(BatchNorm1d\) is not supported: a BatchNorm must follow a Linear or convolution"),
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2)).eval(), torch.zeros(1, 4),
     r"module '2' \(BatchNorm1d\) is not supported"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2)), torch.zeros(2, 1, 4, 4),
     r"module '1' \(BatchNorm2d\) is not supported: a BatchNorm in training mode"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2)), None, "give example_input"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2), nn.Flatten(), nn.Linear(32, 2)),
     torch.zeros(1, 1, 4, 4), r"module '1' \(Upsample\) is not supported"),
    (Shortcut(), torch.zeros(1, 4), "adding a number is not positively homogeneous"),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2)), torch.zeros(1, 1, 6, 6),
     r"output comes from module '2' \(MaxPool2d\)"),
])
def test_unsupported_models_raise_naming_the_module(model, x, pattern):
    with pytest.raises(scaleinv.Error, match=pattern):
        st.analyze(model, x)


def test_the_size_limit_suggests_a_smaller_input():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 16 * 16, 2))
    with pytest.raises(scaleinv.Error, match=r"passes 10,000 edges at module '0' \(Conv2d\).*smaller example_input"):
        st.to_network(model, torch.zeros(1, 3, 16, 16), max_edges=10_000)
    with pytest.raises(scaleinv.Error, match=r"passes 20,000,000 edges at module .0. \(Conv2d\)"):
        st.to_network(nn.Sequential(nn.Conv2d(3, 64, 7), nn.Flatten()), torch.zeros(1, 3, 224, 224))
    with pytest.raises(scaleinv.Error, match="unroll=False"):
        st.to_network(model, torch.zeros(1, 3, 16, 16), unroll=False)
