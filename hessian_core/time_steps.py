"""Time-step helpers for RNN arrays whose second-to-last time axis runs over s = 1..T.

State arrays are (..., T, m) with index ``s-1`` holding time step s (0-based storage of the
paper's 1-based times). The RNN recursion (eq. 47) reads the previous state z^(k,s-1), with
z^(k,0) = 0, and BPTT (eq. 67-68) reads the next adjoint g^(s+1), zero beyond T:

    shift_back(z)[..., s, :] = z[..., s-1, :]  (zero at s = 0),
    shift_forward(g)[..., s, :] = g[..., s+1, :]  (zero at s = T-1).

The Kronecker input vectors of the layer Hessians (eq. 74-76) are states read at the right
time: u_W^(k,s) = z^(k-1,s), u_U^(k,s) = z^(k,s-1) = shift_back(z^(k))_s and u_b = 1
(:func:`kronecker_inputs`).

Blocks M_{s,zeta} of a pre-activation Hessian are (r, T, m, T, m) (:mod:`hessian_core.kron`);
truncated BPTT holds the states before a window start constant, which zeroes every block with
s or zeta before it (:func:`window_blocks`).
"""

from __future__ import annotations

from typing import Any

from .backend import device_of, namespace_of
from .results import Forward

__all__ = ["kronecker_inputs", "shift_back", "shift_forward", "window_blocks"]


def shift_back(xp: Any, z: Any) -> Any:
    """z^(k,s-1) for s = 1..T from z^(k,s): prepend the initial state z^(k,0) = 0."""
    zero = xp.zeros_like(z[..., :1, :])
    return xp.concat([zero, z[..., :-1, :]], axis=-2)


def shift_forward(xp: Any, g: Any) -> Any:
    """g^(s+1) for s = 1..T, with zero beyond T."""
    zero = xp.zeros_like(g[..., :1, :])
    return xp.concat([g[..., 1:, :], zero], axis=-2)


def window_blocks(blocks: Any, start: int) -> Any:
    """Blocks (r, T, m, T, m) with s or zeta before the 0-based ``start`` set to zero."""
    if start == 0:
        return blocks
    xp = namespace_of(blocks)
    T = blocks.shape[1]
    keep = xp.astype(xp.arange(T, device=device_of(blocks)) >= start, blocks.dtype)
    return blocks * keep[:, None, None, None] * keep[:, None]


def kronecker_inputs(forward: Forward, layer: int, wrt: str) -> Any:
    """The Kronecker input vectors u_{p,s} (r, T, n) of level ``layer``'s Hessian with respect
    to ``wrt``: z^(k-1,s) for "W", z^(k,s-1) for "U", the scalar 1 for "b"."""
    z = forward.activations[layer]
    xp = namespace_of(z)
    if wrt == "W":
        return forward.activations[layer - 1]
    if wrt == "U":
        return shift_back(xp, z)
    return xp.ones((z.shape[0], z.shape[1], 1), dtype=z.dtype, device=device_of(z))
