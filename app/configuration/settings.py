"""Every user-facing setting of the dashboard, as one ``param`` class.

A :class:`Settings` object is built per browser session (or per notebook dashboard). Its
parameters are exactly what the URL query string carries, so a link reproduces a
configuration. Values that cannot be expressed as a plain parameter check (the architecture
string ``"2-8-8-1"``) are validated by :func:`app.configuration.widths.parse_architecture`; a bad
value
leaves the last valid one in force and fills ``messages[name]`` with the reason, shown next
to the control.

How values combine (:meth:`Settings.apply`, used for URL values, keyword arguments and
lessons): each value is first checked on its own (type, range, allowed words); then the
values that pass, together with the settings they leave alone, are made to hold together by
:func:`settle`: the FNN architecture's first and last widths are those of the data set
(:func:`app.configuration.widths.network_widths`), ``layer`` is at most the number of levels,
``time_step``, ``output_from``, ``truncate`` and ``delay`` fit in the sequence length,
``batch_size`` in the data set and ``sample`` in the batch. A value the caller gave that had
to change is reported with the reason. A lesson (``lesson=key``) is a complete
configuration: the defaults, the lesson's settings, then any other value given
(:func:`lesson_configuration`).

Paper notation: level ``layer`` = k (1-based), time ``time_step`` = t (1-based),
``batch_size`` = r, ``tau`` = sequence length, ``output_from`` = a (outputs at t = a..tau).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from urllib.parse import parse_qsl

import param

from app.configuration.classification_settings import STRUCTURAL as CLASSIFICATION_STRUCTURAL
from app.configuration.classification_settings import TEXT_FORMS as CLASSIFICATION_FORMS
from app.configuration.classification_settings import (
    UPLOAD,
    ClassificationSettings,
    classification_widths,
)
from app.configuration.lessons import BY_KEY
from app.configuration.playground_settings import PlaygroundSettings
from app.configuration.quoting import quoted
from app.configuration.widths import (
    ArchitectureError,
    data_widths_text,
    format_architecture,
    network_widths,
    parse_architecture,
)

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh", "softplus", "identity")
FNN_DATASETS = ("xor", "circles", "spirals", "blobs", "rings", "regression")
RNN_TASKS = ("sine", "adding", "echo")
VIEWS = ("training", "rank", "kronecker", "masks", "spectrum", "errata", "sparse", "network",
         "whole")
VIEW_TITLES = {
    "training": "Training",
    "rank": "Gradient rank",
    "kronecker": "Kronecker structure",
    "masks": "ReLU masks",
    "spectrum": "Spectrum",
    "errata": "Paper vs exact",
    "sparse": "Sparse vs full",
    "network": "Network",
    "whole": "Whole Hessian",
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
# 1-2-3-5 steps per decade: the learning-rate slider moves on a log scale, and every round
# value of the menu beside it (playground_settings.ROUND_LEARNING_RATES) is one of its stops.
LEARNING_RATES = tuple(
    round(mantissa * 10.0**exponent, 10)
    for exponent in range(-4, 0)
    for mantissa in (1, 2, 3, 5)
) + (1.0,)

#: what a link, a keyword argument or a lesson may set where the control allows less than
#: the parameter (a script may still set the parameter itself anywhere in its bounds, e.g.
#: a learning rate of 10 to make a run diverge)
CONTROL_BOUNDS = {"learning_rate": (LEARNING_RATES[0], LEARNING_RATES[-1])}
#: why ``dataset=upload`` in a link is not applied (the file is not in the address)
UPLOAD_LOST = ("'upload' refused: an uploaded file is not kept in the address; choose the "
               "CSV file again (Classification and regularisation), the built-in data set "
               "is used meanwhile")

#: parameters that change the model or data: changing one rebuilds the session
STRUCTURAL = (
    "model", "architecture", "activation", "output_activation", "dataset", "noise",
    "samples", "levels", "hidden_width", "tau", "output_from", "task", "delay", "seed",
    *CLASSIFICATION_STRUCTURAL,
)


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
        raise SparseRuleError(f"top-k {quoted(text)} is not a number") from None
    if percent:
        value /= 100.0
    if math.isfinite(value) and value >= 1 and value.is_integer() and not percent:
        return int(value)
    if math.isfinite(value) and 0.0 < value < 1.0:
        return value
    raise SparseRuleError(
        f"top-k {quoted(text)} must be a whole count >= 1 or a fraction in (0, 1), e.g. 3 or 0.05"
    )


def small_whole(text: str, digits: int = 9) -> int | None:
    """``text`` as a whole number if it is at most ``digits`` ASCII digits, else None.

    >>> small_whole("42"), small_whole("4²"), small_whole("9" * 5000)
    (42, None, None)
    """
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def parse_backtrack(text) -> str | frozenset[int]:
    """``"largest:2"`` (the rule, unchanged) or ``"1, 4 8"`` -> the set of steps {1, 4, 8}.

    >>> parse_backtrack("largest:2"), sorted(parse_backtrack("1, 4 8"))
    ('largest:2', [1, 4, 8])
    """
    text = str(text).strip()
    if text.lower().startswith("largest"):
        text = text.lower().replace(" ", "")
        _, _, count = text.partition(":")
        if small_whole(count) is None or int(count) < 1:
            raise SparseRuleError(f"{quoted(text)}: write largest:K with a whole K >= 1")
        return f"largest:{int(count)}"
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts or any(small_whole(part) is None for part in parts):
        raise SparseRuleError(
            f"selected steps {quoted(text)}: give largest:K or time steps such as 1,4,8"
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


class Settings(ClassificationSettings, PlaygroundSettings):
    """All controls of one dashboard; synced with the URL query string."""

    # --- model -------------------------------------------------------------------------
    model = param.Selector(default="fnn", objects=["fnn", "rnn"], doc="network kind")
    architecture = param.String(default="2-8-8-1", doc="FNN widths N-m1-...-M")
    activation = param.Selector(default="tanh", objects=list(ACTIVATION_NAMES),
                                doc="hidden activation f (tanh: the paper's slips show)")
    output_activation = param.Selector(default="identity", objects=list(ACTIVATION_NAMES))
    levels = param.Integer(default=2, bounds=(1, 3), doc="RNN hidden levels")
    hidden_width = param.Integer(default=8, bounds=(1, 64), doc="RNN hidden width m")
    tau = param.Integer(default=8, bounds=(2, 64), doc="RNN sequence length")
    output_from = param.Integer(default=1, bounds=(1, 64), doc="first output time a")

    # --- data --------------------------------------------------------------------------
    dataset = param.Selector(default="xor", objects=[*FNN_DATASETS, UPLOAD],
                             doc="a built-in data set, or upload: the CSV file in use")
    noise = param.Number(default=0.1, bounds=(0.0, 1.0))
    samples = param.Integer(default=200, bounds=(8, 5000), doc="data set size")
    task = param.Selector(default="adding", objects=list(RNN_TASKS),
                          doc="RNN sequence task (adding: N = 2 inputs)")
    delay = param.Integer(default=2, bounds=(1, 32), doc="echo delay in time steps")
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1))

    # --- training ----------------------------------------------------------------------
    learning_rate = param.Number(default=0.05, bounds=(1e-6, 10.0))
    momentum = param.Number(default=0.9, bounds=(0.0, 0.999))
    clip_norm = param.Number(default=1.0, bounds=(0.0, 100.0),
                             doc="largest gradient norm used in a step (0 = no clipping)")
    batch_size = param.Integer(default=4, bounds=(1, 512),
                               doc="mini-batch size r (below the widths: the rank bound bites)")
    # 10 steps a frame: some 250 steps (5 epochs of the default 200 samples) a second at 25
    # frames a second, a pace a class can watch; 0 (the "fastest" button) is one click away
    speed = param.Integer(default=10, bounds=(0, 1000),
                          doc="most SGD steps between two frames (0 = as fast as allowed)")

    # --- sparse back-propagation (a second, full-backprop run is kept for comparison) ---
    sparse = param.Selector(default="none", objects=list(SPARSE_RULES),
                            doc="backward pass: none, topk (meProp), truncate, backtrack")
    topk = param.String(default="0.25", doc="entries kept per v: a count or a fraction")
    truncate = param.Integer(default=4, bounds=(1, 64), doc="truncated BPTT window K")
    backtrack = param.String(default="largest:2", doc="'largest:K' or steps such as 1,4,8")

    # --- what the views show -----------------------------------------------------------
    view = param.Selector(default="training", objects=list(VIEWS))
    layer = param.Integer(default=2, bounds=(1, 16), doc="level k (2: an m x m weight)")
    time_step = param.Integer(default=0, bounds=(0, 64), doc="time t (0 = tau)")
    scope = param.Selector(default="batch", objects=["batch", "sample"])
    sample = param.Integer(default=0, bounds=(0, 511), doc="sample index in the batch")
    formula = param.Selector(default="exact", objects=["exact", "paper"])
    wrt = param.Selector(default="W", objects=["W", "U"], doc="RNN Hessian w.r.t. W or U")
    lesson = param.String(default="", doc="key of the lesson shown")

    @param.depends("tau", "batch_size", "samples", watch=True)
    def _keep_in_range(self) -> None:
        """A change made by hand (a slider, not :meth:`apply`) keeps the time step, the batch
        size and the sample index in range, so that the link the page then shows holds
        together; the other rules of :func:`settle` are the dashboard's on a rebuild."""
        batch = min(self.batch_size, self.samples)
        fitted = {"time_step": min(self.time_step, self.tau), "batch_size": batch,
                  "sample": min(self.sample, batch - 1)}
        self.param.update(**{name: value for name, value in fitted.items()
                             if value != getattr(self, name)})

    def resolved_time(self) -> int:
        """The output time t actually used (1..tau): ``time_step`` 0 means tau."""
        t = self.time_step or self.tau
        return max(1, min(int(t), int(self.tau)))

    def query_parameters(self) -> list[str]:
        """Parameters carried by the URL (all but the name)."""
        return [name for name in self.param if name != "name"]

    def values(self) -> dict:
        """Every setting's current value, by name."""
        return {name: getattr(self, name) for name in self.query_parameters()}

    def apply(self, values: dict) -> dict[str, str]:
        """Apply several values at once; return ``{name: reason}`` for those refused or
        adjusted.

        Used for URL values (strings), keyword arguments and lessons. Each value is checked
        on its own (:func:`check_value`): a refused one leaves the old value in force (the
        lesson's, when a lesson is given). The values that pass, with the settings they leave
        alone, are then made to hold together (:func:`settle`), and everything is set in one
        batch (watchers run once). A known ``lesson`` key starts from that lesson's complete
        configuration.
        """
        values = dict(values)
        errors: dict[str, str] = {}
        requested: dict = {}
        if "lesson" in values:
            try:
                key = check_value(self.param["lesson"], "lesson", values["lesson"])
            except ValueError as error:
                errors["lesson"] = str(error)
                del values["lesson"]
            else:
                requested = lesson_configuration(key) if key else {}
        valid, scratch = {}, Settings()
        # the lesson's values first: a value given with it that is refused leaves the lesson's
        for name, value in [*requested.items(), *values.items()]:
            if name not in self.param or name == "name":
                errors[str(name)] = unknown_setting(str(name), self.query_parameters())
                continue
            try:
                valid[name] = check_value(self.param[name], name, value, scratch)
            except ValueError as error:
                errors[name] = str(error)
            else:
                errors.pop(name, None)
                if name == "dataset" and valid[name] == UPLOAD != self.dataset:
                    del valid[name]  # only an upload in use is "upload"
                    errors[name] = UPLOAD_LOST
        settled, notes = settle({**self.values(), **valid}, given=set(values) & set(valid))
        errors.update(notes)
        changed = {name: value for name, value in settled.items()
                   if value != getattr(self, name)}
        self.param.update(**changed)  # one batch: watchers run once
        return errors


