"""The nine views of the dashboard, one module each, and what they share: ``common`` (the
view base), ``figures``, ``live_text`` (a line of text changed every frame) and the network
view's ``architecture_buttons``."""

from app.views.errata import ErrataView
from app.views.kronecker import KroneckerView
from app.views.masks import MasksView
from app.views.network import NetworkView
from app.views.rank import RankView
from app.views.sparse import SparseView
from app.views.spectrum import SpectrumView
from app.views.training import TrainingView
from app.views.whole import WholeView

VIEW_CLASSES = {
    "training": TrainingView,
    "rank": RankView,
    "kronecker": KroneckerView,
    "masks": MasksView,
    "spectrum": SpectrumView,
    "errata": ErrataView,
    "sparse": SparseView,
    "network": NetworkView,
    "whole": WholeView,
}

__all__ = [
    "VIEW_CLASSES",
    "ErrataView",
    "KroneckerView",
    "MasksView",
    "NetworkView",
    "RankView",
    "SparseView",
    "SpectrumView",
    "TrainingView",
    "WholeView",
]
