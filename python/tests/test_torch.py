"""scaleinv.torch: tracing PyTorch models into networks, their analysis, and GSGD against the C++
trainer's step on the same batches."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import scaleinv
import scaleinv.torch as st

torch.set_num_threads(1)


def mlp(widths, bias=True, act=nn.ReLU, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    layers = []
    for k in range(len(widths) - 1):
        if k:
            layers.append(act())
        layers.append(nn.Linear(widths[k], widths[k + 1], bias=bias))
    return nn.Sequential(*layers).to(dtype)


class ViewNet(nn.Module):
    """Not a Sequential: functional activations and a reshape of the input."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 7)
        self.fc2 = nn.Linear(7, 5, bias=False)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.leaky_relu(self.fc2(x), 0.2)
        return self.out(x)


def test_to_network_computes_the_model_function():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.5), nn.Linear(5, 4),
                          nn.LeakyReLU(0.1), nn.Linear(4, 4), nn.PReLU(4), nn.Linear(4, 3)).double().eval()
    x = torch.randn(20, 2, 3, dtype=torch.float64)
    net = st.to_network(model, x)
    np.testing.assert_allclose(net.evaluate(x.reshape(20, -1).numpy()), model(x).detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    kinds = {v["id"]: v.get("activation") for v in net.nodes}
    assert kinds["1[0]"] == "relu" and kinds["4[0]"].startswith("leaky_relu") and kinds["6[3]"].startswith("prelu")
    assert kinds["8[2]"] is None and "1.bias" in kinds
    assert net.num_edges == sum(p.numel() for p in model.parameters()) - 4  # the PReLU slopes are no edges


def test_a_module_with_functional_calls_and_a_view():
    torch.manual_seed(2)
    model = ViewNet().double()
    x = torch.randn(9, 3, 4, dtype=torch.float64)
    net = st.to_network(model, x)
    np.testing.assert_allclose(net.evaluate(x.reshape(9, -1).numpy()), model(x).detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    assert "fc2.bias" not in {v["id"] for v in net.nodes}


def test_analyze_counts_parameters_dimension_and_rescalings():
    model = mlp([5, 8, 6, 3])
    r = st.analyze(model, torch.zeros(1, 5))
    weights = 5 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
    assert r["parameters"] == weights == sum(p.numel() for p in model.parameters())
    assert r["dimension"] == weights - (8 + 6)  # #weights - #hidden for an MLP with biases
    assert r["surviving_rescalings"] == 14
    assert r["rescalings"][:2] == ["0[0]", "0[1]"] and r["rescalings"][-1] == "2[5]"
    assert r["analysis"] == scaleinv.analyze(st.to_network(model)) and r["analysis"]["theorem_holds"] is True
    # The same numbers as the library's own MLP.
    assert r["dimension"] == scaleinv.analyze(scaleinv.Network.from_spec("mlp:5-8-6-3,bias"))["dimension"]


def test_a_unit_with_no_outgoing_weights_is_a_linear_chain_still_counted():
    # Linear -> Linear with no activation between: the middle units are linear, still homogeneous.
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    r = st.analyze(model)
    assert r["dimension"] == 3 * 4 + 4 + 4 * 2 + 2 - 4


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        return self.b(torch.relu(self.a(x))) + x


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)

    def forward(self, x):
        return self.a(torch.relu(self.a(x)))


def test_a_residual_mlp_is_unrolled_with_constant_edges():
    torch.manual_seed(5)
    model = Residual().double()
    x = torch.randn(6, 4, dtype=torch.float64)
    net = st.to_network(model, x)
    np.testing.assert_allclose(net.evaluate(x.numpy()), model(x).detach().numpy(), rtol=1e-12, atol=1e-14)
    r = st.analyze(model, x)
    # The shortcut feeds the inputs into b's units (now the outputs): a's 4 units keep their rescalings.
    assert r["unrolled"]["constant_edges"] == 4 and r["surviving_rescalings"] == 4
    assert r["dimension"] == 2 * (16 + 4) - 4


@pytest.mark.parametrize("model, pattern", [
    (nn.Sequential(nn.Linear(4, 4), nn.Softplus(), nn.Linear(4, 2)), r"module '1' \(Softplus\) is not supported"),
    (nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)), r"module '1' \(Tanh\) is not supported"),
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2), nn.ReLU()), "ends with an activation"),
    (nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.ReLU(), nn.Linear(4, 2)), r"module '2' \(ReLU\).*second activation"),
    (Twice(), "applied twice"),
    (nn.Sequential(nn.ReLU(), nn.Linear(4, 2)), "before the first Linear"),
])
def test_unsupported_models_raise_naming_the_module(model, pattern):
    with pytest.raises(scaleinv.Error, match=pattern):
        st.to_network(model)


