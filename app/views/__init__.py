"""The nine views of the dashboard, one module each."""

from .errata import ErrataView
from .kronecker import KroneckerView
from .masks import MasksView
from .network import NetworkView
from .rank import RankView
from .sparse import SparseView
from .spectrum import SpectrumView
from .training import TrainingView
from .whole import WholeView

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
