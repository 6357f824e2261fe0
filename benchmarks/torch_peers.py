"""What people use today for a layer's spectrum, on the benchmark's networks in torch.

- :func:`dense_spectrum`: ``torch.func.hessian`` of the loss as a function of W^(1) alone,
  reshaped to (m*n, m*n) (row-major vec, as hessian_core), then ``torch.linalg.eigvalsh``.
- :func:`eigsh_hvp`: scipy's ARPACK ``eigsh`` on a LinearOperator whose product is the
  forward-over-reverse Hessian-vector product ``torch.func.jvp(torch.func.grad(loss))``.
- :func:`curvlinops_eigsh`: curvlinops' ``HessianLinearOperator`` (``to_scipy()``) + eigsh.
- :func:`pyhessian_top`: PyHessian's power iteration with deflation (``hessian.eigenvalues``).

The torch network is built from the same float64 NumPy arrays as hessian_core's
(:mod:`benchmarks.networks`): y = W z + b and z = tanh(y) at every level, the RNN with
y^(k,s) = W z^(k-1,s) + U z^(k,s-1) + b and z^(k,0) = 0, and the paper's loss
E = 1/(2r) sum_p ||z*_p - z_p||^2 (for the RNN at the output time t = tau only).
Only W^(1) is trainable (requires_grad), so every tool sees the same (m*n) x (m*n) Hessian.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from benchmarks.networks import Case

torch.set_default_dtype(torch.float64)


class HalfSquaredError(torch.nn.Module):
    """E = 1/(2r) sum ||target - output||^2; ``reduction="sum"`` tells curvlinops not to
    rescale it (the 1/r is already inside)."""

    reduction = "sum"

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.sum((target - output) ** 2) / output.shape[0]


class TorchNetwork(torch.nn.Module):
    """The benchmark FNN or RNN; ``forward(X)`` gives the output the loss compares."""

    def __init__(self, case: Case, data: dict) -> None:
        super().__init__()
        self.kind = case.kind
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(W)) for W in data["weights"]]
        )
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(b), requires_grad=False) for b in data["biases"]]
        )
        self.recurrent = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(U), requires_grad=False)
             for U in data.get("recurrent", [])]
        )
        for W in self.weights[1:]:
            W.requires_grad_(False)

    @property
    def layer_weight(self) -> torch.nn.Parameter:
        return self.weights[0]

    def forward(self, X: torch.Tensor, first: torch.Tensor | None = None) -> torch.Tensor:
        weights = [first if first is not None else self.weights[0], *self.weights[1:]]
        if self.kind == "fnn":
            z = X
            for W, b in zip(weights, self.biases, strict=True):
                z = torch.tanh(z @ W.T + b)
            return z
        states = [None] * len(weights)
        for s in range(X.shape[1]):
            z = X[:, s, :]
            for k, (W, U, b) in enumerate(zip(weights, self.recurrent, self.biases, strict=True)):
                y = z @ W.T + b
                if states[k] is not None:
                    y = y + states[k] @ U.T
                z = states[k] = torch.tanh(y)
        return z


class Problem:
    """The torch network, its data and the loss as a function of W^(1)."""

    def __init__(self, case: Case, data: dict) -> None:
        self.case = case
        self.model = TorchNetwork(case, data)
        self.X = torch.from_numpy(data["X"])
        target = data["Z_target"]
        self.target = torch.from_numpy(target if case.kind == "fnn" else target[:, -1, :])
        self.criterion = HalfSquaredError()
        self.W = self.model.layer_weight.detach().clone()

    def loss_of(self, W: torch.Tensor) -> torch.Tensor:
        return self.criterion(self.model(self.X, first=W), self.target)


def dense_spectrum(problem: Problem) -> np.ndarray:
    """torch.func.hessian w.r.t. W^(1) + torch.linalg.eigvalsh (ascending)."""
    size = problem.W.numel()
    hessian = torch.func.hessian(problem.loss_of)(problem.W).reshape(size, size)
    return torch.linalg.eigvalsh(hessian).numpy()


def hvp_operator(problem: Problem) -> LinearOperator:
    """scipy LinearOperator of the forward-over-reverse Hessian-vector product."""
    gradient = torch.func.grad(problem.loss_of)
    shape, size = problem.W.shape, problem.W.numel()

    def matvec(vector: np.ndarray) -> np.ndarray:
        tangent = torch.from_numpy(np.ascontiguousarray(vector, dtype=np.float64)).reshape(shape)
        return torch.func.jvp(gradient, (problem.W,), (tangent,))[1].reshape(-1).numpy()

    return LinearOperator((size, size), matvec=matvec, dtype=np.float64)


def eigsh_hvp(problem: Problem, k: int, tol: float) -> np.ndarray:
    """ARPACK's k largest (algebraic) eigenvalues over torch HVPs, ascending."""
    return np.sort(eigsh(hvp_operator(problem), k=k, which="LA", tol=tol,
                         return_eigenvectors=False))


def curvlinops_eigsh(problem: Problem, k: int, tol: float) -> np.ndarray:
    """curvlinops' HessianLinearOperator on the same network and batch + ARPACK eigsh."""
    from curvlinops import HessianLinearOperator

    operator = HessianLinearOperator(
        problem.model, problem.criterion, [problem.model.layer_weight],
        [(problem.X, problem.target)], check_deterministic=False,
    ).to_scipy()
    return np.sort(eigsh(operator, k=k, which="LA", tol=tol, return_eigenvectors=False))


def pyhessian_top(problem: Problem, k: int, tol: float, max_iterations: int) -> np.ndarray:
    """PyHessian's power iteration: the k eigenvalues of largest magnitude, ascending."""
    from pyhessian import hessian

    torch.manual_seed(0)
    estimator = hessian(problem.model, problem.criterion, data=(problem.X, problem.target),
                        cuda=False)
    values, _ = estimator.eigenvalues(maxIter=max_iterations, tol=tol, top_n=k)
    problem.model.zero_grad(set_to_none=True)
    return np.sort(np.asarray(values, dtype=np.float64))
