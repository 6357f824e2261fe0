"""Activation functions f with their first and second derivatives f' and f''.

The paper applies one scalar function component-wise at every level, eq. (2) and (10):
``z = f(y)``. The Hessian needs f'' as well as f' (Theorem 1, eq. 34-35 and 38). For ReLU,
``f'(0)`` is taken as 0 and ``f''`` is 0 everywhere (Corollary 2 assumes no pre-activation is
exactly 0).

All functions are written against the array API standard and are numerically stable:
the sigmoid is ``(1 + tanh(y/2)) / 2`` and softplus is ``logaddexp(0, y)``, so no
intermediate overflows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "derivatives",
    "first_derivative",
    "get_activation",
]

ArrayFunction = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Activation:
    """A component-wise activation: ``f``, ``df`` = f', ``d2f`` = f'', each ``(xp, y) -> array``."""

    name: str
    f: ArrayFunction
    df: ArrayFunction
    d2f: ArrayFunction

    @property
    def piecewise_linear(self) -> bool:
        """True when f'' vanishes (ReLU, identity): the paper's ReLU corollaries apply."""
        return self.name in ("relu", "identity")

    @property
    def is_identity(self) -> bool:
        """True for f(y) = y: then f' = 1 and a product with f' is its other factor, bit for
        bit, so back-propagation skips it (the common output level)."""
        return self.name == "identity"


def _sigmoid(xp: Any, y: Any) -> Any:
    return 0.5 * (1.0 + xp.tanh(0.5 * y))


def _relu(xp: Any, y: Any) -> Any:
    return xp.where(y > 0, y, xp.zeros_like(y))


def _relu_prime(xp: Any, y: Any) -> Any:
    return xp.astype(y > 0, y.dtype)


def _zeros(xp: Any, y: Any) -> Any:
    return xp.zeros_like(y)


def _ones(xp: Any, y: Any) -> Any:
    return xp.ones_like(y)


def _sigmoid_prime(xp: Any, y: Any) -> Any:
    s = _sigmoid(xp, y)
    return s * (1.0 - s)


def _sigmoid_second(xp: Any, y: Any) -> Any:
    s = _sigmoid(xp, y)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _tanh_prime(xp: Any, y: Any) -> Any:
    t = xp.tanh(y)
    return 1.0 - t * t


def _tanh_second(xp: Any, y: Any) -> Any:
    t = xp.tanh(y)
    return -2.0 * t * (1.0 - t * t)


def _softplus(xp: Any, y: Any) -> Any:
    return xp.logaddexp(xp.zeros_like(y), y)


_TABLE = {
    "relu": Activation("relu", _relu, _relu_prime, _zeros),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_prime, _sigmoid_second),
    "tanh": Activation("tanh", lambda xp, y: xp.tanh(y), _tanh_prime, _tanh_second),
    "softplus": Activation("softplus", _softplus, _sigmoid, _sigmoid_prime),
    "identity": Activation("identity", lambda xp, y: y, _ones, _zeros),
}

#: Names accepted by ``activation=`` and ``output_activation=``.
ACTIVATIONS: tuple[str, ...] = tuple(_TABLE)


def get_activation(name: str, argument: str = "activation") -> Activation:
    """The :class:`Activation` called ``name``; ``ValueError`` naming ``argument`` otherwise."""
    if not isinstance(name, str) or name not in _TABLE:
        raise ValueError(
            f"{argument} must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r}"
        )
    return _TABLE[name]


def first_derivative(activation: Activation, xp: Any, y: Any, z: Any = None) -> Any:
    """f'(y). Given ``z = f(y)`` as the forward pass computed it, tanh's is ``1 - z*z`` and the
    sigmoid's ``z*(1 - z)``: the same bits as ``df(xp, y)`` (which computes f(y) the same way
    first), without evaluating the tanh again."""
    if z is not None and activation.name == "tanh":
        return 1.0 - z * z
    if z is not None and activation.name == "sigmoid":
        return z * (1.0 - z)
    return activation.df(xp, y)


def derivatives(activation: Activation, xp: Any, y: Any, z: Any = None) -> tuple[Any, Any]:
    """``(f'(y), f''(y))`` in one pass, equal to ``(df(xp, y), d2f(xp, y))`` bit for bit: tanh,
    the sigmoid and softplus compute their one transcendental function once for both, and
    tanh and the sigmoid not at all when ``z = f(y)`` is given (see :func:`first_derivative`)."""
    if activation.name == "tanh":
        t = xp.tanh(y) if z is None else z
        first = 1.0 - t * t
        return first, -2.0 * t * first
    if activation.name in ("sigmoid", "softplus"):
        s = _sigmoid(xp, y) if z is None or activation.name == "softplus" else z
        first = s * (1.0 - s)
        if activation.name == "softplus":  # f' is the sigmoid, f'' its derivative
            return s, first
        return first, first * (1.0 - 2.0 * s)
    return activation.df(xp, y), activation.d2f(xp, y)
