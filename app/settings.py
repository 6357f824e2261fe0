"""Every user-facing setting of the dashboard, as one ``param`` class.

A :class:`Settings` object is built per browser session (or per notebook dashboard). Its
parameters are exactly what the URL query string carries, so a link reproduces a
configuration. Values that cannot be expressed as a plain parameter check (the architecture
string ``"2-8-8-1"``) are validated by :func:`parse_architecture`; a bad value leaves the last
valid one in force and fills ``messages[name]`` with the reason, shown next to the control.

Paper notation: level ``layer`` = k (1-based), time ``time_step`` = t (1-based),
``batch_size`` = r, ``tau`` = sequence length, ``output_from`` = a (outputs at t = a..tau).
"""

from __future__ import annotations

import math

import param

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh", "softplus", "identity")
FNN_DATASETS = ("xor", "circles", "spirals", "blobs", "regression")
RNN_TASKS = ("sine", "adding", "echo")
VIEWS = ("training", "rank", "kronecker", "masks", "spectrum", "errata", "sparse")
VIEW_TITLES = {
    "training": "Training",
    "rank": "Gradient rank",
    "kronecker": "Kronecker structure",
    "masks": "ReLU masks",
    "spectrum": "Spectrum",
    "errata": "Paper vs exact",
    "sparse": "Sparse vs full",
}
#: sparse back-propagation rules: none, meProp top-k, truncated BPTT, selected steps
SPARSE_RULES = ("none", "topk", "truncate", "backtrack")
SPARSE_TITLES = {
    "none": "none (full backprop)",
    "topk": "top-k (meProp)",
    "truncate": "truncated BPTT",
    "backtrack": "selected steps",
}
#: the settings that make up the sparse rule (checked by parse_sparse_rule, not by param)
SPARSE_SETTINGS = ("sparse", "topk", "truncate", "backtrack")
# 1-2-5 steps per decade: the learning-rate slider moves on a log scale.
LEARNING_RATES = tuple(
    round(mantissa * 10.0**exponent, 10)
    for exponent in range(-4, 1)
    for mantissa in (1, 2, 5)
) + (1.0,)

#: parameters that change the model or data: changing one rebuilds the session
STRUCTURAL = (
    "model", "architecture", "activation", "output_activation", "dataset", "noise",
    "samples", "levels", "hidden_width", "tau", "output_from", "task", "delay", "seed",
)


class ArchitectureError(ValueError):
    """An architecture string that does not describe a network (shown to the user)."""


def parse_architecture(text: str, max_width: int = 256, max_levels: int = 8) -> tuple[int, ...]:
    """Parse ``"2-8-8-1"`` into layer sizes ``(N, m1, ..., M)``.

    >>> parse_architecture("2-8-8-1")
    (2, 8, 8, 1)
    >>> parse_architecture(" 2 - 16 -1 ")
    (2, 16, 1)
    """
    parts = [part.strip() for part in str(text).replace(",", "-").split("-")]
    if len(parts) < 2:
        raise ArchitectureError("give at least two widths, e.g. 2-8-1")
    sizes = []
    for part in parts:
        if not part.isdigit():
            raise ArchitectureError(f"'{part}' is not a positive whole number")
        width = int(part)
        if width < 1:
            raise ArchitectureError("widths must be at least 1")
        if width > max_width:
            raise ArchitectureError(f"width {width} is above the limit of {max_width}")
        sizes.append(width)
    if len(sizes) - 1 > max_levels:
        raise ArchitectureError(f"at most {max_levels} levels")
    return tuple(sizes)


def format_architecture(sizes: tuple[int, ...]) -> str:
    return "-".join(str(int(size)) for size in sizes)


class SparseRuleError(ValueError):
    """A sparse back-propagation rule that cannot be used (shown to the user)."""


def parse_topk(text) -> int | float:
    """``"3"`` -> 3 entries kept per vector; ``"0.05"`` -> 5 % of them.

    >>> parse_topk("3"), parse_topk("0.05"), parse_topk(" 5% ")
    (3, 0.05, 0.05)
    """
    text = str(text).strip()
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        raise SparseRuleError(f"top-k '{text}' is not a number") from None
    if percent:
        value /= 100.0
    if math.isfinite(value) and value >= 1 and value.is_integer() and not percent:
        return int(value)
    if math.isfinite(value) and 0.0 < value < 1.0:
        return value
    raise SparseRuleError(
        f"top-k '{text}' must be a whole count >= 1 or a fraction in (0, 1), e.g. 3 or 0.05"
    )