def unknown_setting(name: str, known: list[str]) -> str:
    """Why a name is ignored, with the closest setting names.

    >>> unknown_setting("batchsize", ["batch_size", "seed"])
    'unknown setting, ignored: did you mean batch_size?'
    """
    close = difflib.get_close_matches(name, known, n=2)
    hint = f"did you mean {' or '.join(close)}?" if close else (
        "the settings are the names in a link the app writes, e.g. model, batch_size, view")
    return f"unknown setting, ignored: {hint}"


def lesson_configuration(key: str) -> dict:
    """The complete settings of a lesson: every default, then the lesson's own values.

    >>> lesson_configuration("rank-r")["batch_size"], lesson_configuration("rank-r")["lesson"]
    (4, 'rank-r')
    """
    if key not in BY_KEY:
        raise KeyError(f"unknown lesson {key!r}: choose one of {', '.join(BY_KEY)}")
    defaults = {name: parameter.default for name, parameter in Settings.param.objects().items()
                if name != "name"}
    return {**defaults, **BY_KEY[key].settings, "lesson": key}


def query_values(search: str) -> dict[str, str]:
    """A page's query string (``"?seed=3&model=rnn"``) as ``{name: text}``, every value
    kept as the text the link gave: :meth:`Settings.apply` reads it, and refuses what does
    not fit with a message (a number of thousands of digits included).

    >>> query_values("?seed=3&architecture=2-8-1&lesson=")
    {'seed': '3', 'architecture': '2-8-1'}
    """
    return dict(parse_qsl(search.lstrip("?")))


