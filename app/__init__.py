"""hessian-lab's live dashboard: ``panel serve app`` serves it; in a notebook::

    from app import Dashboard
    Dashboard()

Modules: main (the served page: a loading text at once, the dashboard built once the page
has loaded, deferred_page), settings (every setting, synced with the URL), widths (the one
rule fitting the layer sizes to the data), datasets (seeded toy data), data_choice (the data
in use and the settings that follow it), training (the session: a run trained by SGD with
momentum, training_run, and its full-backprop twin under a sparse rule), views/ (eight
views), lessons, and the dashboard in parts: scheduler (one per process: fair training
slices and paced frames for every playing page), loop (one session's training and frames),
controls (the settings panel), composition (the view tabs), dashboard (the data store that
wires them); compat holds every use of a library internal, with its public fallback.
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
