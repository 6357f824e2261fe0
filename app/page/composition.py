"""The view composition: the title, the lesson box and the views as tabs.

:class:`Composition` shows one object per view class of ``app.views.VIEW_CLASSES`` in tabs
titled as in ``settings.VIEW_TITLES`` (rendered only when opened: ``dynamic=True``); the
visible one follows ``settings.view`` both ways. A session makes the visible view at once
and each other one on its first show (:class:`LazyViews`), its tab holding an empty column
until then: a page opened and never used, or a plain GET (a link preview), makes one view,
not nine, and Play makes none (a view made while the session plays gets its worker thread
when it is made: :attr:`LazyViews.on_made`). Served, making a view puts it in its tab, and
Panel sends the tabs' models again: some 0.1 s of CPU per view, which nine views at every
student's first Play would cost a class at once. A
view is changed or added in ``app/views/`` and that table alone: the loop (``app/live/loop.py``)
only calls the ``View`` protocol of ``app/views/common.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import panel as pn

from app import page_css
from app.configuration.lessons import BY_KEY
from app.configuration.settings import VIEW_TITLES, VIEWS
from app.views import VIEW_CLASSES

TITLE = "hessian-lab"
#: the lesson toggle's label while the explanation is folded, and while it is unfolded
UNFOLD, FOLD = "▸ explanation, equation", "▾ fold explanation, equation"
UNFOLDED = "lesson-unfolded"


class LazyViews(Mapping):
    """The views of one session by key, each made by ``make(key)`` when first asked for
    (``views[key]``; ``values()`` and ``items()`` make every one); :attr:`built` holds those
    made so far, and every callable in :attr:`on_made` is called with each view made."""

    def __init__(self, make: Callable[[str], object], keys: Iterable[str]):
        self._make = make
        self._keys = list(keys)
        self.built: dict[str, object] = {}
        self.on_made: list[Callable[[object], None]] = []

    def __getitem__(self, key: str):
        if key not in self.built:
            if key not in self._keys:
                raise KeyError(key)
            view = self.built[key] = self._make(key)
            for made in self.on_made:
                made(view)
        return self.built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class Composition(pn.viewable.Viewer):
    """The main area of one dashboard: header, lesson box, view tabs."""

    def __init__(self, session, settings, **params):
        super().__init__(**params)
        self.settings = settings
        self.session = session
        self.tabs = pn.Tabs(
            *[(VIEW_TITLES[key], pn.Column(sizing_mode="stretch_width")) for key in VIEWS],
            dynamic=True, active=VIEWS.index(settings.view), css_classes=["view-tabs"],
            sizing_mode="stretch_width", stylesheets=[page_css.TABS],
        )
        self.views = LazyViews(self._make_view, VIEW_CLASSES)
        self.views[settings.view]  # the visible view's frame (note, downloads) at once
        self.tabs.param.watch(self._tab_changed, "active")
        # on a short window the explanation and the equation fold away behind the toggle,
        # the title and what to look at stay (app/page_css.py)
        self.lesson_title = pn.pane.Markdown("", css_classes=["lesson-title"],
                                             sizing_mode="stretch_width", margin=(0, 10))
        self.lesson_toggle = pn.widgets.Toggle(
            label=UNFOLD, css_classes=["lesson-toggle"], width=190, align="center",
            color="light", stylesheets=[page_css.LESSON_TOGGLE])
        self.lesson_toggle.param.watch(self._fold_lesson, "value")
        self.lesson_text = pn.pane.Markdown("", css_classes=["lesson-text"],
                                            sizing_mode="stretch_width", margin=(0, 10),
                                            stylesheets=[page_css.LESSON_FOLDS])
        self.lesson_look = pn.pane.Markdown("", css_classes=["lesson-look"],
                                            sizing_mode="stretch_width", margin=(0, 10))
        self.lesson_equation = pn.pane.LaTeX("", css_classes=["lesson-equation"],
                                             sizing_mode="stretch_width",
                                             styles={"font-size": "1.15em"},
                                             margin=(5, 10, 10, 10),
                                             stylesheets=[page_css.LESSON_FOLDS])
        # a margin below the box keeps the equation off the tab bar
        self.lesson_box = pn.Column(pn.Row(self.lesson_title, self.lesson_toggle,
                                           sizing_mode="stretch_width"),
                                    self.lesson_text, self.lesson_look, self.lesson_equation,
                                    visible=False, margin=(5, 5, 18, 5),
                                    css_classes=["lesson-box"], sizing_mode="stretch_width",
                                    styles={"background": "#f4f8fb",
                                            "border-left": "4px solid #1f77b4"})
        self.header = pn.pane.HTML(
            f"<h1 style='margin:0'>{TITLE}</h1><div class='app-subtitle'>Backpropagation and "
            "the Hessian in matrix form (Naumov 2017), live: press Play and watch the gradient "
            "rank, the Kronecker structure, the ReLU masks and the spectrum change.</div>",
            css_classes=["app-title"], sizing_mode="stretch_width",
            stylesheets=[page_css.HEADER],
        )
        self._layout = pn.Column(self.lesson_box, self.tabs, sizing_mode="stretch_width",
                                 css_classes=["main-area"], stylesheets=[page_css.MAIN])

    def __panel__(self):
        return self._layout

    def _make_view(self, key: str):
        """A view for this session, put in its tab (in place of the empty column)."""
        view = VIEW_CLASSES[key](self.session, self.settings)
        if key in VIEWS:
            self.tabs[VIEWS.index(key)] = (VIEW_TITLES[key], view)
        return view

    @property
    def visible(self):
        """The view shown now."""
        return self.views[self.settings.view]

    def show_view(self, key: str) -> None:
        index = VIEWS.index(key)
        if self.tabs.active != index:
            self.tabs.active = index

    def _tab_changed(self, event) -> None:
        key = VIEWS[event.new]
        if self.settings.view != key:
            self.settings.view = key

    def show_lesson(self, key: str) -> None:
        lesson = BY_KEY.get(key)
        if lesson is None:
            self.lesson_box.visible = False
            return
        self.lesson_title.object = f"### {lesson.title}"
        self.lesson_text.object = lesson.explanation
        self.lesson_look.object = f"**Look at:** {lesson.look}" if lesson.look else ""
        self.lesson_equation.object = f"$${lesson.equation}$$"
        self.lesson_box.visible = True

    def _fold_lesson(self, event) -> None:
        """The toggle unfolds (or folds again) the explanation and the equation."""
        for part in (self.lesson_text, self.lesson_equation):
            others = [name for name in part.css_classes if name != UNFOLDED]
            part.css_classes = [*others, UNFOLDED] if event.new else others
        self.lesson_toggle.label = FOLD if event.new else UNFOLD

    def release(self) -> None:
        for view in list(self.views.built.values()):
            view.release()
