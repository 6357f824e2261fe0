"""hessian-lab's live dashboard: ``panel serve app`` serves it; in a notebook::

    from app import Dashboard
    Dashboard()

The packages, bottom up (each imports only those below it; tests/app/test_package_layers.py):

- ``compat`` (every use of a library internal, with its public fallback), ``outside_text``
  (text from links and files shown as text), ``page_css`` (the page's CSS class names);
- ``data``: seeded toy datasets, the plane classification sets, an uploaded CSV;
- ``configuration``: every setting, synced with the URL (settings, address), the lessons,
  the one rule fitting the layer sizes to the data (widths) and the data in use (data_choice);
- ``training``: the session, a run trained by SGD with momentum (run) and its full-backprop
  twin under a sparse rule (session);
- ``views``: the nine views and what they share;
- ``live``: one scheduler per process (fair training slices and paced frames for every
  playing page), one session's loop, the page's receipts; ``controls``: the settings panel;
- ``page``: the dashboard that wires them, the view tabs, the page built once it has loaded,
  the BokehJS shims and the served process's settings;
- ``main``: the served page (``panel serve app``).

Names are imported lazily so that ``panel serve`` (which runs this file as a package
of its own) and plain imports both stay cheap.
"""

from __future__ import annotations

__all__ = ["Dashboard", "Settings", "TrainingSession"]


def __getattr__(name: str):
    if name == "Dashboard":
        from app.page.dashboard import Dashboard

        return Dashboard
    if name == "Settings":
        from app.configuration.settings import Settings

        return Settings
    if name == "TrainingSession":
        from app.training.session import TrainingSession

        return TrainingSession
    raise AttributeError(name)
