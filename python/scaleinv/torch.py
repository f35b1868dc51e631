"""scaleinv.torch: scaleinv's analysis and the C++ trainer's G-SGD step for PyTorch models.

    import scaleinv.torch as st
    st.analyze(model, example_input)        # {'parameters', 'dimension', 'surviving_rescalings', ...}
    net = st.to_network(model)              # a scaleinv.Network with the model's weights
    opt = st.GSGD(model, lr=1e-3, momentum=0.9)

What torch.fx traces into a chain of Linear layers with ReLU-family activations, Flatten, Identity
and Dropout is supported (scaleinv/_torch_trace.py); anything else raises scaleinv.Error naming the
module path and type. See docs/python.md.
"""
import torch
from torch import nn

from . import _scaleinv
from ._torch_trace import MAX_EDGES, trace

Error = _scaleinv.Error

__all__ = ["Error", "GSGD", "analyze", "to_network"]


def to_network(model, example_input=None, unroll=True, max_edges=MAX_EDGES):
    """The scaleinv.Network of a PyTorch model, unrolled (a node per channel and position), with its
    effective weights (BatchNorm folded in) as float64. Hidden units are named by module path and
    channel ('fc1[3]', 'conv1[3]@5,7'), bias nodes '<path>.bias', inputs x0.. (the flattened
    sample). example_input (a batch) is required for convolutions (it fixes the positions);
    models of Linear layers only may omit it. unroll must be True (the unrolled graph is the only
    network scaleinv builds). More than max_edges edges raise scaleinv.Error."""
    if not unroll:
        raise Error("scaleinv.torch: to_network(unroll=False) is not available: scaleinv's networks are unrolled "
                    "graphs (a node per channel and position)")
    return trace(model, example_input, max_edges).network


def _channel_of(traced):
    """Node index -> channel label ('conv1[3]'), or None for inputs, bias nodes and outputs."""
    names = traced.label_names
    return [names[i] if i >= 0 else None for i in traced.labels]


def _param_channels(traced):
    """The labels of the channels of parameter layers (Linear and conv units), in model order."""
    out = []
    for layer in traced.layers:
        out.extend(f"{layer.path}[{c}]" for c in range(layer.channels))
    return out


def _rescaling_names(traced, analysis):
    """Each surviving rescaling named by the channels it scales: 'conv1[3]', or several joined by
    constant edges (a residual block) 'conv1[3]+layer1.0.conv2[3]'; '^k' marks an exponent k != 1."""
    net = traced.network
    shared = analysis.get("shared")
    if not shared:
        return net.active_units()
    if shared.get("rescalings") is None:
        return None
    index = {v["id"]: i for i, v in enumerate(net.nodes)}
    channel = _channel_of(traced)
    order = {name: k for k, name in enumerate(traced.label_names)}
    params = set(_param_channels(traced))
    names = []
    for vec in shared["rescalings"]:
        chans = {}
        for uid, k in vec.items():
            ch = channel[index[uid]]
            if ch is not None:
                chans.setdefault(ch, k)
        keep = [c for c in chans if c in params] or list(chans)
        keep.sort(key=lambda c: order[c])
        names.append("+".join(c if chans[c] == 1 else f"{c}^{chans[c]}" for c in keep))
    return names


def analyze(model, example_input=None, max_edges=MAX_EDGES):
    """The path-space dimension of a model and its rescaling symmetries, as a dict:

    - parameters: sum(p.numel() for p in model.parameters());
    - dimension: the dimension of the path space over the unrolled network's parameters
      (scaleinv.analyze's 'dimension': rank(A M) with shared conv kernels and constant edges);
    - surviving_rescalings: the number of independent positive rescalings;
    - rescalings: their names by module path and channel ('fc1[3]', 'conv1[3]', classes joined by
      constant edges 'conv1[3]+layer1.0.conv2[3]');
    - unrolled: nodes, edges, network parameters and constant edges of the unrolled network;
    - analysis: scaleinv.analyze's whole dict for the unrolled network.
    """
    traced = trace(model, example_input, max_edges)
    net = traced.network
    a = _scaleinv.analyze(net)
    if a.get("shared"):
        surviving = a["shared"]["surviving_rescalings"]
    else:
        surviving = a["active_hidden"]
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "dimension": a["dimension"],
        "surviving_rescalings": surviving,
        "rescalings": _rescaling_names(traced, a),
        "unrolled": {"nodes": net.num_nodes, "edges": net.num_edges, "parameters": net.num_parameters,
                     "constant_edges": int((traced.slots < 0).sum())},
        "analysis": a,
    }