def parse_backtrack(text) -> str | frozenset[int]:
    """``"largest:2"`` (the rule, unchanged) or ``"1, 4 8"`` -> the set of steps {1, 4, 8}.

    >>> parse_backtrack("largest:2"), sorted(parse_backtrack("1, 4 8"))
    ('largest:2', [1, 4, 8])
    """
    text = str(text).strip()
    if text.lower().startswith("largest"):
        text = text.lower().replace(" ", "")
        _, _, count = text.partition(":")
        if not count.isdigit() or int(count) < 1:
            raise SparseRuleError(f"'{text}': write largest:K with a whole K >= 1")
        return f"largest:{int(count)}"
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts or not all(part.isdigit() for part in parts):
        raise SparseRuleError(
            f"selected steps '{text}': give largest:K or time steps such as 1,4,8"
        )
    steps = frozenset(int(part) for part in parts)
    if min(steps) < 1:
        raise SparseRuleError("time steps start at 1")
    return steps


def parse_sparse_rule(rule: str, topk, truncate, backtrack, model: str, tau: int) -> dict:
    """The core keywords (``topk=``, ``truncate=``, ``backtrack=``) of a rule, checked for
    the model: FNNs know top-k only; K and the steps must lie in 1..tau.
    Raises :class:`SparseRuleError` with the reason."""
    if rule == "none":
        return {}
    if rule == "topk":
        return {"topk": parse_topk(topk)}
    if model != "rnn":
        raise SparseRuleError(
            f"{SPARSE_TITLES[rule]} needs an RNN (time steps); an FNN knows top-k only"
        )
    if rule == "truncate":
        K = int(truncate)
        if not 1 <= K <= tau:
            raise SparseRuleError(f"K = {K} must lie in 1..τ = {tau}")
        return {"truncate": K}
    if rule == "backtrack":
        chosen = parse_backtrack(backtrack)
        if isinstance(chosen, str):
            if int(chosen.partition(":")[2]) > tau:
                raise SparseRuleError(f"{chosen}: K must lie in 1..τ = {tau}")
        elif max(chosen) > tau:
            raise SparseRuleError(f"step {max(chosen)} is after τ = {tau}")
        return {"backtrack": chosen}
    raise SparseRuleError(f"unknown rule {rule!r}")


def describe_sparse_rule(options: dict) -> str:
    """Words for the rule in force, e.g. ``"top-k (meProp), k = 0.05"``."""
    if not options:
        return SPARSE_TITLES["none"]
    if "topk" in options:
        k = options["topk"]
        amount = f"{k:g} of each v ({k * 100:g} %)" if isinstance(k, float) else f"{k} per v"
        return f"{SPARSE_TITLES['topk']}, keeps {amount}"
    if "truncate" in options:
        return f"{SPARSE_TITLES['truncate']}, K = {options['truncate']}"
    chosen = options["backtrack"]
    if isinstance(chosen, str):
        return f"{SPARSE_TITLES['backtrack']}, {chosen}"
    return f"{SPARSE_TITLES['backtrack']}, s ∈ {{{', '.join(map(str, sorted(chosen)))}}}"


