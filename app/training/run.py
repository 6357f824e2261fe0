"""One optimisation run: a network trained by SGD with momentum, and its safety net.

Update rule (the paper's eq. 13-14 and 50-52 with heavy-ball momentum):

    V^(k) <- momentum * V^(k) + G^(k)        W^(k) <- W^(k) - learning_rate * V^(k)

for every parameter block (W, U, b) of every level k, with the gradients G^(k) of the
network's loss (its weight decay lam included: lam W in every G_W and G_U) from one forward
pass, ``net.loss_and_gradients(X, Z)``. Before the momentum, ``l1`` lambda_1 adds the
subgradient lambda_1 sign(W) of lambda_1 sum_k ||W^(k)||_1 to every G_W (and G_U; sign(0) = 0,
biases untouched), and if ``clip_norm`` > 0 and the norm of all gradients together exceeds
it, they are scaled down to that norm (recurrent networks otherwise blow up easily at useful
learning rates).

The parameters are [W1, b1, (U1,) W2, b2, (U2,) ...] (:func:`parameters_of`); their velocity
is kept laid end to end in one array, and each element-wise step runs once over all of them
(the same operations on the same entries, so bit for bit the result array by array).

A step is proposed, then committed. :meth:`OptimiserRun.propose` gives the batch's loss, the
gradients, the new velocity and the new weights, or why the step cannot be taken (a loss,
gradient or update that is not finite), and changes nothing. :meth:`OptimiserRun.commit`
takes it and keeps the weights it started from, whose loss was finite, as the last good
ones; :meth:`OptimiserRun.roll_back` puts those back and zeroes the velocity. Two runs on
the same batches (a sparse rule's and its full-backprop twin) so step together or not at all.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

#: (learning rate, momentum, clip norm, lambda_1 of L1): what a step reads from the settings
Rates = tuple[float, float, float, float]


def parameters_of(net) -> list[np.ndarray]:
    """[W1, b1, (U1,) W2, b2, (U2,) ...] of an FNN or an RNN."""
    recurrent = getattr(net, "recurrent", None)
    arrays = []
    for k in range(net.n_layers):
        arrays += [net.weights[k], net.biases[k]]
        if recurrent is not None:
            arrays.append(recurrent[k])
    return arrays


class Step(NamedTuple):
    """A step proposed by :meth:`OptimiserRun.propose`, not yet taken."""

    loss: float  # of the batch at the weights the step starts from
    gradients: list  # the network's per-level gradients
    velocity: np.ndarray  # V after the step, laid end to end
    weights: list[np.ndarray]  # the parameters after the step


class OptimiserRun:
    """A network, the velocity of its parameters and the weights it last stepped from with a
    finite loss (module docstring). ``name`` names the run in the reasons a step fails."""

    def __init__(self, net, name: str = ""):
        self.net = net
        self.recurrent = getattr(net, "recurrent", None) is not None
        self.name = name
        self.last_good: list[np.ndarray] | None = [array.copy() for array in parameters_of(net)]
        ends = list(itertools.accumulate(array.size for array in self.last_good))
        self.layout = [(start, end, array.shape) for start, end, array in
                       zip([0] + ends[:-1], ends, self.last_good, strict=True)]
        self.velocity = np.zeros(ends[-1])
        period = 3 if self.recurrent else 2  # [W, b, (U,) ...]: b at 1 modulo the period
        # the entries L1 acts on: every W (and U), no bias
        self.penalised = np.concatenate([np.full(array.size, index % period != 1)
                                         for index, array in enumerate(self.last_good)])

    def twin(self, name: str) -> OptimiserRun:
        """A second run from this run's weights, with its own (zero) velocity."""
        return OptimiserRun(self.with_parameters(self.parameters()), name)

    def parameters(self) -> list[np.ndarray]:
        return parameters_of(self.net)

    @property
    def velocities(self) -> list[np.ndarray]:
        """The velocity V of each array of :meth:`parameters`, as views of :attr:`velocity`."""
        return [self.velocity[start:end].reshape(shape) for start, end, shape in self.layout]

    def with_parameters(self, arrays: list[np.ndarray], check: bool = True):
        """The network's shapes and options with the parameters ``arrays``
        (``net.with_parameters``); ``check=False`` for those :meth:`propose` made from the
        network's own by element-wise steps and found finite."""
        if self.recurrent:
            return self.net.with_parameters(arrays[0::3], arrays[2::3], arrays[1::3],
                                            check=check)
        return self.net.with_parameters(arrays[0::2], arrays[1::2], check=check)

    def set_weight_decay(self, lam: float) -> None:
        """The same parameters and options with weight decay ``lam`` (the validating
        constructor: ``net.with_parameters`` keeps the old lam)."""
        net = self.net
        options = dict(activation=net.activation, output_activation=net.output_activation,
                       loss=net.loss_name, weight_decay=lam)
        if self.recurrent:
            self.net = type(net)(net.weights, net.recurrent, net.biases, **options)
        else:
            self.net = type(net)(net.weights, net.biases, **options)

    def propose(self, X, Z, keywords: dict, rule: dict, rates: Rates, step: int) -> Step | str:
        """Step number ``step`` on the batch (X, Z) (``keywords`` and the sparse ``rule`` go to
        ``net.loss_and_gradients``), or why it cannot be taken. Run it under
        ``np.errstate(all="ignore")``: what is not finite is found and named here."""
        of = f" of {self.name}" if self.name else ""
        try:
            loss, gradients = self.net.loss_and_gradients(X, Z, **keywords, **rule)
        except (FloatingPointError, ValueError, OverflowError):
            loss = float("nan")
        loss = float(loss)
        if not math.isfinite(loss):
            return f"the loss{of} became {loss} at step {step}"
        if self.recurrent:
            grads = [G for g in gradients for G in (g.W, g.b, g.U)]
        else:
            grads = [G for g in gradients for G in (g.W, g.b)]
        learning_rate, momentum, clip, l1 = rates
        reduce = np.add.reduce  # what np.sum(x) runs, without its Python wrapper
        flat = np.concatenate([g.reshape(-1) for g in grads])
        current = np.concatenate([w.reshape(-1) for w in parameters_of(self.net)])
        if l1:
            flat = flat + l1 * (self.penalised * np.sign(current))
        # The norm is the root of the arrays' sums of squares added one after another, finite
        # exactly when every entry is. One sum over all the n entries (each >= 0) is within
        # n * 2^-53 of it, relatively: far inside 1e-6, so it settles the usual step, finite
        # and below the clip (or no clip), as the norm would. Any other step takes the norm.
        squares = float(reduce(flat * flat))
        if not (squares < 1e300 and (clip <= 0 or squares < clip * clip * (1 - 1e-6))):
            norm = math.sqrt(sum(float(reduce(flat[start:end] * flat[start:end]))
                                 for start, end, _ in self.layout))  # L1's term included
            if not math.isfinite(norm):
                return f"a gradient{of} became non-finite at step {step}"
            if clip > 0 and norm > clip:
                flat = flat * (clip / norm)
        velocity = momentum * self.velocity + flat
        flat_weights = current - learning_rate * velocity
        updated = [flat_weights[start:end].reshape(shape) for start, end, shape in self.layout]
        # The step fails where the sum of the arrays' sums is not finite (a NaN or inf entry).
        # Entries all below 1e300 / n in size cannot make it overflow: then one max decides.
        largest = float(np.maximum.reduce(np.abs(flat_weights), axis=None))
        if not largest * flat_weights.size < 1e300 and not math.isfinite(
            sum(float(reduce(w, axis=None)) for w in updated)
        ):
            return f"the weights{of} overflowed at step {step}"
        return Step(loss, gradients, velocity, updated)

    def commit(self, step: Step) -> None:
        """Take a proposed step; the weights it started from become the last good ones."""
        self.last_good = parameters_of(self.net)
        self.velocity = step.velocity
        self.net = self.with_parameters(step.weights, check=False)

    def roll_back(self) -> None:
        """Back to (copies of) the last good weights, with zero velocity."""
        self.net = self.with_parameters([array.copy() for array in self.last_good])
        self.velocity = np.zeros_like(self.velocity)

    def release(self) -> None:
        """Drop every array (the session is over)."""
        self.net, self.last_good, self.layout = None, None, []
        self.velocity, self.penalised = np.zeros(0), np.zeros(0, dtype=bool)
