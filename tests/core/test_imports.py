"""The import structure of hessian_core: layers that import downward only.

Every module of the package is parsed (``ast``, imports inside functions included; imports
under ``if TYPE_CHECKING:`` are left out here). The test fails on an import cycle between
modules, on a private name (``_x``) imported from another module, and on any module but
``backend.py`` importing ``array_api_compat`` (the one place the array namespace is inferred).
``test_module_stack.py`` holds the stricter rule: the layers of the package, with type-only
imports counted too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hessian_core"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of ``tree`` outside ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _package_target(node: ast.ImportFrom) -> str | None:
    """The hessian_core module an ``import from`` names (``"__init__"`` for the package)."""
    if node.level == 1:
        return node.module.split(".")[0] if node.module else "__init__"
    if node.level == 0 and node.module and node.module.split(".")[0] == "hessian_core":
        parts = node.module.split(".")
        return parts[1] if len(parts) > 1 else "__init__"
    return None


def import_graph() -> tuple[dict[str, set[str]], list[str], list[str]]:
    """(module -> package modules it imports, private-name imports, array_api_compat imports)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    private: list[str] = []
    compat: list[str] = []
    for name in MODULES:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text(), filename=f"{name}.py")
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
                if any(m.split(".")[0] == "array_api_compat" for m in modules):
                    compat.append(f"{name}.py:{node.lineno}")
                for module in modules:
                    parts = module.split(".")
                    if parts[0] == "hessian_core" and len(parts) > 1:
                        graph[name].add(parts[1])
                continue
            if node.level == 0 and (node.module or "").split(".")[0] == "array_api_compat":
                compat.append(f"{name}.py:{node.lineno}")
            target = _package_target(node)
            if target is None:
                continue
            if target == "__init__":  # ``from . import module``
                for alias in node.names:
                    if alias.name in graph:
                        graph[name].add(alias.name)
                    elif alias.name.startswith("_"):
                        private.append(f"{name}.py:{node.lineno} imports {alias.name}")
                continue
            graph[name].add(target)
            for alias in node.names:
                if alias.name.startswith("_") and target != name:
                    private.append(
                        f"{name}.py:{node.lineno} imports {alias.name} from {target}.py"
                    )
    return graph, private, compat


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target == node or target == "__init__":
                continue
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if state.get(target) is None:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node != "__init__" and state.get(node) is None:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_package_has_modules():
    assert {"fnn", "rnn", "kron", "spectra", "backend"} <= set(MODULES)


def test_no_import_cycle():
    graph, _, _ = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in hessian_core: " + " -> ".join(cycle)


def test_only_the_package_init_imports_the_package():
    graph, _, _ = import_graph()
    upward = [n for n, targets in graph.items() if "__init__" in targets and n != "__init__"]
    assert not upward, f"modules importing the package itself (upward): {upward}"


def test_no_private_name_imported_across_modules():
    _, private, _ = import_graph()
    assert not private, "private names imported across modules:\n" + "\n".join(private)


def test_only_backend_imports_array_api_compat():
    _, _, compat = import_graph()
    offenders = [where for where in compat if not where.startswith("backend.py")]
    assert not offenders, f"array_api_compat imported outside backend.py: {offenders}"


@pytest.mark.parametrize(
    "source, cycle",
    [
        ("from .b import x", ["a", "b", "a"]),
        ("def f():\n    from .b import x", ["a", "b", "a"]),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x", None),
    ],
)
def test_the_checker_sees_function_level_imports(tmp_path, source, cycle):
    """The parser itself: a function-level import counts, a TYPE_CHECKING one does not."""
    graph = {"a": set(), "b": {"a"}}
    for node in _imports(ast.parse(source)):
        graph["a"].add(_package_target(node))
    assert find_cycle(graph) == cycle


def test_the_checker_sees_private_names():
    (node,) = _imports(ast.parse("from .rnn_hvp import Adjoints, _shift_back"))
    assert _package_target(node) == "rnn_hvp"
    assert [alias.name for alias in node.names if alias.name.startswith("_")] == ["_shift_back"]
