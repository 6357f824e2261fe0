"""The view composition: the title, the lesson box and the seven views as tabs.

:class:`Composition` builds one object per view class of ``app.views.VIEW_CLASSES`` for a
session and shows them in tabs titled as in ``settings.VIEW_TITLES`` (rendered only when
opened: ``dynamic=True``); the visible one follows ``settings.view`` both ways. A view is
changed or added in ``app/views/`` and that table alone: the loop (``app/loop.py``) only
calls the ``View`` protocol of ``app/views/common.py``.
"""

from __future__ import annotations

import panel as pn

from .lessons import BY_KEY
from .settings import VIEW_TITLES, VIEWS
from .views import VIEW_CLASSES

TITLE = "hessian-lab"


class Composition(pn.viewable.Viewer):
    """The main area of one dashboard: header, lesson box, view tabs."""

    def __init__(self, session, settings, **params):
        super().__init__(**params)
        self.settings = settings
        self.views = {key: cls(session, settings) for key, cls in VIEW_CLASSES.items()}
        self.tabs = pn.Tabs(
            *[(VIEW_TITLES[key], self.views[key]) for key in VIEWS],
            dynamic=True, active=VIEWS.index(settings.view), css_classes=["view-tabs"],
            sizing_mode="stretch_width",
        )
        self.tabs.param.watch(self._tab_changed, "active")
        self.lesson_text = pn.pane.Markdown("", css_classes=["lesson-text"],
                                            sizing_mode="stretch_width")
        self.lesson_equation = pn.pane.LaTeX("", css_classes=["lesson-equation"],
                                             sizing_mode="stretch_width",
                                             styles={"font-size": "1.15em"})
        self.lesson_box = pn.Column(self.lesson_text, self.lesson_equation, visible=False,
                                    css_classes=["lesson-box"], sizing_mode="stretch_width",
                                    styles={"background": "#f4f8fb",
                                            "border-left": "4px solid #1f77b4"})
        self.header = pn.pane.HTML(
            f"<h1 style='margin:0'>{TITLE}</h1><div>Backpropagation and the Hessian in matrix "
            "form (Naumov 2017), live: press Play and watch the gradient rank, the Kronecker "
            "structure, the ReLU masks and the spectrum change.</div>",
            css_classes=["app-title"], sizing_mode="stretch_width",
        )
        self._layout = pn.Column(self.lesson_box, self.tabs, sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

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
        self.lesson_text.object = f"### {lesson.title}\n\n{lesson.text}"
        self.lesson_equation.object = f"$${lesson.equation}$$"
        self.lesson_box.visible = True

    def release(self) -> None:
        for view in self.views.values():
            view.release()
