"""Unrolling a PyTorch model into a scaleinv network (torch.fx), for scaleinv.torch.

torch.fx traces the model; each tensor of the trace becomes an array of network nodes (one per
entry of a sample, shape without the batch dimension) and each operation adds nodes and edges:

- nn.Linear, nn.Conv1d / nn.Conv2d (stride, padding incl. 'same', dilation, groups, zero padding
  mode): one unit per output entry, named '<path>[c]' (Linear) or '<path>[c]@i,j' (conv), a bias
  node '<path>.bias', one edge per weight entry it reads. Conv edges carry shared parameters
  '<path>.weight[o,i,kh,kw]' and '<path>.bias[o]'; Linear edges each carry their own.
- nn.BatchNorm1d / nn.BatchNorm2d in eval mode right after a Linear or conv (whose output has no
  other use): folded into it, per channel (w * s, (b - mean) * s + beta with s = gamma / sqrt(var +
  eps)); the bias node is then always there.
- The ReLU family (nn.ReLU, nn.LeakyReLU, nn.PReLU, F.relu, F.leaky_relu, torch.relu, .relu()):
  the activation of the units before it when they are fresh linear units with no other use, else
  new units fed by constant edges of weight 1 (after a max pooling, for instance).
- Max pooling (nn.MaxPool1d/2d, F.max_pool2d; kernel, stride, padding, dilation, ceil_mode):
  'max_pool' units fed by constant edges of weight 1; average pooling (nn.AvgPool1d/2d,
  F.avg_pool2d; count_include_pad, divisor_override, ceil_mode) and adaptive average pooling:
  'linear' units fed by constant edges of weight exactly 1/divisor, the divisor PyTorch uses.
- Additions of two tensors of one shape (operator.add, torch.add, +=): constant edges of weight 1
  from one operand into the other's units when those are fresh linear units with no other use (a
  residual block's last conv), else into new linear units.
- nn.Flatten, torch.flatten, .view, .reshape, .flatten: the array reshaped (shapes from a run of
  the model on the example input); nn.Identity, nn.Dropout, F.dropout: nothing.

The model's output must be fresh linear units (a Linear, conv, average pooling or addition last),
which become the outputs. Anything else raises scaleinv.Error naming the module path and type.

Every edge that is not constant maps to a slot: the entries of each Linear / conv weight, then its
(effective) bias, in the order the model applies the layers. A slot's value is the effective
weight (BatchNorm folded in); TracedModel.slot_values() recomputes them from the module's
parameters and TracedModel.edge_weights() gives the network's weights.
"""
import math
import builtins
import operator
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from torch import fx, nn

from . import _scaleinv

Error = _scaleinv.Error

MAX_EDGES = 20_000_000

INPUT, BIAS, HIDDEN, OUTPUT = 0, 1, 2, 3

