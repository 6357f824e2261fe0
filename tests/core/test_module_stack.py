"""hessian_core's modules form a one-way stack, type-only imports included.

Every module is parsed (``ast``): every import counts, at the top, inside a function and
under ``if TYPE_CHECKING:`` alike, because an annotation naming a module above is still a
dependency on it. The modules below the networks take arrays (weights, recurrent matrices,
the activation of each level, the ``Forward`` and ``Adjoints`` of :mod:`hessian_core.results`),
never an ``FNN``/``RNN`` or a ``LayerHessian``, so none of them imports ``fnn``, ``rnn``,
``network`` or ``kron``. ``STACK`` lists the layers from the bottom up; a module imports only
modules of lower layers. A new module must be placed in it. And one place builds a
``LayerHessian``: ``LayerHessian.from_parts`` in ``kron.py``; every other module calls it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hessian_core"

#: The layers, bottom first: plain data and the array namespace; mathematics on arrays;
#: the objects built from it (layer Hessian, the RNN formulas); the whole Hessian and the
#: shared network base; the networks; what stands on the networks.
STACK: tuple[frozenset[str], ...] = (
    frozenset({"activations", "backend", "results", "torch_bridge"}),
    frozenset({"lanczos", "losses", "rank", "recursion", "sparse", "spectra", "time_steps"}),
    frozenset({"kron", "paper", "rnn_curvature", "rnn_hvp"}),
    frozenset({"network", "whole"}),
    frozenset({"fnn", "rnn"}),
    frozenset({"__init__", "errata"}),
)

#: Modules below the networks and what each must not import, not even for a type name.
BELOW_THE_NETWORKS: dict[str, frozenset[str]] = {
    name: frozenset({"fnn", "rnn", "network", "whole", "errata", "__init__"})
    for name in ("paper", "rnn_curvature", "rnn_hvp", "recursion", "time_steps")
} | {
    "spectra": frozenset({"kron", "fnn", "rnn", "network", "whole", "errata", "__init__"}),
}


def package_imports(source: str) -> dict[str, list[int]]:
    """The hessian_core modules that ``source`` (one module of the package) imports, each with
    the lines that import it: every ``import``/``from`` anywhere in the tree."""
    found: dict[str, list[int]] = {}
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                targets = [node.module.split(".")[0]]
            else:  # ``from . import module`` (or a name of the package itself)
                targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] == "hessian_core":
                targets = [parts[1] if len(parts) > 1 else "__init__"]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "hessian_core":
                    targets.append(parts[1] if len(parts) > 1 else "__init__")
        for target in targets:
            found.setdefault(target, []).append(node.lineno)
    return found


def import_graph(package: Path = PACKAGE) -> dict[str, dict[str, list[int]]]:
    """module -> {imported package module -> lines}, for every module of ``package``."""
    modules = {path.stem for path in package.glob("*.py")}
    graph = {}
    for path in sorted(package.glob("*.py")):
        imports = package_imports(path.read_text())
        graph[path.stem] = {
            target: lines
            for target, lines in imports.items()
            if target in modules and target != path.stem
        }
    return graph


def find_cycle(graph: dict[str, dict[str, list[int]]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, {})):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if state.get(target) is None:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def _layer_of(name: str) -> int:
    return next(index for index, layer in enumerate(STACK) if name in layer)


def test_the_modules_import_each_other_one_way_only():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in hessian_core (type-only imports included): " + (
        " -> ".join(cycle or [])
    )


def test_every_module_has_a_place_in_the_stack():
    graph = import_graph()
    placed = set().union(*STACK)
    assert set(graph) <= placed, f"modules missing from STACK: {sorted(set(graph) - placed)}"
    assert placed <= set(graph), f"STACK names modules that do not exist: {placed - set(graph)}"


def test_every_import_points_down_the_stack():
    graph = import_graph()
    upward = [
        f"{name}.py:{lines[0]} imports {target} (layer {_layer_of(target)} >= "
        f"layer {_layer_of(name)})"
        for name, targets in graph.items()
        for target, lines in sorted(targets.items())
        if name in set().union(*STACK)
        and target in set().union(*STACK)
        and _layer_of(target) >= _layer_of(name)
    ]
    assert not upward, "imports that do not point down the stack:\n" + "\n".join(upward)


@pytest.mark.parametrize("name", sorted(BELOW_THE_NETWORKS))
def test_the_mathematics_does_not_import_what_stands_on_it(name):
    """The RNN formulas and the curvature recursions take arrays; the spectra take blocks
    and inputs: none of them names the network classes or the layer Hessian."""
    imports = import_graph()[name]
    forbidden = BELOW_THE_NETWORKS[name]
    wrong = {target: lines for target, lines in imports.items() if target in forbidden}
    assert not wrong, f"{name}.py imports " + ", ".join(
        f"{target} (line {', '.join(map(str, lines))})" for target, lines in sorted(wrong.items())
    )


@pytest.mark.parametrize(
    "source",
    [
        "from .b import x",
        "def f():\n    from .b import x",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x",
        "import hessian_core.b",
        "from hessian_core.b import x",
        "from . import b",
    ],
)
def test_the_parser_sees_every_kind_of_import(source):
    """Top-level, function-level, TYPE_CHECKING-only and absolute imports all count."""
    imports = package_imports(source)
    assert set(imports) == {"b"}
    assert find_cycle({"a": imports, "b": {"a": [1]}}) == ["a", "b", "a"]


def test_one_place_builds_the_layer_hessian():
    """No module calls ``LayerHessian(...)``: they go through ``LayerHessian.from_parts``."""
    direct = [
        f"{path.name}:{node.lineno}"
        for path in sorted(PACKAGE.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "LayerHessian"
    ]
    assert not direct, "LayerHessian built outside LayerHessian.from_parts: " + ", ".join(direct)
