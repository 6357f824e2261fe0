"""How the notebooks draw (notebooks/nbhelpers.py): ticks in one readable format, legends outside
the plot frame, tables whose columns get the room their text needs.

The colour-bar formatter is BokehJS code; it runs here under Node.js where Node is installed
(skipped otherwise), on the tick lists Bokeh gives a colour bar. What the notebooks look like in
JupyterLab is tests/browser/test_lab_in_browser.py.
"""

from __future__ import annotations

import doctest
import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest
from bokeh.models import CustomJSTickFormatter, Legend

ROOT = Path(__file__).resolve().parent.parent

hv.extension("bokeh")


def _load_helpers():
    """notebooks/nbhelpers.py, imported from its file as a notebook kernel would find it."""
    spec = importlib.util.spec_from_file_location("nbhelpers", ROOT / "notebooks" / "nbhelpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helpers = _load_helpers()


def test_helpers_examples():
    results = doctest.testmod(helpers)
    assert results.attempted >= 2 and results.failed == 0


@pytest.mark.parametrize(
    ("ticks", "labels"),
    [
        ([-0.004, -0.002, 0, 0.002, 0.004], ["-4e-3", "-2e-3", "0", "2e-3", "4e-3"]),
        ([0.001, 0.002, 0.003], ["1e-3", "2e-3", "3e-3"]),
        ([0.0025, 0.005, 0.0075], ["2.5e-3", "5.0e-3", "7.5e-3"]),
        (
            [-0.015, -0.01, -0.005, 0, 0.005, 0.01, 0.015],
            ["-0.015", "-0.010", "-0.005", "0", "0.005", "0.010", "0.015"],
        ),
        ([0.1, 0.2, 0.30000000000000004], ["0.1", "0.2", "0.3"]),
        ([0, 5000, 10000, 20000], ["0", "5000", "10000", "20000"]),
        ([0, 2e6, 4e6], ["0", "2e6", "4e6"]),
    ],
)
def test_colour_bar_ticks_share_one_readable_format(ticks, labels):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed: the BokehJS formatter code cannot run here")
    formatter = helpers.readable_ticks()
    assert isinstance(formatter, CustomJSTickFormatter)
    script = (
        f"const format = (tick, index, ticks) => {{{formatter.code}}};\n"
        f"const ticks = {json.dumps(ticks)};\n"
        "console.log(JSON.stringify(ticks.map((tick, index) => format(tick, index, ticks))));"
    )
    result = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == labels


def test_matrix_pictures_label_their_colour_bar_with_that_format():
    picture = helpers.matrix_picture(np.array([[0.001, -0.003], [0.002, 0.0]]), "M")
    colour_bar = hv.render(picture).right[0]
    assert isinstance(colour_bar.formatter, CustomJSTickFormatter)
    assert colour_bar.formatter.code == helpers.readable_ticks().code


def test_legends_sit_below_the_frame():
    overlay = (hv.Curve([1, 2, 3], label="one") * hv.Curve([3, 2, 1], label="two")).opts(
        **helpers.LEGEND_BELOW
    )
    figure = hv.render(overlay)
    assert [type(item) for item in figure.below if isinstance(item, Legend)] == [Legend]
    assert not [item for item in figure.center if isinstance(item, Legend)], "inside the frame"


def test_log_ticks_on_less_than_a_decade_do_not_crowd():
    ticks = helpers.log_ticks([0.016, 0.018, 0.2, 0.33])
    assert [label for _, label in ticks] == ["0.02", "0.05", "0.1", "0.2"]
    assert helpers.log_ticks([0.0, -1.0]) == []
    assert len(helpers.log_ticks([1e-19, 1e2])) <= 8


def test_column_widths_share_the_table_by_its_text():
    table = hv.Table([("a", "1", "a long case text")], ["eq."], ["value", "case"]).opts(
        width=helpers.ROW_WIDTH, hooks=[helpers.column_widths(60, 80, 400)]
    )
    model = hv.render(table)
    assert [column.width for column in model.columns] == [60, 80, 400]
    assert model.index_position is None
