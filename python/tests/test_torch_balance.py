"""scaleinv.torch's orbit moves on PyTorch models: equivalent, balance_, canonicalize_ and Balancer,
written back through the parameter map (shared conv kernels, folded BatchNorm)."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import scaleinv
import scaleinv.torch as st
from test_torch_unroll import LeNet, TinyResNet, prepared, vgg_block

torch.set_num_threads(1)

MODELS = {
    "lenet": (lambda: prepared(LeNet(), seed=1), (1, 28, 28)),
    "vgg": (lambda: prepared(vgg_block(1), seed=2), (3, 4, 4)),
    "resnet": (lambda: prepared(TinyResNet(False), seed=3), (2, 4, 4)),
    "resnet-projection": (lambda: prepared(TinyResNet(True), seed=4), (2, 4, 4)),
}


def max_imbalance(model, x):
    """The library's own measure on the model's unrolled network (a balance that does nothing)."""
    return scaleinv.balance(st.to_network(model, x), max_iterations=1)[1]["max_imbalance_before"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_balance_keeps_the_function_and_balances_per_the_library(name):
    make, shape = MODELS[name]
    model = make()
    x = torch.randn(4, *shape, dtype=torch.float64)
    before = model(x).detach()
    bn_stats = [m.running_var.clone() for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert max_imbalance(model, x) > 0.1
    r = st.balance_(model, x, p=2)
    assert r["converged"] and r["cost_after"] < r["cost_before"] and r["max_weight_error"] < 1e-12
    np.testing.assert_allclose(model(x).detach().numpy(), before.numpy(), rtol=0, atol=1e-10)
    assert max_imbalance(model, x) < 1e-8
    # BatchNorm carried the output channels' factors in its affine parameters, not its statistics.
    after_stats = [m.running_var for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.equal(a, b) for a, b in zip(bn_stats, after_stats))
    assert len(r["scales"]) >= 9 and any(abs(c - 1) > 1e-3 for c in r["scales"].values())


def test_equivalent_names_the_scales_by_module_and_channel():
    model = prepared(TinyResNet(True), seed=5)
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    other = copy.deepcopy(model)
    blk = other.layer1[0]
    with torch.no_grad():  # scale layer1.0.conv1's channel 1 by 3 (through bn1) and undo it in conv2
        blk.bn1.weight[1] *= 3
        blk.bn1.bias[1] *= 3
        blk.conv2.weight[:, 1] /= 3
    r = st.equivalent(model, other, x)
    assert r["equivalent"] and r["reason"] == ""
    assert r["scales"]["layer1.0.conv1[1]"] == pytest.approx(3, rel=1e-12)
    assert all(c == pytest.approx(1, rel=1e-12) for k, c in r["scales"].items() if k != "layer1.0.conv1[1]")
    assert set(r["scales"]) >= {"conv1[0]", "layer1.0.downsample.0[2]", "fc[2]"}
    with torch.no_grad():
        blk.conv2.weight[0, 0, 1, 1] += 0.1
    r = st.equivalent(model, other, x)
    assert not r["equivalent"] and "edge" in r["reason"] and r["scales"] == {}
    r = st.equivalent(model, prepared(TinyResNet(False), seed=5), x)
    assert not r["equivalent"] and r["reason"]


def test_canonicalize_makes_equivalent_models_equal():
    a = prepared(vgg_block(1), seed=6)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    b = copy.deepcopy(a)
    st.balance_(b, x, p=1)  # another point of the orbit
    assert st.equivalent(a, b, x)["equivalent"]
    assert max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters())) > 1e-2
    st.canonicalize_(a, x)
    st.canonicalize_(b, x)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_balance_refuses_what_it_cannot_write_back():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, affine=False), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8, 2)).eval()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(scaleinv.Error, match=r"module '1' \(BatchNorm2d\) has no affine parameters"):
        st.balance_(model, torch.zeros(1, 1, 4, 4))
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))
    with pytest.raises(scaleinv.Error, match="Adam"):
        st.Balancer(model, torch.optim.Adam(model.parameters()), example_input=torch.zeros(1, 1, 4, 4))
    with pytest.raises(scaleinv.Error, match="every=0"):
        st.Balancer(model, every=0, example_input=torch.zeros(1, 1, 4, 4))


def grads(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("name", ["vgg", "resnet-projection"])
def test_balancer_transforms_the_momentum_buffers_as_a_gradient_history(name):
    make, shape = MODELS[name]
    model = make()
    g = torch.Generator().manual_seed(7)
    data = [(torch.randn(8, *shape, generator=g, dtype=torch.float64), torch.randint(0, 3, (8,), generator=g))
            for _ in range(4)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    balancer = st.Balancer(model, opt, p=2, every=2, example_input=data[0][0][:1])
    reports = []
    for x, y in data[:3]:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        reports.append(balancer.step())
    assert reports[0] is None and reports[1] is not None and reports[2] is None and balancer.balancings == 1
    # Balance now and check: mu m' + g(w') == (mu m + g(w)) / f for every parameter entry, f = w' / w.
    x, y = data[3]
    before = copy.deepcopy(model)
    m = [opt.state[p]["momentum_buffer"].clone() for p in model.parameters()]
    g_before = grads(before, x, y)
    out_before = model(x).detach()
    r = balancer.step()
    assert r is not None and balancer.balancings == 2 and r["max_weight_error"] < 1e-12
    np.testing.assert_allclose(model(x).detach().numpy(), out_before.numpy(), rtol=0, atol=1e-10)
    g_after = grads(model, x, y)
    moved = 0
    for p0, p1, m0, g0, g1 in zip(before.parameters(), model.parameters(), m, g_before, g_after):
        m1 = opt.state[p1]["momentum_buffer"]
        p0, p1 = p0.detach(), p1.detach()
        f = torch.where(p0 != 0, p1 / p0, torch.ones_like(p0))
        moved += int((f - 1).abs().max() > 1e-3)
        np.testing.assert_allclose((0.9 * m1 + g1).numpy(), ((0.9 * m0 + g0) / f).numpy(), rtol=1e-8, atol=1e-10)
    assert moved >= 3
    assert max_imbalance(model.eval(), x[:1]) < 1e-8
