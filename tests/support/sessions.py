"""Training sessions compared field by field: the cases several tests train, and the check
that two sessions hold the same state, bit for bit (losses, similarities, every run's
weights, velocities and last good weights); and a served session's frame, dispatched as the
scheduler dispatches it (``served_frame``)."""

from __future__ import annotations

import asyncio

import numpy as np

from app.training.session import TrainingSession


def arrays_equal(first, second) -> bool:
    return len(first) == len(second) and all(
        a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
        for a, b in zip(first, second, strict=True)
    )


def assert_same_state(new: TrainingSession, old: TrainingSession) -> None:
    assert (new.step, new.running, new.status) == (old.step, old.running, old.status)
    assert new.loss_values == old.loss_values and new.loss_steps == old.loss_steps
    assert np.array_equal(new.full_loss_values, old.full_loss_values, equal_nan=True)
    assert arrays_equal(new.similarity_values, old.similarity_values)
    assert (new.full_net is None) == (old.full_net is None)
    for new_run, old_run in zip(new.runs, old.runs, strict=True):  # the run (and its twin)
        assert arrays_equal(new_run.parameters(), old_run.parameters())
        assert arrays_equal(new_run.velocities, old_run.velocities)
        assert arrays_equal(new_run.last_good, old_run.last_good)
    assert arrays_equal(new.parameters(), old.parameters())
    assert type(new.net) is type(old.net)
    for name in ("activation", "output_activation", "loss_name", "weight_decay"):
        assert getattr(new.net, name) == getattr(old.net, name)


CASES = {
    "default FNN": ({}, 400),
    "FNN spirals, relu, batch 16": (
        {"dataset": "spirals", "activation": "relu", "batch_size": 16}, 300),
    "FNN meProp top-k": ({"sparse": "topk", "topk": "0.5"}, 300),
    "default RNN": ({"model": "rnn"}, 300),
    "RNN echo, outputs from 3": ({"model": "rnn", "task": "echo", "output_from": 3}, 200),
    "RNN truncated BPTT": ({"model": "rnn", "sparse": "truncate", "truncate": 3}, 200),
    "RNN selected steps": ({"model": "rnn", "sparse": "backtrack"}, 200),
    "RNN meProp per level": ({"model": "rnn", "sparse": "topk", "topk": "0.3"}, 150),
}


def served_frame(loop) -> None:
    """One frame of the served ``loop`` (``app.live.loop.SessionLoop``), as the scheduler
    sends it (``dispatch_frame``): drawn under its server session's document lock, on an
    event loop of its own that runs until the frame's coroutine and its callbacks are done.
    The session stand-in's ``with_document_locked`` must return once the frame is drawn."""

    async def dispatched() -> None:
        loop.dispatch_frame()
        current = asyncio.current_task()
        await asyncio.gather(*(task for task in asyncio.all_tasks() if task is not current))

    asyncio.run(dispatched())
