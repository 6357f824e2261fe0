"""One training session: the data, the model and SGD with momentum, for one dashboard.

The model is trained on mini-batches of the loss E = 1/(2r) sum_p ||z*_p - z_p^(l)||^2 as an
:class:`app.training.run.OptimiserRun`, whose module states the update rule (the paper's
eq. 13-14 and 50-52 with heavy-ball momentum, gradient clipping and L1). The learning rate,
momentum, clip norm and L1 are taken from the settings whenever they change (a watcher), so
the next step uses them and changing them never resets training; any structural change goes
through :meth:`TrainingSession.rebuild`.

Beyond the paper (``app/configuration/classification_settings.py``): an FNN trains with the
settings'
``loss`` (the squared loss above, or softmax cross-entropy on one-hot targets) on the data
of :func:`app.configuration.classification_settings.make_fnn_data` (2-5 classes, input features, the
training rows of a train/test split, or an uploaded CSV, ``use_upload``); the sequence tasks
keep the squared loss. ``weight_decay`` lam adds lam W to every G_W (and G_U); like the
learning rate it acts from the next step on, without a restart (``set_weight_decay``), and so
does the L1 penalty lambda_1 sum_k ||W^(k)||_1 (``l1``,
``app/configuration/playground_settings.py``).
:meth:`TrainingSession.regenerate_data` draws a new sample of the same data set
(``data_seed``) and keeps the model and its optimiser state.

Sparse back-propagation (``settings.sparse``; :mod:`hessian_core.sparse`): the run
(:attr:`TrainingSession.run`) is trained with the gradients of the chosen rule,
``net.gradients(X, Z, topk=... | truncate=... | backtrack=...)``, and a second run of the
same class, its twin (:attr:`TrainingSession.full_run`), started from the same initial
weights, is trained with full back-propagation on the same mini-batches, so that the two
loss curves compare. At every step the cosine similarity between the rule's gradient and
the full gradient at the same weights and batch is recorded per level (G_W^(k), and G_U^(k)
for RNNs). With the rule "none" the twin is not needed: both runs are the same run and the
similarity is 1. A rule change restarts both runs; a rule that does not fit the model
(truncation for an FNN, K above tau) keeps the last valid one in force and says why in
``rule_error``.

Safety: a loss, gradient or update that is not finite, in either run, pauses training,
records why in ``status`` and puts both runs back to the weights of the last step whose
loss was finite (:meth:`app.training.run.OptimiserRun.roll_back`). A rebuild that fails
(bad architecture, data that does not fit) keeps the running model and returns the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import param

from app.configuration.classification_settings import make_fnn_data
from app.configuration.playground_settings import sample_seed
from app.configuration.settings import (
    ArchitectureError,
    Settings,
    SparseRuleError,
    describe_sparse_rule,
    format_architecture,
    parse_architecture,
    parse_sparse_rule,
)
from app.configuration.widths import data_widths_text, network_widths
from app.data.datasets import Dataset, make_sequence_dataset
from app.training.run import OptimiserRun, parameters_of

HISTORY_LIMIT = 20_000

#: The settings every step reads (the rest of a step's settings go through a rebuild).
RATES = ("learning_rate", "momentum", "clip_norm")


def cosine_similarity(a, b) -> float:
    """<a, b> / (||a|| ||b||) of two arrays taken as vectors; 1 if both are zero, 0 if one is."""
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    norm_a, norm_b = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if norm_a == 0.0 or norm_b == 0.0:
        return 1.0 if norm_a == norm_b else 0.0
    return float(np.dot(a, b)) / (norm_a * norm_b)


class TrainingSession(param.Parameterized):
    """Model, data and optimiser state for one dashboard (built per browser session)."""

    step = param.Integer(default=0, doc="optimisation steps taken since the last reset")
    samples_seen = param.Integer(default=0, doc="training samples used by those steps")
    loss = param.Number(default=float("nan"), doc="loss of the last batch, before its update")
    running = param.Boolean(default=False, doc="Play pressed")
    status = param.String(default="", doc="why training paused, or empty")
    version = param.Integer(default=0, doc="bumped at every rebuild: views start over")

    def __init__(self, settings: Settings, **params):
        super().__init__(**params)
        self.settings = settings
        self._read_rates()
        settings.param.watch(self._read_rates, [*RATES, "l1"])
        self.run: OptimiserRun | None = None  # the model and its optimiser state
        self.data: Dataset | None = None
        self.layer_sizes: tuple[int, ...] = ()
        self._order = np.arange(0)
        self._cursor = 0
        self._rng = np.random.default_rng(0)
        self.X = self.Z = None  # the current mini-batch
        self.loss_steps: list[int] = []
        self.loss_values: list[float] = []
        self.initial_loss = float("nan")  # loss of the first batch at the initial weights
        # sparse back-propagation: the rule in force (core keywords), why a requested rule
        # was refused, and the full-backprop twin run (None while the rule is "none")
        self.rule: dict = {}
        self.rule_error: str | None = None
        self._rule_source = ("none", "0.25", 4, "largest:2")
        self.full_run: OptimiserRun | None = None
        self.full_loss_values: list[float] = []
        self.similarity_values: list[np.ndarray] = []  # per step: one value per gradient
        self.uploaded = None  # an uploaded data set (app/data/upload.py) in place of the built-in
        error = self.rebuild()
        if error:
            raise ValueError(error)

    # --- building --------------------------------------------------------------------
    def planned_layer_sizes(self, data: Dataset) -> tuple[int, ...]:
        """Layer sizes (N, m1, ..., M) the settings ask for on ``data``
        (:func:`app.configuration.widths.network_widths`); ArchitectureError if unusable. An
        upload's
        widths are fitted; FNN widths typed for a built-in data set must already fit it."""
        s = self.settings
        sizes = network_widths(s.values(), data)
        if s.model == "fnn" and self.uploaded is None \
                and sizes != parse_architecture(s.architecture):
            raise ArchitectureError(
                f"{data_widths_text(data.name, sizes)}: the first width must be {sizes[0]} and "
                f"the last {sizes[-1]}, e.g. {format_architecture(sizes)}"
            )
        return sizes

    def make_data(self) -> Dataset:
        s = self.settings
        if s.model == "rnn":
            return make_sequence_dataset(s.task, s.samples, s.tau, s.noise,
                                         sample_seed(s.seed, s.data_seed), s.delay)
        return make_fnn_data(s, self.uploaded)

    @property
    def loss_name(self) -> str:
        """The loss trained: the settings' for FNNs, the squared loss for the sequence tasks."""
        return self.settings.loss if self.settings.model == "fnn" else "mse"

    def use_upload(self, uploaded) -> str | None:
        """Train on an uploaded data set (None: the built-in one again); on failure keep
        the running model and data, and return why."""
        previous, self.uploaded = self.uploaded, uploaded
        error = self.rebuild()
        if error:
            self.uploaded = previous
        return error

    def set_weight_decay(self) -> None:
        """Take the settings' weight decay into every run (no restart: the same parameters)."""
        lam = float(self.settings.weight_decay)
        if self.net is not None and self.net.weight_decay != lam:
            for run in self.runs:
                run.set_weight_decay(lam)

    def rebuild(self) -> str | None:
        """Fresh data and weights from the settings; on failure keep everything, return why."""
        from hessian_core import FNN, RNN

        s = self.settings
        try:
            data = self.make_data()
            sizes = self.planned_layer_sizes(data)
            cls = RNN if s.model == "rnn" else FNN
            net = cls.random(
                sizes, activation=s.activation, output_activation=s.output_activation, seed=s.seed,
                loss=self.loss_name, weight_decay=s.weight_decay,
            )
        except (ArchitectureError, ValueError) as error:
            return str(error)
        self.run, self.data, self.layer_sizes = OptimiserRun(net), data, tuple(sizes)
        self.rule, self.rule_error = self.rule_from_settings()
        # the full-backprop twin: the same initial weights, the same batches
        self.full_run = self.run.twin("the full-backprop run") if self.rule else None
        self._rng = np.random.default_rng([s.seed, 3])
        self._order = self._rng.permutation(data.size)
        self._cursor = 0
        self.loss_steps, self.loss_values = [], []
        self.full_loss_values, self.similarity_values = [], []
        self.next_batch()
        self.initial_loss = self.current_loss()
        self.param.update(step=0, samples_seen=0, loss=self.initial_loss, status="",
                          version=self.version + 1)
        return None

    # --- the sparse back-propagation rule ----------------------------------------------
    def rule_from_settings(self) -> tuple[dict, str | None]:
        """(rule in force, why the requested one was refused or None): the settings' rule
        if it fits the model, else the last valid one if that still fits, else none."""
        s = self.settings
        requested = (s.sparse, s.topk, s.truncate, s.backtrack)
        try:
            options = parse_sparse_rule(*requested, s.model, s.tau)
        except (SparseRuleError, ValueError, TypeError) as error:
            try:
                kept = parse_sparse_rule(*self._rule_source, s.model, s.tau)
            except (SparseRuleError, ValueError, TypeError):
                kept, self._rule_source = {}, ("none",) + self._rule_source[1:]
            return kept, str(error)
        self._rule_source = requested
        return options, None

    def requested_rule(self) -> dict:
        """The settings' rule as core keywords; SparseRuleError if it does not fit."""
        s = self.settings
        return parse_sparse_rule(s.sparse, s.topk, s.truncate, s.backtrack, s.model, s.tau)

    @property
    def rule_text(self) -> str:
        return describe_sparse_rule(self.rule)

    @property
    def reference_net(self):
        """The full-backprop run (the running model itself while the rule is none)."""
        return self.full_net if self.full_net is not None else self.net

    def gradient_names(self) -> list[str]:
        """Labels of the per-level similarities: W1, (U1,) W2, ..."""
        names = []
        for k in range(1, self.net.n_layers + 1):
            names += [f"W{k}", f"U{k}"] if self.is_rnn else [f"W{k}"]
        return names

    def regenerate_data(self) -> str | None:
        """A new sample of the same data set (the settings' ``data_seed``): the model, its
        velocity, the step count and the loss history are kept, so training goes on on the
        new points; the views start over (``version``). Returns why not (an upload has no
        other sample), nothing changed then; data of other widths rebuild."""
        if self.uploaded is not None:
            return ("an uploaded file has no other sample: Regenerate data draws the "
                    "built-in data sets")
        try:
            data = self.make_data()
        except ValueError as error:
            return str(error)
        if (data.input_width, data.output_width) != (self.data.input_width,
                                                     self.data.output_width):
            return self.rebuild()
        self.data = data
        self._order = self._rng.permutation(data.size)
        self._cursor = 0
        self.next_batch()
        self.version += 1
        return None

    def reset(self) -> str | None:
        """Start over from the seed (same as a rebuild, kept separate for the Reset button)."""
        return self.rebuild()

    # --- the model: the run and its twin ------------------------------------------------
    @property
    def net(self):
        """The running model (trained with the rule in force): :attr:`run`'s network."""
        return self.run.net

    @net.setter
    def net(self, net) -> None:
        self.run.net = net

    @property
    def full_net(self):
        """The full-backprop twin's network; None while the rule is none."""
        return None if self.full_run is None else self.full_run.net

    @property
    def runs(self) -> tuple[OptimiserRun, ...]:
        """The run, and its full-backprop twin when a rule is in force."""
        return (self.run,) if self.full_run is None else (self.run, self.full_run)

    @property
    def is_rnn(self) -> bool:
        return getattr(self.net, "recurrent", None) is not None

    def parameters(self, net=None) -> list[np.ndarray]:
        """[W1, b1, (U1,) W2, b2, (U2,) ...] of the running model (or of ``net``)."""
        return parameters_of(self.net if net is None else net)

    # --- data --------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return int(min(self.settings.batch_size, self.data.size))

    @property
    def epochs(self) -> float:
        """Epochs trained since the last reset: samples seen / training samples."""
        return self.samples_seen / max(self.data.size, 1)

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

    def current_loss(self, net=None) -> float:
        net = self.net if net is None else net
        try:
            return float(net.loss(self.X, self.Z, **self.loss_keywords()))
        except (FloatingPointError, ValueError, OverflowError):
            return float("nan")

    # --- training ----------------------------------------------------------------------
    def pause(self, reason: str) -> None:
        self.param.update(running=False, status=reason)

    def _read_rates(self, *events) -> None:
        """Keep the :data:`RATES` and L1 as plain floats (:data:`app.training.run.Rates`), read
        again whenever one changes (a watcher): param reads would cost a step as much as its
        forward pass."""
        self._rates = (*(float(getattr(self.settings, name)) for name in RATES),
                       float(self.settings.l1))

    def similarities(self, sparse, full) -> np.ndarray:
        """Cosine similarity of each G_W^(k) (and G_U^(k)) between two gradient lists."""
        values = []
        for g, h in zip(sparse, full, strict=True):
            values.append(cosine_similarity(g.W, h.W))
            if self.is_rnn:
                values.append(cosine_similarity(g.U, h.U))
        return np.array(values)

    def train_step(self) -> bool:
        """One SGD-with-momentum step on a fresh batch, for the run trained with the sparse
        rule and (if a rule is set) its full-backprop twin; False (and paused) if it failed."""
        return self.train_steps(1) == 1

    def train_steps(self, limit: int | None, seconds: float | None = None,
                    clock: Callable[[], float] = time.perf_counter) -> int:
        """Up to ``limit`` steps (None: no limit), stopping once ``seconds`` have passed (after
        at least one step) or at a step that fails (paused, as :meth:`train_step` says);
        returns the number of steps taken. :attr:`step` and :attr:`loss` take their new
        values once, at the end (or before the pause is announced): a parameter's write at
        every step cost a tenth of the step."""
        start = clock()
        step, loss, taken = self.step, self.loss, 0
        failure = None
        while limit is None or taken < limit:
            outcome = self._advance(step + 1)
            if isinstance(outcome, str):
                failure = outcome
                break
            step, loss, taken = step + 1, outcome, taken + 1
            if seconds is not None and clock() - start >= seconds:
                break
        if taken:
            self.param.update(step=step, loss=loss,
                              samples_seen=self.samples_seen + taken * self.batch_size)
        if failure is not None:
            self._refuse(failure)
        return taken

    def _advance(self, step: int) -> float | str:
        """Step number ``step`` (see :meth:`train_step`), without publishing it: the batch's
        loss, or why the step failed (then the weights and velocities are as they were)."""
        self.next_batch()
        X, Z, keywords = self.X, self.Z, self.loss_keywords()
        run, twin = self.run, self.full_run
        with np.errstate(all="ignore"):
            proposed = run.propose(X, Z, keywords, self.rule, self._rates, step)
            if isinstance(proposed, str):
                return proposed
            loss, gradients = proposed.loss, proposed.gradients
            if twin is None:
                full_loss, full = loss, None
                similarity = np.ones(len(gradients) * (2 if run.recurrent else 1))  # G_W (, G_U)
            else:
                exact = run.net.gradients(X, Z, **keywords)
                similarity = self.similarities(gradients, exact)
                full = twin.propose(X, Z, keywords, {}, self._rates, step)
                if isinstance(full, str):
                    return full
                full_loss = full.loss
        run.commit(proposed)
        if full is not None:
            twin.commit(full)
        self.loss_steps.append(step)
        self.loss_values.append(loss)
        self.full_loss_values.append(full_loss)
        self.similarity_values.append(similarity)
        if len(self.loss_steps) > HISTORY_LIMIT:
            for history in (self.loss_steps, self.loss_values, self.full_loss_values,
                            self.similarity_values):
                del history[: HISTORY_LIMIT // 2]
        return loss

    def _refuse(self, reason: str) -> bool:
        """Pause, put every run back to its last weights whose loss was finite, say why."""
        for run in self.runs:
            run.roll_back()
        self.pause(
            f"Paused: {reason}. The weights of the last step with a finite loss are kept; "
            "lower the learning rate, then press Play."
        )
        return False

    def train(self, steps: int, budget_seconds: float | None = None) -> int:
        """Up to ``steps`` steps, stopping early on failure or after ``budget_seconds``."""
        if int(steps) <= 0:
            return 0
        return self.train_steps(int(steps), budget_seconds)

    def release(self) -> None:
        """Drop every array (session destroyed)."""
        self.running = False
        for run in self.runs:
            run.release()
        self.data = self.X = self.Z = self.full_run = None
        self.loss_steps, self.loss_values = [], []
        self.full_loss_values, self.similarity_values = [], []
