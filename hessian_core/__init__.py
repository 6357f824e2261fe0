"""hessian_core: back-propagation and the exact layer Hessian of FNNs and RNNs in matrix form.

Implements M. Naumov, "Feedforward and Recurrent Neural Networks Backward Propagation and
Hessian in Matrix Form" (arXiv:1709.06080), with the paper's equations verified against
finite differences and corrected where they do not hold (``formula="exact"`` versus
``formula="paper"``; see docs/errata.md). Arrays of any array-API library (NumPy by default,
CuPy on a GPU, array-api-strict in tests) go in and come back out in the same library.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .backend import namespace_of, to_numpy
from .fnn import FNN
from .kron import LayerHessian
from .losses import LOSSES
from .network import FORMULAS
from .rank import numerical_rank, singular_values
from .results import Adjoints, Forward, Gradient
from .rnn import RNN
from .spectra import kronecker_eigvalsh, term_eigenvalues, weyl_bounds

__all__ = [
    # networks
    "FNN",
    "RNN",
    # results
    "Adjoints",
    "Forward",
    "Gradient",
    "LayerHessian",
    # spectra and rank
    "kronecker_eigvalsh",
    "term_eigenvalues",
    "weyl_bounds",
    "singular_values",
    "numerical_rank",
    # activations and options
    "ACTIVATIONS",
    "FORMULAS",
    "LOSSES",
    "Activation",
    "get_activation",
    # backend
    "namespace_of",
    "to_numpy",
]
