"""Tracing a PyTorch model into a scaleinv network (torch.fx), for scaleinv.torch.

Supported today: a chain of nn.Linear layers (with or without bias) separated by at most one
activation of the ReLU family (nn.ReLU, nn.LeakyReLU, nn.PReLU, F.relu, F.leaky_relu, torch.relu),
with nn.Flatten / torch.flatten / .view / .reshape / .flatten on the input, and nn.Identity and
nn.Dropout anywhere (they do not change the graph). A Linear with no activation after it feeds a
layer of `linear` units, which are positively homogeneous too. Anything else raises scaleinv.Error
naming the module path and type.

The network is built in make_mlp's node and edge order (inputs x0..; per layer its bias node, then
its units; per layer the weights row-major as W x, then the biases), so the C++ library's layered
kernels apply, and the flat weight vector is the concatenation of each Linear's weight.reshape(-1)
and bias, in the order the model applies them.
"""
import json
import math
import builtins
import operator

import torch
import torch.nn.functional as F
from torch import fx, nn

from . import _scaleinv

Error = _scaleinv.Error

_PASS_MODULES = (nn.Identity, nn.Dropout)
_RESHAPE_METHODS = {"view", "reshape", "flatten"}
_RESHAPE_FUNCTIONS = {torch.flatten, torch.reshape}
_RELU_FUNCTIONS = {F.relu, torch.relu}


class Layer:
    """One Linear of the chain: its module path, sizes and the activation of its units."""

    def __init__(self, path, module):
        self.path = path
        self.module = module
        self.activation = None  # a dict of JSON node keys, or a list of them (one per unit), or None

    @property
    def units(self):
        return self.module.out_features


class TracedModel:
    """What trace() returns: the network (with the model's weights, float64), the Linear layers in
    the order the model applies them, and the parameters in edge order with their edge offsets."""

    def __init__(self, network, layers, params):
        self.network = network
        self.layers = layers
        self.params = params  # [(tensor, offset)], in edge order

    def flat_weights(self, dtype=torch.float64):
        return torch.cat([p.detach().reshape(-1).to(dtype) for p, _ in self.params])


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


def _activation_of(node, modules):
    """The activation a node applies, as JSON node keys, or None when it is not an activation."""
    if node.op == "call_module":
        m = modules[node.target]
        if isinstance(m, nn.ReLU):
            return {"activation": "relu"}
        if isinstance(m, nn.LeakyReLU):
            return {"activation": "leaky_relu", "slope": float(m.negative_slope)}
        if isinstance(m, nn.PReLU):
            slopes = m.weight.detach().double().reshape(-1).tolist()
            return [{"activation": "prelu", "slope": s} for s in slopes] if len(slopes) > 1 else \
                {"activation": "prelu", "slope": slopes[0]}
        return None
    if node.op == "call_function" and node.target in _RELU_FUNCTIONS:
        return {"activation": "relu"}
    if node.op == "call_function" and node.target is F.leaky_relu:
        slope = node.args[1] if len(node.args) > 1 else node.kwargs.get("negative_slope", 0.01)
        return {"activation": "leaky_relu", "slope": float(slope)}
    if node.op == "call_method" and node.target == "relu":
        return {"activation": "relu"}
    return None


def _is_pass_through(node, modules):
    """Nodes that leave the graph as it is: Identity, Dropout, and reshapes of a flat batch (or of
    the input, which is flattened sample by sample)."""
    if node.op == "call_module":
        m = modules[node.target]
        return isinstance(m, _PASS_MODULES) or (isinstance(m, nn.Flatten) and m.start_dim == 1 and m.end_dim == -1)
    if node.op == "call_function" and node.target in _RESHAPE_FUNCTIONS | {F.dropout}:
        return True
    if node.op == "call_method" and node.target in _RESHAPE_METHODS:
        return True
    return False


def _is_shape_query(node, shape_nodes):
    if node.op == "call_method" and node.target in ("size", "dim"):
        return True
    if node.op == "call_function" and node.target is builtins.getattr and node.args[1:] == ("shape",):
        return True
    return node.op == "call_function" and node.target is operator.getitem and node.args[0] in shape_nodes


