"""One training session: the data, the model and SGD with momentum, for one dashboard.

Update rule (the paper's eq. 13-14 and 50-52 with heavy-ball momentum):

    V^(k) <- momentum * V^(k) + G^(k)        W^(k) <- W^(k) - learning_rate * V^(k)

for every parameter block (W, U, b) of every level k, with the gradients G^(k) of the loss
E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 from ``net.gradients(X, Z)`` (one backward pass).
If ``clip_norm`` > 0 and the norm of all gradients together exceeds it, they are scaled down
to that norm first (recurrent networks otherwise blow up easily at useful learning rates).
The learning rate and momentum are read from the settings at every step, so changing them
never resets training; any structural change goes through :meth:`TrainingSession.rebuild`.

Safety: a loss, gradient or update that is not finite pauses training, records why in
``status`` and leaves the weights of the last step whose loss was finite in place. A
rebuild that fails (bad architecture, data that does not fit) keeps the running model and
returns the reason.
"""

from __future__ import annotations

import math

import numpy as np
import param

from .datasets import Dataset, make_fnn_dataset, make_sequence_dataset
from .settings import ArchitectureError, Settings, parse_architecture

HISTORY_LIMIT = 20_000


class TrainingSession(param.Parameterized):
    """Model, data and optimiser state for one dashboard (built per browser session)."""

    step = param.Integer(default=0, doc="optimisation steps taken since the last reset")
    loss = param.Number(default=float("nan"), doc="loss of the last batch, before its update")
    running = param.Boolean(default=False, doc="Play pressed")
    status = param.String(default="", doc="why training paused, or empty")
    version = param.Integer(default=0, doc="bumped at every rebuild: views start over")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.settings = settings
        self.net = None
        self.data: Dataset | None = None
        self.layer_sizes: tuple[int, ...] = ()
        self._velocity: list[np.ndarray] = []
        self._last_good: list[np.ndarray] | None = None
        self._order = np.arange(0)
        self._cursor = 0
        self._rng = np.random.default_rng(0)
        self.X = self.Z = None  # the current mini-batch
        self.loss_steps: list[int] = []
        self.loss_values: list[float] = []
        error = self.rebuild()
        if error:
            raise ValueError(error)

    # --- building --------------------------------------------------------------------
    def planned_layer_sizes(self, data: Dataset) -> tuple[int, ...]:
        """Layer sizes (N, m1, ..., M) the settings ask for; ArchitectureError if unusable."""
        s = self.settings
        if s.model == "rnn":
            return (data.input_width,) + (s.hidden_width,) * s.levels + (data.output_width,)
        sizes = parse_architecture(s.architecture)
        if sizes[0] != data.input_width:
            raise ArchitectureError(
                f"the {data.name} data has {data.input_width} input(s): the first width must be "
                f"{data.input_width}"
            )
        if sizes[-1] != data.output_width:
            raise ArchitectureError(f"the last width must be {data.output_width} (one output)")
        return sizes

    def make_data(self) -> Dataset:
        s = self.settings
        if s.model == "rnn":
            return make_sequence_dataset(s.task, s.samples, s.tau, s.noise, s.seed, s.delay)
        return make_fnn_dataset(s.dataset, s.samples, s.noise, s.seed, s.output_activation)

    def rebuild(self) -> str | None:
        """Fresh data and weights from the settings; on failure keep everything, return why."""
        from hessian_core import FNN, RNN

        s = self.settings
        try:
            data = self.make_data()
            sizes = self.planned_layer_sizes(data)
            cls = RNN if s.model == "rnn" else FNN
            net = cls.random(
                sizes, activation=s.activation, output_activation=s.output_activation, seed=s.seed
            )
        except (ArchitectureError, ValueError) as error:
            return str(error)
        self.net, self.data, self.layer_sizes = net, data, tuple(sizes)
        self._velocity = [np.zeros_like(array) for array in self.parameters()]
        self._last_good = [array.copy() for array in self.parameters()]
        self._rng = np.random.default_rng([s.seed, 3])
        self._order = self._rng.permutation(data.size)
        self._cursor = 0
        self.loss_steps, self.loss_values = [], []
        self.next_batch()
        self.param.update(step=0, loss=self.current_loss(), status="", version=self.version + 1)
        return None

    def reset(self) -> str | None:
        """Start over from the seed (same as a rebuild, kept separate for the Reset button)."""
        return self.rebuild()

    # --- parameters as one flat list ---------------------------------------------------
    @property
    def is_rnn(self) -> bool:
        return getattr(self.net, "recurrent", None) is not None

    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, (U1,) W2, b2, (U2,) ...] of the running model."""
        net = self.net
        arrays = []
        for k in range(net.n_layers):
            arrays += [net.weights[k], net.biases[k]]
            if self.is_rnn:
                arrays.append(net.recurrent[k])
        return arrays

    def _with_parameters(self, arrays: list[np.ndarray]):
        net = self.net
        per_level = 3 if self.is_rnn else 2
        weights = arrays[0::per_level]
        biases = arrays[1::per_level]
        options = dict(activation=net.activation, output_activation=net.output_activation)
        if self.is_rnn:
            return type(net)(weights, arrays[2::per_level], biases, **options)
        return type(net)(weights, biases, **options)

    # --- data --------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return int(min(self.settings.batch_size, self.data.size))

    @property
    def output_from(self) -> int:
        return int(min(self.settings.output_from, self.settings.tau))

    def next_batch(self) -> None:
        """Draw the next mini-batch (epochs of a seeded permutation)."""
        r = self.batch_size
        if self._cursor + r > self.data.size:
            self._order = self._rng.permutation(self.data.size)
            self._cursor = 0
        rows = self._order[self._cursor : self._cursor + r]
        self._cursor += r
        self.X, self.Z = self.data.X[rows], self.data.Z[rows]

    def loss_keywords(self) -> dict:
        return {"outputs_from": self.output_from} if self.is_rnn else {}

    def current_loss(self) -> float:
        try:
            return float(self.net.loss(self.X, self.Z, **self.loss_keywords()))
        except (FloatingPointError, ValueError, OverflowError):
            return float("nan")

    # --- training ----------------------------------------------------------------------
    def pause(self, reason: str) -> None:
        self.param.update(running=False, status=reason)

    def train_step(self) -> bool:
        """One SGD-with-momentum step on a fresh batch; False (and paused) if it failed."""
        self.next_batch()
        with np.errstate(all="ignore"):
            loss = self.current_loss()
            if not math.isfinite(loss):
                return self._refuse(f"the loss became {loss} at step {self.step + 1}")
            gradients = self.net.gradients(self.X, self.Z, **self.loss_keywords())
            grads = []
            for g in gradients:
                grads += [np.asarray(g.W), np.asarray(g.b)]
                if self.is_rnn:
                    grads.append(np.asarray(g.U))
            if not all(np.all(np.isfinite(g)) for g in grads):
                return self._refuse(f"a gradient became non-finite at step {self.step + 1}")
            clip = float(self.settings.clip_norm)
            norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
            if clip > 0 and norm > clip:
                grads = [g * (clip / norm) for g in grads]
            lr, beta = float(self.settings.learning_rate), float(self.settings.momentum)
            velocity = [beta * v + g for v, g in zip(self._velocity, grads, strict=True)]
            updated = [w - lr * v for w, v in zip(self.parameters(), velocity, strict=True)]
            if not all(np.all(np.isfinite(w)) for w in updated):
                return self._refuse(f"the weights overflowed at step {self.step + 1}")
        self._last_good = self.parameters()
        self.net = self._with_parameters(updated)
        self._velocity = velocity
        self.step += 1
        self.loss = loss
        self.loss_steps.append(self.step)
        self.loss_values.append(loss)
        if len(self.loss_steps) > HISTORY_LIMIT:
            del self.loss_steps[: HISTORY_LIMIT // 2]
            del self.loss_values[: HISTORY_LIMIT // 2]
        return True

    def _refuse(self, reason: str) -> bool:
        """Pause, restore the last weights whose loss was finite, say why."""
        if self._last_good is not None:
            self.net = self._with_parameters([array.copy() for array in self._last_good])
            self._velocity = [np.zeros_like(array) for array in self._last_good]
        self.pause(
            f"Paused: {reason}. The weights of the last step with a finite loss are kept; "
            "lower the learning rate, then press Play."
        )
        return False

    def train(self, steps: int, budget_seconds: float | None = None) -> int:
        """Up to ``steps`` steps, stopping early on failure or after ``budget_seconds``."""
        import time

        start = time.perf_counter()
        done = 0
        for _ in range(int(steps)):
            if not self.train_step():
                break
            done += 1
            if budget_seconds is not None and time.perf_counter() - start > budget_seconds:
                break
        return done

    def release(self) -> None:
        """Drop every array (session destroyed)."""
        self.running = False
        self.net = self.data = self.X = self.Z = None
        self._velocity, self._last_good = [], None
        self.loss_steps, self.loss_values = [], []
