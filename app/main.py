"""Served entry point: ``panel serve app`` runs this file once per browser session."""

import sys
from pathlib import Path

import panel as pn

try:
    from app.dashboard import Dashboard
except ImportError:  # served from a checkout without ``pip install -e .``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app.dashboard import Dashboard

pn.extension("katex", notifications=False)
Dashboard(sync_url=True).servable(title="hessian-lab")
