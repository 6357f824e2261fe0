"""What a student reads is written out, and every axis and legend is readable.

Text:  every view's visible text (notes, captions, tables,
plot titles, axis labels, legends, notes drawn in plots) and every lesson, at step 0, for an
FNN, an RNN and each lesson, has

- no "(s)" plurals ("a sum over 1 sample(s)"): the number decides the word;
- no two parentheticals in a row ("1 (one sample) (one sample)");
- no "an" before a digit ("an 4x4 grid");
- no ASCII superscripts "^(k)": the lessons typeset G_W⁽ᵏ⁾, so the views write it so too;
- no ASCII elementwise product " o " between symbols (C⁽ˡ⁾ = I ∘ F⁽ˡ⁾).

Figures (``app/views/figures.py``): every legend sits outside the frame; a log axis has
powers-of-ten ticks labelled in one format for the whole axis; a step axis has integer ticks
with thousands separators.
"""

from __future__ import annotations

import math
import re

import panel as pn
import pytest
from bokeh.models import (
    BasicTicker,
    CustomJSTickFormatter,
    Label,
    Legend,
    LogScale,
    LogTicker,
    NumeralTickFormatter,
    Range1d,
)

from app.configuration.lessons import LESSONS
from app.configuration.settings import VIEWS
from app.views.figures import AXIS_NUMBER_JS, axis_number, fit_log_range

PROBLEMS = {
    "a '(s)' plural": re.compile(r"\w\(s\)"),
    # after a space: f'(y) (see ...) is a function's argument, not a parenthetical
    "two parentheticals in a row": re.compile(
        r"(?<=\s)\([^()]*[A-Za-z][^()]*\)\s*\([^()]*[A-Za-z][^()]*\)"),
    "'an' before a digit": re.compile(r"\ban [0-9]"),
    "an ASCII superscript '^('": re.compile(r"\^\("),
    "an ASCII ' o ' product": re.compile(r"[\w)⁾] o [\w(]"),
    "an ASCII transpose '^T'": re.compile(r"\^T\b"),
    "an ASCII tilde 'C~'": re.compile(r"[A-Za-z]~"),
    "'zeta' spelled out": re.compile(r"(?<![A-Za-z])zeta(?![A-Za-z])"),
    "an ASCII '<='": re.compile(r"<="),
}


def problems_in(text: str) -> list[str]:
    return [f"{name}: {match.group(0)!r} in {text[:120]!r}"
            for name, pattern in PROBLEMS.items() for match in pattern.finditer(text)]


def label_text(label) -> str:
    """A title, axis label or legend label as the text shown (a value, a PlainText, a str)."""
    if isinstance(label, dict):
        return str(label.get("value") or label.get("field") or "")
    return str(getattr(label, "value", None) or getattr(label, "text", None) or label or "")


def figure_texts(plot) -> list[str]:
    texts = [label_text(plot.title.text) if plot.title else ""]
    texts += [label_text(axis.axis_label) for axis in (*plot.xaxis, *plot.yaxis)]
    for model in plot.select(type=Legend):
        texts += [label_text(item.label) for item in model.items if item.visible]
    texts += [label_text(model.text) for model in plot.select(type=Label) if model.visible]
    return texts


def view_texts(view) -> list[str]:
    """The text a browser shows of ``view``: its text panes and its figures' words."""
    texts = []
    for pane in view.__panel__().select(pn.pane.Markdown):
        texts.append(str(pane.object or ""))
    for pane in view.__panel__().select(pn.pane.HTML):
        texts.append(str(pane.object or ""))
    for pane in view.__panel__().select(pn.pane.Bokeh):
        texts += figure_texts(pane.object)
    return [text for text in texts if text]


@pytest.fixture
def dashboards():
    from app import Dashboard

    made = []

    def make(**settings):
        made.append(Dashboard(**settings))
        return made[-1]

    yield make
    for dashboard in made:
        dashboard.close()


