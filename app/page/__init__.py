"""The served page: the dashboard that wires settings, session, live loop, controls and
views (dashboard), the view tabs (composition), the page built once it has loaded
(deferred_page), the BokehJS shims, and the served process's settings (serving, gc_policy).
The top of the app: nothing else of it imports this package but :mod:`app.main` and
:mod:`app`."""
