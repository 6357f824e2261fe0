"""A PyTorch ``nn.Sequential`` read as the paper's FNN (``FNN.from_torch``).

The model must be ``Linear, [activation], Linear, [activation], ..., Linear, [activation]``:

    y^(k) = W^(k) z^(k-1) + b^(k),   z^(k) = f(y^(k)),   k = 1..l   (eq. 10-11)

with torch's conventions already the project's: samples are rows and ``Linear.weight`` is
W^(k) of shape (n_out, n_in) = (m, n), ``Linear.bias`` is b^(k). So ``weights[k-1]`` is the
k-th Linear's weight as it is, no transpose.

Activations (:data:`TORCH_ACTIVATIONS`): ``nn.Tanh`` -> "tanh", ``nn.Sigmoid`` -> "sigmoid",
``nn.ReLU`` -> "relu", ``nn.Identity`` -> "identity", ``nn.Softplus`` with ``beta=1`` and
``threshold >= 20`` -> "softplus" (torch returns y itself above ``threshold``, 20 by default,
where log(1 + e^y) differs from y by at most 2.1e-9). A Linear followed directly by another
Linear has the identity after it. Every hidden level must have the same activation (the FNN
applies one f at levels 1..l-1); the output level's is the activation after the last Linear,
or the identity if there is none (``output_activation``).

A ``Linear(..., bias=False)`` becomes a level with zero biases (chosen over a refusal): the
network computes the same function and loss, and the W blocks of every Hessian are the
model's; the bias entries of ``parameter_vector()`` and of the whole Hessian are derivatives
for which the torch model has no parameter. Anything else (dropout, normalization, other
activations, nested containers, subclasses) is refused with a ``ValueError`` naming the
module and the supported kinds.

Parameters are detached and copied (later steps of the torch model do not change the
network) and keep the model's dtype and device: a float64 model on CUDA gives float64 CUDA
tensors, and every result comes back as such tensors. ``model.double()`` first for float64.
torch is imported here only when a model is converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TORCH_ACTIVATIONS", "TorchLayers", "sequential_layers"]

#: torch.nn class name -> the activation name of :mod:`hessian_core.activations`.
TORCH_ACTIVATIONS: dict[str, str] = {
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "ReLU": "relu",
    "Identity": "identity",
    "Softplus": "softplus",
}


@dataclass(frozen=True)
class TorchLayers:
    """What the FNN constructor needs, read from a ``torch.nn.Sequential``."""

    weights: list[Any]
    biases: list[Any]
    activation: str
    output_activation: str


def _supported() -> str:
    kinds = ", ".join(f"nn.{name}" for name in TORCH_ACTIVATIONS)
    return (
        f"nn.Linear and the element-wise activations {kinds} "
        "(nn.Softplus with beta=1, threshold >= 20)"
    )


def _describe(index: int, module: Any) -> str:
    """``module 3 (nn.Dropout: Dropout(p=0.1, inplace=False))``, on one line."""
    text = " ".join(repr(module).split())
    return f"module {index} (nn.{type(module).__name__}: {text[:80]})"


def _activation_name(index: int, module: Any) -> str:
    name = TORCH_ACTIVATIONS[type(module).__name__]
    if name == "softplus" and (float(module.beta) != 1.0 or float(module.threshold) < 20.0):
        raise ValueError(
            f"{_describe(index, module)}: only nn.Softplus with beta=1 and threshold >= 20 is "
            f"supported (the core's softplus is log(1 + e^y)); supported: {_supported()}"
        )
    return name


def sequential_layers(model: Any) -> TorchLayers:
    """The weights, biases and activations of ``model``, a ``torch.nn.Sequential`` of
    ``Linear`` layers and element-wise activations; ``ValueError`` for anything else."""
    import torch

    if type(model) is not torch.nn.Sequential:  # exact class: a subclass may change forward
        raise ValueError(
            f"model must be a torch.nn.Sequential of {_supported()}, "
            f"got {type(model).__module__}.{type(model).__name__}"
        )
    activations = {getattr(torch.nn, name) for name in TORCH_ACTIVATIONS}
    modules = list(model)
    linears: list[Any] = []
    after: list[str | None] = []  # the activation after each Linear, None if none yet
    for index, module in enumerate(modules):
        if type(module) is torch.nn.Linear:
            linears.append(module)
            after.append(None)
            continue
        if type(module) not in activations:  # exact classes: a subclass may change forward
            raise ValueError(
                f"{_describe(index, module)} is not supported; supported: {_supported()}"
            )
        if not linears:
            raise ValueError(
                f"{_describe(index, module)}: the model must begin with an nn.Linear "
                f"(an activation applies to a level's pre-activation y = W z + b)"
            )
        if after[-1] is not None:
            raise ValueError(
                f"{_describe(index, module)}: a second activation after one nn.Linear; "
                f"each level has one element-wise activation (supported: {_supported()})"
            )
        after[-1] = _activation_name(index, module)
    if not linears:
        raise ValueError(f"model must hold at least one nn.Linear; supported: {_supported()}")
    levels = [name or "identity" for name in after]
    hidden = set(levels[:-1])
    if len(hidden) > 1:
        listed = ", ".join(f"level {k}: {name}" for k, name in enumerate(levels[:-1], start=1))
        raise ValueError(
            "every hidden level must have the same activation (the FNN applies one f at "
            f"levels 1..l-1 and output_activation at level l), got {listed}"
        )
    first = linears[0].weight
    weights, biases = [], []
    for k, linear in enumerate(linears, start=1):
        W = linear.weight.detach()
        for array in (W,) if linear.bias is None else (W, linear.bias):
            if array.dtype != first.dtype or array.device != first.device:
                raise ValueError(
                    f"nn.Linear {k} has dtype {array.dtype} on {array.device}, the first has "
                    f"{first.dtype} on {first.device}: convert the model (model.double(), "
                    "model.to(device)) so that all its parameters agree"
                )
        weights.append(W.clone())
        if linear.bias is None:  # the same function with b^(k) = 0 (see the module docstring)
            biases.append(torch.zeros(W.shape[0], dtype=W.dtype, device=W.device))
        else:
            biases.append(linear.bias.detach().clone())
    hidden_name = levels[0] if len(levels) == 1 else levels[-2]
    return TorchLayers(weights, biases, hidden_name, levels[-1])
