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
VIEWS = ("training", "rank", "kronecker", "masks", "spectrum", "errata")
VIEW_TITLES = {
    "training": "Training",
    "rank": "Gradient rank",
    "kronecker": "Kronecker structure",
    "masks": "ReLU masks",
    "spectrum": "Spectrum",
    "errata": "Paper vs exact",
}
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
                setattr(scratch, name, value)  # validation only
                valid[name] = value
            except Exception as error:  # noqa: BLE001 - any bad value becomes a message
                errors[name] = f"{value!r} refused: {error}".split("\n")[0][:200]
        self.param.update(**valid)  # one batch: watchers run once
        return errors


def coerce(parameter: param.Parameter, value):
    """Turn a URL string into the parameter's type (numbers, integers); others unchanged."""
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
