"""CPU time of one whole-Hessian product H @ v beside one gradient, for the same network.

Run from the repository root: ``python -m benchmarks.bench_whole_hessian`` (``--quick`` for
a short run). For FNNs 2-64-64-1 and 2-256-256-1 tanh (500 samples) and an RNN 2-16-16-1 tanh
(tau 10, 50 samples), it times in alternating rounds

* "gradient": ``net.gradients(X, Z_target)`` (forward pass and back-propagation);
* "matvec": ``H.matvec(v)`` of ``H = net.whole_hessian(X, Z_target)`` built once (the
  second-order forward and backward sweep; the forward pass and adjoints are H's own);
* "GGN matvec": the same for ``H.gauss_newton()``.

Reported: the median CPU time (``time.process_time``) per call in ms and the ratio to the
gradient's, and whether one product is within ``MATVEC_TARGET`` gradients. Compare the
columns of one run, not runs with each other. ``--threads N`` limits
BLAS (threadpoolctl) and torch to N threads for every method: on a shared machine, threads that
wait for a core also count as CPU time, and ``--threads 1`` gives steadier numbers.

Then the sharpness (the largest eigenvalue of the whole Hessian, Cohen et al. 2021) of the
same 2-64-64-1 network (P = 4417) and of a wider 2-256-256-1 (P = 66817), 500 samples, by

* "hessian_core": ``net.whole_hessian(X, Z).top_eigenvalues(1)`` (Lanczos on ``matvec`` from
  the gradient start, at its default ``tol`` (``hessian_core.whole.SHARPNESS_TOL``), at
  ``MATCHING_TOL`` = 1e-2 and 3e-2, at ``tol=1e-3``, PyHessian's number, though Lanczos' tol
  bounds a residual, not a change, and at ``tol=1e-10``; the time includes building H: forward
  pass and adjoints);
* "PyHessian": ``hessian(model, criterion, data=(x, y)).eigenvalues(top_n=1)`` (power
  iteration, its defaults ``maxIter=100, tol=1e-3``; the time includes its first backward),
  and the same at ``tol=1e-8, maxIter=1000``, the most accurate it gets here (its error stays
  at about 2e-6 for any smaller tol);
* "eigsh + torch.func": scipy's ARPACK ``eigsh(k=1, which="LA", tol=1e-10)`` on a
  LinearOperator of forward-over-reverse products ``torch.func.jvp(torch.func.grad(E))``,

each on the same float64 parameters and data (the torch model is a ``torch.nn.Sequential``
Linear/Tanh copy of the network, the criterion E = 1/(2r) sum ||z* - z||^2). Accuracy is the
relative error against a tight reference independent of hessian_core's Lanczos: where P is at
most ``DENSE_REFERENCE_LIMIT``, ``numpy.linalg.eigvalsh`` of the dense Hessian (also printed:
how far the ARPACK ``tol=0`` value is from it); above, ARPACK ``eigsh(tol=0)`` (to machine
precision) on the torch products. Last two lines of each table: whether the default sharpness
is ``SPEEDUP_TARGET`` times faster than each PyHessian row, at an equal or smaller error:
against its defaults (which stop at an error of a few 1e-3) and against the most accurate
PyHessian run (the time it takes to come as close as it can). A third line compares
PyHessian's defaults with hessian_core at ``tol=MATCHING_TOL``, a tolerance fixed before the
run (not picked per network): time to an equal or better accuracy. A fourth compares
PyHessian's defaults with hessian_core at the fewest Lanczos products whose value is as
close to the reference as PyHessian's (``maxiter=m``, found before the timing from the
reference): the time each method takes to that accuracy, a point of a work-precision
diagram (PyHessian's default run is its own such point: its power iteration's error falls
step by step and it stops at that error). A user who does not know the answer sets ``tol``
instead, which the third line measures. Without torch,
scipy or PyHessian (the bench extra: ``pip install -e ".[bench]"``), their rows are left out
with a line saying why.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from hessian_core import FNN, RNN  # noqa: E402
from hessian_core.whole import SHARPNESS_TOL  # noqa: E402

#: The targets: the default sharpness at least this many times faster than PyHessian's at equal
#: or better accuracy, and one product within this many gradients.
SPEEDUP_TARGET = 5.0
MATVEC_TARGET = 3.0
#: PyHessian at its defaults (a relative change of 1e-3 between power steps, at most 100), and
#: at the tightest accuracy it reaches on these networks: below tol=1e-8 its error stays at
#: about 2e-6 (1e-10 with maxIter=3000 gives the same error in more time).
PYHESSIAN_DEFAULT = "PyHessian eigenvalues(top_n=1)"
TIGHT_OPTIONS = {"tol": 1e-8, "maxIter": 1000}
PYHESSIAN_TIGHT = "PyHessian eigenvalues(top_n=1, tol=1e-8, maxIter=1000)"
#: The Lanczos tolerance set against PyHessian's defaults: a residual of 1e-2 ||H|| bounds
#: the error by 1e-2, and in practice it is about residual^2 / gap, well under PyHessian's
#: few 1e-3 (its power iteration's stopping rule bounds nothing).
MATCHING_TOL = 1e-2


def _median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return 1e3 * statistics.median(times)


def _cases():
    rng = np.random.default_rng(0)
    fnn = FNN.random((2, 64, 64, 1), activation="tanh", seed=0)
    data = (rng.normal(size=(500, 2)), rng.normal(size=(500, 1)))
    yield "FNN 2-64-64-1 tanh, r=500", fnn, data, {}
    wide = FNN.random((2, 256, 256, 1), activation="tanh", seed=0)
    yield "FNN 2-256-256-1 tanh, r=500", wide, data, {}  # the same samples
    rnn = RNN.random((2, 16, 16, 1), activation="tanh", seed=0)
    yield "RNN 2-16-16-1 tanh, tau=10, r=50", rnn, (rng.normal(size=(50, 10, 2)),
                                                    rng.normal(size=(50, 10, 1))), {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS (threadpoolctl) and torch threads for every method; default: "
                             "the libraries' own (on a shared machine 1 gives steadier numbers)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        if _missing("torch") is None:
            import torch

            torch.set_num_threads(args.threads)
        print(f"threads: {args.threads} (BLAS through threadpoolctl, and torch)")
    repeats = 3 if args.quick else 30
    cases = list(_cases())
    for label, net, (X, Z), options in cases:
        H = net.whole_hessian(X, Z, **options)
        G = H.gauss_newton()
        v = np.random.default_rng(1).normal(size=H.size)
        calls = {
            "gradient": lambda net=net, X=X, Z=Z: net.gradients(X, Z),
            "matvec": lambda H=H, v=v: H.matvec(v),
            "GGN matvec": lambda G=G, v=v: G.matvec(v),
        }
        results = {name: [] for name in calls}
        for _ in range(3):  # alternating rounds: load falls on all alike
            for name, call in calls.items():
                results[name].append(_median_ms(call, repeats))
        base = statistics.median(results["gradient"])
        print(f"{label} (P = {H.size})")
        for name, values in results.items():
            ms = statistics.median(values)
            print(f"  {name:11s} {ms:8.3f} ms   x{ms / base:5.2f} of a gradient")
        ratio = statistics.median(results["matvec"]) / base
        print(f"  target: matvec within {MATVEC_TARGET:g}x of a gradient: "
              + ("met" if ratio <= MATVEC_TARGET else "NOT met") + f" (x{ratio:.2f})")
    print()
    sharpness_tables([(label, net, X, Z) for label, net, (X, Z), _ in cases
                      if isinstance(net, FNN)], repeats=1 if args.quick else 5)


# --- sharpness: hessian_core against PyHessian and ARPACK on torch products ----------------------

#: Largest P for which the reference is the dense Hessian's eigvalsh (P matvecs and a P x P
#: eigvalsh: 4417 takes seconds and 160 MB).
DENSE_REFERENCE_LIMIT = 5000


def _missing(module: str) -> str | None:
    """None if ``module`` imports, else why not (one line)."""
    try:
        __import__(module)
    except Exception as error:  # ImportError, or a library that fails to load
        return f"{type(error).__name__}: {error}"
    return None


class TorchTwin:
    """The network as a float64 ``torch.nn.Sequential`` of Linear/Tanh, its data, its loss."""

    def __init__(self, net: FNN, X: np.ndarray, Z: np.ndarray) -> None:
        import torch

        layers = []
        for W, b in zip(net.weights, net.biases, strict=True):
            linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.Tanh()]
        self.model = torch.nn.Sequential(*layers)
        self.X, self.Z = torch.from_numpy(X), torch.from_numpy(Z)
        self.names = [name for name, _ in self.model.named_parameters()]
        self.shapes = [p.shape for p in self.model.parameters()]
        self.theta = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()])

    @staticmethod
    def criterion(output, target):
        """E = 1/(2r) sum ||z* - z||^2, the paper's loss (hessian_core's "mse")."""
        return 0.5 * ((target - output) ** 2).sum() / output.shape[0]

    def loss_of(self, theta):
        import torch

        params, start = {}, 0
        for name, shape in zip(self.names, self.shapes, strict=True):
            size = int(np.prod(shape))
            params[name] = theta[start : start + size].reshape(shape)
            start += size
        return self.criterion(torch.func.functional_call(self.model, params, (self.X,)), self.Z)

    def operator(self):
        """scipy LinearOperator of H v by torch.func.jvp(torch.func.grad(E))."""
        import torch
        from scipy.sparse.linalg import LinearOperator

        gradient = torch.func.grad(self.loss_of)
        size = self.theta.numel()

        def matvec(vector):
            tangent = torch.from_numpy(np.ascontiguousarray(vector, dtype=np.float64).reshape(-1))
            return torch.func.jvp(gradient, (self.theta,), (tangent,))[1].numpy()

        return LinearOperator((size, size), matvec=matvec, dtype=np.float64)

    def eigsh_top(self, tol: float) -> float:
        from scipy.sparse.linalg import eigsh

        start = np.ones(self.theta.numel())
        values = eigsh(self.operator(), k=1, which="LA", tol=tol, v0=start,
                       return_eigenvectors=False)
        return float(values[0])

    def pyhessian_top(self, **options) -> float:
        """PyHessian's top eigenvalue; ``options`` go to ``eigenvalues`` (its defaults
        ``maxIter=100, tol=1e-3`` where none)."""
        import torch
        from pyhessian import hessian

        torch.manual_seed(0)
        self.model.zero_grad(set_to_none=True)
        with warnings.catch_warnings():  # its backward(create_graph=True): torch warns of a cycle
            warnings.simplefilter("ignore", UserWarning)
            values, _ = hessian(self.model, self.criterion, data=(self.X, self.Z),
                                cuda=False).eigenvalues(top_n=1, **options)
        self.model.zero_grad(set_to_none=True)
        return float(values[0])


def _timed(calls: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """name -> (value of the last call, median CPU ms per call), the calls taken in turn
    (round after round, so that load from elsewhere falls on all alike), after one untimed
    call each (torch's first forward-mode or double-backward call loads code)."""
    values = {name: call() for name, call in calls.items()}
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.process_time()
            values[name] = call()
            times[name].append(time.process_time() - start)
    return {name: (values[name], 1e3 * statistics.median(times[name])) for name in calls}


def sharpness_tables(cases: list, repeats: int) -> None:
    """The sharpness of each (label, FNN, X, Z) by every available tool: value, CPU time and
    accuracy against the reference."""
    torch_missing, scipy_missing = _missing("torch"), _missing("scipy")
    pyhessian_missing = torch_missing or _missing("pyhessian")
    if torch_missing:
        print(f"sharpness: torch cannot be imported ({torch_missing}); the PyHessian and "
              "eigsh + torch.func rows and the torch reference are left out")
    elif pyhessian_missing:
        print(f"sharpness: PyHessian cannot be imported ({pyhessian_missing}); its rows are "
              'left out (pip install -e ".[bench]")')
    if scipy_missing and not torch_missing:
        print(f"sharpness: scipy cannot be imported ({scipy_missing}); the eigsh rows are left out")
    for label, net, X, Z in cases:
        P = net.n_parameters
        twin = None if torch_missing else TorchTwin(net, X, Z)
        reference, how, notes = _reference(net, X, Z, twin, scipy_missing)
        calls = {}
        default = f"hessian_core top_eigenvalues(1) [tol={SHARPNESS_TOL:g}]"
        tolerances = [(default, None)] + [
            (f"hessian_core top_eigenvalues(1, tol={tol:g})", tol)
            for tol in (3e-2, MATCHING_TOL, 1e-3, 1e-10) if tol != SHARPNESS_TOL
        ]
        matching = f"hessian_core top_eigenvalues(1, tol={MATCHING_TOL:g})"
        for name, tol in tolerances:
            calls[name] = lambda net=net, X=X, Z=Z, tol=tol: float(
                net.whole_hessian(X, Z).top_eigenvalues(1, tol=tol)[-1]
            )
        equal = None
        if twin is not None and not pyhessian_missing:
            calls[PYHESSIAN_DEFAULT] = twin.pyhessian_top
            calls[PYHESSIAN_TIGHT] = lambda twin=twin: twin.pyhessian_top(**TIGHT_OPTIONS)
            if reference is not None:
                steps = fewest_steps(net, X, Z, reference, twin.pyhessian_top())
                equal = (f"hessian_core top_eigenvalues(1, maxiter={steps}) [PyHessian's "
                         "error in fewest steps]")
                calls[equal] = lambda net=net, X=X, Z=Z, steps=steps: _steps_value(
                    net, X, Z, steps
                )
        if twin is not None and not scipy_missing:
            calls["eigsh(tol=1e-10) + torch.func HVP"] = lambda twin=twin: twin.eigsh_top(1e-10)
        rows = _timed(calls, repeats)
        print(f"Sharpness of {label} (P = {P}); reference: {how or 'none'}"
              + (f" = {reference:.12g}" if reference is not None else ""))
        for note in notes:
            print(f"  ({note})")
        base = rows.get(PYHESSIAN_DEFAULT, (None, None))[1]
        width = max(len(name) for name in rows)
        print(f"  {'method':{width}s} {'lambda_max':>16s} {'CPU ms':>9s} {'PyHessian/this':>14s} "
              f"{'rel. error':>10s}")
        errors = {}
        for name, (value, ms) in rows.items():
            if reference is not None:
                errors[name] = abs(value - reference) / abs(reference)
            error = "" if reference is None else f"{errors[name]:10.1e}"
            speed = "" if base is None else f"{base / ms:13.1f}x"
            print(f"  {name:{width}s} {value:16.12g} {ms:9.1f} {speed:>14s} {error}")
        if base is None or reference is None:
            print(f"  target ({SPEEDUP_TARGET:g}x PyHessian): not measured (PyHessian or the "
                  "reference is missing)")
            continue
        comparisons = [
            ("the default sharpness", default, PYHESSIAN_DEFAULT),
            ("the default sharpness", default, PYHESSIAN_TIGHT),
            (f"tol={MATCHING_TOL:g}", matching, PYHESSIAN_DEFAULT),
            ("Lanczos at PyHessian's error", equal, PYHESSIAN_DEFAULT),
        ]
        for what, ours, pyhessian in comparisons:
            speedup = rows[pyhessian][1] / rows[ours][1]
            met = speedup >= SPEEDUP_TARGET and errors[ours] <= errors[pyhessian]
            print(f"  target: {what} {SPEEDUP_TARGET:g}x faster than {pyhessian} "
                  f"at equal or better accuracy: {'met' if met else 'NOT met'} "
                  f"({speedup:.1f}x, error {errors[ours]:.1e} vs {errors[pyhessian]:.1e})")


def _reference(net: FNN, X, Z, twin, scipy_missing):
    """(value, how, notes): the tight reference sharpness, independent of hessian_core's
    Lanczos (dense eigvalsh up to DENSE_REFERENCE_LIMIT, else ARPACK on torch products)."""
    notes = []
    if net.n_parameters <= DENSE_REFERENCE_LIMIT:
        reference = float(np.linalg.eigvalsh(net.whole_hessian(X, Z).dense())[-1])
        if twin is not None and not scipy_missing:
            gap = abs(twin.eigsh_top(0.0) - reference) / abs(reference)
            notes.append(f"eigsh(tol=0) on torch products differs from it by {gap:.1e}")
        return reference, "dense eigvalsh", notes
    if twin is not None and not scipy_missing:
        return twin.eigsh_top(0.0), "eigsh(tol=0) on torch.func products", notes
    notes.append("without torch and scipy there is no reference independent of "
                 "hessian_core's Lanczos")
    return None, None, notes


def _steps_value(net: FNN, X, Z, steps: int) -> float:
    """The largest Ritz value after exactly ``steps`` Lanczos products (tol=0 never stops
    early; the warning that it stopped unconverged is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(net.whole_hessian(X, Z).top_eigenvalues(1, tol=0.0, maxiter=steps)[-1])


def fewest_steps(net: FNN, X, Z, reference: float, pyhessian_value: float) -> int:
    """The fewest Lanczos products whose value is as close to ``reference`` as PyHessian's
    default: time to equal accuracy (a work-precision point). Found before the timing, from
    the tight reference; the largest Ritz value only rises with the steps (Cauchy
    interlacing), so its error only falls and the first step that reaches it is the one."""
    target = abs(pyhessian_value - reference)
    for steps in range(1, 301):
        if abs(_steps_value(net, X, Z, steps) - reference) <= target:
            return steps
    return 300


if __name__ == "__main__":
    main()