_PASS_MODULES = (nn.Identity, nn.Dropout)
_RESHAPE_METHODS = {"view", "reshape", "flatten", "contiguous"}
_RESHAPE_FUNCTIONS = {torch.flatten, torch.reshape}
_RELU_FUNCTIONS = {F.relu, torch.relu}
_ADD_FUNCTIONS = {operator.add, operator.iadd, torch.add}
_CONV = (nn.Conv1d, nn.Conv2d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
_FAMILY = {"relu", "leaky_relu", "prelu"}


def _frac(x):
    q = Fraction(float(x))
    return f"{q.numerator}/{q.denominator}"


class Value:
    """A traced tensor: nodes (an int64 array of node indices, the sample's shape), the parameter
    layer whose units they are (or None), whether they are fresh linear units this value alone
    uses, and what made them (for messages)."""

    def __init__(self, nodes, fresh=False, layer=None, merged=False, made_by=""):
        self.nodes = nodes
        self.fresh = fresh
        self.layer = layer
        self.merged = merged
        self.made_by = made_by


class ParamLayer:
    """A Linear or convolution (with the BatchNorm folded into it, if any) and its slots."""

    def __init__(self, path, module, w_offset):
        self.path = path
        self.module = module
        self.bn = None
        self.bn_path = None
        self.w_offset = w_offset
        self.b_offset = None  # set when the bias slots are allocated (at the end of the layer)
        self.units = None  # int64 array (out_channels, positions)
        self.bias_node = None
        self.bias_edges = None  # (start, count) in the edge order, or None before BN folding

    @property
    def channels(self):
        m = self.module
        return m.out_features if isinstance(m, nn.Linear) else m.out_channels

    def has_bias(self):
        return self.module.bias is not None or self.bn is not None

    def bn_scale(self):
        """(s, shift) with effective weight w * s and effective bias b * s + shift, float64."""
        bn = self.bn
        var = bn.running_var.detach().double()
        mean = bn.running_mean.detach().double()
        s = 1.0 / torch.sqrt(var + bn.eps)
        if bn.weight is not None:
            s = s * bn.weight.detach().double()
        shift = -mean * s
        if bn.bias is not None:
            shift = shift + bn.bias.detach().double()
        return s, shift

    def effective(self):
        """(weight, bias or None) as float64 tensors, BatchNorm folded in."""
        w = self.module.weight.detach().double()
        b = self.module.bias.detach().double() if self.module.bias is not None else None
        if self.bn is None:
            return w, b
        s, shift = self.bn_scale()
        w = w * s.reshape((-1,) + (1,) * (w.dim() - 1))
        b = (b * s if b is not None else torch.zeros_like(s)) + shift
        return w, b


class TracedModel:
    """What trace() returns: the network (with the model's effective weights, float64), the
    parameter layers in the order the model applies them, each edge's slot (-1 for constant
    edges), the constant edges' values, and for each node its channel label."""

    def __init__(self, network, layers, slots, constants, labels, label_names, plain):
        self.network = network
        self.layers = layers
        self.slots = slots
        self.constants = constants
        self.labels = labels  # int64 per node: index into label_names, -1 for inputs, biases, outputs
        self.label_names = label_names
        self.plain = plain  # Linear layers only, no BatchNorm, no constant edge: make_mlp's order
        self.params = []  # [(tensor, slot offset)] for plain models (GSGD)
        if plain:
            for layer in layers:
                self.params.append((layer.module.weight, layer.w_offset))
                if layer.module.bias is not None:
                    self.params.append((layer.module.bias, layer.b_offset))

    def slot_values(self):
        parts = []
        for layer in self.layers:
            w, b = layer.effective()
            parts.append(w.reshape(-1))
            if b is not None:
                parts.append(b)
        return torch.cat(parts).numpy() if parts else np.zeros(0)

    def edge_weights(self):
        v = self.slot_values()
        if v.size == 0:
            return self.constants.copy()
        return np.where(self.slots >= 0, v[np.maximum(self.slots, 0)], self.constants)

    def flat_weights(self, dtype=torch.float64):
        return torch.from_numpy(self.edge_weights()).to(dtype)


def _describe(node, modules):
    if node.op == "call_module":
        return f"module '{node.target}' ({type(modules[node.target]).__name__})"
    if node.op == "call_function":
        return f"function {getattr(node.target, '__name__', node.target)} (node '{node.name}')"
    if node.op == "call_method":
        return f"method .{node.target}() (node '{node.name}')"
    return f"{node.op} '{node.name}'"


def _unsupported(node, modules, why):
    return Error(f"scaleinv.torch: {_describe(node, modules)} is not supported: {why}")


def _pair(v, n):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    return v * n if len(v) == 1 else v


class _Unroller:
    def __init__(self, model, example, max_edges):
        self.model = model
        self.max_edges = max_edges
        self.ids, self.kinds, self.acts, self.labels = [], [], [], []
        self.label_names, self.label_index = [], {}
        self.act_names, self.act_index = [], {}
        self.src, self.dst, self.slot, self.cval, self.cden = [], [], [], [], []
        self.num_edges = 0
        self.num_slots = 0
        self.layers = []
        self.seen_modules = set()
        self.example = example
        self.node = None  # the fx node being unrolled (for messages)

    # -- nodes and edges --------------------------------------------------------------------------
    def _act(self, spec):
        if spec is None:
            return -1
        if spec not in self.act_index:
            self.act_index[spec] = len(self.act_names)
            self.act_names.append(spec)
        return self.act_index[spec]

    def _label(self, name):
        if name not in self.label_index:
            self.label_index[name] = len(self.label_names)
            self.label_names.append(name)
        return self.label_index[name]

    def new_nodes(self, prefix, shape, kind=HIDDEN, act="linear"):
        """Nodes '<prefix>[c]' (shape (C,)) or '<prefix>[c]@i,j' (shape (C, ...)), labelled by
        channel, as an array of the shape."""
        start = len(self.ids)
        count = math.prod(shape)
        a = self._act(act if kind == HIDDEN else None)
        if len(shape) == 1:
            names = [f"{prefix}[{c}]" for c in range(shape[0])]
            self.ids.extend(names)
            labels = [self._label(n) for n in names] if kind == HIDDEN else []
        else:
            pos = list(np.ndindex(*shape[1:]))
            suffixes = ["@" + ",".join(map(str, p)) for p in pos]
            labels = []
            for c in range(shape[0]):
                ch = f"{prefix}[{c}]"
                lab = self._label(ch)
                self.ids.extend(ch + s for s in suffixes)
                labels.extend([lab] * len(suffixes))
        self.kinds.extend([kind] * count)
        self.acts.extend([a] * count)
        self.labels.extend(labels if kind == HIDDEN else [-1] * count)
        return np.arange(start, start + count, dtype=np.int64).reshape(shape)

    def check_size(self, n, what):
        """Refuses, before any node is made, a step that would pass the edge limit."""
        if self.num_edges + n > self.max_edges:
            raise Error(f"scaleinv.torch: unrolling {type(self.model).__name__} passes {self.max_edges:,} edges at "
                        f"{what} ({self.num_edges + n:,} so far); give a smaller example_input (fewer positions), "
                        f"or raise max_edges")

    def add_edges(self, src, dst, slot=None, const_den=None, what=""):
        src = np.asarray(src, dtype=np.int64).reshape(-1)
        dst = np.asarray(dst, dtype=np.int64).reshape(-1)
        n = src.size
        if self.num_edges + n > self.max_edges:
            raise Error(f"scaleinv.torch: unrolling {type(self.model).__name__} passes {self.max_edges:,} edges at "
                        f"{what} ({self.num_edges + n:,} so far); give a smaller example_input (fewer positions), "
                        f"or raise max_edges")
        self.src.append(src)
        self.dst.append(dst)
        if slot is None:
            den = np.asarray(const_den, dtype=np.int64).reshape(-1)
            den = np.broadcast_to(den, (n,)) if den.size == 1 else den
            self.slot.append(np.full(n, -1, dtype=np.int64))
            self.cden.append(den.copy())
            self.cval.append(1.0 / den)
        else:
            self.slot.append(np.asarray(slot, dtype=np.int64).reshape(-1))
            self.cden.append(np.zeros(n, dtype=np.int64))
            self.cval.append(np.zeros(n))
        start = self.num_edges
        self.num_edges += n
        return start

    # -- the graph walk ---------------------------------------------------------------------------
    def run(self):
        model = self.model
        try:
            gm = fx.symbolic_trace(model)
        except Exception as e:  # torch.fx raises many kinds (TraceError, TypeError, ...)
            raise Error(f"scaleinv.torch: torch.fx cannot trace {type(model).__name__}: {e}") from e
        modules = dict(gm.named_modules())
        self.modules = modules
        nodes = list(gm.graph.nodes)
        placeholders = [n for n in nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise Error(f"scaleinv.torch: the model takes {len(placeholders)} inputs; one tensor is supported")
        for node in nodes:
            if node.op == "call_module" and isinstance(modules[node.target], _BN):
                bn = modules[node.target]
                if bn.training:
                    raise _unsupported(node, modules, "a BatchNorm in training mode normalizes by the batch; "
                                                      "call model.eval() (its running statistics are folded)")
                if bn.running_mean is None:
                    raise _unsupported(node, modules, "a BatchNorm without running statistics "
                                                      "(track_running_stats=False) normalizes by the batch")
        example = self._example(nodes, modules)
        shapes = self._shapes(gm, example)
        values = {}
        x = placeholders[0]
        sample = tuple(example.shape[1:]) or (1,)
        inputs = self.new_nodes("x", (math.prod(sample),), kind=INPUT)
        for i in range(inputs.size):
            self.ids[inputs[i]] = f"x{i}"
        values[x] = Value(inputs.reshape(sample), made_by="the input")
        self.batch = example.shape[0]
        out = None
        for node in nodes:
            self.node = node
            if node.op == "placeholder":
                continue
            if node.op == "get_attr":
                raise _unsupported(node, modules, "parameters used outside their modules are not supported")
            if node.op == "output":
                out = node.args[0]
                break
            values[node] = self.step(node, values, shapes)
        if not isinstance(out, fx.Node) or not isinstance(values.get(out), Value):
            raise Error("scaleinv.torch: the model's output must be one tensor")
        self.finish(values[out], out)
        return self.build()

    def _example(self, nodes, modules):
        if self.example is not None:
            e = self.example
            if not isinstance(e, torch.Tensor) or e.dim() < 1:
                raise Error("scaleinv.torch: example_input must be a tensor of shape (batch, ...)")
            return e
        for node in nodes:
            if node.op == "call_module" and isinstance(modules[node.target], nn.Linear):
                return torch.zeros(1, modules[node.target].in_features)
            if node.op == "call_module" and isinstance(modules[node.target], _CONV):
                raise Error(f"scaleinv.torch: {type(self.model).__name__} has a convolution "
                            f"('{node.target}'): give example_input (a batch of the input's shape)")
        raise Error(f"scaleinv.torch: {type(self.model).__name__} has no nn.Linear layer")

    def _shapes(self, gm, example):
        """The output shape of every node on the example (a run of the model in no_grad)."""
        shapes = {}
        dtype = next((p.dtype for p in self.model.parameters()), example.dtype)
        example = example.to(dtype) if example.is_floating_point() else example

        class Recorder(fx.Interpreter):
            def run_node(self, n):
                r = super().run_node(n)
                if isinstance(r, torch.Tensor):
                    shapes[n] = tuple(r.shape)
                return r

        try:
            with torch.no_grad():
                Recorder(gm).run(example)
        except Exception as e:
            raise Error(f"scaleinv.torch: the model does not run on example_input of shape "
                        f"{tuple(example.shape)}: {(str(e).splitlines() or [''])[0]}") from e
        return shapes

    def tensor(self, node, values, arg):
        if not isinstance(arg, fx.Node) or not isinstance(values.get(arg), Value):
            raise _unsupported(node, self.modules, f"argument {arg!r} is not a tensor the model computed")
        return values[arg]

    def step(self, node, values, shapes):
        modules = self.modules
        if node.op == "call_method" and node.target in ("size", "dim"):
            return None
        if node.op == "call_function" and node.target is builtins.getattr:
            return None
        if node.op == "call_function" and node.target is operator.getitem and not isinstance(values.get(node.args[0]),
                                                                                              Value):
            return None
        m = modules[node.target] if node.op == "call_module" else None
        first = node.args[0] if node.args else None
        if m is not None:
            if isinstance(m, (nn.Linear,) + _CONV):
                if node.target in self.seen_modules:
                    raise _unsupported(node, modules, f"a {type(m).__name__} applied twice shares its weights "
                                                      "between layers")
                self.seen_modules.add(node.target)
                v = self.tensor(node, values, first)
                if isinstance(m, nn.Linear):
                    return self.linear(node.target, m, v)
                return self.conv(node.target, m, v, shapes[node])
            if isinstance(m, _BN):
                return self.batchnorm(node, m, self.tensor(node, values, first))
            act = self._module_activation(m)
            if act is not None:
                return self.activation(node, values, first, act, shapes)
            if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)):
                if m.return_indices:
                    raise _unsupported(node, modules, "return_indices=True")
                return self.pool(node, self.tensor(node, values, first), "max", m.kernel_size, m.stride, m.padding,
                                 m.dilation, m.ceil_mode, True, None, shapes[node])
            if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d)):
                return self.pool(node, self.tensor(node, values, first), "avg", m.kernel_size, m.stride, m.padding, 1,
                                 m.ceil_mode, m.count_include_pad, getattr(m, "divisor_override", None), shapes[node])
            if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
                return self.adaptive(node, self.tensor(node, values, first), shapes[node])
            if isinstance(m, _PASS_MODULES):
                return self.passthrough(node, values, first)
            if isinstance(m, nn.Flatten):
                return self.reshape(node, values, first, shapes)
            why = ("scaleinv.torch handles Linear, Conv1d/Conv2d, BatchNorm (eval, after a Linear or conv), the ReLU "
                   "family (ReLU, LeakyReLU, PReLU), max/average pooling, additions, Flatten, Identity and Dropout")
            raise _unsupported(node, modules, why)
        if node.op == "call_function":
            t = node.target
            if t in _RELU_FUNCTIONS:
                return self.activation(node, values, first, "relu", shapes)
            if t is F.leaky_relu:
                slope = node.args[1] if len(node.args) > 1 else node.kwargs.get("negative_slope", 0.01)
                return self.activation(node, values, first, f"leaky_relu:{_frac(slope)}", shapes)
            if t in _ADD_FUNCTIONS:
                if "alpha" in node.kwargs or len(node.args) != 2:
                    raise _unsupported(node, modules, "torch.add with alpha")
                return self.add(node, values, node.args[0], node.args[1], shapes)
            if t in _RESHAPE_FUNCTIONS:
                return self.reshape(node, values, first, shapes)
            if t is F.dropout:
                return self.passthrough(node, values, first)
            if t in (F.max_pool2d, F.max_pool1d, F.avg_pool2d, F.avg_pool1d):
                return self.functional_pool(node, values, shapes)
            if t in (F.adaptive_avg_pool2d, F.adaptive_avg_pool1d):
                return self.adaptive(node, self.tensor(node, values, first), shapes[node])
        if node.op == "call_method":
            if node.target == "relu":
                return self.activation(node, values, first, "relu", shapes)
            if node.target in _RESHAPE_METHODS:
                return self.reshape(node, values, first, shapes)
        raise _unsupported(node, modules, "scaleinv.torch cannot unroll it (see docs/python.md for what it can)")

    @staticmethod
    def _module_activation(m):
        if isinstance(m, nn.ReLU):
            return "relu"
        if isinstance(m, nn.LeakyReLU):
            return f"leaky_relu:{_frac(m.negative_slope)}"
        if isinstance(m, nn.PReLU):
            slopes = m.weight.detach().double().reshape(-1).tolist()
            return [f"prelu:{_frac(s)}" for s in slopes]
        return None

    # -- operations -------------------------------------------------------------------------------
    def passthrough(self, node, values, arg):
        v = self.tensor(node, values, arg)
        return Value(v.nodes, v.fresh and len(arg.users) == 1, v.layer, v.merged, v.made_by)

    def reshape(self, node, values, arg, shapes):
        v = self.tensor(node, values, arg)
        shape = shapes[node]
        if not shape or shape[0] != self.batch or math.prod(shape[1:]) != v.nodes.size:
            raise _unsupported(node, self.modules, f"a reshape to {shape} mixes samples of the batch "
                                                   f"(batch {self.batch}, {v.nodes.size} entries per sample)")
        return Value(v.nodes.reshape(shape[1:] or (1,)), v.fresh and len(arg.users) == 1, v.layer, v.merged,
                     v.made_by)

    def linear(self, path, m, v):
        if v.nodes.ndim != 1:
            raise Error(f"scaleinv.torch: module '{path}' (Linear) reads a tensor of shape {v.nodes.shape} per "
                        "sample; flatten it first (Linear on the last of several dimensions is not supported)")
        if v.nodes.size != m.in_features:
            raise Error(f"scaleinv.torch: module '{path}' (Linear) takes {m.in_features} features but gets "
                        f"{v.nodes.size}")
        layer = ParamLayer(path, m, self.num_slots)
        self.num_slots += m.weight.numel()
        bias_node = self._bias_node(layer)
        units = self.new_nodes(path, (m.out_features,))
        layer.units = units.reshape(-1, 1)
        i = np.arange(m.in_features)
        j = np.arange(m.out_features)
        src = np.broadcast_to(v.nodes[None, :], (m.out_features, m.in_features))
        dst = np.broadcast_to(units[:, None], (m.out_features, m.in_features))
        slot = layer.w_offset + j[:, None] * m.in_features + i[None, :]
        self.add_edges(src, dst, slot=slot, what=f"module '{path}' (Linear)")
        self._bias(layer, bias_node)
        self.layers.append(layer)
        return Value(units, fresh=True, layer=layer, made_by=f"Linear '{path}'")

    def _bias_node(self, layer):
        """The bias node of a layer with a bias (made before its units, as make_mlp does), else None."""
        if layer.module.bias is None:
            return None
        node = self.new_nodes(f"{layer.path}.bias", (1,), kind=BIAS)[0]
        self.ids[node] = f"{layer.path}.bias"
        return node

    def _bias(self, layer, node=None):
        """Allocates the bias slots and edges of a layer whose bias exists (or BN added one)."""
        if not layer.has_bias() or layer.bias_node is not None:
            return
        layer.b_offset = self.num_slots
        self.num_slots += layer.channels
        if node is None:
            node = self._bias_node(layer) if layer.module.bias is not None else None
        if node is None:
            node = self.new_nodes(f"{layer.path}.bias", (1,), kind=BIAS)[0]
            self.ids[node] = f"{layer.path}.bias"
        layer.bias_node = node
        dst = layer.units
        slot = layer.b_offset + np.arange(layer.channels)[:, None] + np.zeros_like(dst)
        start = self.add_edges(np.full(dst.size, node), dst, slot=slot,
                               what=f"module '{layer.path}' ({type(layer.module).__name__})")
        layer.bias_edges = (start, dst.size)

    def conv(self, path, m, v, out_shape):
        spatial = 1 if isinstance(m, nn.Conv1d) else 2
        x = v.nodes
        if x.ndim != spatial + 1 or x.shape[0] != m.in_channels:
            raise Error(f"scaleinv.torch: module '{path}' ({type(m).__name__}) expects ({m.in_channels}, ...) with "
                        f"{spatial} spatial dimensions per sample, gets {x.shape}")
        if m.padding_mode != "zeros":
            raise Error(f"scaleinv.torch: module '{path}' ({type(m).__name__}) has padding_mode "
                        f"'{m.padding_mode}'; only zero padding is supported")
        k = _pair(m.kernel_size, spatial)
        s = _pair(m.stride, spatial)
        d = _pair(m.dilation, spatial)
        if isinstance(m.padding, str):
            if m.padding == "valid":
                lo = (0,) * spatial
            else:  # 'same': PyTorch puts the odd pixel on the right
                lo = tuple((di * (ki - 1)) // 2 for di, ki in zip(d, k))
        else:
            lo = _pair(m.padding, spatial)
        if spatial == 1:
            x = x[:, None, :]
            k, s, d, lo = (1,) + k, (1,) + s, (1,) + d, (0,) + lo
        osp = tuple(out_shape[2:]) if spatial == 2 else (1,) + tuple(out_shape[2:])
        O, G = m.out_channels, m.groups
        Cg, Og = m.in_channels // G, O // G
        H, W = x.shape[1:]
        OH, OW = osp
        units_shape = (O,) + tuple(out_shape[2:])
        # At least the kernel entries that land inside, at most all of them: refuse early when even
        # a quarter of the full count would pass the limit (the exact count is checked edge by edge).
        self.check_size(O * Cg * k[0] * k[1] * OH * OW // 4, f"module '{path}' ({type(m).__name__})")
        layer = ParamLayer(path, m, self.num_slots)
        self.num_slots += m.weight.numel()
        bias_node = self._bias_node(layer)
        units = self.new_nodes(path, units_shape)
        u = units.reshape(O, OH, OW)
        layer.units = units.reshape(O, -1)
        o = np.arange(O)
        g_in = (o // Og)[:, None] * Cg + np.arange(Cg)[None, :]  # (O, Cg) input channel of each (o, ig)
        for kh in range(k[0]):
            ih = np.arange(OH) * s[0] - lo[0] + kh * d[0]
            okh = (ih >= 0) & (ih < H)
            for kw in range(k[1]):
                iw = np.arange(OW) * s[1] - lo[1] + kw * d[1]
                okw = (iw >= 0) & (iw < W)
                if not okh.any() or not okw.any():
                    continue
                oh_idx, ow_idx = np.nonzero(okh)[0], np.nonzero(okw)[0]
                # (O, Cg, P) with P the valid output positions
                src = x[g_in[:, :, None, None], ih[oh_idx][None, None, :, None], iw[ow_idx][None, None, None, :]]
                dst = np.broadcast_to(u[:, None][:, :, oh_idx[:, None], ow_idx[None, :]], src.shape)
                kk = kh * k[1] + kw if spatial == 2 else kw
                slot = layer.w_offset + ((o[:, None] * Cg + np.arange(Cg)[None, :]) * (k[0] * k[1]) + kk)
                slot = np.broadcast_to(slot[:, :, None, None], src.shape)
                self.add_edges(src, dst, slot=slot, what=f"module '{path}' ({type(m).__name__})")
        self._bias(layer, bias_node)
        self.layers.append(layer)
        return Value(units, fresh=True, layer=layer, made_by=f"{type(m).__name__} '{path}'")

    def batchnorm(self, node, m, v):
        if not (v.fresh and v.layer is not None and v.layer.bn is None and not v.merged
                and len(node.args[0].users) == 1):
            raise _unsupported(node, self.modules, f"a BatchNorm must follow a Linear or convolution whose output "
                                                   f"has no other use (here it follows {v.made_by or 'the input'})")
        layer = v.layer
        if m.num_features != layer.channels:
            raise _unsupported(node, self.modules, f"{m.num_features} features after the {layer.channels} channels "
                                                   f"of '{layer.path}'")
        layer.bn = m
        layer.bn_path = node.target
        self._bias(layer)
        return Value(v.nodes, True, layer, False, f"BatchNorm '{node.target}' after '{layer.path}'")

    def activation(self, node, values, arg, act, shapes):
        v = self.tensor(node, values, arg)
        kinds = self.kinds
        if kinds[v.nodes.flat[0]] in (INPUT, BIAS):
            raise _unsupported(node, self.modules, "an activation before the first Linear acts on the inputs, "
                                                   "which have no rescaling symmetry")
        if isinstance(act, list):  # PReLU: one slope, or one per channel
            C = v.nodes.shape[0]
            if len(act) == 1:
                act = act[0]
            elif len(act) != C:
                raise _unsupported(node, self.modules, f"{len(act)} slopes for the {C} channels of {v.made_by}")
        current = {self.acts[i] for i in v.nodes.reshape(-1)[:1]}
        current_name = self.act_names[next(iter(current))].split(":")[0]
        if v.fresh and len(arg.users) == 1 and current_name == "linear":
            self._set_activation(v.nodes, act)
            return Value(v.nodes, False, v.layer, v.merged, v.made_by)
        if current_name in _FAMILY and len(arg.users) == 1:
            raise _unsupported(node, self.modules, f"a second activation after {v.made_by}")
        units = self.new_nodes(node.name, v.nodes.shape)
        self._set_activation(units, act)
        self.add_edges(v.nodes, units, const_den=1, what=_describe(node, self.modules))
        return Value(units, False, None, False, _describe(node, self.modules))

    def _set_activation(self, nodes, act):
        if isinstance(act, list):
            for c, a in enumerate(act):
                idx = self._act(a)
                for i in nodes[c].reshape(-1):
                    self.acts[i] = idx
        else:
            idx = self._act(act)
            for i in nodes.reshape(-1):
                self.acts[i] = idx

    def add(self, node, values, a, b, shapes):
        if not (isinstance(a, fx.Node) and isinstance(b, fx.Node)):
            raise _unsupported(node, self.modules, "adding a number is not positively homogeneous")
        va, vb = self.tensor(node, values, a), self.tensor(node, values, b)
        if va.nodes.shape != vb.nodes.shape:
            raise _unsupported(node, self.modules, f"adding shapes {va.nodes.shape} and {vb.nodes.shape} "
                                                   "(broadcasting is not supported)")
        if a is b:
            raise _unsupported(node, self.modules, "a tensor added to itself")
        what = _describe(node, self.modules)
        for into, other, arg in ((va, vb, a), (vb, va, b)):
            if into.fresh and len(arg.users) == 1 and self.kinds[into.nodes.flat[0]] == HIDDEN:
                self.add_edges(other.nodes, into.nodes, const_den=1, what=what)
                return Value(into.nodes, True, into.layer, True, into.made_by)
        units = self.new_nodes(node.name, va.nodes.shape)
        self.add_edges(va.nodes, units, const_den=1, what=what)
        self.add_edges(vb.nodes, units, const_den=1, what=what)
        return Value(units, True, None, True, what)

    def functional_pool(self, node, values, shapes):
        t = node.target
        spatial = 1 if t in (F.max_pool1d, F.avg_pool1d) else 2
        names = ["input", "kernel_size", "stride", "padding"]
        names += ["dilation", "ceil_mode", "return_indices"] if t in (F.max_pool1d, F.max_pool2d) else \
            ["ceil_mode", "count_include_pad", "divisor_override"]
        args = dict(zip(names, node.args))
        args.update(node.kwargs)
        k = args["kernel_size"]
        s = args.get("stride") or k
        p = args.get("padding", 0)
        if t in (F.max_pool1d, F.max_pool2d):
            if args.get("return_indices"):
                raise _unsupported(node, self.modules, "return_indices=True")
            return self.pool(node, self.tensor(node, values, args["input"]), "max", k, s, p, args.get("dilation", 1),
                             args.get("ceil_mode", False), True, None, shapes[node])
        return self.pool(node, self.tensor(node, values, args["input"]), "avg", k, s, p, 1,
                         args.get("ceil_mode", False), args.get("count_include_pad", True),
                         args.get("divisor_override"), shapes[node])

    def pool(self, node, v, kind, k, s, p, d, ceil_mode, include_pad, divisor, out_shape):
        x = v.nodes
        spatial = x.ndim - 1
        if spatial not in (1, 2):
            raise _unsupported(node, self.modules, f"pooling a tensor of shape {x.shape} per sample")
        k, s, p, d = (_pair(t, spatial) for t in (k, s if s is not None else k, p, d))
        if spatial == 1:
            x = x[:, None, :]
            k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
        C, H, W = x.shape
        osp = tuple(out_shape[2:]) if spatial == 2 else (1,) + tuple(out_shape[2:])
        OH, OW = osp
        units = self.new_nodes(node.name, (C,) + tuple(out_shape[2:]),
                               act="max_pool" if kind == "max" else "linear")
        u = units.reshape(C, OH, OW)
        what = _describe(node, self.modules)
        if kind == "avg":
            den = np.empty((OH, OW), dtype=np.int64)
            hs, ws = np.arange(OH) * s[0] - p[0], np.arange(OW) * s[1] - p[1]
            he, we = np.minimum(hs + k[0], H + p[0]), np.minimum(ws + k[1], W + p[1])
            pool_size = (he - hs)[:, None] * (we - ws)[None, :]
            inside = (np.minimum(he, H) - np.maximum(hs, 0))[:, None] * (np.minimum(we, W) - np.maximum(ws, 0))[None, :]
            if divisor:
                den[:] = divisor
            else:
                den[:] = pool_size if include_pad else inside
        for kh in range(k[0]):
            ih = np.arange(OH) * s[0] - p[0] + kh * d[0]
            okh = np.nonzero((ih >= 0) & (ih < H))[0]
            for kw in range(k[1]):
                iw = np.arange(OW) * s[1] - p[1] + kw * d[1]
                okw = np.nonzero((iw >= 0) & (iw < W))[0]
                if not okh.size or not okw.size:
                    continue
                src = x[:, ih[okh][:, None], iw[okw][None, :]]
                dst = u[:, okh[:, None], okw[None, :]]
                cd = 1 if kind == "max" else np.broadcast_to(den[okh[:, None], okw[None, :]], src.shape)
                self.add_edges(src, dst, const_den=cd, what=what)
        return Value(units, kind == "avg", None, False, what)

    def adaptive(self, node, v, out_shape):
        x = v.nodes
        spatial = x.ndim - 1
        if spatial not in (1, 2):
            raise _unsupported(node, self.modules, f"pooling a tensor of shape {x.shape} per sample")
        if spatial == 1:
            x = x[:, None, :]
        C, H, W = x.shape
        osp = tuple(out_shape[2:]) if spatial == 2 else (1,) + tuple(out_shape[2:])
        OH, OW = osp
        units = self.new_nodes(node.name, (C,) + tuple(out_shape[2:]))
        u = units.reshape(C, OH, OW)
        what = _describe(node, self.modules)
        for i in range(OH):
            h0, h1 = (i * H) // OH, -((-(i + 1) * H) // OH)
            for j in range(OW):
                w0, w1 = (j * W) // OW, -((-(j + 1) * W) // OW)
                src = x[:, h0:h1, w0:w1].reshape(C, -1)
                dst = np.broadcast_to(u[:, i, j][:, None], src.shape)
                self.add_edges(src, dst, const_den=(h1 - h0) * (w1 - w0), what=what)
        return Value(units, True, None, False, what)

    # -- the end ----------------------------------------------------------------------------------
    def finish(self, v, out_node):
        nodes = v.nodes.reshape(-1)
        name = self.act_names[self.acts[nodes[0]]].split(":")[0] if self.acts[nodes[0]] >= 0 else None
        if self.kinds[nodes[0]] != HIDDEN:
            raise Error("scaleinv.torch: the model's output is its input (nothing to analyze)")
        if name in _FAMILY:
            raise Error(f"scaleinv.torch: the model ends with an activation after {v.made_by}; scaleinv's "
                        "outputs are linear units (put the activation in the loss instead)")
        if not (v.fresh and name == "linear" and len(out_node.users) == 1):
            raise Error(f"scaleinv.torch: the model's output comes from {v.made_by}; it must come from a Linear, a "
                        "convolution, an average pooling or an addition (scaleinv's outputs are linear units)")
        for i in nodes:
            self.kinds[i] = OUTPUT
            self.acts[i] = -1
            self.labels[i] = -1

    def build(self):
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dtype=dt))
        src, dst = cat(self.src, np.int64), cat(self.dst, np.int64)
        slots, cden, cval = cat(self.slot, np.int64), cat(self.cden, np.int64), cat(self.cval, np.float64)
        # Shared parameter names: the slots of conv layers.
        names, slot_name = [], np.full(self.num_slots, -1, dtype=np.int64)
        for layer in self.layers:
            if isinstance(layer.module, _CONV):
                w = layer.module.weight
                for flat, idx in enumerate(np.ndindex(*w.shape)):
                    slot_name[layer.w_offset + flat] = len(names)
                    names.append(f"{layer.path}.weight[{','.join(map(str, idx))}]")
                if layer.b_offset is not None:
                    for c in range(layer.channels):
                        slot_name[layer.b_offset + c] = len(names)
                        names.append(f"{layer.path}.bias[{c}]")
        params = np.where(slots >= 0, slot_name[np.maximum(slots, 0)] if self.num_slots else -1, -1)
        plain = not any(isinstance(l.module, _CONV) or l.bn is not None for l in self.layers) and not (cden > 0).any()
        traced = TracedModel(None, self.layers, slots, cval, np.asarray(self.labels, dtype=np.int64),
                             self.label_names, plain)
        weights = traced.edge_weights()
        net = _scaleinv._from_arrays(type(self.model).__name__, self.ids, np.asarray(self.kinds, dtype=np.uint8),
                                     self.act_names, np.asarray(self.acts, dtype=np.int64), src, dst, params, names,
                                     cden, weights)
        traced.network = net
        traced.tails, traced.heads = src, dst
        traced.num_slots = self.num_slots
        return traced


def trace(model, example_input=None, max_edges=MAX_EDGES):
    """The TracedModel of a PyTorch model (see the module comment for what is supported)."""
    if not isinstance(model, nn.Module):
        raise Error(f"scaleinv.torch: expected a torch.nn.Module, got {type(model).__name__}")
    return _Unroller(model, example_input, max_edges).run()
