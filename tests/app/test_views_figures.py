"""The shared figure builders: matrices keep row 0 on top, masks get a legend, and the
symmetric-log axis is labelled with the real values at its tick positions."""

from __future__ import annotations

import numpy as np
import pytest
from bokeh.models import ColorBar, Legend

from app.views.common import symlog
from app.views.figures import MatrixPlot, grid_segments, real_label, symlog_ticks


def inverse_symlog(position: float, linear: float) -> float:
    return float(np.sign(position) * linear * (10.0 ** abs(position) - 1.0))


@pytest.mark.parametrize(("top", "linear", "bottom"), [
    (3.7, 1e-4, None), (2e3, 0.2, -5.0), (1e-9, 1e-12, -1e-9), (1.0, 1e-12, None),
])
def test_symlog_tick_labels_are_the_real_values_at_their_positions(top, linear, bottom):
    majors, minors, labels = symlog_ticks(top, linear, bottom)
    assert 0.0 in majors and labels[0.0] == "0"
    assert majors == sorted(majors) and set(labels) == set(majors)
    for position in majors:
        assert labels[position] == real_label(inverse_symlog(position, linear))
    # the ticks reach the largest value and (when asked) the most negative one
    assert max(majors) >= symlog(np.array([top]), linear)[0] - 1.0
    if bottom is not None:
        assert min(majors) <= symlog(np.array([bottom]), linear)[0] + 1.0
    else:
        assert min(majors) == 0.0
    assert len(labels) <= 2 * 8 + 1  # thinned: a readable number of labels
    assert all(m not in majors for m in minors)


def test_matrix_plot_shows_row_zero_on_top_with_symmetric_colours():
    plot = MatrixPlot("test")
    matrix = np.arange(6.0).reshape(2, 3) - 2.0
    plot.set(matrix, every=1)
    np.testing.assert_array_equal(plot.matrix(), matrix)
    np.testing.assert_array_equal(plot.source.data["image"][0][-1], matrix[0])  # top row
    assert (plot.source.data["dw"], plot.source.data["dh"]) == ([3.0], [2.0])
    assert (plot.mapper.low, plot.mapper.high) == (-3.0, 3.0)
    assert (plot.figure.x_range.end, plot.figure.y_range.end) == (3, 2)
    assert any(isinstance(item, ColorBar) for item in plot.figure.right)
    grid = grid_segments(2, 3, 1, 1)
    np.testing.assert_array_equal(plot.grid.data["x0"], grid["x0"])
    assert len(grid["x0"]) == 2 + 1  # two column lines, one row line


def test_binary_mask_has_a_two_colour_legend_not_a_colour_bar():
    plot = MatrixPlot("mask", kind="binary", labels=("off", "on"))
    plot.set(np.eye(3), limits=(0.0, 1.0))
    assert len(plot.mapper.palette) == 2
    assert not any(isinstance(item, ColorBar) for item in plot.figure.right)
    legends = [item for item in plot.figure.below if isinstance(item, Legend)]
    assert [item.label["value"] for item in legends[0].items] == ["off", "on"]


def test_matrix_plot_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        MatrixPlot("x", kind="rainbow")


def test_every_views_document_validates(rendered):
    """Bokeh's own checks (e.g. a scale that does not fit its range) find nothing wrong."""
    from bokeh.core.validation import check_integrity

    from app.settings import VIEWS

    for model in ("fnn", "rnn"):
        for key in VIEWS:
            dashboard = rendered(model=model, view=key)
            dashboard.step()
            view = dashboard.views[key]
            models = set()
            for item in view._body.select():
                if hasattr(item, "object") and hasattr(item.object, "references"):
                    models |= item.object.references()
            issues = check_integrity(models)
            assert not issues.error and not issues.warning, (key, model, issues)
