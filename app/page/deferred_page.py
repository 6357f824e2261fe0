"""A served page whose heavy part is built once the page has loaded: a plain GET builds none.

Every ``GET /app`` makes the Bokeh server run ``app/main.py`` for a new session, on its event
loop, before it answers. A link preview, a crawler or a reload burst asks for that as a
student's page does, but never opens the page's websocket, so whatever ``main.py`` builds for
it is built for nothing, while the pages already playing wait for the loop. So the served
page is a column that shows :data:`LOADING_TEXT` (CSS class ``page-loading``) at first, and the
session's heavy part (the dashboard: its settings, training session, controls and views) is
built by Panel's ``pn.state.onload`` callback: it runs when the page has connected and BokehJS
has rendered the document it pulled (its ``DocumentReady`` event, under the document's lock),
and the column's ``objects`` become what it built, sent to the page in the same turn. A GET
whose page never connects builds the loading text and the page's other small roots only.

This is Panel's documented route for deferring long work ("Defer Long Running Tasks to
Improve the User Experience", ``how_to/callbacks/load``: a placeholder served at once, filled
in ``pn.state.onload``). Without a server (tests, scripts) ``pn.state.onload`` calls back at
once, so the column is built at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import panel as pn

#: what the page shows until its dashboard is built
LOADING_TEXT = "Loading hessian-lab…"
#: the CSS class of that text (a test hook)
LOADING_CLASS = "page-loading"
#: the page column's stylesheet: as wide as the window allows, never wider for its contents
PAGE_COLUMN_CSS = ":host { min-width: 0 !important; max-width: 100%; }"
#: what the page shows in its place if the dashboard could not be built (the server logs why)
FAILED_TEXT = "hessian-lab could not build this page. Reload it to try again."


def loading_text() -> pn.pane.HTML:
    """The short text the page shows while its dashboard is being built."""
    return pn.pane.HTML(f"<p>{LOADING_TEXT}</p>", css_classes=[LOADING_CLASS], margin=(5, 10),
                        styles={"color": "#555", "font-size": "1.1em"})


def built_on_load(build: Callable[[], Sequence], below: Sequence = (),
                  then: Callable[[], object] | None = None) -> pn.Column:
    """A column showing :func:`loading_text` above ``below``; once the page has loaded, it
    shows what ``build()`` returns above ``below`` instead, and ``then()`` is called (after
    the column's Bokeh models for the built objects exist). Should ``build()`` raise, the
    page says :data:`FAILED_TEXT` instead of loading for ever, and the error goes on to Panel
    (which logs it)."""
    # no wider than the window however wide what it holds may be: the dashboard's own
    # stylesheet narrows it on a phone (app/page_css.py), which Panel's column would not follow
    page = pn.Column(loading_text(), *below, sizing_mode="stretch_width",
                     stylesheets=[PAGE_COLUMN_CSS])

    def build_page() -> None:
        try:
            built = build()
        except Exception:
            page.objects = [pn.pane.HTML(f"<p>{FAILED_TEXT}</p>", css_classes=["page-failed"]),
                            *below]
            raise
        page.objects = [*built, *below]
        if then is not None:
            then()

    pn.state.onload(build_page)
    return page