def test_the_scanner_finds_each_fault():
    """The patterns catch the faults a tester reported (so a pass means something)."""
    for text in ("a sum over 1 sample(s)", "bound 1 (one sample) (one sample)",
                 "an 4×4 grid", "G_W^(1)", "C^(l) = I o F^(l)", "P_s^T A", "C~ = P_zeta",
                 "t <= 2"):
        assert problems_in(text), text
    assert not problems_in("G_W⁽¹⁾ of one sample (r = 1); C⁽ˡ⁾ = I ∘ F⁽ˡ⁾, a 4×4 grid")


@pytest.mark.parametrize("model", ["fnn", "rnn"])
@pytest.mark.parametrize("key", list(VIEWS))
def test_every_view_reads_well_at_step_0(dashboards, model, key):
    dashboard = dashboards(model=model, view=key)
    dashboard.refresh_view()
    texts = view_texts(dashboard.main.views[key])
    assert texts, f"no text read from the view {key!r}"
    found = [problem for text in texts for problem in problems_in(text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.key)
def test_every_lesson_and_its_view_read_well_at_step_0(dashboards, lesson):
    dashboard = dashboards()
    dashboard.sidebar.lesson_select.value = lesson.key
    view = dashboard.main.visible
    texts = [lesson.title, lesson.text, *view_texts(view)]
    found = [problem for text in texts for problem in problems_in(text)]
    assert not found, "\n".join(found)


def figures_of(view) -> list:
    return [pane.object for pane in view.__panel__().select(pn.pane.Bokeh)]


@pytest.mark.parametrize("model", ["fnn", "rnn"])
def test_every_legend_is_outside_the_frame_and_every_axis_has_one_format(dashboards, model):
    dashboard = dashboards(model=model)
    problems, log_axes, step_axes, legends = [], 0, 0, 0
    for key in VIEWS:
        dashboard.settings.view = key
        dashboard.refresh_view()
        for plot in figures_of(dashboard.main.views[key]):
            title = f"{key}: {label_text(plot.title.text) if plot.title else ''}"
            for legend in plot.select(type=Legend):
                legends += 1
                if any(item is legend for item in plot.center):
                    problems.append(f"{title}: a legend inside the frame")
            if isinstance(plot.y_scale, LogScale):
                log_axes += 1
                axis = plot.yaxis[0]
                if not (isinstance(axis.ticker, LogTicker)
                        and isinstance(axis.formatter, CustomJSTickFormatter)
                        and axis.formatter.code == AXIS_NUMBER_JS):
                    problems.append(f"{title}: log axis with {axis.ticker} / {axis.formatter}")
            for axis in plot.xaxis:
                if label_text(axis.axis_label) == "step":
                    step_axes += 1
                    if not (isinstance(axis.formatter, NumeralTickFormatter)
                            and axis.formatter.format == "0,0"
                            and isinstance(axis.ticker, BasicTicker)
                            and axis.ticker.min_interval == 1):
                        problems.append(f"{title}: step axis with {axis.ticker} / "
                                        f"{axis.formatter}")
    assert log_axes >= 4 and step_axes >= 4 and legends >= 8, (log_axes, step_axes, legends)
    assert not problems, "\n".join(problems)


def test_one_label_format_per_axis():
    assert axis_number([0.001, 0.01, 0.1, 1.0]) == ["0.001", "0.01", "0.1", "1"]
    assert axis_number([1e-7, 1e-4, 0.1, 100.0]) == ["1e-7", "1e-4", "1e-1", "1e2"]
    assert axis_number([20000.0, 40000.0]) == ["20000", "40000"]
    assert axis_number([-0.1, 0.0, 1e-6]) == ["-1e-1", "0", "1e-6"]


@pytest.mark.parametrize(("low", "high"), [(0.05, 0.09), (2e-7, 3.0), (1.5, 80.0), (1.0, 1.0)])
def test_a_log_range_spans_whole_decades_at_least_two(low, high):
    shown = Range1d(1.0, 2.0)
    fit_log_range(shown, low, high)
    bottom, top = math.log10(shown.start), math.log10(shown.end)
    assert shown.start <= low and high <= shown.end
    assert abs(bottom - round(bottom)) < 1e-3 and abs(top - round(top)) < 1e-3
    # a hair more than two decades: BokehJS's LogTicker draws linear ticks below two
    assert top - bottom > 2
