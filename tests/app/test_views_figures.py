"""The shared figure builders: matrices keep row 0 on top, masks get a legend, and the
symmetric-log axis is labelled with the real values at its tick positions."""

from __future__ import annotations

import numpy as np
import panel as pn
import pytest
from bokeh.models import ColorBar, Legend

from app.views.common import superscript, symlog
from app.views.figures import MatrixPlot, grid_segments, symlog_ticks


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
        assert float(labels[position]) == pytest.approx(inverse_symlog(position, linear),
                                                        rel=1e-6, abs=1e-300)
    # one format on the whole axis: all plain numbers or all in exponent form
    styles = {"e" in label for label in labels.values() if label != "0"}
    assert len(styles) == 1, labels
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
    assert plot.color_bar.visible and not plot.legend.visible
    grid = grid_segments(2, 3, 1, 1)
    np.testing.assert_array_equal(plot.grid.data["x0"], grid["x0"])
    assert len(grid["x0"]) == 2 + 1  # two column lines, one row line


def test_binary_mask_has_a_two_colour_legend_not_a_colour_bar():
    plot = MatrixPlot("mask", kind="binary", labels=("off", "on"))
    plot.set(np.eye(3), limits=(0.0, 1.0))
    assert len(plot.mapper.palette) == 2
    assert not any(isinstance(item, ColorBar) and item.visible for item in plot.figure.right)
    legends = [item for item in plot.figure.below if isinstance(item, Legend) and item.visible]
    assert [item.label["value"] for item in legends[0].items] == ["off", "on"]
    plot.set_kind("sequential")  # the same figure, now with a colour bar
    assert plot.color_bar.visible and not plot.legend.visible
    assert len(plot.mapper.palette) == 256


def test_matrix_plot_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        MatrixPlot("x", kind="rainbow")


def test_every_views_document_validates(rendered):
    """Bokeh's own checks (e.g. a scale that does not fit its range) find nothing wrong."""
    from bokeh.core.validation import check_integrity

    from app.configuration.settings import VIEWS

    for model in ("fnn", "rnn"):
        for key in VIEWS:
            dashboard = rendered(model=model, view=key)
            dashboard.step()
            view = dashboard.views[key]
            models = set()
            for item in pn.panel(view).select():
                if hasattr(item, "object") and hasattr(item.object, "references"):
                    models |= item.object.references()
            issues = check_integrity(models)
            assert not issues.error and not issues.warning, (key, model, issues)


def figures_of(view) -> list:
    return [item.object for item in pn.panel(view).select() if hasattr(item, "object")
            and type(item.object).__name__ == "figure"]


def test_a_rebuild_reuses_the_figures(rendered):
    """New Bokeh figures put into a served page after a rebuild miss their first data (Panel
    attaches them a tick later), so a model change relabels and refills the same figures."""
    from app.configuration.settings import VIEWS

    dashboard = rendered()
    for key in VIEWS:
        if key == "training":
            continue
        dashboard.settings.view = key
        view = dashboard.views[key]
        before = [id(plot) for plot in figures_of(view)]
        assert before, key
        dashboard.settings.model = "rnn"
        assert [id(plot) for plot in figures_of(view)] == before, key
        assert view.arrays and "Could not draw" not in view.note
        dashboard.settings.model = "fnn"


def test_the_deepest_model_has_a_renderer_per_gradient(rendered):
    dashboard = rendered(view="rank", architecture="2-4-4-4-4-4-4-4-1")
    view = dashboard.views["rank"]
    assert not dashboard.messages and len(view.spectra) == 8
    legend = [item.label["value"] for item in view.spectra_plot.legend[0].items
              if item.visible]
    assert legend[:8] == [f"G_W{superscript(k)}" for k in range(1, 9)]
    dashboard.settings.architecture = "2-8-1"
    legend = [item.label["value"] for item in view.spectra_plot.legend[0].items
              if item.visible]
    # r = 4 exceeds min(m, n) = 2 of both gradients: the bound binds nothing, is not listed
    assert legend == ["G_W⁽¹⁾", "G_W⁽²⁾"]
    assert all(view.spectra[label].data["sigma"].size for label in legend[:2])
