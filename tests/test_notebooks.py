"""The notebooks: jupytext pairs in step, committed without outputs, run from top to bottom, and
every control acts.

Each notebook in ``notebooks/`` is a pair (``notebooks/jupytext.toml``): ``NN_name.ipynb`` and the
percent-format ``NN_name.py`` hold the same cells, compared with jupytext's own reader and
``jupytext.compare``; the ``.py`` side passes ``ruff check``, and so does
``notebooks/nbhelpers.py``, whose finite-difference references are checked here against
closed-form derivatives.

Each notebook is executed with nbclient in a fresh ``python3`` kernel (the
interpreter running the tests), from the notebook's own folder as JupyterLab would. Any cell
error fails the test; so does a notebook whose cells take longer than ``NOTEBOOK_SECONDS``.
After the last cell, one more cell runs in the same kernel and checks every
``ipywidgets.interactive`` the notebook built: for each control it calls the notebook's function
with that one value changed (errors surface here, not inside an Output widget), checks that the
HoloViews object it returns holds different data, and then moves the widget itself to confirm
that the widget is wired to the function. Execution times are printed per notebook.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jupytext
import jupytext.config
import nbformat
import numpy as np
import pytest
from jupytext.compare import compare_notebooks
from jupytext.formats import long_form_one_format
from nbclient import NotebookClient

from hessian_core import FNN, RNN

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SCRIPTS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))  # the percent-format side of each pair
PAIRED_FORMATS = "ipynb,py:percent"
NOTEBOOK_SECONDS = 120  # per notebook, and per cell for nbclient
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PANEL_VIEW = "application/vnd.holoviews_exec.v0+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Runs in the notebook's kernel after its last cell.
CONTROL_CHECK = r'''
import holoviews as _hv
import ipywidgets as _widgets


def _fingerprint(shown):
    """Everything the returned HoloViews object draws: element types, labels and data."""
    parts = []
    for element in shown.traverse(lambda element: element, [_hv.Element]):
        parts.append((type(element).__name__, element.label, element.group))
        for dimension in element.dimensions():
            parts.append(repr(element.dimension_values(dimension).tolist()))
    return parts


def _other_value(control):
    if isinstance(control, _widgets.Dropdown):
        options = [value for _, value in control.options] if isinstance(control.options[0], tuple) \
            else list(control.options)
        return options[(options.index(control.value) + 1) % len(options)]
    if control.value + control.step <= control.max:
        return control.value + control.step
    return control.value - control.step


_explorers = {}
for _name, _value in list(globals().items()):  # IPython's _, _6, ... name the same objects again
    if isinstance(_value, _widgets.interactive) and not _name.startswith("_"):
        _explorers[_name] = _value
_unchanged, _unwired, _checked = [], [], []
for _name, _explorer in _explorers.items():
    _defaults = {control._kwarg: control.value for control in _explorer.kwargs_widgets}
    _baseline = _fingerprint(_explorer.f(**_defaults))
    assert _fingerprint(_explorer.result) == _baseline, f"{_name}: the widget shows another result"
    for _control in _explorer.kwargs_widgets:
        _old, _new = _control.value, _other_value(_control)
        _changed = _fingerprint(_explorer.f(**{**_defaults, _control._kwarg: _new}))
        if _changed == _baseline:
            _unchanged.append(f"{_name}.{_control._kwarg}: {_old!r} -> {_new!r}")
        _control.value = _new
        if _fingerprint(_explorer.result) != _changed:
            _unwired.append(f"{_name}.{_control._kwarg}")
        _control.value = _old
        _checked.append(f"{_name}.{_control._kwarg}")
assert not _unchanged, f"controls that change nothing shown: {_unchanged}"
assert not _unwired, f"controls whose widget does not redraw: {_unwired}"
print("controls checked:", ", ".join(_checked) or "none")
'''


def _load_helpers():
    """notebooks/nbhelpers.py, imported from its file as a notebook kernel would find it."""
    spec = importlib.util.spec_from_file_location("nbhelpers", NOTEBOOK_DIR / "nbhelpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stamp(cell, event: str) -> datetime:
    """When nbclient saw ``event`` for ``cell`` (it records each cell's timing)."""
    return datetime.fromisoformat(cell.metadata["execution"][event].replace("Z", "+00:00"))


def test_there_are_nine_notebooks():
    assert [path.name[:2] for path in NOTEBOOKS] == [
        "01", "02", "03", "04", "05", "06", "07", "08", "09"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them and save"


def test_every_notebook_is_a_pair():
    assert [path.stem for path in SCRIPTS] == [path.stem for path in NOTEBOOKS]
    assert not (NOTEBOOK_DIR / "generate.py").exists(), "the notebooks are their own source now"


def test_the_folder_pairs_ipynb_with_percent_scripts():
    """JupyterLab's jupytext extension reads notebooks/jupytext.toml: saving writes both files."""
    config_file = jupytext.config.find_jupytext_configuration_file(str(NOTEBOOK_DIR))
    assert config_file is not None and Path(config_file) == NOTEBOOK_DIR / "jupytext.toml"
    config = jupytext.config.load_jupytext_config(str(NOTEBOOKS[0]))
    assert config.formats in (PAIRED_FORMATS, [PAIRED_FORMATS])
    for path in NOTEBOOKS:  # no notebook overrides the folder's pairing (a save in JupyterLab
        # may record the folder's filters in the notebook's metadata, but not other formats)
        settings = nbformat.read(path, as_version=4).metadata.get("jupytext", {})
        assert settings.get("formats", PAIRED_FORMATS) == PAIRED_FORMATS, (
            f"{path.name} pairs itself as {settings['formats']!r}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_pair_is_in_sync(path):
    """The .py holds exactly the cells of the .ipynb (types, sources, order)."""
    script = path.with_suffix(".py")
    fmt = long_form_one_format("py:percent")
    jupytext.config.load_jupytext_config(str(path)).set_default_format_options(fmt)
    from_script = jupytext.read(script, fmt=fmt)
    from_notebook = jupytext.read(path)
    from_notebook.metadata = {}  # the folder's config keeps notebook metadata out of the .py
    assert [cell.cell_type for cell in from_notebook.cells] == [
        cell.cell_type for cell in from_script.cells
    ], f"{path.name} and {script.name} differ; run jupytext --sync notebooks/{script.name}"
    try:
        compare_notebooks(from_script, from_notebook, fmt="py:percent", compare_ids=False)
    except Exception as error:  # jupytext.compare.NotebookDifference names the first cell
        pytest.fail(
            f"{path.name} and {script.name} differ ({error}); save the notebook in JupyterLab "
            f"with jupytext, or run jupytext --sync notebooks/{script.name}"
        )
    # and as a reader sees them, whatever jupytext allows as a round-trip difference
    assert [(c.cell_type, c.source) for c in from_script.cells] == [
        (c.cell_type, c.source) for c in from_notebook.cells
    ]


def test_notebook_sources_pass_ruff():
    """The .py side of the pairs and the shared helpers, with the repository's ruff settings."""
    files = [str(path) for path in [*SCRIPTS, NOTEBOOK_DIR / "nbhelpers.py"]]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_helpers_central_differences_match_closed_form_derivatives():
    """E(w) = w^T A w / 2 + sum(w^3) / 6: gradient A w + w^2 / 2, Hessian A + diag(w)."""
    helpers = _load_helpers()
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    A = A + A.T
    w = rng.standard_normal(5)

    def loss(v):
        return float(v @ A @ v / 2 + np.sum(v**3) / 6)

    np.testing.assert_allclose(
        helpers.central_difference_gradient(loss, w), A @ w + w**2 / 2, rtol=0, atol=1e-8
    )
    hessian = helpers.central_difference_hessian(loss, w)
    np.testing.assert_allclose(hessian, A + np.diag(w), rtol=0, atol=1e-8)
    assert np.array_equal(hessian, hessian.T)
    assert helpers.relative(A + 1e-3 * np.eye(5), A) == pytest.approx(
        1e-3 * np.sqrt(5) / np.linalg.norm(A)
    )
    assert helpers.relative(np.ones(3), np.zeros(3)) == pytest.approx(np.sqrt(3))


def test_helpers_layer_losses_are_the_networks_losses():
    """At the network's own weights each layer loss is the network's loss, and it moves only
    the chosen block (checked against hessian_core's gradient of that block)."""
    helpers = _load_helpers()
    rng = np.random.default_rng(1)
    net = FNN.random((3, 4, 2), activation="tanh", output_activation="sigmoid", seed=0)
    X, Z_target = rng.standard_normal((2, 3)), rng.standard_normal((2, 2))
    loss = helpers.fnn_layer_loss(net, X, Z_target, 2)
    assert loss(net.weights[1].reshape(-1)) == pytest.approx(net.loss(X, Z_target), abs=1e-15)
    gradient = helpers.central_difference_gradient(loss, net.weights[1].reshape(-1))
    np.testing.assert_allclose(
        gradient, net.gradient(X, Z_target, layer=2).W.reshape(-1), rtol=0, atol=1e-8
    )

    rnn = RNN.random((2, 3, 2), activation="tanh", output_activation="identity", seed=0)
    X, Z_target = rng.standard_normal((1, 3, 2)), rng.standard_normal((1, 3, 2))
    for wrt, start in (("W", rnn.weights[0]), ("U", rnn.recurrent[0])):
        loss = helpers.rnn_layer_loss(rnn, X, Z_target, 1, t=3, wrt=wrt)
        assert loss(start.reshape(-1)) == pytest.approx(rnn.loss(X, Z_target, t=3), abs=1e-15)
        exact = getattr(rnn.gradient(X, Z_target, layer=1, t=3), wrt)
        gradient = helpers.central_difference_gradient(loss, start.reshape(-1))
        np.testing.assert_allclose(gradient, exact.reshape(-1), rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match="wrt must be 'W' or 'U'"):
        helpers.rnn_layer_loss(rnn, X, Z_target, 1, t=3, wrt="b")


@pytest.mark.slow
@pytest.mark.timeout(4 * NOTEBOOK_SECONDS)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_and_its_controls_act(path, capsys, record_property):
    notebook = nbformat.read(path, as_version=4)
    cells = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(CONTROL_CHECK, id="control-check"))
    client = NotebookClient(
        notebook,
        timeout=NOTEBOOK_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        # nothing is left to run once the last cell replied: do not wait on a polite exit
        # (a kernel holding display threads has been seen to take minutes to leave)
        shutdown_kernel="immediate",
    )
    started = datetime.now(UTC)
    client.execute()  # raises CellExecutionError on the first failing cell
    finished = datetime.now(UTC)

    code = [cell for cell in notebook.cells[:cells] if cell.cell_type == "code"]
    check = notebook.cells[-1]
    seconds = (
        _stamp(code[-1], "shell.execute_reply") - _stamp(code[0], "iopub.status.busy")
    ).total_seconds()
    phases = {
        "kernel start": _stamp(code[0], "iopub.status.busy") - started,
        "controls check": _stamp(check, "shell.execute_reply") - _stamp(check, "iopub.status.busy"),
        "shutdown": finished - _stamp(check, "shell.execute_reply"),
    }
    check_output = "".join(
        output.get("text", "")
        for output in notebook.cells[-1].outputs
        if output.output_type == "stream"
    )
    record_property("execution_seconds", round(seconds, 1))
    with capsys.disabled():
        print(
            f"\n  {path.name}: cells executed in {seconds:.1f} s ("
            + ", ".join(f"{name} {delta.total_seconds():.1f} s" for name, delta in phases.items())
            + f"); {check_output.strip()}"
        )
    assert seconds < NOTEBOOK_SECONDS, f"{path.name} took {seconds:.0f} s"

    shown = {
        key
        for cell in notebook.cells[:cells]
        if cell.cell_type == "code"
        for output in cell.outputs
        for key in output.get("data", {})
    }
    if "widgets.interactive(" in "".join(cell.source for cell in notebook.cells[:cells]):
        assert WIDGET_VIEW in shown, f"{path.name}: no ipywidgets view was displayed"
        assert "controls checked: none" not in check_output
        # What the explorers drew inside their Output widgets (nbclient keeps the widget state).
        state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        drawn = {
            key
            for model in state.values()
            if model.get("model_name") == "OutputModel"
            for output in model["state"].get("outputs", [])
            for key in output.get("data", {})
        }
        assert PANEL_VIEW in drawn, f"{path.name}: the explorer displayed no HoloViews plot"
    else:
        assert PANEL_VIEW in shown, f"{path.name}: no Panel/HoloViews view was displayed"
