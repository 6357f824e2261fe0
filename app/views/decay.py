"""What L2 weight decay does to a layer Hessian's spectrum, in numbers and one paragraph.

Weight decay lam adds lam/2 ||W^(k)||_F^2 to E, hence lam I to H_W^(k) (``docs/contract.md``,
"Losses beyond the paper"): with H = H_data + lam I every eigenvalue moves up by exactly
lam, lambda_q(H) = lambda_q(H_data) + lam, and the eigenvectors stay. For one sample
H_data has m(n - 1) zero eigenvalues (eq. 46), for a batch of r at least m(n - r): those
flat directions of the data loss become directions of curvature exactly lam, so H is
positive definite along them and Newton-type steps are defined there; a negative
eigenvalue of H_data above -lam turns positive, one below -lam stays negative.
"""

from __future__ import annotations

import numpy as np


def decay_counts(eigenvalues: np.ndarray, shift: float, tolerance: float) -> dict[str, int]:
    """Counts for ``eigenvalues`` of H = H_data + shift I: ``at_shift`` (the data term's
    zeros, now at lam), ``negative`` (of H), ``turned_positive`` (negative in H_data, not
    in H).

    >>> decay_counts(np.array([-0.5, 0.0, 0.0, 1.0]) + 0.1, 0.1, 1e-9)
    {'at_shift': 2, 'negative': 1, 'turned_positive': 0}
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    data = eigenvalues - shift
    return {
        "at_shift": int(np.sum(np.abs(data) <= tolerance)),
        "negative": int(np.sum(eigenvalues < -tolerance)),
        "turned_positive": int(np.sum((data < -tolerance) & (eigenvalues >= -tolerance))),
    }


def decay_text(eigenvalues: np.ndarray, shift: float, tolerance: float,
               expected: int | None = None) -> str:
    """A paragraph for the spectrum view: what lam = ``shift`` did here (empty for 0).
    ``expected``: the zeros eq. (46) gives the data term (m(n - 1) for one sample); more
    than that are named and explained.

    >>> "2 from eq. (46) and 1 more from C̃" in decay_text(
    ...     np.array([0.0, 0.0, 0.0, 1.0]) + 0.1, 0.1, 1e-9, expected=2)
    True
    """
    if not shift:
        return ""
    counts = decay_counts(eigenvalues, shift, tolerance)
    zeros, size = counts["at_shift"], np.size(eigenvalues)
    if expected is not None and zeros == size > expected:
        why = (f"The data term has {zeros} zero eigenvalues, all of them: the decay has "
               "shrunk the weights until the data term vanished (the level's input z or C̃ is "
               "0), so H = λ_wd·I: the data no longer shape this level's curvature, only the "
               "decay does; a smaller λ_wd keeps the data term. ")
    elif expected is not None and zeros > expected:
        why = (f"The data term has {zeros} zero eigenvalues, {expected} from eq. (46) and "
               f"{zeros - expected} more from C̃. A unit whose weights the decay has shrunk to "
               "nothing no longer changes the data loss, and adds a zero of C̃. ")
    else:
        why = ""
    text = (f"**Weight decay λ_wd = {shift:g}** adds λ_wd·I to H: every eigenvalue is the data "
            f"term's plus exactly λ_wd. {why}"
            + ("Its" if why else f"The data term's {zeros}") +
            " zero eigenvalues now sit at λ_wd (flat directions get curvature λ_wd).")
    if counts["turned_positive"]:
        turned = counts["turned_positive"]
        text += (f" {turned} negative {'eigenvalue' if turned == 1 else 'eigenvalues'} above "
                 f"−λ_wd turned positive.")
    if counts["negative"]:
        below = counts["negative"]
        text += (f" {below} {'eigenvalue' if below == 1 else 'eigenvalues'} below −λ_wd "
                 f"{'stays' if below == 1 else 'stay'} negative.")
    else:
        text += " No eigenvalue is negative: H is positive definite."
    return text
