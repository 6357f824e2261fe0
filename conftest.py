"""How ``make test`` and ``make test-fast`` split the suite: ``--part=parallel`` keeps the
tests that can share the machine's cores under pytest-xdist (the core with its doctests, the
app without a browser, packaging); ``--part=serial`` keeps the rest, which drive Chromium,
JupyterLab or served processes, or time themselves, and run one at a time. ``make test``
runs both parts, ``make test-fast`` the first; ``--part=all`` (the default) changes nothing.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent

#: Files and folders whose tests run one at a time, and markers that make a test one of them.
SERIAL_PATHS = (ROOT / "tests" / "browser", ROOT / "tests" / "benchmarks",
                ROOT / "tests" / "test_notebooks.py")
SERIAL_MARKERS = ("browser", "slow", "gpu")
PARTS = ("all", "parallel", "serial")


def pytest_addoption(parser):
    parser.addoption(
        "--part", choices=PARTS, default="all",
        help="parallel: the tests that can run under pytest-xdist; serial: the others "
             "(browser, notebooks, benchmarks, slow, gpu); all (default): every test",
    )


def is_serial(item) -> bool:
    """Whether ``item`` must run one at a time (see the module docstring)."""
    path = Path(str(item.path)).resolve()
    return any(item.get_closest_marker(name) for name in SERIAL_MARKERS) or any(
        path == serial or serial in path.parents for serial in SERIAL_PATHS
    )


def pytest_collection_modifyitems(config, items):
    part = config.getoption("--part")
    if part == "all":
        return
    keep, dropped = [], []
    for item in items:
        (keep if is_serial(item) == (part == "serial") else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep
