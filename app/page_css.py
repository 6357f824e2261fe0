"""The page's layout on a projector, a big screen and a phone: the stylesheets that fit it.

Panel draws every component in a shadow root, so each rule here is a stylesheet of the
component it shapes (its ``stylesheets``), ``:host`` being the component's own element and
its CSS classes (``css_classes``) on that element. Two media queries decide:

- :data:`SHORT` (a window at most 860 px high: a 1024x768 projector, a laptop): the lesson
  box shows its title, what to look at and a toggle; the explanation and the equation fold
  away until the toggle unfolds them (class ``lesson-unfolded``), and the title's
  description line is hidden, so that what a lesson points at sits above the fold;
- :data:`FOLDED` (a container query on the dashboard's own width, at most 920 px: a phone, or
  a notebook's output area in a wide window): the settings panel folds above the views and
  takes the dashboard's width; a view wider than that scrolls inside its own area, so the
  page itself never scrolls sideways (:data:`NARROW`, a window at most 700 px wide, keeps
  the page within the window).

At every size the tab titles wrap onto a second line instead of running off the right edge,
and a button group (the input features) wraps its buttons inside its card.
"""

from __future__ import annotations

SHORT = "(max-height: 860px)"
NARROW = "(max-width: 700px)"
#: the dashboard's own width below which its settings fold above its views: a phone, and a
#: notebook's output area (about 850 px in JupyterLab), where the window is wide but the
#: dashboard is not; the views need some 560 px beside the 340 px settings panel
FOLDED = "hessian-lab (max-width: 920px)"

#: the view tabs: every title on the page, wrapped onto more lines where it must
TABS = """
.bk-header { overflow: visible; }
.bk-headers-wrapper { flex-wrap: wrap; overflow: visible; }
.bk-header .bk-tab { flex: 0 0 auto; }
"""

#: a part of the lesson box folded away on a short window until the toggle unfolds it
LESSON_FOLDS = f"""
@media {SHORT} {{
  :host(:not(.lesson-unfolded)) {{ display: none !important; }}
}}
"""

#: the toggle that unfolds the lesson box: only where something is folded
LESSON_TOGGLE = """
@media (min-height: 861px) {
  :host { display: none !important; }
}
"""

#: the page's title: its description line goes on a short window
HEADER = f"""
@media {SHORT} {{
  .app-subtitle {{ display: none; }}
  h1 {{ font-size: 1.6em; }}
}}
"""

#: the whole page: never wider than the window on a phone; the container whose width
#: decides whether the settings fold (:data:`FOLDED`)
PAGE = f"""
:host {{ container-type: inline-size; container-name: hessian-lab; min-width: 0 !important;
         max-width: 100%; }}
@media {NARROW} {{
  :host {{ max-width: 100vw; min-width: 0 !important; }}
}}
"""

#: the row of the settings panel and the views: a column where the dashboard is narrow
PAGE_ROW = f"""
@container {FOLDED} {{
  :host {{ flex-direction: column !important; flex-wrap: nowrap !important;
           max-width: 100%; min-width: 0 !important; }}
}}
"""

#: the settings panel: the dashboard's width where the dashboard is narrow
SIDEBAR = f"""
@container {FOLDED} {{
  :host {{ width: calc(100% - 10px) !important; max-width: calc(100% - 10px) !important;
           min-width: 0 !important; flex: 0 0 auto !important; height: auto !important; }}
}}
"""

#: the views' area: where the dashboard is narrow, what is wider than it scrolls here, not
#: the page
MAIN = f"""
@container {FOLDED} {{
  :host {{ width: calc(100% - 10px) !important; max-width: calc(100% - 10px) !important;
           min-width: 0 !important; overflow-x: auto; flex: 0 0 auto !important;
           height: auto !important; }}
}}
"""

#: a button group whose buttons wrap onto more rows inside its card
BUTTON_GROUP = """
.bk-btn-group { flex-wrap: wrap; row-gap: 4px; }
.bk-btn-group > .bk-btn { flex: 1 0 auto; }
"""
