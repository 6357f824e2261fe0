"""The app's packages form a one-way stack, the layout says which, and no class is over 350 lines.

Every module under ``app/`` is parsed (``ast``): every import counts, at the top, inside a
function and under ``if TYPE_CHECKING:`` alike. A module belongs to its package (``app/live/
loop.py`` to ``live``) or, at the top of ``app/``, to itself (``compat``). ``LAYERS`` lists the
layers from the bottom up: a module imports modules of its own package or of lower layers,
never of a higher one nor of another package of its own layer (the live loop and the controls
do not know each other). A new package or top-level module must be placed in it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

#: Bottom first: what every layer may use (library internals behind one guard, text from
#: outside shown as text, the page's CSS class names); the data; what a page is set to; the
#: training; the views; the live loop and the settings panel; the page that wires them; the
#: served entry point and the package's lazy names.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"compat", "outside_text", "page_css"}),
    frozenset({"data"}),
    frozenset({"configuration"}),
    frozenset({"training"}),
    frozenset({"views"}),
    frozenset({"live", "controls"}),
    frozenset({"page"}),
    frozenset({"main", "__init__"}),
)


def unit_of(path: Path) -> str:
    """The package a module belongs to (its first folder under app/), or its own name."""
    parts = path.relative_to(APP).with_suffix("").parts
    return parts[0]


def imported_modules(path: Path, root: Path = APP) -> dict[str, list[int]]:
    """Dotted names under ``app`` that ``path`` (a module of the app folder ``root``) imports
    (``app.live.loop``, ``app.compat``), each with its lines; relative imports are resolved
    from the module's own package."""
    package = ("app",) + path.relative_to(root).with_suffix("").parts[:-1]
    found: dict[str, list[int]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "app" or (node.level and not node.module):
                names = [f"{module}.{alias.name}" for alias in node.names]
            else:
                names = [module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("app."):
                found.setdefault(name, []).append(node.lineno)
    return found


def unit_of_name(name: str) -> str:
    """``app.live.loop`` -> ``live``, ``app.compat`` -> ``compat``, ``app.Dashboard`` ->
    ``__init__``."""
    first = name.split(".")[1]
    if (APP / first).is_dir() or (APP / f"{first}.py").is_file():
        return first
    return "__init__"


def _layer(unit: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


def modules() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py") if "static" not in path.parts)


def test_every_package_and_top_module_has_a_layer():
    units = {unit_of(path) for path in modules()}
    placed = set().union(*LAYERS)
    assert units <= placed, f"app/ parts missing from LAYERS: {sorted(units - placed)}"
    assert placed <= units, f"LAYERS names parts that do not exist: {sorted(placed - units)}"


def test_every_import_points_down_the_layers():
    wrong = []
    for path in modules():
        unit = unit_of(path)
        for name, lines in sorted(imported_modules(path).items()):
            target = unit_of_name(name)
            if target != unit and _layer(target) >= _layer(unit):
                wrong.append(
                    f"{path.relative_to(APP.parent)}:{lines[0]} imports {name} "
                    f"({target}, layer {_layer(target)}; {unit} is layer {_layer(unit)})"
                )
    assert not wrong, "imports that do not point down the app's layers:\n" + "\n".join(wrong)


def test_the_top_of_app_is_only_the_shared_modules_and_the_entry_points():
    """The layout shows the architecture: at the top of ``app/`` only what every layer
    shares and the entry points; everything else lives in a package."""
    top = sorted(path.stem for path in APP.glob("*.py"))
    assert top == sorted(LAYERS[0] | LAYERS[-1])


@pytest.mark.parametrize(
    ("source", "where", "expected"),
    [
        ("from .loop import x", "live/scheduler.py", {"app.live.loop"}),
        ("from ..views.common import x", "live/loop.py", {"app.views.common"}),
        ("from .. import compat", "live/loop.py", {"app.compat"}),
        ("def f():\n    from app.page.dashboard import D", "main.py", {"app.page.dashboard"}),
        ("import app.training.session", "page/dashboard.py", {"app.training.session"}),
        ("from app import page_css", "controls/sidebar.py", {"app.page_css"}),
    ],
)
def test_the_parser_sees_every_kind_of_import(tmp_path, source, where, expected):
    fake = tmp_path / "app" / where
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text(source)
    assert set(imported_modules(fake, root=tmp_path / "app")) == expected


#: the longest a class of the app may be, in lines (a longer one holds more than one concern)
MAX_CLASS_LINES = 350


def test_no_class_of_the_app_is_over_350_lines():
    long = [
        f"{path.relative_to(APP.parent)}:{node.lineno} {node.name}: "
        f"{node.end_lineno - node.lineno + 1} lines"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert not long, "classes over MAX_CLASS_LINES:\n" + "\n".join(long)