def request_query(doc) -> dict[str, str] | None:
    """The query values of the request that opened a served page (``doc``: its Bokeh
    document), as :func:`query_values` gives them; None where there is no request."""
    request = getattr(getattr(doc, "session_context", None), "request", None)
    if request is None:
        return None
    return {name: texts[-1].decode("utf-8", "replace")
            for name, texts in request.arguments.items() if texts and texts[-1]}


def panel_reads_query(values: dict[str, str]) -> bool:
    """Whether Panel's ``pn.state.location`` can be made for a page with these query
    values: Panel turns a value of digits into an ``int``, which Python refuses past its
    4300-digit limit (or for digits such as '²'), and the page then stays blank.

    >>> panel_reads_query({"seed": "3"}), panel_reads_query({"seed": "9" * 5000})
    (True, False)
    """
    for text in values.values():
        if text.isdigit():
            try:
                int(text)
            except ValueError:
                return False
    return True


def allowed_values(parameter: param.Parameter, name: str = "") -> str:
    """What a parameter accepts, in words: ``"one of fnn, rnn"``, ``"a whole number from 1
    to 512"`` (for ``name`` in :data:`CONTROL_BOUNDS`, the control's range)."""
    if isinstance(parameter, param.Selector):
        return "one of " + ", ".join(str(option) for option in parameter.objects)
    if isinstance(parameter, param.Boolean):
        return "true or false"
    if isinstance(parameter, (param.Integer, param.Number)):
        kind = "a whole number" if isinstance(parameter, param.Integer) else "a number"
        low, high = CONTROL_BOUNDS.get(name) or parameter.bounds or (None, None)
        if low is not None and high is not None:
            return f"{kind} from {number_text(low)} to {number_text(high)}"
        return kind
    return "text"


