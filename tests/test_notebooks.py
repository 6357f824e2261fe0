"""The notebooks: committed without outputs, run from top to bottom, and every control acts.

Each notebook in ``notebooks/`` is executed with nbclient in a fresh ``python3`` kernel (the
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
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
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


def _load_generator():
    path = NOTEBOOK_DIR / "generate.py"
    spec = importlib.util.spec_from_file_location("notebook_generator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stamp(cell, event: str) -> datetime:
    """When nbclient saw ``event`` for ``cell`` (it records each cell's timing)."""
    return datetime.fromisoformat(cell.metadata["execution"][event].replace("Z", "+00:00"))


def test_there_are_seven_notebooks():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run python notebooks/generate.py"


def test_notebooks_match_their_generator():
    generator = _load_generator()
    assert sorted(generator.NOTEBOOKS) == [path.name for path in NOTEBOOKS]

    def content(notebook):  # what a reader sees, independent of nbformat's serialisation
        return [(cell.cell_type, cell.source) for cell in notebook.cells]

    stale = [
        path.name
        for path in NOTEBOOKS
        if content(nbformat.read(path, as_version=4))
        != content(nbformat.reads(generator.render(path.name), as_version=4))
    ]
    assert not stale, f"edit notebooks/generate.py and rerun it; out of date: {stale}"


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