def test_example_input_must_match_the_first_layer():
    pattern = r"does not run on example_input of shape \(2, 3, 4\): mat1 and mat2 shapes cannot be multiplied"
    with pytest.raises(scaleinv.Error, match=pattern + r" \(6x4 and 5x3\)$"):
        st.to_network(mlp([5, 3, 2]), torch.zeros(2, 3, 4))


def batches(n, inputs, classes, size, seed):
    """n batches labelled by a fixed linear teacher (learnable, so the loss can fall)."""
    g = torch.Generator().manual_seed(seed)
    teacher = torch.randn(inputs, classes, generator=g, dtype=torch.float64)
    xs = [torch.randn(size, inputs, generator=g, dtype=torch.float64) for _ in range(n)]
    return [(x, (x @ teacher).argmax(dim=1)) for x in xs]


def mean_loss(model, data):
    with torch.no_grad():
        return sum(F.cross_entropy(model(x), y).item() for x, y in data) / len(data)


def train_torch(model, opt, data, scheduler=None):
    losses = []
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if scheduler:
            scheduler.step()
        losses.append(loss.item())
    return losses


def flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 1e-3)])
def test_gsgd_agrees_with_the_cpp_step_on_the_same_batches(momentum, weight_decay):
    model = mlp([6, 10, 8, 4], seed=3)
    net = st.to_network(model)
    data = batches(20, 6, 4, 16, seed=4)
    before = mean_loss(model, data)
    opt = st.GSGD(model, lr=0.05, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)
    torch_losses = train_torch(model, opt, data, sched)

    # The C++ side: the trainer's model computes loss and gradient, its G-SGD step updates.
    core = scaleinv._scaleinv._GSGDStep(net, momentum, weight_decay)
    w = net.weights.copy()
    buf = np.zeros_like(w) if momentum else None
    cpp_losses = []
    for step, (x, y) in enumerate(data):
        loss, g = scaleinv.loss_and_gradient(net, w, x.numpy(), labels=y.numpy())
        core.step(w, g, 0.05 * 0.5 ** (step // 7), buf)
        cpp_losses.append(loss)
    ours = flat(model)
    assert np.max(np.abs(ours - w)) <= 1e-12 * np.max(np.abs(w))
    np.testing.assert_allclose(torch_losses, cpp_losses, rtol=1e-12)
    assert mean_loss(model, data) < before
    # Not plain SGD: the same run with torch.optim.SGD ends elsewhere.
    sgd_model = mlp([6, 10, 8, 4], seed=3)
    train_torch(sgd_model, torch.optim.SGD(sgd_model.parameters(), lr=0.05, momentum=momentum,
                                           weight_decay=weight_decay), data)
    assert np.max(np.abs(flat(sgd_model) - ours)) > 1e-3


def test_gsgd_keeps_rescaling_equivalent_starts_equivalent():
    a = mlp([5, 7, 7, 3], seed=6)
    net_b = scaleinv.rescale(st.to_network(a), seed=8, spread=1.0)
    b = copy.deepcopy(a)
    offset = 0
    with torch.no_grad():
        for p in b.parameters():
            p.copy_(torch.from_numpy(net_b.weights[offset:offset + p.numel()]).view_as(p))
            offset += p.numel()
    data = batches(15, 5, 3, 8, seed=9)
    factories = {"gsgd": lambda m: st.GSGD(m, lr=0.02, momentum=0.5),
                 "sgd": lambda m: torch.optim.SGD(m.parameters(), lr=0.02)}
    for name, make in factories.items():
        ma, mb = copy.deepcopy(a), copy.deepcopy(b)
        train_torch(ma, make(ma), data)
        train_torch(mb, make(mb), data)
        r = scaleinv.equivalent(st.to_network(ma), st.to_network(mb), tol=1e-9)
        # G-SGD moves along path values, which rescaling leaves alone; SGD does not respect the symmetry.
        assert r["equivalent"] is (name == "gsgd"), (name, r["reason"])


def test_gsgd_state_dict_resumes_bit_identically():
    data = batches(10, 4, 3, 8, seed=12)
    straight = mlp([4, 6, 3], seed=11)
    opt = st.GSGD(straight, lr=0.03, momentum=0.9)
    train_torch(straight, opt, data)

    first = mlp([4, 6, 3], seed=11)
    opt1 = st.GSGD(first, lr=0.03, momentum=0.9)
    train_torch(first, opt1, data[:5])
    saved_model, saved_opt = copy.deepcopy(first.state_dict()), copy.deepcopy(opt1.state_dict())
    assert saved_opt["state"][0]["momentum_buffer"].shape == (4 * 6 + 6 + 6 * 3 + 3,)

    resumed = mlp([4, 6, 3], seed=99)
    resumed.load_state_dict(saved_model)
    opt2 = st.GSGD(resumed, lr=0.5, momentum=0.9)  # lr comes back from the state dict
    opt2.load_state_dict(saved_opt)
    assert opt2.param_groups[0]["lr"] == 0.03
    train_torch(resumed, opt2, data[5:])
    assert np.array_equal(flat(resumed), flat(straight))


def train_resetting(model, opt, data, set_to_none, replace_at=None):
    for step, (x, y) in enumerate(data):
        if step == replace_at:  # somebody swaps a parameter's storage between steps
            with torch.no_grad():
                model[0].weight.data = model[0].weight.data.clone()
        opt.zero_grad(set_to_none=set_to_none)
        F.cross_entropy(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_gsgd_steps_in_place_and_copes_with_replaced_tensors(momentum):
    data = batches(12, 5, 3, 8, seed=21)
    reference = mlp([5, 7, 6, 3], seed=22)
    train_resetting(reference, st.GSGD(reference, lr=0.03, momentum=momentum), data, set_to_none=False)
    # The step updates the model's own tensors: their storage does not move from step to step
    # (the parameters and their .grad are views of the optimizer's flat buffers after the first step).
    model = mlp([5, 7, 6, 3], seed=22)
    opt = st.GSGD(model, lr=0.03, momentum=momentum)
    train_resetting(model, opt, data[:1], set_to_none=False)
    pointers = [(p.data_ptr(), p.grad.data_ptr()) for p in model.parameters()]
    train_resetting(model, opt, data[1:], set_to_none=False)
    assert [(p.data_ptr(), p.grad.data_ptr()) for p in model.parameters()] == pointers
    assert np.array_equal(flat(model), flat(reference))
    # .grad set to None every step, or a weight tensor replaced mid-run: the same trajectory, bit for bit.
    for set_to_none, replace_at in [(True, None), (False, 5), (True, 5)]:
        other = mlp([5, 7, 6, 3], seed=22)
        train_resetting(other, st.GSGD(other, lr=0.03, momentum=momentum), data, set_to_none, replace_at)
        assert np.array_equal(flat(other), flat(reference)), (set_to_none, replace_at)


def test_gsgd_float32_follows_float64():
    data = batches(10, 4, 3, 8, seed=13)
    m64, m32 = mlp([4, 6, 3], seed=14), mlp([4, 6, 3], seed=14, dtype=torch.float32)
    train_torch(m64, st.GSGD(m64, lr=0.05), data)
    opt32 = st.GSGD(m32, lr=0.05)
    train_torch(m32, opt32, [(x.float(), y) for x, y in data])
    assert m32[0].weight.dtype == torch.float32
    np.testing.assert_allclose(flat(m32), flat(m64), rtol=1e-4, atol=1e-5)
    assert opt32.basis_size == 4 * 6 + 6 + 6 * 3 + 3 - 6


def test_gsgd_refuses_what_it_cannot_train():
    model = mlp([4, 6, 3])
    with pytest.raises(scaleinv.Error, match="needs the model"):
        st.GSGD(model.parameters(), lr=0.1)
    prelu = nn.Sequential(nn.Linear(4, 6), nn.PReLU(), nn.Linear(6, 3)).double()
    with pytest.raises(scaleinv.Error, match=r"parameter '1.weight' \(\(1,\)\) is not a Linear weight"):
        st.GSGD(prelu, lr=0.1)
    prelu[1].weight.requires_grad_(False)
    st.GSGD(prelu, lr=0.1)  # frozen: fine
    with pytest.raises(scaleinv.Error, match=r"module '0' \(Conv1d\)"):
        st.GSGD(nn.Sequential(nn.Conv1d(1, 1, 2), nn.Flatten(), nn.Linear(3, 2)), lr=0.1,
                example_input=torch.zeros(1, 1, 4))
    with pytest.raises(scaleinv.Error, match="constant edges"):
        st.GSGD(Residual(), lr=0.1)
    with pytest.raises(scaleinv.Error, match="momentum -1"):
        st.GSGD(model, lr=0.1, momentum=-1)
    opt = st.GSGD(model, lr=0.1)
    with pytest.raises(scaleinv.Error, match="one parameter group"):
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)]})