def number_text(value: float) -> str:
    """``2147483647`` for whole numbers, ``1e-06`` or ``0.999`` for others."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


#: what the text settings accept, for their refusal messages
TEXT_FORMS = {
    "architecture": "widths joined by '-', e.g. 2-8-8-1",
    "topk": "a count such as 3 or a fraction such as 0.05",
    "backtrack": "largest:K or time steps such as 1,4,8",
    "lesson": "one of " + ", ".join(BY_KEY) + " (or nothing for no lesson)",
    **CLASSIFICATION_FORMS,
}


def check_value(parameter: param.Parameter, name: str, value,
                scratch: Settings | None = None):
    """``value`` (a URL string or a Python value) as the setting ``name`` takes it; a
    ValueError whose text says what was refused and what the setting accepts. The value is
    tried on ``scratch`` (a throwaway :class:`Settings`, made if not given)."""
    shown = quoted(value)
    try:
        value = coerce(parameter, value)
        low, high = CONTROL_BOUNDS.get(name, (None, None))
        if low is not None and not low <= value <= high:
            raise ValueError("outside the control's range")
        if name == "architecture":
            parse_architecture(value)
        elif name == "topk":
            parse_topk(value)
        elif name == "backtrack":
            parse_backtrack(value)
        elif name == "lesson" and value not in BY_KEY and value != "":
            raise ValueError("unknown lesson")
        setattr(Settings() if scratch is None else scratch, name, value)
    except (ArchitectureError, SparseRuleError) as error:
        raise ValueError(f"{shown} refused: {error}"[:300]) from None
    except (ValueError, TypeError, OverflowError):
        reason = f"{name} takes {TEXT_FORMS.get(name) or allowed_values(parameter, name)}"
        raise ValueError(f"{shown} refused: {reason}"[:300]) from None
    return value


def settle(values: dict, given: Iterable[str] = ()) -> tuple[dict, dict[str, str]]:
    """Make a complete set of settings hold together; (settled values, {name: reason} for
    each value in ``given`` that had to change).

    >>> values = dict(Settings().values(), dataset="regression", layer=9)
    >>> settled, notes = settle(values, given={"layer"})
    >>> settled["architecture"], settled["layer"], sorted(notes)
    ('1-8-8-1', 3, ['layer'])
    """
    values, given, notes = dict(values), set(given), {}

    def adjust(name: str, new, reason: str) -> None:
        if values[name] != new:
            if name in given:
                notes[name] = f"{values[name]!r} adjusted to {new!r}: {reason}"
            values[name] = new

    # the values the data set forces (xor has two classes), then the FNN's widths fitted to
    # it (kept for the RNN too, so that switching back to the FNN works); text typed in the
    # architecture box that is no list of widths stays for the user to correct (the
    # dashboard keeps the last model)
    for name, (new, reason) in classification_widths(values)[2].items():
        adjust(name, new, reason)
    try:
        sizes = network_widths(values, model="fnn")
    except ArchitectureError:
        sizes = None
    if sizes is not None and sizes != parse_architecture(values["architecture"]):
        adjust("architecture", format_architecture(sizes),
               data_widths_text(values["dataset"], sizes))
    levels = None
    if values["model"] == "rnn":
        levels = values["levels"] + 1  # the hidden levels and the output level
        network = f"the RNN has {values['levels']} hidden level(s) and an output level"
    elif sizes is not None:
        levels = len(sizes) - 1
        network = f"the network {format_architecture(sizes)} has {levels} levels"
    if levels is not None:
        adjust("layer", min(values["layer"], levels), f"{network}: k takes 1 to {levels}")
    tau = values["tau"]
    adjust("time_step", min(values["time_step"], tau),
           f"the sequences have τ = {tau} steps: t takes 0 (meaning τ) or 1 to {tau}")
    adjust("output_from", min(values["output_from"], tau),
           f"the sequences have τ = {tau} steps: a takes 1 to {tau}")
    adjust("truncate", min(values["truncate"], tau), f"the window K takes 1 to τ = {tau}")
    adjust("delay", min(values["delay"], tau - 1),
           f"in sequences of τ = {tau} steps an echo is at most {tau - 1} steps late")
    adjust("batch_size", min(values["batch_size"], values["samples"]),
           f"the data set has {values['samples']} samples")
    batch = values["batch_size"]
    adjust("sample", min(values["sample"], batch - 1),
           f"the batch has {batch} sample(s): p takes 0 to {batch - 1}")
    return values, notes


def coerce(parameter: param.Parameter, value):
    """Turn a URL string into the parameter's type (numbers, integers); others unchanged.
    A number for a text setting (``topk=0.1`` read from the URL as JSON) becomes its text."""
    if isinstance(parameter, param.String) and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, bool) and isinstance(parameter, (param.Integer, param.Number)):
        raise ValueError("a yes/no value is not a number")
    if not isinstance(value, str):
        return value
    text = value.strip().strip('"')
    if isinstance(parameter, param.Boolean):
        if text.lower() not in ("true", "false"):
            raise ValueError("not true or false")
        return text.lower() == "true"
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
