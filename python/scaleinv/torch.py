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
from ._torch_trace import trace

Error = _scaleinv.Error

__all__ = ["Error", "GSGD", "analyze", "to_network"]


def to_network(model, example_input=None):
    """The scaleinv.Network of a PyTorch model, with its weights (as float64), in the order of
    scaleinv.mlp specs: hidden units are named by module path and index ('0[3]', 'fc1[3]'), bias
    nodes '<path>.bias'. example_input (a batch) is optional: when given, its number of features
    per sample must be the first Linear's in_features."""
    return trace(model, example_input).network


def analyze(model, example_input=None):
    """The path-space dimension of a model and its rescaling symmetries, as a dict:

    - parameters: sum(p.numel() for p in model.parameters());
    - dimension: the dimension of the path space (scaleinv.analyze's 'dimension');
    - surviving_rescalings: the number of independent positive rescalings (one per active hidden
      unit: nothing is shared between units in the supported models);
    - rescalings: the ids of those units, by module path and index ('fc1[3]');
    - analysis: scaleinv.analyze's whole dict for the traced network.
    """
    traced = trace(model, example_input)
    net = traced.network
    a = _scaleinv.analyze(net)
    units = net.active_units()
    if a.get("shared"):
        surviving = a["shared"]["surviving_rescalings"]
    else:
        surviving = a["active_hidden"]
        assert surviving == len(units), (surviving, len(units))
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "dimension": a["dimension"],
        "surviving_rescalings": surviving,
        "rescalings": units,
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
        params = [p for p, _ in traced.params]
        covered = {id(p) for p in params}
        for name, p in model.named_parameters():
            if p.requires_grad and id(p) not in covered:
                raise Error(f"GSGD: parameter '{name}' ({tuple(p.shape)}) is not a Linear weight or bias; G-SGD "
                            "trains the path values of the Linear layers only (freeze it with requires_grad_(False))")
        dtypes = {p.dtype for p in params}
        if len(dtypes) != 1 or next(iter(dtypes)) not in (torch.float32, torch.float64):
            raise Error(f"GSGD: the Linear parameters must all be float32 or all float64, not {sorted(map(str, dtypes))}")
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
