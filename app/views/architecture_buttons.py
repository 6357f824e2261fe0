"""+/- buttons for levels and units, beside the network diagram (as TensorFlow Playground has
them). They change the same settings as the sidebar: an FNN's ``architecture`` text (the box
shows the new widths at once) and an RNN's ``levels`` and ``hidden_width``. A change the
rules refuse (:func:`app.configuration.settings.parse_architecture`: at most 8 levels and 256
units per
level, at least 1 unit; an RNN's slider bounds) is not made, and the reason is shown next to
the buttons.

Stable CSS classes (each button wraps a ``button``): ``architecture-buttons``,
``add-level``, ``remove-level``, ``add-unit-<k>`` and ``remove-unit-<k>`` for the hidden
level k (1-based, the paper's; an RNN's one width for every hidden level is k = 1),
``unit-count-<k>``, ``architecture-buttons-message``.
"""

from __future__ import annotations

import panel as pn

from app.configuration.settings import ArchitectureError, format_architecture, parse_architecture
from app.outside_text import html_text

#: the width a first hidden level gets (later ones copy the last hidden width)
NEW_LEVEL_WIDTH = 4


def changed_architecture(text: str, change: str, level: int = 0) -> str:
    """The architecture ``text`` after ``change`` ("add-level", "remove-level", "add-unit",
    "remove-unit" of hidden level ``level``); ArchitectureError with the reason if the rules
    refuse the result.

    >>> changed_architecture("2-8-1", "add-level")
    '2-8-8-1'
    >>> changed_architecture("2-8-8-1", "remove-unit", 2)
    '2-8-7-1'
    """
    try:
        sizes = list(parse_architecture(text))
    except ArchitectureError as error:
        raise ArchitectureError(f"the architecture box holds no network ({error}): "
                                "correct it first") from None
    hidden = len(sizes) - 2
    if change == "add-level":
        sizes.insert(-1, sizes[-2] if hidden else NEW_LEVEL_WIDTH)
    elif change == "remove-level":
        if not hidden:
            raise ArchitectureError(f"{format_architecture(tuple(sizes))} has no hidden level "
                                    "to remove: inputs to outputs is the smallest network")
        del sizes[-2]
    elif change in ("add-unit", "remove-unit"):
        if not 1 <= level <= hidden:
            raise ArchitectureError(f"there is no hidden level {level}")
        sizes[level] += 1 if change == "add-unit" else -1
        if sizes[level] < 1:
            raise ArchitectureError(f"level {level} has 1 unit, the fewest a level has: "
                                    "remove the level instead")
    else:
        raise ValueError(f"unknown change {change!r}")
    new = format_architecture(tuple(sizes))
    parse_architecture(new)  # the limits: at most 8 levels, 256 units
    return new


class ArchitectureButtons(pn.viewable.Viewer):
    """The buttons of one dashboard's network view (module docstring)."""

    def __init__(self, settings, **params):
        super().__init__(**params)
        self.settings = settings
        self.add_level = self._button("+ level", "add-level", self._level_button("add-level"))
        self.remove_level = self._button("− level", "remove-level",
                                         self._level_button("remove-level"))
        self.units = pn.FlexBox(margin=0)
        self._names: list[str] = []  # the groups' level names, as shown
        self.message = pn.pane.HTML("", css_classes=["architecture-buttons-message"],
                                    visible=False, margin=(0, 10),
                                    styles={"color": "#b00020", "font-size": "0.9em"})
        self.layout = pn.Column(
            pn.Row(pn.pane.HTML("levels and units:", margin=(8, 5)), self.remove_level,
                   self.add_level),
            self.units, self.message, css_classes=["architecture-buttons"],
            sizing_mode="stretch_width")
        settings.param.watch(self.show, ["architecture", "model", "levels", "hidden_width"])
        self.show()

    def __panel__(self):
        return self.layout

    @staticmethod
    def _button(label: str, css: str, action) -> pn.widgets.Button:
        button = pn.widgets.Button(label=label, css_classes=[css], width=70, margin=(5, 3),
                                   color="default")
        button.on_click(lambda event: action())
        return button

    def _level_button(self, change: str):
        return lambda: self.change(change)

    def widths(self) -> list[int]:
        """The hidden widths the buttons show (an RNN: its one width), [] if none."""
        s = self.settings
        if s.model == "rnn":
            return [s.hidden_width]
        try:
            return list(parse_architecture(s.architecture)[1:-1])
        except ArchitectureError:
            return []

    def show(self, *events) -> None:
        """One "− m +" group per hidden level (an RNN: one for all), the message cleared.
        The groups are kept while the number of levels is (only their counts change), so a
        button pressed again at once is still the one on the page."""
        rnn = self.settings.model == "rnn"
        widths = self.widths()
        names = ["every hidden level" if rnn else f"level {k}"
                 for k in range(1, len(widths) + 1)]
        if len(self.units) == len(widths) and self._names == names:
            for group, name, width in zip(self.units, names, widths, strict=True):
                group[1].object = f"{name}: {width}"
            self.say("")
            return
        self._names = names
        groups = []
        for k, (name, width) in enumerate(zip(names, widths, strict=True), start=1):
            count = pn.pane.HTML(f"{name}: {width}", css_classes=[f"unit-count-{k}"],
                                 margin=(8, 2))
            groups.append(pn.Row(
                self._button("−", f"remove-unit-{k}", lambda k=k: self.change("remove-unit", k)),
                count,
                self._button("+", f"add-unit-{k}", lambda k=k: self.change("add-unit", k)),
                margin=(0, 8)))
        for group in groups:
            for button in (group[0], group[2]):
                button.width = 34
        self.units.objects = groups
        self.say("")

    def say(self, text: str) -> None:
        self.message.object = html_text(text)
        self.message.visible = bool(text)

    def change(self, change: str, level: int = 0) -> None:
        """Make ``change``, or say why the rules refuse it."""
        s = self.settings
        try:
            if s.model == "rnn":
                self._change_rnn(change)
            else:
                s.architecture = changed_architecture(s.architecture, change, level)
        except ArchitectureError as error:
            self.say(str(error))

    def _change_rnn(self, change: str) -> None:
        s = self.settings
        name = "levels" if change.endswith("level") else "hidden_width"
        low, high = s.param[name].bounds
        new = getattr(s, name) + (1 if change.startswith("add") else -1)
        if not low <= new <= high:
            what = "hidden levels" if name == "levels" else "units per hidden level"
            raise ArchitectureError(f"an RNN here has {low} to {high} {what}")
        setattr(s, name, new)