def _chain(model):
    """The model's torch.fx graph as a list of (node, modules) steps, checked to be a chain."""
    try:
        gm = fx.symbolic_trace(model)
    except Exception as e:  # torch.fx raises many kinds (TraceError, TypeError, ...)
        raise Error(f"scaleinv.torch: torch.fx cannot trace {type(model).__name__}: {e}") from e
    modules = dict(gm.named_modules())
    nodes = list(gm.graph.nodes)
    placeholders = [n for n in nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise Error(f"scaleinv.torch: the model takes {len(placeholders)} inputs; one tensor is supported")
    current = placeholders[0]
    steps, shape_nodes = [], set()
    for node in nodes:
        if node.op in ("placeholder", "get_attr"):
            if node.op == "get_attr":
                raise _unsupported(node, modules, "parameters used outside their modules are not supported")
            continue
        if node.op == "output":
            if node.args[0] is not current:
                raise Error("scaleinv.torch: the model's output is not the end of its chain of layers")
            break
        if _is_shape_query(node, shape_nodes):
            shape_nodes.add(node)  # x.size(0), x.shape[0]: numbers for a reshape, not a layer
            continue
        tensor_args = [a for a in node.args if isinstance(a, fx.Node) and a not in shape_nodes]
        if tensor_args != [current]:
            raise _unsupported(node, modules, "the model must be a chain of layers, each applied to the previous "
                                              "one's output (skip connections and several inputs are not supported yet)")
        steps.append(node)
        current = node
    return steps, modules


def _layers(model):
    """The Linear layers of the chain and their activations."""
    steps, modules = _chain(model)
    layers, seen = [], set()
    for node in steps:
        act = _activation_of(node, modules)
        if node.op == "call_module" and isinstance(modules[node.target], nn.Linear):
            if node.target in seen:
                raise _unsupported(node, modules, "a Linear applied twice shares its weights between layers")
            seen.add(node.target)
            if layers and layers[-1].activation is None:
                layers[-1].activation = {"activation": "linear"}
            layers.append(Layer(node.target, modules[node.target]))
        elif act is not None:
            if not layers:
                raise _unsupported(node, modules, "an activation before the first Linear acts on the inputs, "
                                                  "which have no rescaling symmetry")
            if layers[-1].activation is not None:
                raise _unsupported(node, modules, f"a second activation after Linear '{layers[-1].path}'")
            if isinstance(act, list) and len(act) != layers[-1].units:
                raise _unsupported(node, modules, f"{len(act)} slopes for the {layers[-1].units} units of "
                                                  f"'{layers[-1].path}'")
            layers[-1].activation = act
        elif _is_pass_through(node, modules):
            continue
        else:
            why = "scaleinv.torch handles Linear layers, the ReLU family (ReLU, LeakyReLU, PReLU), Flatten, " \
                  "Identity and Dropout"
            raise _unsupported(node, modules, why)
    if not layers:
        raise Error(f"scaleinv.torch: {type(model).__name__} has no nn.Linear layer")
    if layers[-1].activation is not None:
        raise Error(f"scaleinv.torch: the model ends with an activation after Linear '{layers[-1].path}'; "
                    "scaleinv's outputs are linear units (put the activation in the loss instead)")
    for prev, nxt in zip(layers, layers[1:]):
        if prev.module.out_features != nxt.module.in_features:
            raise Error(f"scaleinv.torch: Linear '{prev.path}' has {prev.module.out_features} outputs but "
                        f"'{nxt.path}' takes {nxt.module.in_features} inputs")
    return layers


def _check_input(layers, example_input):
    if example_input is None:
        return
    if not isinstance(example_input, torch.Tensor) or example_input.dim() < 1:
        raise Error("scaleinv.torch: example_input must be a tensor of shape (batch, ...)")
    features = math.prod(example_input.shape[1:]) if example_input.dim() > 1 else 1
    if features != layers[0].module.in_features:
        raise Error(f"scaleinv.torch: example_input has {features} features per sample but the first Linear "
                    f"'{layers[0].path}' takes {layers[0].module.in_features}")


def _network_json(layers):
    """scaleinv.network JSON text in make_mlp's node and edge order (unweighted)."""
    nodes = [{"id": f"x{i}", "kind": "input"} for i in range(layers[0].module.in_features)]
    edges = []
    below = [n["id"] for n in nodes]
    for k, layer in enumerate(layers):
        last = k == len(layers) - 1
        bias_id = f"{layer.path}.bias"
        if layer.module.bias is not None:
            nodes.append({"id": bias_id, "kind": "bias"})
        ids = [f"{layer.path}[{j}]" for j in range(layer.units)]
        for j, uid in enumerate(ids):
            node = {"id": uid, "kind": "output" if last else "hidden"}
            if not last:
                act = layer.activation
                node.update(act[j] if isinstance(act, list) else act)
            nodes.append(node)
        quoted_below = [json.dumps(s) for s in below]
        for t in ids:
            qt = json.dumps(t)
            edges.extend('{"from": %s, "to": %s}' % (s, qt) for s in quoted_below)
        if layer.module.bias is not None:
            edges.extend('{"from": %s, "to": %s}' % (json.dumps(bias_id), json.dumps(t)) for t in ids)
        below = ids
    return ('{"format": "scaleinv.network", "version": 1,\n "nodes": ' + json.dumps(nodes) +
            ',\n "edges": [' + ",\n".join(edges) + "]}")


def trace(model, example_input=None):
    """The TracedModel of a PyTorch model (see the module comment for what is supported)."""
    if not isinstance(model, nn.Module):
        raise Error(f"scaleinv.torch: expected a torch.nn.Module, got {type(model).__name__}")
    layers = _layers(model)
    _check_input(layers, example_input)
    net = _scaleinv.Network.from_json(_network_json(layers), type(model).__name__)
    params = []
    offset = 0
    for layer in layers:
        for p in (layer.module.weight, layer.module.bias):
            if p is not None:
                params.append((p, offset))
                offset += p.numel()
    traced = TracedModel(net, layers, params)
    net.weights = traced.flat_weights().numpy()
    return traced
