"""scaleinv.torch: scaleinv's analysis, orbit moves and the C++ trainer's G-SGD step for PyTorch models.

    import scaleinv.torch as st
    st.analyze(model, example_input)        # {'parameters', 'dimension', 'surviving_rescalings', ...}
    net = st.to_network(model, example_input)   # the unrolled scaleinv.Network, effective weights
    st.equivalent(model_a, model_b, example_input)  # {'equivalent', 'scales': {'conv1[3]': c, ...}}
    st.balance_(model, example_input, p=2)  # in place, same function; canonicalize_ likewise
    balancer = st.Balancer(model, optimizer, every=1, example_input=x)   # balancer.step() after opt.step()
    opt = st.GSGD(model, lr=1e-3, momentum=0.9)   # chains of Linear layers

torch.fx traces the model and scaleinv/_torch_trace.py unrolls it: Linear, Conv1d/Conv2d (shared
parameters), BatchNorm (eval, folded into the Linear or conv before it), the ReLU family, max and
average pooling and residual additions (constant edges), Flatten/view/reshape, Identity, Dropout.
Anything else raises scaleinv.Error naming the module path and type. See docs/python.md.
"""
from fractions import Fraction

import numpy as np
import torch
from torch import nn

from . import _scaleinv
from ._torch_trace import MAX_EDGES, trace
from ._skeleton import set_skeleton_one  # noqa: F401

Error = _scaleinv.Error

__all__ = ["Balancer", "Error", "GSGD", "analyze", "balance_", "canonicalize_", "equivalent", "set_skeleton_one",
           "to_network"]


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


def _node_scales(traced, scales):
    """The scale of every node (1 for those the dict does not list) from an equivalence's scales."""
    index = {v["id"]: i for i, v in enumerate(traced.network.nodes)}
    c = np.ones(traced.network.num_nodes)
    for uid, value in scales.items():
        c[index[uid]] = float(Fraction(value)) if isinstance(value, str) else float(value)
    return c


def _channel_scales(traced, c):
    """{channel label: scale} for the channels of the parameter layers (their first unit's scale)."""
    out = {}
    for layer in traced.layers:
        for ch, units in enumerate(layer.units):
            out[f"{layer.path}[{ch}]"] = float(c[units[0]])
    return out


def equivalent(model_a, model_b, example_input=None, tol=1e-9):
    """Are model_b's weights a positive rescaling of model_a's (the same function by the symmetry)?

    Both models are unrolled on example_input (BatchNorm folded: two models whose folded weights are
    rescalings of each other are equivalent even when their BatchNorm parameters differ). Returns a
    dict: equivalent (bool), reason ('' or why not, naming an edge of the unrolled network), scales
    ({'conv1[3]': c, ...}, one per channel of each Linear and conv: its units' outputs in model_b are
    c times those in model_a; empty when not equivalent), undetermined (channels whose scale is
    free: their weights are zero) and analysis (scaleinv.equivalent's dict). Relative tolerance
    tol on the weights. Models whose unrolled graphs differ are not equivalent (reason says why)."""
    ta = trace(model_a, example_input)
    tb = trace(model_b, example_input)
    try:
        r = _scaleinv.equivalent(ta.network, tb.network, tol=tol)
    except Error as e:
        return {"equivalent": False, "reason": str(e), "scales": {}, "undetermined": [], "analysis": None}
    scales = {}
    undetermined = []
    if r["equivalent"]:
        scales = _channel_scales(ta, _node_scales(ta, r["scales"]))
        free = set(r["undetermined"])
        channel = _channel_of(ta)
        index = {v["id"]: i for i, v in enumerate(ta.network.nodes)}
        undetermined = sorted({channel[index[u]] for u in free if channel[index[u]] in scales},
                              key=lambda ch: ta.label_names.index(ch))
    return {"equivalent": r["equivalent"], "reason": r["reason"], "scales": scales, "undetermined": undetermined,
            "analysis": r}


def _slot_factors(traced, c):
    """Each slot's factor c(head) / c(tail) (1 for slots on no edge), checked equal on its edges."""
    slots, heads, tails = traced.slots, traced.heads, traced.tails
    on = slots >= 0
    f_edge = c[heads[on]] / c[tails[on]]
    nslots = traced.num_slots
    f = np.ones(nslots)
    f[slots[on]] = f_edge  # any edge of the slot; checked below
    spread = np.abs(f_edge / f[slots[on]] - 1.0)
    if spread.size and spread.max() > 1e-9:
        e = int(np.nonzero(on)[0][int(spread.argmax())])
        raise Error(f"scaleinv.torch: the rescaling changes a shared parameter unevenly (edge {e}); not a rescaling "
                    "of the model's parameters")
    return f


