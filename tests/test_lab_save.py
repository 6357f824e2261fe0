"""What a save in `make lab` writes: the notebooks are committed as saved, so a save from
JupyterLab must leave them without outputs, without trailing whitespace and with their metadata.

The server is the one `make lab` starts: the test reads the `lab` recipe from ``make -n lab`` and
runs it, with ``LAB_ARGS`` giving a free loopback port, a token and a temporary root folder that
holds copies of one notebook pair and ``notebooks/jupytext.toml`` (never the real notebooks).
The notebook goes in through the REST contents API (``PUT /api/contents/<path>``), as JupyterLab
sends it: with outputs, execution counts, a kernel display name, ``language_info`` and widget
state, and a markdown line that ends in spaces. Then the files on disk are read back. The same
server shows that either file of a pair opens as the notebook (JupyterLab's default viewer for
``.py`` files, and jupytext's contents API).
"""

from __future__ import annotations

import copy
import difflib
import doctest
import importlib.util
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest

from tests.support.lab import lab_server

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
PAIR = "03_rnn_bptt"  # the notebook whose outputs (BokehJS) once made a 5.9 MB .ipynb
TOKEN = "hessian-lab-test-token"
ADDED = "A sentence the teacher adds, with two spaces after it.  "


def _load_save_hook():
    spec = importlib.util.spec_from_file_location("save_hook", ROOT / "jupyter" / "save_hook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _request(base: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, root folder) of a running `make lab` server on a copy of one pair."""
    home = tmp_path_factory.mktemp("lab")
    root = home / "root"
    root.mkdir()
    for name in (f"{PAIR}.ipynb", f"{PAIR}.py", "jupytext.toml", "nbhelpers.py"):
        shutil.copy(NOTEBOOK_DIR / name, root / name)
    with lab_server(home, root, TOKEN) as base:
        yield base, root


def _as_jupyterlab_sends_it(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook after running every cell and typing ADDED at the end of the first cell."""
    sent = copy.deepcopy(notebook)
    sent.cells[0].source += "\n" + ADDED
    for count, cell in enumerate((c for c in sent.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.metadata["scrolled"] = True
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
            nbformat.v4.new_output(
                "display_data", data={"text/html": "<script>" + "BokehJS " * 20_000 + "</script>"}
            ),
        ]
    sent.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    sent.metadata["language_info"] = {
        "name": "python",
        "version": "3.11.9",
        "mimetype": "text/x-python",
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
    }
    sent.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}
    }
    return sent


@pytest.mark.slow
def test_a_save_writes_only_what_the_teacher_changed(lab):
    base, root = lab
    original = nbformat.read(root / f"{PAIR}.ipynb", as_version=4)
    original_script = (root / f"{PAIR}.py").read_text()
    sent = _as_jupyterlab_sends_it(original)
    assert len(nbformat.writes(sent)) > 500_000  # outputs like those an autosave once wrote

    _request(
        base,
        "PUT",
        f"/api/contents/{PAIR}.ipynb",
        {"type": "notebook", "format": "json", "content": sent},
    )

    saved_text = (root / f"{PAIR}.ipynb").read_text()
    saved = nbformat.reads(saved_text, as_version=4)
    dirty = [
        i
        for i, c in enumerate(saved.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} were saved with outputs"
    assert len(saved_text) < 2 * len(nbformat.writes(original))
    assert saved.metadata == original.metadata, "the save rewrote the notebook's metadata"
    expected = copy.deepcopy(original)
    expected.cells[0].source += "\n" + ADDED.rstrip()
    assert saved.cells == expected.cells  # the typed line, less its trailing spaces; nothing else

    script = (root / f"{PAIR}.py").read_text()
    trailing = [n for n, line in enumerate(script.splitlines(), 1) if line != line.rstrip()]
    assert not trailing, f"{PAIR}.py lines {trailing} end in whitespace"
    changes = [
        line
        for line in difflib.ndiff(original_script.splitlines(), script.splitlines())
        if line[:2] in ("+ ", "- ")
    ]
    assert changes == ["+ # " + ADDED.rstrip()], changes
    from_script = jupytext.read(root / f"{PAIR}.py", fmt="py:percent")
    assert [c.source for c in from_script.cells] == [c.source for c in saved.cells]


@pytest.mark.slow
def test_a_new_notebook_is_saved_without_runtime_metadata(lab):
    base, root = lab
    sent = _as_jupyterlab_sends_it(nbformat.read(NOTEBOOK_DIR / f"{PAIR}.ipynb", as_version=4))
    _request(
        base,
        "PUT",
        "/api/contents/new_notebook.ipynb",
        {"type": "notebook", "format": "json", "content": sent},
    )
    saved = nbformat.read(root / "new_notebook.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in saved.cells)
    assert set(saved.metadata) == {"kernelspec"}, saved.metadata
    assert "scrolled" not in saved.cells[2].metadata


@pytest.mark.slow
def test_a_python_file_saved_as_text_loses_its_trailing_whitespace(lab):
    base, root = lab
    _request(
        base,
        "PUT",
        "/api/contents/edited.py",
        {"type": "file", "format": "text", "content": "x = 1  \n# note\t\n\ny = 2\n"},
    )
    assert (root / "edited.py").read_text() == "x = 1\n# note\n\ny = 2\n"


@pytest.mark.slow
def test_either_file_of_a_pair_opens_as_the_notebook(lab):
    base, root = lab
    settings = _request(base, "GET", "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("python") == "Jupytext Notebook", viewers  # a double click on a .py
    from_script = _request(base, "GET", f"/api/contents/{PAIR}.py?type=notebook")
    from_notebook = _request(base, "GET", f"/api/contents/{PAIR}.ipynb")
    assert from_script["type"] == "notebook"
    assert [c["source"] for c in from_script["content"]["cells"]] == [
        c["source"] for c in from_notebook["content"]["cells"]
    ]


@pytest.mark.slow
def test_a_module_saved_from_the_notebook_view_stays_a_module(lab):
    """nbhelpers.py opens as a notebook too; saving it so writes the module back unpaired."""
    base, root = lab
    before = (root / "nbhelpers.py").read_text()
    opened = _request(base, "GET", "/api/contents/nbhelpers.py?type=notebook")
    assert opened["type"] == "notebook"
    _request(
        base,
        "PUT",
        "/api/contents/nbhelpers.py",
        {"type": "notebook", "format": "json", "content": opened["content"]},
    )
    assert (root / "nbhelpers.py").read_text() == before
    assert not (root / "nbhelpers.ipynb").exists()


def test_save_hook_examples():
    module = _load_save_hook()
    assert doctest.testmod(module).attempted >= 2
    assert doctest.testmod(module).failed == 0