class Settings(param.Parameterized):
    """All controls of one dashboard; synced with the URL query string."""

    # --- model -------------------------------------------------------------------------
    model = param.Selector(default="fnn", objects=["fnn", "rnn"], doc="network kind")
    architecture = param.String(default="2-8-8-1", doc="FNN widths N-m1-...-M")
    activation = param.Selector(default="relu", objects=list(ACTIVATION_NAMES))
    output_activation = param.Selector(default="identity", objects=list(ACTIVATION_NAMES))
    levels = param.Integer(default=1, bounds=(1, 3), doc="RNN levels l")
    hidden_width = param.Integer(default=8, bounds=(1, 64), doc="RNN hidden width m")
    tau = param.Integer(default=8, bounds=(2, 64), doc="RNN sequence length")
    output_from = param.Integer(default=1, bounds=(1, 64), doc="first output time a")

    # --- data --------------------------------------------------------------------------
    dataset = param.Selector(default="xor", objects=list(FNN_DATASETS))
    noise = param.Number(default=0.1, bounds=(0.0, 1.0))
    samples = param.Integer(default=200, bounds=(8, 5000), doc="data set size")
    task = param.Selector(default="sine", objects=list(RNN_TASKS), doc="RNN sequence task")
    delay = param.Integer(default=2, bounds=(1, 32), doc="echo delay in time steps")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1))

    # --- training ----------------------------------------------------------------------
    learning_rate = param.Number(default=0.05, bounds=(1e-6, 10.0))
    momentum = param.Number(default=0.9, bounds=(0.0, 0.999))
    clip_norm = param.Number(default=1.0, bounds=(0.0, 100.0),
                             doc="largest gradient norm used in a step (0 = no clipping)")
    batch_size = param.Integer(default=16, bounds=(1, 512), doc="mini-batch size r")
    steps_per_tick = param.Integer(default=1, bounds=(1, 100))
    refresh_every = param.Integer(default=1, bounds=(1, 100), doc="view refresh, in ticks")
    speed = param.Integer(default=0, bounds=(0, 1000),
                          doc="most SGD steps between two frames (0 = as fast as allowed)")

    # --- sparse back-propagation (a second, full-backprop run is kept for comparison) ---
    sparse = param.Selector(default="none", objects=list(SPARSE_RULES),
                            doc="backward pass: none, topk (meProp), truncate, backtrack")
    topk = param.String(default="0.25", doc="entries kept per v: a count or a fraction")
    truncate = param.Integer(default=4, bounds=(1, 64), doc="truncated BPTT window K")
    backtrack = param.String(default="largest:2", doc="'largest:K' or steps such as 1,4,8")

    # --- what the views show -----------------------------------------------------------
    view = param.Selector(default="training", objects=list(VIEWS))
    layer = param.Integer(default=1, bounds=(1, 16), doc="level k")
    time_step = param.Integer(default=0, bounds=(0, 64), doc="time t (0 = tau)")
    scope = param.Selector(default="batch", objects=["batch", "sample"])
    sample = param.Integer(default=0, bounds=(0, 511), doc="sample index in the batch")
    formula = param.Selector(default="exact", objects=["exact", "paper"])
    wrt = param.Selector(default="W", objects=["W", "U"], doc="RNN Hessian w.r.t. W or U")
    lesson = param.String(default="", doc="key of the lesson shown")

    def resolved_time(self) -> int:
        """The output time t actually used (1..tau): ``time_step`` 0 means tau."""
        t = self.time_step or self.tau
        return max(1, min(int(t), int(self.tau)))

    def query_parameters(self) -> list[str]:
        """Parameters carried by the URL (all but the name)."""
        return [name for name in self.param if name != "name"]

    def apply(self, values: dict) -> dict[str, str]:
        """Set each value on its own; return ``{name: reason}`` for those refused.

        Used for URL values (strings) and lessons; a refused value leaves the old one.
        """
        errors: dict[str, str] = {}
        valid = {}
        scratch = Settings()
        for name, value in values.items():
            if name not in self.param or name == "name":
                errors[name] = "unknown setting"
                continue
            try:
                value = coerce(self.param[name], value)
                if name == "architecture":
                    parse_architecture(value)
                elif name == "topk":
                    parse_topk(value)
                elif name == "backtrack":
                    parse_backtrack(value)
                setattr(scratch, name, value)  # validation only
                valid[name] = value
            except Exception as error:  # noqa: BLE001 - any bad value becomes a message
                errors[name] = f"{value!r} refused: {error}".split("\n")[0][:200]
        self.param.update(**valid)  # one batch: watchers run once
        return errors


def coerce(parameter: param.Parameter, value):
    """Turn a URL string into the parameter's type (numbers, integers); others unchanged.
    A number for a text setting (``topk=0.1`` read from the URL as JSON) becomes its text."""
    if isinstance(parameter, param.String) and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        return value
    text = value.strip().strip('"')
    if isinstance(parameter, param.Integer):
        number = float(text)
        if not number.is_integer():
            raise ValueError("not a whole number")
        return int(number)
    if isinstance(parameter, param.Number):
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        return number
    return text


def nearest_learning_rate(value: float) -> float:
    """The slider stop closest to ``value`` on a log scale."""
    value = max(float(value), 1e-12)
    return min(LEARNING_RATES, key=lambda option: abs(math.log(option) - math.log(value)))
