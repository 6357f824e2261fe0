"""The page's address is the state, both ways.

The settings are written into Panel's ``pn.state.location`` (``Location.sync``, see
:meth:`app.page.dashboard.Dashboard.sync_location`); :class:`AddressBar` shows that query string in
the browser's address and brings the browser's history back:

- when the page opens, the address is *replaced* by the settings in force: a value that was
  refused or adjusted (``architecture=3-8-x-1``, ``view=bogus``) never stays in it, and the
  banner says what was changed and why;
- every later change of the settings is a new history entry (``history.pushState``);
- Back and Forward (the browser's ``popstate``) send the address they arrive at to Python,
  which applies it as a link is applied when a page opens (:func:`link_values`), refusals in
  the banner included. The page is not reloaded: the same session, model and training go on.

The browser shows Panel's ``Location`` through this component only (``servable(location=
False)`` in ``app/main.py``): Panel's own would push a second, identical history entry for an
address the browser already shows, and so drop the entries Forward goes to.
"""

from __future__ import annotations

from collections.abc import Callable

import param
from panel.custom import JSComponent

from app.configuration.settings import Settings, check_value, query_values


def link_values(search: str) -> dict:
    """The settings a query string asks for, as a page load reads them: the named settings
    with their text, the others at their defaults (a lesson's link: the lesson's values).

    >>> values = link_values("?view=rank&seed=3")
    >>> values["view"], values["seed"], values["model"]
    ('rank', '3', 'fnn')
    """
    settings = Settings()
    known = set(settings.query_parameters())
    given = {name: text for name, text in query_values(search).items() if name in known}
    if given.get("lesson"):
        return given  # a lesson is a complete configuration (settings.lesson_configuration)
    defaults = {name: settings.param[name].default for name in known}
    return {**defaults, **given}


def same_settings(search: str, other: str) -> bool:
    """Whether two query strings ask for the same settings, whatever their spelling (Panel
    writes ``show_test=true`` at first and ``show_test=True`` once it rewrites a query).

    >>> same_settings("?show_test=true&seed=3", "?seed=3.0&show_test=True")
    True
    >>> same_settings("?seed=3", "?seed=4")
    False
    """
    def meaning(text: str) -> dict:
        scratch, values = Settings(), {}
        for name, value in link_values(text).items():
            try:
                values[name] = check_value(scratch.param[name], name, value, scratch)
            except ValueError:
                values[name] = ("refused", value)
        return values

    return meaning(search) == meaning(other)


class AddressBar(JSComponent):
    """The browser's address bar and history, in step with ``search`` (module docstring).

    ``search`` is set from Python to the query string in force; the browser sets it to the
    address that Back or Forward arrived at, and ``navigated`` is then called with it.
    """

    search = param.String(default="", doc="the query string the address shows")

    _esm = """
    export function render({ model, el }) {
      const show = (replace) => {
        if (window.location.search === model.search) return
        const url = window.location.pathname + model.search + window.location.hash
        if (replace) window.history.replaceState(window.history.state, "", url)
        else window.history.pushState({}, "", url)
      }
      show(true)  // the settings in force, in place of the link that opened the page
      model.on("search", () => show(false))
      const arrived = () => { model.search = window.location.search }
      window.addEventListener("popstate", arrived)
      model.on("remove", () => window.removeEventListener("popstate", arrived))
      el.style.display = "none"
    }
    """

    def __init__(self, location, navigated: Callable[[str], None], **params):
        super().__init__(search=location.search, width=0, height=0, margin=0, **params)
        self.location = location
        self.navigated = navigated
        self._arriving = False  # applying an address that Back or Forward arrived at
        location.param.watch(self._written, "search")
        self.param.watch(self._arrived, "search")

    def _written(self, event) -> None:
        """The settings changed: the address follows (a new history entry)."""
        if not self._arriving:
            self.search = event.new

    def _arrived(self, event) -> None:
        """The browser went Back or Forward: apply its address, then show what runs (the
        same address, unless a value of it had to change)."""
        if event.new == self.location.search:
            return  # written from Python
        self._arriving = True
        try:
            self.navigated(event.new)
        finally:
            self._arriving = False
        if same_settings(self.location.search, event.new):
            # nothing was refused or adjusted: the address stays as it is, the entries
            # Forward goes to with it (Panel's own watchers would apply it a second time)
            with param.discard_events(self.location):
                self.location.search = event.new
        if self.search != self.location.search:
            self.search = self.location.search


def follow_address(dashboard) -> AddressBar | None:
    """The address bar of a served dashboard tied to its page's address, else None."""
    location = dashboard.location
    if location is None:
        return None

    def navigated(search: str) -> None:
        dashboard.apply_link(link_values(search))

    return AddressBar(location, navigated)
