"""The benchmark's random networks: one seeded NumPy draw, shared by every method.

A case is one layer Hessian: the weights W^(1) (m x n, m = n = width) of a two-level
network ``(width, width, outputs)`` with tanh at both levels, at batch size r (FNN), or of a
two-level RNN at output time t = tau (RNN). The same float64 NumPy arrays build the
hessian_core network and, converted without copying, the identical torch network, so every
method computes the spectrum of the same matrix.

Sizes that matter for cost: the Hessian is (m*n) x (m*n); it is a sum of R = r*T Kronecker
terms (T = 1 for an FNN, T = t for an RNN); the exact spectrum costs one (m*q) x (m*q)
eigenproblem with q = min(R, n).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

#: Output width of every benchmark network (a small head, as in classification).
OUTPUTS = 10
ACTIVATION = "tanh"


@dataclass(frozen=True)
class Case:
    """One benchmark case: ``kind`` is "fnn" or "rnn"; ``steps`` is tau = t (1 for FNNs)."""

    kind: str
    width: int
    batch: int
    steps: int = 1
    seed: int = 0

    @property
    def name(self) -> str:
        text = f"{self.kind.upper()} {self.width}x{self.width} r={self.batch}"
        return text + (f" t={self.steps}" if self.kind == "rnn" else "")

    @property
    def m(self) -> int:
        return self.width

    @property
    def n(self) -> int:
        return self.width

    @property
    def parameters(self) -> int:
        """m*n: the Hessian's order."""
        return self.m * self.n

    @property
    def terms(self) -> int:
        """R = r*T Kronecker terms."""
        return self.batch * self.steps

    @property
    def reduced_size(self) -> int:
        """m*q with q = min(R, n): the order of the one eigenproblem of the exact spectrum."""
        return self.m * min(self.terms, self.n)

    @property
    def dense_bytes(self) -> int:
        """Bytes of the dense float64 Hessian."""
        return 8 * self.parameters**2

    def as_dict(self) -> dict:
        return asdict(self)


def fnn_arrays(case: Case) -> dict[str, list[np.ndarray] | np.ndarray]:
    """Seeded weights (scaled 1/sqrt(fan-in)), biases, inputs X (r, N), targets (r, M)."""
    rng = np.random.default_rng(case.seed)
    sizes = (case.width, case.width, OUTPUTS)
    weights = [rng.standard_normal((sizes[k + 1], sizes[k])) / np.sqrt(sizes[k]) for k in range(2)]
    biases = [0.1 * rng.standard_normal(sizes[k + 1]) for k in range(2)]
    X = rng.standard_normal((case.batch, sizes[0]))
    Z_target = 0.5 * rng.standard_normal((case.batch, sizes[-1]))
    return {"weights": weights, "biases": biases, "X": X, "Z_target": Z_target}


def rnn_arrays(case: Case) -> dict[str, list[np.ndarray] | np.ndarray]:
    """As :func:`fnn_arrays`, plus feedback U^(k) scaled to spectral norm 0.5; X (r, tau, N)."""
    rng = np.random.default_rng(case.seed)
    sizes = (case.width, case.width, OUTPUTS)
    weights = [rng.standard_normal((sizes[k + 1], sizes[k])) / np.sqrt(sizes[k]) for k in range(2)]
    recurrent = []
    for k in range(2):
        U = rng.standard_normal((sizes[k + 1], sizes[k + 1]))
        recurrent.append(0.5 * U / np.linalg.norm(U, 2))
    biases = [0.1 * rng.standard_normal(sizes[k + 1]) for k in range(2)]
    X = rng.standard_normal((case.batch, case.steps, sizes[0]))
    Z_target = 0.5 * rng.standard_normal((case.batch, case.steps, sizes[-1]))
    return {
        "weights": weights, "recurrent": recurrent, "biases": biases, "X": X, "Z_target": Z_target,
    }


def arrays(case: Case) -> dict:
    return fnn_arrays(case) if case.kind == "fnn" else rnn_arrays(case)


def core_hessian(case: Case, data: dict, xp=np):
    """hessian_core's LayerHessian of W^(1) (built from the network and data each call)."""
    from hessian_core import FNN, RNN

    convert = [xp.asarray(a) for a in data["weights"]], [xp.asarray(a) for a in data["biases"]]
    X, Z_target = xp.asarray(data["X"]), xp.asarray(data["Z_target"])
    if case.kind == "fnn":
        net = FNN(*convert, activation=ACTIVATION)
        return net.hessian(X, Z_target, layer=1)
    recurrent = [xp.asarray(a) for a in data["recurrent"]]
    net = RNN(convert[0], recurrent, convert[1], activation=ACTIVATION)
    return net.hessian(X, Z_target, layer=1, t=case.steps)
