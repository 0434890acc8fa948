"""Small neural networks: forward pass and backpropagation (numpy, float64)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import Degenerate
from ..inputs import float30
from ..numfmt import tex_value
from . import operation, Result

ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a), r"\sigma"),
    "tanh": (np.tanh, lambda z, a: 1 - a ** 2, r"\tanh"),
    "linear": (lambda z: z, lambda z, a: np.ones_like(z), ""),
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(float), r"\operatorname{ReLU}"),
}


def _array(x) -> np.ndarray:
    if isinstance(x, (list, tuple)):
        return np.array([_array(v) for v in x], dtype=float)
    return np.array(float30(x))


def _layers(inp):
    layers = []
    for k, layer in enumerate(inp["layers"], 1):
        W = np.atleast_2d(_array(layer["weights"]))
        b = np.atleast_1d(_array(layer["biases"]))
        act = str(layer.get("activation", "sigmoid"))
        if act not in ACTIVATIONS:
            raise ValueError(f"layer {k}: unknown activation {act!r} (use {', '.join(ACTIVATIONS)})")
        if W.shape[0] != b.shape[0]:
            raise ValueError(f"layer {k}: {W.shape[0]} rows of weights but {b.shape[0]} biases")
        layers.append((W, b, act))
    return layers


def _forward(layers, x):
    """Return the list of (z, a) per layer, a^(0) = x."""
    a, trace = x, []
    for W, b, act in layers:
        if W.shape[1] != a.shape[0]:
            raise ValueError(f"weights with {W.shape[1]} columns applied to {a.shape[0]} inputs")
        z = W @ a + b
        a = ACTIVATIONS[act][0](z)
        trace.append((z, a))
    if not np.all(np.isfinite(a)):
        raise Degenerate("the network output is not finite")
    return trace


def _vec(v) -> str:
    return tex_value([float(c) for c in np.atleast_1d(v)], 4)


@operation("forward", kind="vector", required=("layers", "input"))
def forward(inp):
    layers, x = _layers(inp), np.atleast_1d(_array(inp["input"]))
    trace = _forward(layers, x)
    steps = []
    for k, ((z, a), (_, _, act)) in enumerate(zip(trace, layers), 1):
        steps.append(rf"\mathbf{{z}}^{{({k})}} = W^{{({k})}}\mathbf{{a}}^{{({k - 1})}} + \mathbf{{b}}^{{({k})}} = {_vec(z)}")
        steps.append(rf"\mathbf{{a}}^{{({k})}} = {ACTIVATIONS[act][2]}(\mathbf{{z}}^{{({k})}}) = {_vec(a)}")
    return Result([sp.Float(v, 17) for v in trace[-1][1]], steps)


@operation("backprop", kind="matrix", required=("layers", "input", "target", "wrt"), optional=("cost",))
def backprop(inp):
    return backprop_with(inp, ACTIVATIONS)


def backprop_with(inp, activations: dict):
    """Backpropagation with a given activation table (misconceptions pass a wrong derivative)."""
    layers = _layers(inp)
    x, y = np.atleast_1d(_array(inp["input"])), np.atleast_1d(_array(inp["target"]))
    cost = str(inp.get("cost") or "squared_error")
    scale = {"squared_error": 2.0, "half_squared_error": 1.0}.get(cost)
    if scale is None:
        raise ValueError(f"unknown cost {cost!r} (use squared_error or half_squared_error)")
    wrt = inp["wrt"]
    layer, param = sp.sympify(wrt["layer"]), str(wrt["param"])
    if not (layer.is_integer and 1 <= layer <= len(layers)):
        raise ValueError(f"wrt.layer must be one of 1..{len(layers)}, not {wrt['layer']}: layers are numbered "
                         f"from 1 (W^(1) is the first layer's weights) to L = {len(layers)}, the output layer")
    if param not in ("weights", "biases"):
        raise ValueError(f"wrt.param must be 'weights' or 'biases', not {param!r}")
    layer = int(layer)
    trace = _forward(layers, x)
    acts = [x] + [a for _, a in trace]
    a_L = acts[-1]
    delta = scale * (a_L - y) * activations[layers[-1][2]][1](trace[-1][0], a_L)
    steps = [rf"\mathbf{{a}}^{{(L)}} = {_vec(a_L)}",
             rf"\boldsymbol{{\delta}}^{{({len(layers)})}} = \frac{{\partial C}}{{\partial \mathbf{{a}}^{{(L)}}}} \odot "
             rf"{ACTIVATIONS[layers[-1][2]][2]}'(\mathbf{{z}}^{{(L)}}) = {_vec(delta)}"]
    for k in range(len(layers), layer, -1):
        W_k = layers[k - 1][0]
        z_prev, a_prev = trace[k - 2]
        delta = (W_k.T @ delta) * activations[layers[k - 2][2]][1](z_prev, a_prev)
        steps.append(rf"\boldsymbol{{\delta}}^{{({k - 1})}} = (W^{{({k})}})^\top \boldsymbol{{\delta}}^{{({k})}} \odot "
                     rf"{ACTIVATIONS[layers[k - 2][2]][2]}'(\mathbf{{z}}^{{({k - 1})}}) = {_vec(delta)}")
    if param == "biases":
        grad = delta
        steps.append(rf"\frac{{\partial C}}{{\partial \mathbf{{b}}^{{({layer})}}}} = \boldsymbol{{\delta}}^{{({layer})}} = {_vec(grad)}")
        return Result([sp.Float(v, 17) for v in grad], steps)
    grad = np.outer(delta, acts[layer - 1])
    steps.append(rf"\frac{{\partial C}}{{\partial W^{{({layer})}}}} = \boldsymbol{{\delta}}^{{({layer})}} "
                 rf"(\mathbf{{a}}^{{({layer - 1})}})^\top = {tex_value(grad.tolist(), 4)}")
    return Result([[sp.Float(v, 17) for v in row] for row in grad], steps)
