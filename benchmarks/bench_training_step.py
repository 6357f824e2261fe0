"""CPU time of one SGD step of the live loop: the session's step beside the one-call step.

Run from the repository root: ``python -m benchmarks.bench_training_step`` (or ``make
bench``); ``--steps`` and ``--rounds`` set the work, ``--quick`` is a short smoke run.

For the default FNN (2-8-8-1 tanh, batch 4) and the default RNN (the adding task, two levels
of width 8, tau 8), two sessions of the same settings train side by side in one process:

* "one-call": the step written with the one-call public methods, ``net.loss`` (a forward
  pass), ``net.gradients`` (a second forward pass), the momentum update array by array and
  the validating ``FNN``/``RNN`` constructor for the next model (:class:`OneCallSession`,
  the step as it was before ``loss_and_gradients`` and ``with_parameters``);
* "session": ``TrainingSession.train_step`` of :mod:`app.training.session`, one forward pass
  (``net.loss_and_gradients``), the update once over all arrays laid end to end, and
  ``net.with_parameters``.

The two run in alternating rounds of ``--steps`` steps, so that load from other processes
falls on both alike. Reported per step: the process CPU time (``time.process_time``) in ms,
the median and the best of the rounds, and the ratio one-call / session of the medians;
also steps/s of CPU time. On a shared machine the figures are noisy: compare the two
columns of one run, not runs with each other. Both sessions are checked to end with the same
weights (the step is bitwise the same; ``tests/app/test_training_step.py`` proves it).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.configuration.settings import Settings  # noqa: E402
from app.training.session import TrainingSession  # noqa: E402

MODELS = {
    "FNN 2-8-8-1 tanh, batch 4": {},
    "RNN adding, 2 levels x 8, tau 8": {"model": "rnn"},
}


class OneCallSession(TrainingSession):
    """The step from the one-call methods: ``net.loss``, ``net.gradients``, the constructor
    (and the update array by array). Its state lives in the session's runs
    (:class:`app.training.run.OptimiserRun`), the velocity taken apart per array and put back
    laid end to end."""

    def _constructed(self, net, arrays):
        """``net``'s shapes and options with the parameters ``arrays``, by the constructor."""
        per_level = 3 if self.is_rnn else 2
        weights, biases = arrays[0::per_level], arrays[1::per_level]
        options = dict(activation=net.activation, output_activation=net.output_activation,
                       loss=net.loss_name, weight_decay=net.weight_decay)
        if self.is_rnn:
            return type(net)(weights, arrays[2::per_level], biases, **options)
        return type(net)(weights, biases, **options)

    def _update(self, net, velocity, gradients, which: str):
        grads = self._flat(gradients)
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        if not math.isfinite(norm):
            return f"a gradient{which} became non-finite at step {self.step + 1}"
        clip = float(self.settings.clip_norm)
        if clip > 0 and norm > clip:
            grads = [g * (clip / norm) for g in grads]
        lr, beta = float(self.settings.learning_rate), float(self.settings.momentum)
        velocity = [beta * v + g for v, g in zip(velocity, grads, strict=True)]
        updated = [w - lr * v for w, v in zip(self.parameters(net), velocity, strict=True)]
        if not math.isfinite(sum(float(np.sum(w)) for w in updated)):
            return f"the weights{which} overflowed at step {self.step + 1}"
        return velocity, updated

    def _flat(self, gradients):
        """[G_W1, G_b1, (G_U1,) G_W2, ...] in the order of :meth:`parameters`."""
        if self.is_rnn:
            return [G for g in gradients for G in (g.W, g.b, g.U)]
        return [G for g in gradients for G in (g.W, g.b)]

    def _take(self, run, proposed) -> None:
        """Put the step ``proposed`` (velocity per array, new parameters) into ``run``."""
        velocity, updated = proposed
        run.last_good = self.parameters(run.net)
        run.velocity = np.concatenate([v.reshape(-1) for v in velocity])
        run.net = self._constructed(run.net, updated)

    def train_step(self) -> bool:
        self.next_batch()
        keywords = self.loss_keywords()
        with np.errstate(all="ignore"):
            loss = self.current_loss()
            if not math.isfinite(loss):
                return self._refuse(f"the loss became {loss} at step {self.step + 1}")
            gradients = self.net.gradients(self.X, self.Z, **keywords, **self.rule)
            sparse = self._update(self.net, self.run.velocities, gradients, "")
            if isinstance(sparse, str):
                return self._refuse(sparse)
            if self.full_net is None:
                full_loss, full = loss, None
                similarity = np.ones(len(self.gradient_names()))
            else:
                exact = self.net.gradients(self.X, self.Z, **keywords)
                similarity = self.similarities(gradients, exact)
                full_loss = self.current_loss(self.full_net)
                if not math.isfinite(full_loss):
                    return self._refuse(f"the loss of the full-backprop run became {full_loss} "
                                        f"at step {self.step + 1}")
                full = self._update(self.full_net, self.full_run.velocities,
                                    self.full_net.gradients(self.X, self.Z, **keywords),
                                    " of the full-backprop run")
                if isinstance(full, str):
                    return self._refuse(full)
        self._take(self.run, sparse)
        if full is not None:
            self._take(self.full_run, full)
        self.step += 1
        self.loss = loss
        self.loss_steps.append(self.step)
        self.loss_values.append(loss)
        self.full_loss_values.append(full_loss)
        self.similarity_values.append(similarity)
        return True


