"""What every view shares: the base class, downloads, block averaging, symlog.

A view is a :class:`pn.viewable.Viewer` built per session. ``build()`` creates its plots once
per model (Bokeh figures in ``pn.pane.Bokeh`` fed through ``ColumnDataSource`` updates), so
a refresh sends new arrays into plots that already exist. ``refresh()`` asks ``hessian_core``
for the numbers (views draw; the core computes) and keeps them in ``self.arrays`` for the
downloads.

The live loop (``app/live/loop.py``) calls, in frames and under the page's document lock:
``stream()`` for cheap streamed updates every frame, and ``redraw()``, a generator over the
plot updates of one complete redraw (``update()``), spread over frames; ``offload(fn)`` runs
a heavy core computation on the session's worker thread, yielding ``WAITING`` meanwhile,
while the view shows that it is computing (``view-computing``). A computation whose last run
took at most ``INLINE_COMPUTE_S`` runs in the frame instead: on the worker thread it would
wait for the interpreter lock behind training (an RNN spectrum's 3-6 ms took 10 ms there,
and its redraw spanned frames).
"""

from __future__ import annotations

import io
import re
import time

import numpy as np
import panel as pn
import param
from bokeh.palettes import RdBu11, interp_palette

from app.configuration.playground_settings import l1_statement
from app.outside_text import spreadsheet_text
from app.views.live_text import LiveText

#: matrices larger than this (per side) are shown block-averaged
MAX_IMAGE_SIDE = 192
#: largest eigenproblem (side) solved live; the exact H_U of an RNN is dense, size m^2
EIGEN_LIMIT = 1536
#: most entries of the Hessian blocks (r, T, m, T, m) formed live (8 bytes each)
BLOCKS_LIMIT = 20_000_000


