"""Notebooks run and saved from JupyterLab's own page, as a teacher does it under `make lab`.

The server is what `make lab` runs: its recipe is read from ``make -n lab`` and started with
``LAB_ARGS`` giving a free loopback port and a token, and ``LAB_ROOT`` a temporary folder that holds
copies of the notebook pairs, ``notebooks/jupytext.toml`` and ``notebooks/nbhelpers.py`` (never the
real notebooks). Headless Chromium (``conftest.browser``) opens one notebook at 1280x900, a line is
typed at the end of its first (markdown) cell, every cell is run from the Run menu and the notebook
is saved with Ctrl+S. Then the files on disk are read back: the ``.ipynb`` has no outputs and its
metadata as before, the ``.py`` differs by the typed line alone, and the checks of
``tests/test_notebooks.py`` for a committed pair hold for the saved files.

Every notebook is run there, each in a fresh tab, and its outputs measured: nothing drawn is wider
than the output area of JupyterLab's default layout at 1280 px (file browser open, about 850 px),
so no figure or table loses its right part or hides it behind a horizontal scroll bar.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.support.lab import lab_server

try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # conftest.browser skips these tests without Playwright
    PlaywrightError = Exception

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS_PY = [path.with_suffix(".py") for path in NOTEBOOKS]
PAIR = "07_sparse_backprop"  # the notebook whose figures were wider than the notebook
TOKEN = "hessian-lab-browser-token"
TYPED = "A sentence the teacher types, with two spaces after it.  "
WINDOW = {"width": 1280, "height": 900}
LAB_START_S = 120
RUN_ALL_S = 420  # every cell of the notebook, on a loaded machine


def _load_notebook_checks():
    """tests/test_notebooks.py as a module of its own (its test functions are called, not
    collected again here)."""
    spec = importlib.util.spec_from_file_location(
        "notebook_checks", ROOT / "tests" / "test_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, root folder) of a running `make lab` server on copies of the notebooks."""
    home = tmp_path_factory.mktemp("lab-browser")
    root = home / "root"
    root.mkdir()
    for path in [
        *NOTEBOOKS,
        *NOTEBOOKS_PY,
        NOTEBOOK_DIR / "jupytext.toml",
        NOTEBOOK_DIR / "nbhelpers.py",
    ]:
        shutil.copy(path, root / path.name)
    with lab_server(home, root, TOKEN, start_s=LAB_START_S) as base:
        yield base, root


# Per output of every code cell: the width of its output area and how far anything drawn inside
# it (through Panel's and Bokeh's shadow roots) reaches past the area's right edge.
OUTPUT_EXTENTS_JS = """() => {
    const extents = [];
    document.querySelectorAll(".jp-Notebook .jp-CodeCell").forEach((cell, index) => {
        cell.querySelectorAll(".jp-OutputArea-output").forEach((output) => {
            const area = output.getBoundingClientRect();
            let right = area.right, canvases = 0;
            const visit = (node) => {
                for (const child of node.children || []) {
                    const box = child.getBoundingClientRect();
                    if (box.width > 0 && box.height > 0) right = Math.max(right, box.right);
                    if (child.tagName === "CANVAS") canvases += 1;
                    visit(child);
                    if (child.shadowRoot) visit(child.shadowRoot);
                }
            };
            visit(output);
            extents.push({cell: index, width: Math.round(area.width), canvases,
                          beyond: Math.round(right - area.right),
                          scroll: output.scrollWidth - output.clientWidth});
        });
    });
    return extents;
}"""


def _menu(page, menu: str, item: str) -> None:
    """Click ``item`` of the menu bar's ``menu`` (labels matched whole)."""
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(f"^{menu}$")).first.click()
    page.locator(".lm-Menu-itemLabel").filter(
        has_text=re.compile(f"^{re.escape(item)}$")
    ).first.click()


def _wait_idle(page, timeout_s: float) -> None:
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_s * 1000
    )


