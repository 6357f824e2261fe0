"""The page's viewport: laid out at the phone's own width.

A phone lays a page without ``<meta name="viewport">`` out some 980 px wide and zooms it
down to the screen: the dashboard's narrow layouts (:mod:`app.page_css`, settings folded
above the views) never apply and its text is a few pixels tall. Panel's page for servables
without a template has no such tag. Panel's documented way to add to one session's page head
is ``pn.config.js_files`` (kept per session while it is built): :func:`declare` adds
``app/static/viewport.js``, which adds the tag while the head is read, before anything is
laid out. Unlike the BokehJS shims (:mod:`app.page.browser_shims`) it relies on nothing
internal, so it is loaded with the fast paths off too.
"""

from __future__ import annotations

from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "viewport.js"
#: the address the page loads it from (relative to /app, as the shims')
SCRIPT_URL = f"app/static/{SCRIPT.name}"
#: its key in ``pn.config.js_files``
JS_FILES_KEY = "hessian_lab_viewport"
#: what the script sets, for the tests
CONTENT = "width=device-width, initial-scale=1"


def declare() -> None:
    """Have this session's page load :data:`SCRIPT` (called while the served session is
    built, ``app/main.py``)."""
    import panel as pn

    pn.config.js_files = {**pn.config.js_files, JS_FILES_KEY: SCRIPT_URL}
