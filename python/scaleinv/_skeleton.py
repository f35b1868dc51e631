"""scaleinv.torch.set_skeleton_one: the CLI's `scaleinv train --skeleton-one` for PyTorch models.

The skeleton edges are read off scaleinv.basis of the model's own network (st.to_network): a basis
path is the p() chain to the tail of its owned (free) edge, that edge, and the c() chain from its
head (docs/training.md, paths/basis.hpp), so the edges of the basis paths other than their owned
edges are exactly the p() and c() edges. Right by construction for either skeleton rule.
"""
import torch

from . import _scaleinv
from ._scaleinv import Error
from ._torch_trace import MAX_EDGES, trace


def skeleton_edges(network, skeleton="diagonal"):
    """The sorted edge indices of the skeleton (every p() and c() edge) of a scaleinv.Network."""
    b = _scaleinv.basis(network, 0, skeleton)
    edges = set()
    for path, owned in zip(b["basis"], b["owned"]):
        edges.update(e for e in path if e != owned)
    return sorted(edges)


def set_skeleton_one(model, skeleton="diagonal", example_input=None):
    """Sets every skeleton weight (p() and c() edges of each hidden unit) of a chain of Linear
    layers to 1, in place, as `scaleinv train --skeleton-one` does: every skeleton path value is
    then 1, so that G-SGD's learning rate is in SGD's units (from PyTorch's own initialisation,
    skeleton weights near 0 make some G-SGD steps huge). skeleton is 'diagonal' (the default, the
    authors' rule and GSGD's) or 'first'. Returns the number of weights set. Models that are not
    chains of Linear layers (convolutions, BatchNorm, pooling, additions: shared parameters or
    constant edges) raise scaleinv.Error."""
    traced = trace(model, example_input, MAX_EDGES)
    if not traced.plain:
        raise Error("set_skeleton_one: the model is not a chain of Linear layers (it has convolutions, BatchNorm or "
                    "constant edges); setting a skeleton weight to 1 would change shared parameters")
    slots = traced.slots[skeleton_edges(traced.network, skeleton)]
    done = 0
    with torch.no_grad():
        for layer in traced.layers:
            w = layer.module.weight
            n = w.numel()
            sel = slots[(slots >= layer.w_offset) & (slots < layer.w_offset + n)] - layer.w_offset
            if sel.size:
                rows, cols = divmod(sel, w.shape[1])
                w[torch.from_numpy(rows), torch.from_numpy(cols)] = 1.0
            done += int(sel.size)
    if done != slots.size:
        raise Error("set_skeleton_one: a skeleton edge is not a Linear weight (internal error)")
    return done