def block_average(matrix: np.ndarray, max_side: int = MAX_IMAGE_SIDE) -> tuple[np.ndarray, int]:
    """Average over f x f blocks so that no side exceeds ``max_side``; returns (image, f).

    >>> block_average(np.ones((10, 10)), 4)[0].shape, block_average(np.ones((10, 10)), 4)[1]
    ((4, 4), 3)
    """
    matrix = np.asarray(matrix, dtype=float)
    factor = int(np.ceil(max(matrix.shape) / max_side)) if max(matrix.shape) > max_side else 1
    if factor == 1:
        return matrix, 1
    rows = -(-matrix.shape[0] // factor) * factor
    cols = -(-matrix.shape[1] // factor) * factor
    padded = np.full((rows, cols), np.nan)
    padded[: matrix.shape[0], : matrix.shape[1]] = matrix
    blocks = padded.reshape(rows // factor, factor, cols // factor, factor)
    return np.nanmean(blocks, axis=(1, 3)), factor


def symlog(values: np.ndarray, linear: float) -> np.ndarray:
    """sign(x) log10(1 + |x| / linear): a symmetric log scale that keeps 0 and the sign."""
    values = np.asarray(values, dtype=float)
    return np.sign(values) * np.log10(1.0 + np.abs(values) / linear)


#: superscript forms of the characters of a level or time index (the paper's "^(k)")
SUPERSCRIPTS = str.maketrans("0123456789+-=()hijklmnst", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ʰⁱʲᵏˡᵐⁿˢᵗ")
#: the core's ASCII words and signs for symbols, as the lessons typeset them
SYMBOLS = ((r"(?<![A-Za-z])zeta(?![A-Za-z])", "ζ"), (r"\bkron\b", "⊗"), (r"\bsum\b", "Σ"),
           (r"<=", "≤"), (r">=", "≥"), (r"(?<=[A-Za-z])~", "\u0303"), (r"(?<=[\w)⁾])\^T\b", "ᵀ"),
           (r"(?<=[\w')⁾])\^([0-9])", lambda match: match.group(1).translate(SUPERSCRIPTS)),
           (r"(?<=[)⁾])T(?![A-Za-z])", "ᵀ"))


def superscript(index) -> str:
    """The paper's "^(index)" as Unicode superscripts, as the lessons typeset it.

    >>> "G_W" + superscript(2), "C" + superscript("l"), "z" + superscript("k-1")
    ('G_W⁽²⁾', 'C⁽ˡ⁾', 'z⁽ᵏ⁻¹⁾')
    """
    return f"({index})".translate(SUPERSCRIPTS)


def typeset(text: str) -> str:
    """The core's ASCII notation as the lessons typeset it: "^(l)" as superscripts, the
    elementwise product " o " as "∘", a transpose "^T" as "ᵀ", "C~" as "C̃", and zeta, kron,
    sum and <= as ζ, ⊗, Σ and ≤.

    >>> typeset("C^(l) = I o F^(l), then A^(k,t)")
    'C⁽ˡ⁾ = I ∘ F⁽ˡ⁾, then A⁽ᵏ,ᵗ⁾'
    >>> typeset("C~^(k,t,s,zeta) = P_s^T A^(k,t) P_zeta, f'^4, t <= 2, C~ kron z z^(h)T")
    "C̃⁽ᵏ,ᵗ,ˢ,ζ⁾ = P_sᵀ A⁽ᵏ,ᵗ⁾ P_ζ, f'⁴, t ≤ 2, C̃ ⊗ z z⁽ʰ⁾ᵀ"
    """
    for pattern, replacement in SYMBOLS[:2]:  # before the superscripts: ^(k,zeta)
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"\^\(([0-9a-zζ,+\- ]+)\)", lambda match: superscript(match.group(1)), text)
    for pattern, replacement in SYMBOLS[2:]:
        text = re.sub(pattern, replacement, text)
    return re.sub(r"(?<=[\w)⁾]) o (?=[\w(])", " ∘ ", text)


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` ``noun``, in the plural unless it is one: "1 sample", "3 samples".

    >>> count(1, "sample"), count(4, "eigenvalue")
    ('1 sample', '4 eigenvalues')
    """
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def symmetric_limits(matrix: np.ndarray) -> tuple[float, float]:
    finite = np.asarray(matrix, dtype=float)
    finite = finite[np.isfinite(finite)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    top = top or 1.0
    return (-top, top)


#: blue (negative) - white (0) - red (positive), 256 steps
DIVERGING = list(interp_palette(RdBu11, 256))


def arrays_to_csv(arrays: dict[str, np.ndarray]) -> str:
    """Long-format CSV ``array,row,column,value`` of every array (1-D: column 0); the one
    text column, the array's name, is written so a spreadsheet shows it as text.

    >>> arrays_to_csv({"=1+1": np.array([0.5])}).splitlines()
    ['array,row,column,value', "'=1+1,0,0,0.5"]
    """
    lines = ["array,row,column,value"]
    for name, array in arrays.items():
        name = csv_text(name)
        array = np.atleast_1d(np.asarray(array, dtype=float))
        if array.ndim > 2:
            array = array.reshape(array.shape[0], -1)
        if array.ndim == 1:
            array = array[:, None]
        for i, row in enumerate(array):
            lines.extend(f"{name},{i},{j},{value:.17g}" for j, value in enumerate(row))
    return "\n".join(lines) + "\n"


def csv_text(text: str) -> str:
    """A CSV text cell: no formula for a spreadsheet to run (``spreadsheet_text``), quoted
    where it holds a comma, a quote or a line break."""
    text = spreadsheet_text(text)
    if any(char in text for char in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def arrays_to_npz(arrays: dict[str, np.ndarray]) -> io.BytesIO:
    buffer = io.BytesIO()
    np.savez(buffer, **{name: np.asarray(array) for name, array in arrays.items()})
    buffer.seek(0)
    return buffer


#: yielded by a redraw while its core computation runs in the session's worker thread
WAITING = object()
#: a live redraw's core computation runs in the frame, not on the worker thread, when its
#: last run took at most this much CPU time (seconds; within a frame's drawing budget,
#: ``app.live.loop.FRAME_DRAW_BUDGET_S``). A settings change or a rebuild redraws in the frame
#: anyway (``refresh``), and measures the computation again for its new sizes.
INLINE_COMPUTE_S = 0.010
#: the line shown while a view's core computation runs on the session's worker thread
COMPUTING = "computing on this session's worker…"


class View(pn.viewable.Viewer):
    """Base of every view (``app/views/__init__.py``): a layout, a note line, CSV/NPZ
    downloads, ``refresh()``."""

    key = "view"
    title = "View"
    #: the session's single worker thread (set by the dashboard while training), or None
    executor = None
    #: shortest time between two complete redraws while playing (seconds); ``stream()``
    #: still runs every frame in between
    min_redraw_interval = 0.0

    note = param.String(default="", doc="what the view shows right now (sizes, fallbacks)")

    def __init__(self, session, settings, **params):
        super().__init__(**params)
        self.session = session
        self.settings = settings
        self.arrays: dict[str, np.ndarray] = {}
        self.worker_seconds = 0.0  # core time of the current redraw spent on the worker
        self.compute_seconds = float("inf")  # CPU time of the last core computation
        self._inline = False
        self._version = -1
        self._note = pn.pane.Markdown("", css_classes=["view-note"], margin=(0, 10))
        # shown and hidden around every offloaded computation: a line of its own height
        # whose text changes, so that the browser lays nothing out (app/views/live_text.py)
        self._computing = LiveText(
            text="", css_classes=["view-computing"], height=20,
            margin=(0, 10), styles={"color": "#555", "font-style": "italic"},
        )
        self._body = pn.Column(sizing_mode="stretch_width")
        self._downloads = pn.Row(
            pn.widgets.FileDownload(
                callback=self._csv, filename=f"{self.key}.csv", label="Download CSV",
                color="light", css_classes=["download-csv"], width=150,
            ),
            pn.widgets.FileDownload(
                callback=self._npz, filename=f"{self.key}.npz", label="Download NPZ",
                color="light", css_classes=["download-npz"], width=150,
            ),
        )
        self._layout = pn.Column(
            self._note, self._computing, self._body, self._downloads,
            sizing_mode="stretch_width", css_classes=["view", f"view-{self.key}"],
        )

    def __panel__(self):
        return self._layout

    # --- downloads ---------------------------------------------------------------------
    def download_arrays(self) -> dict[str, np.ndarray]:
        """The arrays the downloads hold: those behind the last drawing (``self.arrays``)."""
        return self.arrays

    def _csv(self):
        return io.StringIO(arrays_to_csv(self.download_arrays()))

    def _npz(self):
        return arrays_to_npz(self.download_arrays())

    # --- life cycle --------------------------------------------------------------------
    def ensure_built(self) -> None:
        """(Re)create the plots when the model was rebuilt since the last draw."""
        if self._version != self.session.version:
            self._version = self.session.version
            self.arrays = {}
            self.build()

    def build(self) -> None:
        """Create the Bokeh figures and their data sources for the current model (override)."""

    def update(self):
        """Compute with the core and send to the plots, yielding after each plot update
        (a generator, so that the dashboard can spread one redraw over several ticks)."""
        yield

    def stream(self) -> None:
        """Cheap updates sent on every tick between redraws (override: streamed curves)."""

    def redraw(self):
        """Generator over the steps of one redraw; errors become the view's note."""
        self.ensure_built()
        try:
            yield from self.update()
        except Exception as error:  # noqa: BLE001 - a view must never break the session
            self.set_note(f"**Could not draw this view:** {type(error).__name__}: {error}")
            raise_in_tests(error)

    def refresh(self) -> None:
        """Redraw completely, now (core computations on this thread)."""
        self._inline = True
        try:
            for _ in self.redraw():
                pass
        finally:
            self._inline = False

    def offload(self, function):
        """Run ``function`` (core computations only: no plotting, no session changes) on the
        session's worker thread if there is one, yielding WAITING until it is done, so that
        ticks go on meanwhile; without a worker, run it here. Use as
        ``result = yield from self.offload(function)``. A computation whose last run took
        at most ``INLINE_COMPUTE_S`` of CPU time runs here too (see the module)."""

        def timed():
            start, cpu = time.perf_counter(), time.thread_time()
            result = function()
            self.compute_seconds = time.thread_time() - cpu
            return result, time.perf_counter() - start

        if self.executor is None or self._inline or self.compute_seconds <= INLINE_COMPUTE_S:
            result, _ = timed()
            return result
        future = self.executor.submit(timed)
        waited = False
        try:
            while not future.done():
                if not waited:
                    waited = True
                    self._computing.text = COMPUTING
                yield WAITING
        finally:
            if waited:
                self._computing.text = ""
        result, seconds = future.result()
        self.worker_seconds += seconds
        return result

    def set_note(self, text: str) -> None:
        """Show ``text``, with what L1 changes in this view's statement while it is on
        (``app/configuration/playground_settings.py``)."""
        extra = l1_statement(self.key, getattr(self.settings, "l1", 0.0))
        if extra and not text.startswith("**Could not draw"):
            text = f"{text}\n\n{extra}" if text else extra
        if self._note.object != text:
            self._note.object = text
        self.note = text

    def release(self) -> None:
        self.arrays = {}
        self._body.objects = []

    # --- helpers for subclasses --------------------------------------------------------
    def batch(self):
        """(X, Z) of the chosen scope: the whole mini-batch or one sample of it."""
        X, Z = self.session.X, self.session.Z
        if self.settings.scope == "sample":
            p = self.sample_index()
            return X[p : p + 1], Z[p : p + 1]
        return X, Z

    def blocks_too_large(self, X) -> str | None:
        """Why the layer Hessian's blocks are too big to form live, or None."""
        session = self.session
        widest = max(session.layer_sizes[1:])
        times = self.time_step() if session.is_rnn else 1
        entries = X.shape[0] * times * times * widest * widest
        if entries <= BLOCKS_LIMIT:
            return None
        return (f"The Hessian blocks here would hold {entries:,} numbers (batch × t² × m²), too "
                "many to compute live: choose one sample, a smaller batch, an earlier time t "
                "or narrower levels.")

    def hessian_options(self, X) -> dict | None:
        """Keyword arguments of ``net.hessian`` that the settings ask for, or None (with a
        note shown) when the Hessian's blocks are too big to compute live."""
        too_large = self.blocks_too_large(X)
        if too_large:
            self.set_note(too_large)
            return None
        options = {"layer": self.layer(), "formula": self.settings.formula}
        if self.session.is_rnn:
            options.update(t=self.time_step(), wrt=self.settings.wrt)
        return options

    def eigenproblem_size(self, X) -> int:
        """Side of the eigenproblem behind the chosen Hessian (before computing it)."""
        session, settings = self.session, self.settings
        k = self.layer()
        m, n = session.layer_sizes[k], session.layer_sizes[k - 1]
        if session.is_rnn and settings.wrt == "U":
            if settings.formula == "exact":
                return m * m
            n = m
        terms = X.shape[0] * (self.time_step() if session.is_rnn else 1)
        return m * min(terms, n)

    def sample_index(self) -> int:
        return int(min(self.settings.sample, self.session.X.shape[0] - 1))

    def layer(self) -> int:
        return int(min(max(self.settings.layer, 1), self.session.net.n_layers))

    def time_step(self) -> int:
        return int(min(self.settings.resolved_time(), self.settings.tau))


def raise_in_tests(error: Exception) -> None:
    """Re-raise view errors when running under pytest, so tests see them."""
    import os

    if os.environ.get("HESSIAN_LAB_STRICT"):
        raise error
