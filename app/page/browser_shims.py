"""Three changes to BokehJS in a served page that make each live update cheaper for the browser.

With 30 pages on one machine the browsers, not the server, hold a class back
(``benchmarks/bench_classroom.py``), and on a student's laptop the page's own cost is what is
felt. A profile of one playing page (the training view, Chromium) shows three costs of BokehJS
that do nothing on this page:

- **CSS variables of every visual, looked up at every paint.** Before it draws a line, a fill
  or a text, BokehJS asks the element's computed style for a CSS variable that could override
  the model's value (``--bk-line-color``, ``--bk-major-label-text-font-size``, ...;
  ``VisualProperties._get_css_value``): about 10,000 lookups a second for one page, each
  forcing the page's style to be brought up to date. Neither Panel's nor Bokeh's stylesheets
  nor this app set any such variable (``tests/browser/test_browser_shims.py`` records every
  lookup of a playing page with the original code, over every view: all are empty), so the
  shim answers "none set" without asking, and every visual keeps its model's value as before.
- **Unchanged stylesheets rewritten.** At every layout BokehJS writes the text of each
  component's ``<style>`` elements again (``dom.InlineStyleSheet._update``), mostly with the
  text they already hold, and every write makes the browser recalculate that component's
  style. The shim writes only a text that differs.
- **A plot's font size, read for every text.** Each tick label, axis label and title a plot
  measures or draws asks for the plot's font size (``PlotView.base_font_size``, for sizes in
  ``em``), and each answer is a ``getComputedStyle`` of the plot's element: some 15 a
  repaint. The shim reads it once per task (until the next microtask checkpoint) and
  answers the later asks of that task with it. That is exact while nothing changes a plot's
  font size between two asks of one task; nothing here changes it at all (the browser test
  records every answer of every plot over every view, without the shims: each plot's is
  always the same).

Measured with ``python -m benchmarks.bench_page`` (one page at a time, the app with and
without the shims in turn), per visible update of the training view: with the first two, in
two runs, the page's main thread 16.4 -> 13.5 and 13.8 -> 12.4 ms, its style recalculations
10.5 -> 1.4 and 9.9 -> 1.4, all Chromium's processes 23.7 -> 21.5 and 19.4 -> 18.2 CPU-ms;
with all three, in one run, the main thread 12.8 -> 10.1 ms, style recalculations
9.6 -> 1.4, Chromium 20.1 -> 15.9 CPU-ms.

They apply to the BokehJS this project is tested with (:data:`BOKEH_SERIES`) and only where
the functions they replace are found; anywhere else the page is left as BokehJS made it. They
are a script of the app's ``static`` folder (:data:`SCRIPT`), which the page loads after
BokehJS and before its document is built, so that every drawing goes through them, the
page's first included.
``HESSIAN_LAB_BROWSER_SHIMS=off`` serves the page without them (to compare, or should a
BokehJS release change what they rely on), and so does ``HESSIAN_LAB_FAST_PATHS=off``, which
turns off every use of a library internal (:mod:`app.compat`). In the page each shim is
installed on its own: one that fails leaves BokehJS's function as it was, and the others apply.

Bokeh 3.9.2's own code (``bokeh/server/static/js/bokeh.js``) caches none of these: its
``_get_css_value`` calls ``getComputedStyle`` at every lookup, ``InlineStyleSheet._update``
sets ``textContent`` at every call, and ``PlotView.base_font_size`` reads the computed style
at every ask; so all three shims are kept.

The CSS-variable shim never hides a variable that a user sets: it answers "none set" only
while no stylesheet of the page defines a ``--bk-`` variable. That is checked once when it is
installed (every stylesheet the document has then, those the browser will not let a script
read excepted) and then in the text of every stylesheet BokehJS writes (Panel's ``raw_css``
and components' ``stylesheets`` included); from the first ``--bk-`` seen on, every lookup goes
to BokehJS's own code for the rest of the page's life.
"""

from __future__ import annotations

import os
from pathlib import Path

#: the environment variable that turns the shims off; its values
VARIABLE = "HESSIAN_LAB_BROWSER_SHIMS"
VALUES = ("on", "off")
#: the BokehJS releases the shims are written and tested for (``Bokeh.version`` prefix)
BOKEH_SERIES = "3.9."

#: the shims' script (served from the app's ``static`` folder) and the address the page loads
#: it from: after BokehJS, before the page's document is built
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "browser_shims.js"
SCRIPT_URL = f"app/static/{SCRIPT.name}?bokeh={BOKEH_SERIES}"
#: the key of the script in ``pn.config.js_files``
JS_FILES_KEY = "hessian_lab_shims"


def enabled() -> bool:
    """Whether ``HESSIAN_LAB_BROWSER_SHIMS`` (default ``on``) asks for the shims."""
    value = os.environ.get(VARIABLE, "on").strip().lower()
    if value not in VALUES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(VALUES)}, not {value!r}")
    return value == "on"


def install() -> bool:
    """Have this session's page load the shims' script; False if they are off: by
    ``HESSIAN_LAB_BROWSER_SHIMS=off``, or with every library fast path (:mod:`app.compat`:
    ``HESSIAN_LAB_FAST_PATHS=off``, or a Bokeh outside the checked releases).

    Called while the served session is built (``app/main.py``): ``pn.config.js_files`` is
    kept per session there, and the page's resources are read from it when the page is sent.
    """
    from app import compat

    if not enabled() or not compat.active():
        return False
    import panel as pn

    pn.config.js_files = {**pn.config.js_files, JS_FILES_KEY: SCRIPT_URL}
    return True