def _param_factors(traced, c):
    """[(tensor, factor tensor)]: how each parameter of the traced layers is multiplied by the
    rescaling with node scales c (weights, biases; with a folded BatchNorm, the conv/Linear weight
    takes the input channels' factor and BatchNorm's weight and bias the output channel's)."""
    f = _slot_factors(traced, c)
    out = []
    for layer in traced.layers:
        m = layer.module
        fw = torch.from_numpy(f[layer.w_offset:layer.w_offset + m.weight.numel()].copy()).reshape(m.weight.shape)
        fb = torch.from_numpy(f[layer.b_offset:layer.b_offset + layer.channels].copy()) \
            if layer.b_offset is not None else None
        if layer.bn is None:
            out.append((m.weight, fw))
            if m.bias is not None:
                out.append((m.bias, fb))
            continue
        bn = layer.bn
        if bn.weight is None or bn.bias is None:
            raise Error(f"scaleinv.torch: module '{layer.bn_path}' ({type(bn).__name__}) has no affine parameters "
                        f"to carry the rescaling of '{layer.path}'s channels (use affine=True)")
        shape = (-1,) + (1,) * (m.weight.dim() - 1)
        out.append((m.weight, fw / fb.reshape(shape)))
        out.append((bn.weight, fb))
        out.append((bn.bias, fb))
    return out


def _apply(traced, c, optimizer=None):
    """Multiplies the model's parameters by the rescaling with node scales c, and divides the SGD
    momentum buffers of the optimizer by the same factors (a buffer is a gradient history)."""
    factors = _param_factors(traced, c)
    state = None
    if optimizer is not None:
        state = optimizer.state
    with torch.no_grad():
        for p, fac in factors:
            fac = fac.to(p.dtype)
            p.mul_(fac)
            if state is not None and p in state:
                buf = state[p].get("momentum_buffer")
                if buf is not None:
                    buf.div_(fac)


def _check_optimizer(optimizer):
    if optimizer is None:
        return
    if not isinstance(optimizer, torch.optim.SGD):
        raise Error(f"scaleinv.torch: cannot follow the state of {type(optimizer).__name__} through a rescaling; "
                    "torch.optim.SGD's momentum buffers are transformed (as the C++ trainer does)")


def _orbit_move(model, example_input, optimizer, move, what, traced=None):
    _check_optimizer(optimizer)
    was_training = model.training
    model.eval()  # BatchNorm is folded with its running statistics; the move keeps train mode's function too
    try:
        if traced is None:
            traced = trace(model, example_input)
        else:
            traced.network.weights = traced.edge_weights()
        net = traced.network
        moved, report = move(net)
        eq = _scaleinv.equivalent(net, moved, tol=1e-8)
        if not eq["equivalent"]:
            raise Error(f"scaleinv.torch: {what}: the library's result is not a rescaling ({eq['reason']})")
        c = _node_scales(traced, eq["scales"])
        _param_factors(traced, c)  # refuses before anything changes
        _apply(traced, c, optimizer)
        after = traced.edge_weights()
        target = moved.weights
        scale = np.maximum(np.abs(target), 1e-300)
        report = dict(report)
        report["max_weight_error"] = float(np.max(np.abs(after - target) / scale)) if target.size else 0.0
        report["scales"] = _channel_scales(traced, c)
        return report
    finally:
        model.train(was_training)


def balance_(model, example_input=None, p=2.0, optimizer=None, order="newton", tol=1e-10, max_iterations=10000,
             depth_factor=1.0):
    """Synaptic balance of the model in place: scaleinv.balance on the unrolled network, written
    back through the parameter map (conv kernels stay shared; a folded BatchNorm takes each
    channel's factor in its weight and bias, the conv/Linear weight the input channels' factor), so
    the model computes the same function. optimizer (torch.optim.SGD) has its momentum buffers
    divided by the same factors, as the C++ trainer does. Returns scaleinv.balance's report plus
    max_weight_error (the written-back effective weights against the library's, relative) and
    scales ({'conv1[3]': c, ...})."""
    move = (lambda net: _scaleinv.balance(net, p=p, order=order, tol=tol, max_iterations=max_iterations,
                                          depth_factor=depth_factor))
    return _orbit_move(model, example_input, optimizer, move, "balance_")


