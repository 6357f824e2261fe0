"""The notebooks and the README's notebook snippet draw without internet.

Each case runs in a fresh ``python3`` kernel through nbclient, as JupyterLab would run it, and then
reads what the outputs make a browser fetch: the URLs in the lists of the extension's loader
(``js_urls``, ``css_urls``, ``js_modules``, ``js_exports``) and every CDN address in the outputs
of the displayed views (stylesheet links included). None may point at a CDN.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
HOLOVIEWS_NOTEBOOKS = [
    path for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if not path.name.startswith("06")
]
PANEL_VIEW = "application/vnd.holoviews_exec.v0+json"
LOADER_LIST = re.compile(r"\b(js_urls|css_urls|js_modules|js_exports)\s*=\s*(\[[^\]]*\]|\{[^}]*\})")
CDN = re.compile(
    r"https?://(?:cdn\.holoviz\.org|cdn\.bokeh\.org|cdn\.jsdelivr\.net|unpkg\.com)[^\s\"'\\)]*"
)
# a layout of a plot and a table: HoloViews wraps it in Panel's layouts and themes
PLOTS = 'hv.Curve([0, 1, 4]) + hv.Table([(0, 1)], "a", "b")'


def _run(sources: list[str], folder: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        shutdown_kernel="immediate",
    ).execute()
    return notebook


def _outputs(notebook: nbformat.NotebookNode) -> list[dict[str, str]]:
    return [
        {
            mime: data if isinstance(data, str) else json.dumps(data)
            for mime, data in output.get("data", {}).items()
        }
        for cell in notebook.cells
        for output in cell.outputs
    ]


def _fetched_from_cdns(notebook: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """(what the loader lists fetch, the CDN addresses in the displayed views)"""
    listed, loaders, in_views = [], 0, []
    for output in _outputs(notebook):
        for text in output.values():
            for match in LOADER_LIST.finditer(text):
                loaders += 1
                listed += re.findall(r"https?://[^\"']+", match[2])
        if PANEL_VIEW in output:
            in_views += [url for text in output.values() for url in CDN.findall(text)]
    assert loaders, "no extension loader among the outputs"
    return listed, sorted(set(in_views))


def _readme_notebook_snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"In a notebook the same dashboard is one object:\s*```python\n(.*?)```", readme, re.DOTALL
    )
    assert match, "README.md has no notebook snippet after 'In a notebook the same dashboard'"
    return match[1]


def _load_helpers():
    spec = importlib.util.spec_from_file_location("nbhelpers", NOTEBOOK_DIR / "nbhelpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_readme_notebook_snippet_works_offline():
    notebook = _run([_readme_notebook_snippet()], ROOT)
    listed, in_views = _fetched_from_cdns(notebook)
    assert any(PANEL_VIEW in output for output in _outputs(notebook)), "no dashboard was shown"
    assert not listed, f"the README's pn.extension(...) fetches {listed}"
    assert not in_views, f"the dashboard links {in_views}"


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("path", HOLOVIEWS_NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_plots_work_offline(path):
    """The notebook's first code cell (its imports and extensions), then a layout of plots."""
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    notebook = _run([first.source, PLOTS], NOTEBOOK_DIR)
    listed, in_views = _fetched_from_cdns(notebook)
    assert any(PANEL_VIEW in output for output in _outputs(notebook)), "no plot was shown"
    assert not listed, f"{path.name}'s extensions fetch {listed}"
    assert not in_views, (
        f"{path.name}'s plots link {in_views}; call nbhelpers.inline_panel_stylesheets() after "
        'hv.extension("bokeh", inline=True)'
    )


def test_inline_panel_stylesheets_adds_its_hook_once(monkeypatch):
    from panel.viewable import Viewable

    helpers = _load_helpers()
    monkeypatch.setattr(Viewable, "_preprocessing_hooks", [])
    helpers.inline_panel_stylesheets()
    helpers.inline_panel_stylesheets()
    assert Viewable._preprocessing_hooks == [helpers._inline_stylesheets_hook]


def test_inline_panel_stylesheets_without_the_panel_internals_warns(monkeypatch):
    """The fallback: a Panel without the hook list leaves the plots as they were."""
    from panel.viewable import Viewable

    helpers = _load_helpers()
    monkeypatch.delattr(Viewable, "_preprocessing_hooks")
    with pytest.warns(UserWarning, match="stylesheets at its CDN"):
        helpers.inline_panel_stylesheets()
    assert not hasattr(Viewable, "_preprocessing_hooks")
