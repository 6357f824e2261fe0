"""hessian-lab's live dashboard: ``panel serve app`` serves it; in a notebook::

    from app import Dashboard
    Dashboard()

Modules: settings (every setting, synced with the URL), datasets (seeded toy data),
training (the session: SGD with momentum, and a full-backprop twin under a sparse rule),
views/ (seven plots), lessons, and the dashboard in parts: scheduler (one per process:
fair training slices and paced frames for every playing page), loop (one session's
training and frames), controls (the settings panel), composition (the view tabs),
dashboard (the data store that wires them).
Names are imported lazily so that ``panel serve`` (which runs this file as a package
of its own) and plain imports both stay cheap.
"""

from __future__ import annotations

__all__ = ["Dashboard", "Settings", "TrainingSession"]


def __getattr__(name: str):
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "TrainingSession":
        from .training import TrainingSession

        return TrainingSession
    raise AttributeError(name)