def _open(page, base: str, name: str) -> None:
    """Open ``name`` in JupyterLab and wait for its kernel."""
    # reset: a fresh layout, not the workspace an earlier tab left on the server
    page.goto(f"{base}/lab/tree/{name}?token={TOKEN}&reset", timeout=120_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
    _wait_idle(page, LAB_START_S)
    page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook is the current widget


def _run_all(page) -> list[dict]:
    """Run every cell from the Run menu; the extents of the outputs once each was in view."""
    # the cells are queued: a prompt reads [*] (or already a number). On a loaded machine a
    # menu command given while JupyterLab is still settling the notebook can be dropped:
    # it is given again, three times in all
    for attempt in range(3):
        _menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function(
                """() => Array.from(document.querySelectorAll(
                    ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt")).some(
                        (p) => /\\[(\\*|\\d+)\\]/.test(p.textContent))""",
                timeout=30_000,
            )
            break
        except PlaywrightError:
            if attempt == 2:
                dialogs = page.locator(".jp-Dialog").all_inner_texts()
                pytest.fail(f"Run All Cells started nothing, three times (dialogs: {dialogs})")
            page.keyboard.press("Escape")  # a menu left open
            page.locator(".jp-Notebook .jp-Cell").first.click()
    page.wait_for_function(
        """() => {
            const prompts = Array.from(document.querySelectorAll(
                ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt"));
            return prompts.length > 0 && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=RUN_ALL_S * 1000,
    )
    _wait_idle(page, RUN_ALL_S)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, tracebacks
    # JupyterLab lays out a cell's outputs when the cell comes into view
    code_cells = page.locator(".jp-Notebook .jp-CodeCell")
    for index in range(code_cells.count()):
        code_cells.nth(index).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    page.wait_for_timeout(2_000)
    return page.evaluate(OUTPUT_EXTENTS_JS)


def _assert_fits(extents: list[dict]) -> None:
    drawn = [extent for extent in extents if extent["canvases"]]
    assert drawn, f"the run drew no plot: {extents}"
    too_wide = [e for e in extents if e["beyond"] > 1 or e["scroll"] > 1]
    assert not too_wide, f"outputs wider than the notebook's output area: {too_wide}"


def _shut_down_kernels(base: str) -> None:
    def call(method: str, path: str):
        request = urllib.request.Request(
            f"{base}{path}", method=method, headers={"Authorization": f"token {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    for kernel in call("GET", "/api/kernels"):
        call("DELETE", f"/api/kernels/{kernel['id']}")


def test_a_notebook_run_and_saved_in_jupyterlab(browser, lab):
    base, root = lab
    notebook_path, script_path = root / f"{PAIR}.ipynb", root / f"{PAIR}.py"
    original = nbformat.read(notebook_path, as_version=4)
    original_script = script_path.read_text()
    assert original.cells[0].cell_type == "markdown"

    context = browser.new_context(viewport=WINDOW)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open(page, base, f"{PAIR}.ipynb")

        # Type a line at the end of the first cell, as in a markdown edit.
        page.locator(".jp-Notebook .jp-Cell").first.click()
        page.keyboard.press("Enter")  # edit mode
        page.keyboard.press("Control+End")
        page.keyboard.press("Enter")
        page.keyboard.type(TYPED)
        page.keyboard.press("Escape")  # command mode again

        extents = _run_all(page)
        assert len([e for e in extents if e["canvases"]]) >= 4, extents
        _assert_fits(extents)

        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")
        page.wait_for_function(
            """() => !document.querySelector(".jp-mod-current.jp-mod-dirty")""", timeout=60_000
        )
        deadline = time.monotonic() + 60  # and the server has written the files
        while TYPED.rstrip() not in script_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        context.close()
        _shut_down_kernels(base)

    saved_text = notebook_path.read_text()
    saved = nbformat.reads(saved_text, as_version=4)
    dirty = [
        i
        for i, c in enumerate(saved.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} were saved with outputs"
    assert saved.metadata == original.metadata, "the save rewrote the notebook's metadata"
    expected = [cell.source for cell in original.cells]
    expected[0] += "\n" + TYPED.rstrip()
    assert [cell.source for cell in saved.cells] == expected  # the typed line, nothing else

    changes = [
        line
        for line in difflib.ndiff(
            original_script.splitlines(), script_path.read_text().splitlines()
        )
        if line[:2] in ("+ ", "- ")
    ]
    assert changes == ["+ # " + TYPED.rstrip()], changes

    # What tests/test_notebooks.py asks of a committed pair, asked of the saved files.
    checks = _load_notebook_checks()
    checks.test_notebook_is_committed_without_outputs(notebook_path)
    checks.test_notebook_pair_is_in_sync(notebook_path)
    ruff = subprocess.run(  # with the settings of the .py it stands for (per-file ignores)
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--stdin-filename",
            f"notebooks/{PAIR}.py",
            "-",
        ],
        input=script_path.read_text(),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


# Notebook 06 shows the app (app.Dashboard): in the notebook's 850 px its settings fold above
# its views (a container query on the dashboard's own width, app/page_css.py).
@pytest.mark.parametrize(
    "name", [path.name for path in NOTEBOOKS if path.stem != PAIR], ids=lambda name: name[:2]
)
def test_every_output_fits_the_notebook(browser, lab, name):
    base, _ = lab
    context = browser.new_context(viewport=WINDOW)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        _open(page, base, name)
        _assert_fits(_run_all(page))
    finally:
        context.close()
        _shut_down_kernels(base)
