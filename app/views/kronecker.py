"""Kronecker structure: H^(k) as an image with its block grid, beside its factors.

FNN, one sample (eq. 28 / 43): H_W^(k) = C^(k) kron (z^(k-1) z^(k-1)T), so H is an m x m
grid of n x n blocks, block (i, g) = c_ig z z^T (row-major vec: index i*n + j is w_ij).
A batch sums r such terms. RNN (eq. 74 / 96): H_W^(k,t) = sum_{s,zeta} C~^(k,t,s,zeta) kron
z^(k-1,s) z^(k-1,zeta)T, a t x t grid of m x m matrices beside the t input vectors.
The matrices come from ``net.hessian(...)``: ``blocks[p, s, :, zeta, :]`` and
``inputs[p, s, :]``; with formula=paper, the exact-minus-paper difference is drawn too.
"""

from __future__ import annotations

import numpy as np
import panel as pn

from app.views.common import View, block_average, count, superscript
from app.views.figures import MatrixPlot, pane
from app.views.masks import dead_level_warning

NAMES = ("H", "C", "z", "diff")
#: largest m*n for which the dense Hessian is formed; above it H is drawn as block means
DENSE_LIMIT = 2048
TITLES = {
    "H": "Hessian H⁽ᵏ⁾",
    "C": "factor C⁽ᵏ⁾ (m×m)",
    "z": "factor z zᵀ (n×n)",
    "diff": "exact − paper",
}
RNN_TITLES = dict(TITLES, C="C̃(s, ζ): t×t grid of m×m", z="inputs z_s (row s)")
#: frame sides (px) of the Hessian (and difference) and of the factor images
LARGE, SMALL = 400, 240


def block_means(hessian) -> np.ndarray:
    """The m x m means of H's n x n blocks, from the Kronecker factors alone.

    Block (i, g) of sum_{p,s,zeta} M_{p,s,zeta} kron z_{p,s} z_{p,zeta}^T has the mean
    sum_{p,s,zeta} M_{p,s,zeta}[i, g] mean(z_{p,s}) mean(z_{p,zeta}) (the dense remainder
    of an exact H_U is left out).
    """
    blocks = np.asarray(hessian.blocks)  # (r, T, m, T, m)
    means = np.asarray(hessian.inputs).mean(axis=-1)  # (r, T)
    r, T, m = blocks.shape[0], blocks.shape[1], blocks.shape[2]
    weights = (means[:, :, None] * means[:, None, :]).reshape(-1)  # (r*T*T,)
    terms = blocks.transpose(0, 1, 3, 2, 4).reshape(r * T * T, m * m)
    return (weights @ terms).reshape(m, m)


