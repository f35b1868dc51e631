"""scaleinv.torch.GSGD under DistributedDataParallel: two CPU processes (gloo) split each global batch,
DDP averages their gradients, and every rank takes the same C++ G-SGD step; the result must be the
same on both ranks and the same as one process training on the whole batches."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

import scaleinv
import scaleinv.torch as st

WORLD = 2
STEPS = 20
GLOBAL_BATCH = 16
LR = 0.05
WIDTHS = [6, 10, 8, 3]


def make_model():
    torch.manual_seed(5)
    layers = []
    for k in range(len(WIDTHS) - 1):
        if k:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(WIDTHS[k], WIDTHS[k + 1]))
    model = nn.Sequential(*layers).double()
    st.set_skeleton_one(model)  # every skeleton path value 1: lr in SGD's units (docs/training.md)
    return model


def global_batches():
    g = torch.Generator().manual_seed(7)
    teacher = torch.randn(WIDTHS[0], WIDTHS[-1], generator=g, dtype=torch.float64)
    out = []
    for _ in range(STEPS):
        x = torch.randn(GLOBAL_BATCH, WIDTHS[0], generator=g, dtype=torch.float64)
        out.append((x, torch.tanh(x @ teacher)))
    return out


def train(model, opt, data):
    for x, t in data:
        opt.zero_grad()
        F.mse_loss(model(x), t).backward()
        opt.step()


def worker(rank, init_method, out_dir, momentum):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=WORLD)
    try:
        model = make_model()
        ddp = DistributedDataParallel(model)
        # GSGD traces the plain module (its graph); DDP shares the same parameter tensors and
        # all-reduces (averages) their gradients during backward, before opt.step() reads them.
        opt = st.GSGD(ddp.module, lr=LR, momentum=momentum)
        share = GLOBAL_BATCH // WORLD
        local = [(x[rank * share:(rank + 1) * share], t[rank * share:(rank + 1) * share])
                 for x, t in global_batches()]
        train(ddp, opt, local)
        torch.save([p.detach().clone() for p in model.parameters()], os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_gsgd_under_ddp_matches_one_process(tmp_path, momentum):
    # A file:// rendezvous in a fresh directory: no TCP port to choose, so no race with other tests.
    init_method = "file://" + str(tmp_path / "rendezvous")
    mp.spawn(worker, args=(init_method, str(tmp_path), momentum), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    # Every rank holds the same weights, bit for bit: the same averaged gradient, the same step.
    for p0, p1 in zip(*ranks):
        assert torch.equal(p0, p1)

    torch.set_num_threads(1)
    start = make_model()
    one = make_model()
    train(one, st.GSGD(one, lr=LR, momentum=momentum), global_batches())
    ref = torch.cat([p.detach().reshape(-1) for p in one.parameters()])
    ddp = torch.cat([p.reshape(-1) for p in ranks[0]])
    # Not bit-identical to one process: DDP averages the two half-batch mean gradients
    # ((g0 + g1) / 2), one process sums the whole batch once (g / 16), so the additions happen in
    # another order and the last bits differ; 20 steps keep that at rounding level.
    assert torch.max(torch.abs(ddp - ref)) <= 1e-12 * torch.max(torch.abs(ref))

    # Control: the optimizer moved the weights (a step that did nothing would pass the checks above).
    init = torch.cat([p.detach().reshape(-1) for p in start.parameters()])
    assert torch.max(torch.abs(ref - init)) > 1e-3
    # ... and it was G-SGD's step, not SGD's, from the same start on the same batches.
    sgd = make_model()
    train(sgd, torch.optim.SGD(sgd.parameters(), lr=LR, momentum=momentum), global_batches())
    assert torch.max(torch.abs(torch.cat([p.detach().reshape(-1) for p in sgd.parameters()]) - ref)) > 1e-3


def test_skeleton_one_sets_the_skeleton_gsgd_uses():
    """The helper above sets exactly the edges that are on no owned (free) position of the basis:
    the diagonal skeleton of scaleinv.basis."""
    model = make_model()
    net = st.to_network(model)
    owned = set(scaleinv.basis(net)["owned"])
    skeleton = [e for e in range(net.num_edges) if e not in owned]
    assert len(skeleton) == sum(WIDTHS[1:-1])  # one p() edge per hidden unit stays fixed
    assert all(net.weights[e] == 1.0 for e in skeleton)
    fresh = scaleinv.Network.from_spec("mlp:" + "-".join(map(str, WIDTHS)) + ",bias,init=3")
    assert not all(fresh.weights[e] == 1.0 for e in skeleton)  # the check above can fail