def cpu_ms_per_step(session: TrainingSession, steps: int) -> float:
    """CPU ms per step over ``steps`` steps (a paused session starts over and goes on)."""
    start = time.process_time()
    for _ in range(steps):
        if not session.train_step():
            session.reset()
    return (time.process_time() - start) / steps * 1e3


def measure(values: dict, steps: int, rounds: int) -> dict:
    sessions = {"one-call": OneCallSession(Settings(**values)),
                "session": TrainingSession(Settings(**values))}
    for session in sessions.values():  # warm up
        cpu_ms_per_step(session, max(10, steps // 10))
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(rounds):
        for name, session in sessions.items():
            times[name].append(cpu_ms_per_step(session, steps))
    old, new = sessions["one-call"], sessions["session"]
    same = all(np.array_equal(a, b) for a, b in zip(old.parameters(), new.parameters(),
                                                    strict=True))
    return {"times": times, "same": same and old.step == new.step}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="steps per round (default 500)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per step (default 7)")
    parser.add_argument("--quick", action="store_true", help="100 steps x 3 rounds")
    args = parser.parse_args(argv)
    steps, rounds = (100, 3) if args.quick else (args.steps, args.rounds)
    if steps < 1 or rounds < 1:
        parser.error(f"--steps and --rounds must be >= 1, got {steps} and {rounds}")
    print(f"CPU ms per SGD step (time.process_time), {rounds} alternating rounds of {steps} "
          "steps; median (best). Noisy on a shared machine.")
    header = f"{'model':34} {'one-call step':>20} {'session step':>20} {'ratio':>7} {'steps/s':>8}"
    print(header)
    print("-" * len(header))
    for label, values in MODELS.items():
        result = measure(values, steps, rounds)
        old, new = result["times"]["one-call"], result["times"]["session"]
        old_median, new_median = statistics.median(old), statistics.median(new)
        print(f"{label:34} {old_median:9.3f} ({min(old):6.3f}) ms "
              f"{new_median:9.3f} ({min(new):6.3f}) ms {old_median / new_median:6.2f}x "
              f"{1e3 / new_median:8.0f}")
        if not result["same"]:
            print(f"  WARNING: the two steps ended with different weights for {label}")
            return 1
    print("ratio = one-call / session (medians); steps/s = 1000 / session median, CPU time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