def canonicalize_(model, example_input=None, optimizer=None, tol=1e-13):
    """The canonical form of the model's rescaling orbit (scaleinv.canonical), in place, as
    balance_ writes back: two equivalent models become equal (to rounding). Returns the report."""
    return _orbit_move(model, example_input, optimizer, lambda net: _scaleinv.canonical(net, tol=tol),
                       "canonicalize_")


class Balancer:
    """Balances a model during training, like ENorm: call step() after optimizer.step().

        balancer = st.Balancer(model, optimizer, p=2, every=1, example_input=x[:1])
        for x, y in loader:
            opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
            balancer.step()

    Every `every`-th call balances the model in place (balance_) and divides the SGD momentum
    buffers by the factors applied to their parameters, so the buffer stays the gradient history
    it would be at the balanced weights (the C++ trainer's --balance every=K). The unrolled network
    is built once; each balancing refreshes its weights. step() returns the report, or None when it
    did not balance. balancings counts them, last_report keeps the last."""

    def __init__(self, model, optimizer=None, p=2.0, every=1, example_input=None, tol=1e-10, max_iterations=10000):
        if not isinstance(every, int) or every < 1:
            raise Error(f"Balancer: every={every!r} is not a positive integer")
        _check_optimizer(optimizer)
        self.model, self.optimizer, self.p, self.every = model, optimizer, p, every
        self.tol, self.max_iterations = tol, max_iterations
        was_training = model.training
        model.eval()
        try:
            self._traced = trace(model, example_input)
        finally:
            model.train(was_training)
        self.calls = 0
        self.balancings = 0
        self.last_report = None

    def step(self):
        self.calls += 1
        if self.calls % self.every:
            return None
        move = (lambda net: _scaleinv.balance(net, p=self.p, tol=self.tol, max_iterations=self.max_iterations))
        self.last_report = _orbit_move(self.model, None, self.optimizer, move, "Balancer", traced=self._traced)
        self.balancings += 1
        return self.last_report


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
        self._flat_w = None  # flat weight and gradient buffers the parameters are views of (_flat)
        self._flat_g = None
        self._bind_weights(params)

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
        w, g = self._flat(params)
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
        core.step(w.numpy(), g.numpy(), float(group["lr"]), buf)  # in place: the parameters are views of w
        return loss

    def _views_of(self, flat, tensors):
        """Whether every tensor is the slice of flat at its offset."""
        if flat is None:
            return False
        base, size = flat.data_ptr(), flat.element_size()
        return all(t is not None and t.dtype == flat.dtype and t.is_contiguous()
                   and t.data_ptr() == base + off * size for t, off in zip(tensors, self._offsets))

    @torch.no_grad()
    def _bind_weights(self, params):
        """Makes the parameters views of one flat weight buffer in edge order (the C++ step's
        layout), keeping their values: the step then updates the model's tensors in place."""
        flat = torch.empty(sum(p.numel() for p in params), dtype=params[0].dtype)
        for p, off in zip(params, self._offsets):
            flat[off:off + p.numel()].copy_(p.reshape(-1))
            p.data = flat[off:off + p.numel()].view_as(p)
        self._flat_w = flat

    @torch.no_grad()
    def _bind_grads(self, params):
        """Copies the gradients into one flat buffer and makes each .grad its view: from the next
        backward on, autograd accumulates into them in place (optimizer.zero_grad(set_to_none=False)
        keeps them), so later steps copy nothing."""
        flat = torch.zeros(self._flat_w.numel(), dtype=self._flat_w.dtype)
        for p, off in zip(params, self._offsets):
            if p.grad is not None:
                flat[off:off + p.numel()].copy_(p.grad.reshape(-1))
            p.grad = flat[off:off + p.numel()].view_as(p)
        self._flat_g = flat

    @torch.no_grad()
    def _flat(self, params):
        """The flat weight and gradient buffers for a step: the parameters' own storage when they
        are still its views; after model.to(...), set_to_none=True or anything else that replaced
        a tensor, the values are copied into new buffers and the views made again."""
        if not self._views_of(self._flat_w, params):
            self._bind_weights(params)
        if not self._views_of(self._flat_g, [p.grad for p in params]):
            self._bind_grads(params)
        return self._flat_w, self._flat_g
