"""A view read as its page shows it, through Panel's and Bokeh's public objects.

A view (``app/views``) is a ``pn.viewable.Viewer``: ``pn.panel(view)`` is the layout the page
draws. Its parts are found as the browser tests find them: by a CSS class the app gives them
(the test hooks, e.g. ``errata-table``, ``download-csv``), or by the Bokeh model they draw
(a figure the view names, e.g. ``view.spectrum_plot``). A part is *shown* when it and every
layout around it are visible: a view whose model is too large hides its drawing and keeps
its note.

    assert "| (75)" in find(view, "errata-table").object
    assert not shown(view, view.spectrum_plot)

The same reading serves any Panel ``Viewer`` (an upload panel: ``find(panel,
"upload-message")``), a figure known by its title (``figure_titled``) and a served
document's model known by its CSS class (``page_model``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import panel as pn
from bokeh.model import Model
from bokeh.models import Legend, LegendItem, Plot

__all__ = ["caption_above", "csv_download", "figure_titled", "figure_titles", "find", "glyph_data",
           "legend_item", "located", "npz_download", "page_model", "parts", "shown"]


def parts(view) -> Iterator[tuple[object, tuple]]:
    """Every component of the view's layout, each with the layouts around it (outermost
    first), in the order the page draws them."""

    def walk(component, around: tuple):
        yield component, around
        children = getattr(component, "objects", None)
        if isinstance(children, list):  # rows, columns, flex boxes, tabs
            for child in children:
                yield from walk(child, (*around, component))

    yield from walk(pn.panel(view), ())


def holds(component, target: str | Model) -> bool:
    """Whether ``component`` carries the CSS class ``target`` (itself, or the Bokeh figure it
    draws: ``app.views.figures.pane`` puts a figure's hooks on the figure) or draws the Bokeh
    model ``target``."""
    drawn = getattr(component, "object", None)
    if isinstance(target, str):
        classes = [*(getattr(component, "css_classes", None) or []),
                   *(getattr(drawn, "css_classes", None) or [] if isinstance(drawn, Model) else [])]
        return target in classes
    return drawn is target or (isinstance(drawn, Model) and target in drawn.references())


def located(view, target: str | Model) -> tuple[object, tuple]:
    """The first component holding ``target`` (as ``find``), with the layouts around it."""
    if not isinstance(target, (str, Model)):  # e.g. a figure the view has not built yet
        raise TypeError(f"a CSS class or a Bokeh model, not {target!r}")
    for component, around in parts(view):
        if holds(component, target):
            return component, around
    raise AssertionError(f"nothing in the {type(view).__name__}'s layout holds {target!r}")


def find(view, target: str | Model):
    """The first component of the view's layout with the CSS class ``target``, or drawing
    the Bokeh model ``target``."""
    return located(view, target)[0]


def shown(view, target: str | Model) -> bool:
    """Whether that component is shown: it and every layout around it visible."""
    component, around = located(view, target)
    return all(part.visible for part in (*around, component))


def csv_download(view) -> str:
    """The CSV file that the view's "Download CSV" button gives."""
    return find(view, "download-csv").callback().getvalue()


def npz_download(view):
    """The NPZ archive that the view's "Download NPZ" button gives, opened (``np.load``)."""
    return np.load(io.BytesIO(find(view, "download-npz").callback().getvalue()))


def figure_titles(view) -> list[str]:
    """The titles of the Bokeh figures that the view's layout draws, in the page's order."""
    return [part.object.title.text for part, _ in parts(view)
            if isinstance(getattr(part, "object", None), Plot) and part.object.title is not None]


def figure_titled(view, title: str):
    """The Bokeh figure titled ``title`` that the view's layout draws."""
    for component, _ in parts(view):
        drawn = getattr(component, "object", None)
        if isinstance(drawn, Model) and getattr(getattr(drawn, "title", None), "text",
                                                None) == title:
            return drawn
    raise AssertionError(f"no figure titled {title!r} in the {type(view).__name__}'s layout")


def glyph_data(plot, glyph: type):
    """The data source of the one renderer of the Bokeh figure ``plot`` drawing a ``glyph``
    (a Bokeh glyph class: ``Line``, ``Scatter``, ``Image``...)."""
    found = [renderer.data_source for renderer in plot.renderers
             if isinstance(getattr(renderer, "glyph", None), glyph)]
    assert len(found) == 1, f"{len(found)} {glyph.__name__} renderers in {plot.title.text!r}"
    return found[0]


def caption_above(view, target: str | Model):
    """The caption over a figure: the first component of the column that holds its pane."""
    _, around = located(view, target)
    return around[-1].objects[0]


def legend_item(plot, label: str) -> LegendItem:
    """The entry labelled ``label`` in the legends of the Bokeh figure ``plot``."""
    for legend in plot.select(type=Legend):
        for item in legend.items:
            if item.label is not None and item.label["value"] == label:
                return item
    raise AssertionError(f"no legend entry {label!r} in {plot.title.text!r}")


def page_model(document, css_class: str) -> Model:
    """The model of a rendered (or served) Bokeh ``document`` that carries ``css_class``:
    the one that the page's events arrive on."""
    found = [model for model in document.models
             if css_class in (getattr(model, "css_classes", None) or [])]
    assert len(found) == 1, f"{len(found)} models with the CSS class {css_class!r}"
    return found[0]
