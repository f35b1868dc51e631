"""scaleinv.torch.set_skeleton_one: the CLI's --skeleton-one on PyTorch chains of Linear layers."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import scaleinv
import scaleinv.torch as st
from scaleinv._skeleton import skeleton_edges

torch.set_num_threads(1)


def mlp(widths, seed=0):
    torch.manual_seed(seed)
    layers = []
    for k in range(len(widths) - 1):
        if k:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(widths[k], widths[k + 1]))
    return nn.Sequential(*layers).double()


def diagonal_by_hand(model):
    """docs/training.md's diagonal rule written out: hidden unit j after Linear k takes p(j) from
    input j mod in_features and c(j) to unit j mod out_features of Linear k + 1."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for k in range(len(linears) - 1):
            a, b = linears[k], linears[k + 1]
            for j in range(a.out_features):
                a.weight[j, j % a.in_features] = 1.0
                b.weight[j % b.out_features, j] = 1.0


WIDTHS = [[3, 4, 2], [5, 7, 3, 4, 2], [4, 4, 4, 4], [2, 9, 1]]


@pytest.mark.parametrize("widths", WIDTHS)
def test_matches_the_diagonal_rule(widths):
    a = mlp(widths)
    b = copy.deepcopy(a)
    st.set_skeleton_one(a)
    diagonal_by_hand(b)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize("skeleton", ["diagonal", "first"])
@pytest.mark.parametrize("widths", WIDTHS)
def test_skeleton_weights_are_one_exactly(widths, skeleton):
    model = mlp(widths, seed=3)
    before = st.to_network(model).weights
    n = st.set_skeleton_one(model, skeleton=skeleton)
    net = st.to_network(model)
    w = net.weights
    skel = skeleton_edges(net, skeleton)
    assert n == len(skel) > 0
    assert all(w[e] == 1.0 for e in skel)  # exactly 1
    others = sorted(set(range(net.num_edges)) - set(skel))
    assert all(w[e] == before[e] for e in others)  # nothing else moved
    # each basis path is p() chain, owned edge, c() chain: its non-owned edges are skeleton edges
    # and its value is its owned edge's weight
    b = scaleinv.basis(net, 0, skeleton)
    for path, owned in zip(b["basis"], b["owned"]):
        assert all(e in skel for e in path if e != owned)
        value = 1.0
        for e in path:
            value *= w[e]
        assert value == w[owned]
    # every hidden unit has a skeleton edge in (its p()) and one out (its c())
    hidden = {i for i, v in enumerate(net.nodes) if v["kind"] == "hidden"}
    assert hidden <= {int(net.edges[e][1]) for e in skel}
    assert hidden <= {int(net.edges[e][0]) for e in skel}


def test_first_skeleton_is_a_hub():
    model = mlp([3, 5, 4, 2])
    st.set_skeleton_one(model, skeleton="first")
    w1, w2, w3 = (m.weight for m in model if isinstance(m, nn.Linear))
    assert torch.all(w1[:, 0] == 1.0)  # p(j) is the least edge: from input 0
    assert torch.all(w2[0, :] == 1.0)  # c(j) of layer 1 and p(j) of layer 2 run through unit 0
    assert torch.all(w2[:, 0] == 1.0)
    assert torch.all(w3[0, :] == 1.0)


def test_gsgd_trains_from_it():
    torch.manual_seed(1)
    model = mlp([4, 8, 6, 2], seed=2)
    st.set_skeleton_one(model)
    x = torch.randn(64, 4, dtype=torch.float64)
    t = torch.tanh(x @ torch.randn(4, 2, dtype=torch.float64))
    opt = st.GSGD(model, lr=0.05)
    first = F.mse_loss(model(x), t).item()
    for _ in range(200):
        opt.zero_grad()
        loss = F.mse_loss(model(x), t)
        loss.backward()
        opt.step()
    last = F.mse_loss(model(x), t).item()
    assert last < 0.5 * first, (first, last)
    assert torch.isfinite(torch.cat([p.reshape(-1) for p in model.parameters()])).all()


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)),
    nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)),
])
def test_refuses_what_it_cannot_handle(model):
    model = model.double().eval()
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64) if isinstance(model[0], nn.Conv2d) \
        else torch.randn(2, 3, dtype=torch.float64)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(scaleinv.Error, match="chain of Linear"):
        st.set_skeleton_one(model, example_input=x)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))


def test_refuses_a_non_module():
    with pytest.raises(scaleinv.Error):
        st.set_skeleton_one(lambda x: x)
