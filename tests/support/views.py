"""A view read as its page shows it, through Panel's and Bokeh's public objects.

A view (``app/views``) is a ``pn.viewable.Viewer``: ``pn.panel(view)`` is the layout the page
draws. Its parts are found as the browser tests find them: by a CSS class the app gives them
(the test hooks, e.g. ``errata-table``, ``download-csv``), or by the Bokeh model they draw
(a figure the view names, e.g. ``view.spectrum_plot``). A part is *shown* when it and every
layout around it are visible: a view whose model is too large hides its drawing and keeps
its note.

    assert "| (75)" in find(view, "errata-table").object
    assert not shown(view, view.spectrum_plot)
"""

from __future__ import annotations

from collections.abc import Iterator

import panel as pn
from bokeh.model import Model

__all__ = ["csv_download", "find", "parts", "shown"]


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