class KroneckerView(View):
    key = "kronecker"
    title = "Kronecker structure"

    plots: dict[str, MatrixPlot] | None = None

    def build(self) -> None:
        """The figures are made once per session and retitled for each model: new Bokeh
        models put into a live page after a rebuild would miss their first data."""
        titles = RNN_TITLES if self.session.is_rnn else TITLES
        if self.plots is None:
            self._make_figures(titles)
        for name in NAMES:
            self.plots[name].figure.title.text = titles[name]
            self.plots[name].set(np.full((1, 1), np.nan))
            self._caption(name, "")
        self._diff.visible = self.settings.formula == "paper"

    def _make_figures(self, titles: dict[str, str]) -> None:
        self.plots = {name: MatrixPlot(titles[name], side=LARGE if name in ("H", "diff")
                                       else SMALL) for name in NAMES}
        self._captions = {name: pn.pane.Markdown("", margin=(0, 10), width=LARGE + 80)
                          for name in NAMES}
        for name in ("C", "z"):
            self._captions[name].width = SMALL + 80
        self._panes = {
            name: pn.Column(self._captions[name], pane(self.plots[name].figure))
            for name in NAMES
        }
        self._diff = self._panes["diff"]
        # the two factors side by side, then their product: on a 1024 px projector the
        # factors fill the first line, above the fold
        factors = pn.Row(self._panes["C"], self._panes["z"], css_classes=["kronecker-factors"])
        self._body.objects = [
            pn.FlexBox(factors, self._panes["H"], self._diff, flex_wrap="wrap", gap="10px",
                       sizing_mode="stretch_width"),
        ]

    def _caption(self, name: str, text: str) -> None:
        if self._captions[name].object != text:
            self._captions[name].object = text

    def update(self):
        session, settings = self.session, self.settings
        paper = settings.formula == "paper"
        self._diff.visible = paper
        X, Z = self.batch()
        options = self.hessian_options(X)
        if options is None:
            self._body.visible = False
            return
        k = options["layer"]
        if session.is_rnn and settings.wrt == "U" and settings.formula == "exact":
            m = session.layer_sizes[k]
            if m * m > DENSE_LIMIT:
                self._body.visible = False
                self.set_note(f"H_U{superscript(k)} is {m * m}×{m * m}: the exact H_U has no "
                              "Kronecker form and is too large to form here; choose W or a "
                              "narrower level.")
                return
        net = session.net

        def compute():
            """The Hessian (dense, or block means when large) and, for formula=paper, the
            exact one drawn the same way."""
            hessian = net.hessian(X, Z, **options)
            if hessian.n_outputs * hessian.n_inputs > DENSE_LIMIT:
                draw = block_means
            else:
                def draw(h):
                    return np.asarray(h.dense())
            exact = draw(net.hessian(X, Z, **dict(options, formula="exact"))) if paper else None
            return hessian, draw(hessian), exact

        hessian, drawn, exact = yield from self.offload(compute)
        self._body.visible = True
        blocks, inputs = np.asarray(hessian.blocks), np.asarray(hessian.inputs)
        m, n = hessian.n_outputs, hessian.n_inputs
        r = X.shape[0]
        p = 0 if settings.scope == "sample" else self.sample_index()
        label = self.sample_index()
        what = "H_U" if (session.is_rnn and settings.wrt == "U") else "H_W"
        large = m * n > DENSE_LIMIT
        if large:
            shown, factor, every = drawn, n, 0
            self.arrays = {"H_block_means": shown, "blocks": blocks, "inputs": inputs}
        else:
            shown, factor = block_average(drawn)
            every = n // factor if (factor == 1 or n % factor == 0) and m > 1 else 0
            self.arrays = {"H": drawn, "blocks": blocks, "inputs": inputs}
        self.plots["H"].set(shown, every)
        yield
        self._caption("H", f"**{what}{superscript(k)}**, {m * n}×{m * n}, "
                           f"formula = {settings.formula}: a grid of {m}×{m} blocks, each "
                           f"{n}×{n}"
                           + (f" — drawn as means of {factor}×{factor} cells"
                              if factor > 1 else "") + ". Blue < 0 < red.")

        if session.is_rnn:
            T = blocks.shape[1]
            grid = blocks[p].reshape(T * m, T * m)
            grid_shown, grid_factor = block_average(grid)
            self.plots["C"].set(grid_shown, m if grid_factor == 1 else 0)
            yield
            self._caption("C", f"sample {label}: the {T}×{T} grid of {m}×{m} matrices "
                               "C̃(s, ζ), s, ζ = 1..t")
            self.plots["z"].set(inputs[p])
            yield
            self._caption("z", f"sample {label}: the input vectors z_s (row s = 1..{T}, "
                               f"length {n})")
        else:
            self.plots["C"].set(blocks[p, 0, :, 0, :])
            yield
            z = inputs[p, 0]
            self.plots["z"].set(np.outer(z, z))
            yield
            self._caption("C", f"sample {label}: the {m}×{m} matrix C{superscript(k)} (incl. 1/r)")
            self._caption("z", f"sample {label}: z zᵀ ({n}×{n}, rank 1)")

        if paper:
            difference = exact - drawn
            self.plots["diff"].set(block_average(difference)[0])
            yield
            scale = float(np.max(np.abs(exact))) or 1.0
            self._caption("diff", "exact − paper: max |difference| / max |H| = "
                                  f"**{float(np.max(np.abs(difference))) / scale:.2e}**")
            self.arrays["exact_minus_paper"] = difference

        if session.is_rnn:
            T = blocks.shape[1]
            terms = f"a sum over {count(r, 'sample')} of {T}×{T} = {T * T} Kronecker terms"
        else:
            terms = f"a sum of {r} Kronecker products, one per sample" if r > 1 else (
                "one Kronecker product C ⊗ z zᵀ")
        note = (f"**Look at:** the {m}×{m} grid of blocks of {what}{superscript(k)}: {terms}"
                + (", each block a multiple of z zᵀ." if not session.is_rnn and r == 1 else "."))
        if factor > 1:
            note += f" Too large to draw cell by cell: shown as means of {factor}×{factor} cells."
        if not hessian.structured:
            note += " The exact H_U is not a pure Kronecker sum: a dense remainder is included."
        warning = dead_level_warning(session, X)
        self.set_note(f"{warning}\n\n{note}" if warning else note)
