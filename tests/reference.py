"""Finite-difference reference for the gradients and Hessians of hessian_core.

Everything here is computed from the loss alone, in float64 NumPy, with a forward pass
written out plainly. Nothing is imported from ``hessian_core``: the point of this module
is to be a second, independent opinion.

Conventions (the same as docs/contract.md)
-----------------------------------------
- Samples are rows: FNN ``X`` is (r, N) and ``Z_target`` (r, M); RNN ``X`` is (r, tau, N)
  and ``Z_target`` (r, tau, M).
- ``weights[k-1]`` is W^(k) with shape (m, n), ``biases[k-1]`` is b^(k) with shape (m,),
  ``recurrent[k-1]`` is U^(k) with shape (m, m). Levels ``layer`` and output times ``t`` are
  1-based, as in the paper.
- vec(W) is row-major, ``W.reshape(-1)``: entry ``i*n + j`` is w_ij.
- ``activation`` is applied at every level; ``output_activation`` (if given) replaces it at
  the last level only.
- FNN loss (eq. 3/12): E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 (``loss="mse"``), or
  ``loss="cross_entropy"``: E = -1/r sum_p sum_i z*_p,i log softmax(z_p^(l))_i; with
  ``weight_decay=lam`` plus lam/2 sum_k ||W^(k)||_F^2 (RNNs: and ||U^(k)||_F^2, once).
- RNN (eq. 47-49): y^(k,s) = W^(k) z^(k-1,s) + U^(k) z^(k,s-1) + b^(k), z^(k,0) = 0,
  z^(0,s) = x^(s). E^(t) = 1/(2r) sum_p ||z*_(p,t) - z_p^(l,t)||^2 for one output time t;
  with ``t=None`` the loss is E = sum_{t=a..tau} E^(t), a = ``outputs_from``.

Finite differences and their accuracy
-------------------------------------
Steps are relative: h_i = h * max(1, |theta_i|).

- ``fd_gradient``: the five-point central stencil
  g_i = [-E(+2h) + 8 E(+h) - 8 E(-h) + E(-2h)] / (12 h), truncation O(h^4), round-off
  O(eps |E| / h). With the default h = 1e-3 both are ~1e-12 relative to the size of the
  derivatives and of E (measured: <= 3e-11 on one-level nets with a closed form), so a test
  tolerance of 1e-8 relative leaves ample room.
- ``fd_hessian``: the four-point second difference
  H_ij(h) = [E(+h_i,+h_j) - E(+h_i,-h_j) - E(-h_i,+h_j) + E(-h_i,-h_j)] / (4 h_i h_j),
  which on the diagonal is [E(+2h_i) - 2E + E(-2h_i)] / (4 h_i^2). Its error is
  c h^2 + O(h^4); one Richardson step, (4 H(h) - H(2h)) / 3, removes the h^2 term. With the
  default h = 1e-3 the truncation is ~h^4 f^(6) ~ 1e-12..1e-10 and the round-off
  ~2 eps |E| / h^2 ~ 4e-10 |E|. Measured against closed forms (one-level sigmoid, tanh and
  softplus nets, |x| ~ 1.5): max error 3e-9, median 3e-10, relative to max(1, |H|). Tests
  use 1e-6. (Without Richardson the best step, 2e-4, gives only ~1e-6; h = 2e-3 with
  Richardson ~6e-8.) Only the upper triangle is evaluated; the lower is its mirror image.
  Cost: about 4 p^2 loss evaluations for p parameters per step size.

Step refinement. Networks with strong feedback (|U| > 1) have large high-order derivatives,
and a fixed step then leaves truncation errors of 1e-7 or more. So, unless a ``step`` is
given, both functions halve the step from its default until two successive results agree
to 1e-10 (gradient) or 1e-8 (Hessian) relative to max(1, max|result|); since both errors
are O(h^4), the finer result then carries ~1/15 of that change. Halving stops as soon as
the change grows again (round-off taking over) and the best result is returned. Measured on
a tanh RNN with feedback 2.4 where h = 1e-3 misses by 5e-7: 2e-9 after refinement.

ReLU kinks
----------
ReLU is not differentiable at 0, so a finite difference is meaningful only if no step
crosses a kink. The loss builders below remember the ReLU sign pattern at the base point
and raise :class:`KinkCrossed` when an evaluation changes it; ``fd_gradient`` and
``fd_hessian`` then halve the step and try again (within a piece a ReLU network is a
polynomial in one parameter block, so a smaller step costs only round-off). Test data
should still keep every ReLU pre-activation away from 0 (see ``min_abs_preactivation``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "KinkCrossed",
    "activate",
    "fd_gradient",
    "fd_hessian",
    "fnn_block_loss",
    "fnn_forward",
    "fnn_loss",
    "min_abs_preactivation",
    "rnn_block_loss",
    "rnn_forward",
    "rnn_loss",
]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softplus", "identity")

LossFunction = Callable[[np.ndarray], float]


class KinkCrossed(ArithmeticError):
    """A finite-difference evaluation changed the sign of a ReLU pre-activation."""


def activate(name: str, y: np.ndarray) -> np.ndarray:
    """Apply activation ``name`` element-wise."""
    if name == "relu":
        return np.maximum(y, 0.0)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * y))  # = 1/(1+exp(-y)), without overflow
    if name == "tanh":
        return np.tanh(y)
    if name == "softplus":
        return np.logaddexp(0.0, y)  # = log(1+exp(y)), without overflow
    if name == "identity":
        return np.array(y, dtype=np.float64, copy=True)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def _level_activations(n_layers: int, activation: str, output_activation: str | None) -> list[str]:
    names = [activation] * n_layers
    if output_activation is not None:
        names[-1] = output_activation
    return names


# --------------------------------------------------------------------------- forward passes


def fnn_forward(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activation: str,
    output_activation: str | None,
    X: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return ([Y1..Yl], [Z0=X, Z1..Zl]) of an FNN, each (r, m_k), samples in rows."""
    names = _level_activations(len(weights), activation, output_activation)
    Z = np.asarray(X, dtype=np.float64)
    pre, post = [], [Z]
    for W, b, name in zip(weights, biases, names, strict=True):
        Y = Z @ np.asarray(W, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
        Z = activate(name, Y)
        pre.append(Y)
        post.append(Z)
    return pre, post


def rnn_forward(
    weights: Sequence[np.ndarray],
    recurrent: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activation: str,
    output_activation: str | None,
    X: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Return ([Y1..Yl], [Z0=X, Z1..Zl]) of an RNN, each (r, tau, m_k).

    y^(k,s) = W^(k) z^(k-1,s) + U^(k) z^(k,s-1) + b^(k) with z^(k,0) = 0 (eq. 47-48),
    written as a plain loop over levels and time steps.
    """
    names = _level_activations(len(weights), activation, output_activation)
    Z_below = np.asarray(X, dtype=np.float64)
    r, tau = Z_below.shape[0], Z_below.shape[1]
    pre, post = [], [Z_below]
    for W, U, b, name in zip(weights, recurrent, biases, names, strict=True):
        W = np.asarray(W, dtype=np.float64)
        U = np.asarray(U, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        m = W.shape[0]
        Y = np.zeros((r, tau, m))
        Z = np.zeros((r, tau, m))
        state = np.zeros((r, m))  # z^(k,0) = 0
        for s in range(tau):
            Y[:, s] = Z_below[:, s] @ W.T + state @ U.T + b
            Z[:, s] = activate(name, Y[:, s])
            state = Z[:, s]
        pre.append(Y)
        post.append(Z)
        Z_below = Z
    return pre, post


# --------------------------------------------------------------------------- losses


LOSSES = ("mse", "cross_entropy")


def _half_mean_square(Z_target: np.ndarray, Z_out: np.ndarray) -> float:
    r = Z_out.shape[0]
    diff = np.asarray(Z_target, dtype=np.float64) - Z_out
    return float(np.sum(diff * diff) / (2.0 * r))


def _mean_cross_entropy(Z_target: np.ndarray, Z_out: np.ndarray) -> float:
    """-1/r sum_p sum_i z*_p,i log softmax(z_p)_i, with log-sum-exp written out."""
    r = Z_out.shape[0]
    top = np.max(Z_out, axis=-1, keepdims=True)
    log_softmax = Z_out - top - np.log(np.sum(np.exp(Z_out - top), axis=-1, keepdims=True))
    return float(-np.sum(np.asarray(Z_target, dtype=np.float64) * log_softmax) / r)


def _data_loss(Z_target: np.ndarray, Z_out: np.ndarray, loss: str) -> float:
    if loss == "mse":
        return _half_mean_square(Z_target, Z_out)
    if loss == "cross_entropy":
        return _mean_cross_entropy(Z_target, Z_out)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def _decay(weight_decay: float, matrices) -> float:
    """lam/2 times the sum of the squared Frobenius norms."""
    return 0.5 * weight_decay * float(sum(np.sum(np.square(A)) for A in matrices))


def fnn_loss(
    weights, biases, activation, output_activation, X, Z_target, loss="mse", weight_decay=0.0
) -> float:
    """E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 ("mse") or the mean softmax cross-entropy,
    plus weight_decay/2 sum_k ||W^(k)||^2."""
    _, post = fnn_forward(weights, biases, activation, output_activation, X)
    return _data_loss(Z_target, post[-1], loss) + _decay(weight_decay, weights)


def _output_times(tau: int, t: int | None, outputs_from: int) -> list[int]:
    if t is not None:
        if not 1 <= t <= tau:
            raise ValueError(f"t must satisfy 1 <= t <= tau={tau}, got {t}")
        return [t]
    if not 1 <= outputs_from <= tau:
        raise ValueError(f"outputs_from must satisfy 1 <= a <= tau={tau}, got {outputs_from}")
    return list(range(outputs_from, tau + 1))


def rnn_loss(
    weights,
    recurrent,
    biases,
    activation,
    output_activation,
    X,
    Z_target,
    t=None,
    outputs_from=1,
    loss="mse",
    weight_decay=0.0,
) -> float:
    """E^(t) for one output time t (1-based), or sum_{t=a..tau} E^(t) for t=None; per time
    the squared or the cross-entropy loss, plus weight_decay/2 sum_k (||W||^2 + ||U||^2) once."""
    _, post = rnn_forward(weights, recurrent, biases, activation, output_activation, X)
    out = post[-1]
    times = _output_times(out.shape[1], t, outputs_from)
    data = sum(_data_loss(Z_target[:, s - 1], out[:, s - 1], loss) for s in times)
    return data + _decay(weight_decay, list(weights) + list(recurrent))


def min_abs_preactivation(pre_activations: Sequence[np.ndarray], names: Sequence[str]) -> float:
    """Smallest |y| over the levels whose activation is ReLU (inf if there is none)."""
    values = [
        np.min(np.abs(Y))
        for Y, name in zip(pre_activations, names, strict=True)
        if name == "relu"
    ]
    return float(min(values)) if values else float("inf")


def _relu_pattern(pre_activations, names) -> list[np.ndarray]:
    return [Y > 0 for Y, name in zip(pre_activations, names, strict=True) if name == "relu"]


def _same_pattern(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- one-block closures


def _check_layer(layer: int, n_layers: int) -> int:
    if not 1 <= layer <= n_layers:
        raise ValueError(f"layer must satisfy 1 <= layer <= {n_layers}, got {layer}")
    return layer - 1


def fnn_block_loss(
    weights,
    biases,
    activation,
    output_activation,
    X,
    Z_target,
    layer: int,
    wrt: str = "W",
    loss: str = "mse",
    weight_decay: float = 0.0,
) -> tuple[LossFunction, np.ndarray]:
    """Loss as a function of one parameter block, ``wrt`` "W" (row-major vec) or "b".

    Returns ``(loss_fn, theta0)``; ``loss_fn(theta0)`` is the loss at the given parameters.
    ``loss_fn`` raises :class:`KinkCrossed` if a ReLU pre-activation changes sign.
    """
    index = _check_layer(layer, len(weights))
    weights = [np.array(W, dtype=np.float64) for W in weights]
    biases = [np.array(b, dtype=np.float64) for b in biases]
    if wrt == "W":
        shape = weights[index].shape
        theta0 = weights[index].reshape(-1).copy()
    elif wrt == "b":
        shape = biases[index].shape
        theta0 = biases[index].copy()
    else:
        raise ValueError(f"wrt must be 'W' or 'b' for an FNN, got {wrt!r}")
    names = _level_activations(len(weights), activation, output_activation)
    base = fnn_forward(weights, biases, activation, output_activation, X)
    pattern = _relu_pattern(base[0], names)

    def loss_fn(theta: np.ndarray) -> float:
        W_list, b_list = list(weights), list(biases)
        block = np.asarray(theta, dtype=np.float64).reshape(shape)
        if wrt == "W":
            W_list[index] = block
        else:
            b_list[index] = block
        pre, post = fnn_forward(W_list, b_list, activation, output_activation, X)
        if not _same_pattern(pattern, _relu_pattern(pre, names)):
            raise KinkCrossed("a ReLU pre-activation changed sign")
        return _data_loss(Z_target, post[-1], loss) + _decay(weight_decay, W_list)

    return loss_fn, theta0


def rnn_block_loss(
    weights,
    recurrent,
    biases,
    activation,
    output_activation,
    X,
    Z_target,
    layer: int,
    wrt: str = "W",
    t: int | None = None,
    outputs_from: int = 1,
    loss: str = "mse",
    weight_decay: float = 0.0,
) -> tuple[LossFunction, np.ndarray]:
    """Loss E^(t) (or sum over t=a..tau) as a function of W^(k), U^(k) or b^(k).

    ``wrt`` is "W", "U" (both row-major vec) or "b". Returns ``(loss_fn, theta0)``.
    """
    index = _check_layer(layer, len(weights))
    blocks = {
        "W": [np.array(W, dtype=np.float64) for W in weights],
        "U": [np.array(U, dtype=np.float64) for U in recurrent],
        "b": [np.array(b, dtype=np.float64) for b in biases],
    }
    if wrt not in blocks:
        raise ValueError(f"wrt must be 'W', 'U' or 'b', got {wrt!r}")
    shape = blocks[wrt][index].shape
    theta0 = blocks[wrt][index].reshape(-1).copy()
    names = _level_activations(len(weights), activation, output_activation)
    tau = np.asarray(X).shape[1]
    times = _output_times(tau, t, outputs_from)
    base = rnn_forward(blocks["W"], blocks["U"], blocks["b"], activation, output_activation, X)
    pattern = _relu_pattern(base[0], names)

    def loss_fn(theta: np.ndarray) -> float:
        current = {key: list(value) for key, value in blocks.items()}
        current[wrt][index] = np.asarray(theta, dtype=np.float64).reshape(shape)
        pre, post = rnn_forward(
            current["W"], current["U"], current["b"], activation, output_activation, X
        )
        if not _same_pattern(pattern, _relu_pattern(pre, names)):
            raise KinkCrossed("a ReLU pre-activation changed sign")
        out = post[-1]
        data = sum(_data_loss(Z_target[:, s - 1], out[:, s - 1], loss) for s in times)
        return data + _decay(weight_decay, current["W"] + current["U"])

    return loss_fn, theta0


# --------------------------------------------------------------------------- finite differences

DEFAULT_GRADIENT_STEP = 1e-3
DEFAULT_HESSIAN_STEP = 1e-3
#: relative change between successive halvings below which the finer result is accepted
GRADIENT_REFINE_TARGET = 1e-10
HESSIAN_REFINE_TARGET = 1e-8
_MAX_REFINEMENTS = 4
_MAX_HALVINGS = 12


def _steps(theta: np.ndarray, h: float) -> np.ndarray:
    return h * np.maximum(1.0, np.abs(theta))


def _relative_change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old)) / max(1.0, float(np.max(np.abs(new)))))


def _refined(compute, h: float, target: float):
    """Halve the step until two successive results agree to ``target`` (relative).

    Both stencils have O(h^4) truncation, so the change between h and h/2 is ~15x the
    truncation error left at h/2. Halving stops early once round-off dominates (the change
    grows again); the result with the smallest change to its predecessor is returned.
    """
    previous = compute(h)
    best, best_change = previous, float("inf")
    for _ in range(_MAX_REFINEMENTS):
        h *= 0.5
        current = compute(h)
        change = _relative_change(current, previous)
        if change >= best_change:
            break
        best, best_change = current, change
        if change < target:
            break
        previous = current
    return best


def _with_kink_retry(compute, h: float):
    """Run ``compute(h)``, halving h while a step crosses a ReLU kink."""
    for _ in range(_MAX_HALVINGS):
        try:
            return compute(h)
        except KinkCrossed:
            h *= 0.5
    raise KinkCrossed(
        f"finite differences cross a ReLU kink even with step {h:.1e}: "
        "choose data whose ReLU pre-activations are further from 0"
    )


def fd_gradient(loss_fn: LossFunction, theta: np.ndarray, step: float | None = None) -> np.ndarray:
    """Gradient of ``loss_fn`` at ``theta`` by the five-point central stencil (see module doc).

    With ``step=None`` the step starts at DEFAULT_GRADIENT_STEP and is refined by halving;
    a given ``step`` is used as it is.
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)

    def compute(h: float) -> np.ndarray:
        steps = _steps(theta, h)
        grad = np.empty_like(theta)
        for i, hi in enumerate(steps):
            e = np.zeros_like(theta)
            e[i] = hi
            grad[i] = (
                -loss_fn(theta + 2 * e) + 8 * loss_fn(theta + e) - 8 * loss_fn(theta - e)
                + loss_fn(theta - 2 * e)
            ) / (12 * hi)
        return grad

    if step is not None:
        return _with_kink_retry(compute, step)
    return _with_kink_retry(
        lambda h: _refined(compute, h, GRADIENT_REFINE_TARGET), DEFAULT_GRADIENT_STEP
    )


def _second_difference(loss_fn: LossFunction, theta: np.ndarray, steps: np.ndarray) -> np.ndarray:
    p = theta.size
    H = np.empty((p, p))
    f0 = loss_fn(theta)
    for i in range(p):
        ei = np.zeros(p)
        ei[i] = steps[i]
        H[i, i] = (loss_fn(theta + 2 * ei) - 2 * f0 + loss_fn(theta - 2 * ei)) / (4 * steps[i] ** 2)
        for j in range(i + 1, p):
            ej = np.zeros(p)
            ej[j] = steps[j]
            H[i, j] = H[j, i] = (
                loss_fn(theta + ei + ej) - loss_fn(theta + ei - ej)
                - loss_fn(theta - ei + ej) + loss_fn(theta - ei - ej)
            ) / (4 * steps[i] * steps[j])
    return H


def fd_hessian(
    loss_fn: LossFunction, theta: np.ndarray, step: float | None = None, richardson: bool = True
) -> np.ndarray:
    """Hessian of ``loss_fn`` at ``theta`` by four-point second differences.

    With ``richardson=True`` (default) returns (4 H(h) - H(2h)) / 3, see the module doc for
    the accuracy. With ``step=None`` the step starts at DEFAULT_HESSIAN_STEP and is refined
    by halving; a given ``step`` is used as it is. The result is exactly symmetric.
    """
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)

    def compute(h: float) -> np.ndarray:
        steps = _steps(theta, h)
        fine = _second_difference(loss_fn, theta, steps)
        if not richardson:
            return fine
        coarse = _second_difference(loss_fn, theta, 2 * steps)
        return (4 * fine - coarse) / 3

    if step is not None:
        return _with_kink_retry(compute, step)
    return _with_kink_retry(
        lambda h: _refined(compute, h, HESSIAN_REFINE_TARGET), DEFAULT_HESSIAN_STEP
    )
