"""Served entry point: ``panel serve app`` runs this file once per browser session.

When the page loses its server (the worker process serving it stopped or was restarted, see
``serve/supervisor.py``), Panel's notification area shows :data:`DISCONNECT_MESSAGE`. Under
``make serve WORKERS=N`` each worker has ``HESSIAN_LAB_WORKER`` (``w1``, ``w2``, ...) in its
environment and the page shows it in a small text with the CSS class ``worker-id`` (reading
"worker w1"), so a teacher or a test can tell which process serves a page. The process skips
Bokeh's self-checks of every new session (the tests run them) and keeps one BLAS thread
(:mod:`app.page.serving`). A page's dashboard is built once the page has loaded (Panel's
``pn.state.onload``, :mod:`app.page.deferred_page`), so a plain ``GET`` that never connects (a link
preview, a crawler) builds only a "Loading" text; once a session's dashboard is built, its
objects are kept out of later garbage collections until a session ends
(:mod:`app.page.gc_policy`). The page's BokehJS draws each live update through shims that skip
work it does for nothing here (:mod:`app.page.browser_shims`).
A page whose address is over :data:`app.page.serving.ADDRESS_LIMIT_BYTES` shows only
:data:`app.page.serving.ADDRESS_TOO_LONG` (CSS class ``address-too-long``), as HAProxy's page does.
"""

import os
import sys
from html import escape
from pathlib import Path

import panel as pn
from panel.io.notifications import NotificationArea

try:
    from app.configuration.address import follow_address
    from app.page import browser_shims, viewport
    from app.page.dashboard import Dashboard
    from app.page.deferred_page import built_on_load
    from app.page.gc_policy import freeze_built_session
    from app.page.serving import ADDRESS_TOO_LONG, address_too_long, configure_served_process
except ImportError:  # served from a checkout without ``pip install -e .``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from app.configuration.address import follow_address
    from app.page import browser_shims, viewport
    from app.page.dashboard import Dashboard
    from app.page.deferred_page import built_on_load
    from app.page.gc_policy import freeze_built_session
    from app.page.serving import ADDRESS_TOO_LONG, address_too_long, configure_served_process

DISCONNECT_MESSAGE = (
    "Connection to the server lost: this page no longer trains. Reload the page to start "
    "again (the settings are kept in the address)."
)

# The notification area that shows DISCONNECT_MESSAGE is the session's own second root,
# destroyed with the session. (Panel's per-session area of disconnect_notification=... is
# kept by Panel after its session ends, and with it the whole session: some 5 MB a closed
# page.) "notifications" loads the area's scripts; notifications=False keeps Panel's off.
pn.extension("katex", "notifications", notifications=False)
configure_served_process()
viewport.declare()  # a phone lays the page out at its own width (app/page/viewport.py)
if address_too_long(pn.state.curdoc):
    # no dashboard, no session built: the page (and its title) says what was too long
    TOO_LONG_TITLE = ADDRESS_TOO_LONG.split(":")[0].lower()
    pn.pane.HTML(f"<h1>hessian-lab</h1><p>{escape(ADDRESS_TOO_LONG)}</p>"
                 '<p><a href="/app">Open /app</a></p>', css_classes=["address-too-long"],
                 sizing_mode="stretch_width").servable(title=f"hessian-lab: {TOO_LONG_TITLE}",
                                                       location=False)
else:
    # the dashboard is built once the page has loaded (app/page/deferred_page.py): a plain GET (a
    # link preview, a reload never connected) builds only what is below and the loading text
    below = []
    if worker := os.environ.get("HESSIAN_LAB_WORKER"):
        # below the dashboard, in the same root
        below.append(pn.pane.HTML(f"worker {escape(worker)}", css_classes=["worker-id"],
                                  margin=(0, 10), styles={"color": "#888", "font-size": "0.8em"}))

    def build_dashboard() -> list:
        """The dashboard, from the settings in the page's link, and the address bar that
        shows them in the page's address and brings Back and Forward to them
        (app/configuration/address.py); none where the dashboard could not tie one to the address
        (Dashboard.location)."""
        dashboard = Dashboard(sync_url=True)
        address = follow_address(dashboard)
        return [dashboard] if address is None else [dashboard, address]

    built_on_load(build_dashboard, below,
                  then=lambda: freeze_built_session(pn.state.curdoc)).servable(
        title="hessian-lab", location=False)
    NotificationArea(js_events={"connection_lost": {"type": "error",
                                                    "message": DISCONNECT_MESSAGE}}
                     ).servable(location=False)
    browser_shims.install()