class GSGD(torch.optim.Optimizer):
    """G-SGD (Meng et al., ICLR 2019) as a torch.optim.Optimizer: the C++ trainer's step on the
    values of the basis paths (docs/training.md), with momentum and weight decay in path-value
    space, on the model's Linear weights and biases flattened in edge order.

    GSGD(model, lr, momentum=0, weight_decay=0, skeleton='diagonal', example_input=None): model is
    the nn.Module itself (G-SGD needs its graph, not only its parameters). Every parameter the
    model trains must belong to one of its Linear layers, and all must share one dtype (float32 or
    float64) on the CPU. lr is in path-value units (docs/training.md: far below SGD's useful range
    on wide layers). state_dict(), load_state_dict() and learning-rate schedulers work: the
    momentum buffer (one entry per edge) is the state of the first parameter.
    """

    def __init__(self, model, lr, momentum=0.0, weight_decay=0.0, skeleton="diagonal", example_input=None):
        if not isinstance(model, nn.Module):
            raise Error("GSGD needs the model (its graph), not only its parameters: GSGD(model, lr=...)")
        if not lr >= 0.0:
            raise Error(f"GSGD: lr {lr} is not a non-negative number")
        traced = trace(model, example_input)
        if not traced.plain:
            for layer in traced.layers:
                if not isinstance(layer.module, nn.Linear) or layer.bn is not None:
                    kind = type(layer.bn if isinstance(layer.module, nn.Linear) else layer.module).__name__
                    path = layer.bn_path if isinstance(layer.module, nn.Linear) else layer.path
                    raise Error(f"GSGD: module '{path}' ({kind}) is not supported: G-SGD trains chains of Linear "
                                "layers (no shared parameters, no constant edges)")
            raise Error("GSGD: the model's unrolled network has constant edges (pooling, additions, an activation "
                        "of a tensor used twice); G-SGD trains chains of Linear layers only")
        params = [p for p, _ in traced.params]
        covered = {id(p) for p in params}
        for name, p in model.named_parameters():
            if p.requires_grad and id(p) not in covered:
                raise Error(f"GSGD: parameter '{name}' ({tuple(p.shape)}) is not a Linear weight or bias; G-SGD "
                            "trains the path values of the Linear layers only (freeze it with requires_grad_(False))")
        dtypes = {p.dtype for p in params}
        if len(dtypes) != 1 or next(iter(dtypes)) not in (torch.float32, torch.float64):
            raise Error("GSGD: the Linear parameters must all be float32 or all float64, not "
                        f"{sorted(map(str, dtypes))}")
        if any(p.device.type != "cpu" for p in params):
            raise Error("GSGD: the C++ step runs on the CPU; the model's parameters must be CPU tensors")
        self._network = traced.network
        self._offsets = [off for _, off in traced.params]
        self._skeleton = skeleton
        self._core = None
        self._core_key = None
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self._core_for(self.param_groups[0])  # refuses bad momentum, weight decay or skeleton now

    def add_param_group(self, param_group):
        if self.param_groups:
            raise Error("GSGD: one parameter group only (the step acts on all basis paths at once)")
        super().add_param_group(param_group)

    @property
    def basis_size(self):
        """The number of basis paths (the dimension of the space G-SGD moves in)."""
        return self._core_for(self.param_groups[0]).basis_size

    def _core_for(self, group):
        dtype = "float64" if group["params"][0].dtype == torch.float64 else "float32"
        key = (float(group["momentum"]), float(group["weight_decay"]), dtype)
        if key != self._core_key:
            self._core = _scaleinv._GSGDStep(self._network, key[0], key[1], self._skeleton, dtype)
            self._core_key = key
        return self._core

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        group = self.param_groups[0]
        params = group["params"]
        if all(p.grad is None for p in params):
            return loss
        core = self._core_for(group)
        w = torch.cat([p.reshape(-1) for p in params])
        g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
        buf = None
        if group["momentum"] > 0:
            state = self.state[params[0]]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = torch.zeros_like(w)
            buf = state["momentum_buffer"]
            if buf.shape != w.shape or buf.dtype != w.dtype or not buf.is_contiguous():
                raise Error(f"GSGD: the momentum buffer has shape {tuple(buf.shape)} and dtype {buf.dtype}; "
                            f"expected ({w.numel()},) {w.dtype} (a state_dict of another model?)")
            buf = buf.numpy()
        core.step(w.numpy(), g.contiguous().numpy(), float(group["lr"]), buf)
        for p, off in zip(params, self._offsets):
            p.copy_(w[off:off + p.numel()].view_as(p))
        return loss
