"""Packaging checks: pyproject.toml and environment.yml name the same dependencies.

pip users install from pyproject.toml, conda users from environment.yml; both must get the same
runtime, test and notebook packages with the same version ranges. The optional `gpu` and `bench`
extras stay pip-only (environment.yml says how to add them).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
ENVIRONMENT = ROOT / "environment.yml"

# Extras mirrored in environment.yml, besides the runtime dependencies.
MIRRORED_EXTRAS = ("test", "notebook")
# Conda package names that differ from the PyPI distribution name.
CONDA_TO_PYPI = {"pytorch": "torch", "cupy": "cupy-cuda12x"}
# Entries of environment.yml that are not project dependencies.
NOT_DEPENDENCIES = {"python", "pip"}


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def load_pyproject() -> dict:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)


def pyproject_requirements() -> dict[str, SpecifierSet]:
    """Runtime plus mirrored-extra requirements of pyproject.toml: name -> specifier."""
    project = load_pyproject()["project"]
    strings = list(project["dependencies"])
    for extra in MIRRORED_EXTRAS:
        strings += project["optional-dependencies"][extra]
    requirements: dict[str, SpecifierSet] = {}
    for string in strings:
        requirement = Requirement(string)
        name = normalize(requirement.name)
        previous = requirements.setdefault(name, requirement.specifier)
        assert previous == requirement.specifier, (
            f"pyproject.toml gives {name} two different ranges: {previous} and "
            f"{requirement.specifier}"
        )
    return requirements


def environment_requirements() -> dict[str, SpecifierSet]:
    """Conda and pip dependencies of environment.yml (minus python, pip, `-e .`)."""
    environment = yaml.safe_load(ENVIRONMENT.read_text())
    strings: list[str] = []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            strings += [item for item in entry.get("pip", []) if not item.startswith("-")]
        else:
            strings.append(entry)
    requirements: dict[str, SpecifierSet] = {}
    for string in strings:
        match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*?)\s*", string)
        assert match, f"cannot read environment.yml entry {string!r}"
        name = normalize(CONDA_TO_PYPI.get(match[1], match[1]))
        if name in NOT_DEPENDENCIES:
            continue
        requirements[name] = SpecifierSet(match[2].replace(" ", ""))
    return requirements


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    pip_side = pyproject_requirements()
    conda_side = environment_requirements()
    only_pip = sorted(set(pip_side) - set(conda_side))
    only_conda = sorted(set(conda_side) - set(pip_side))
    assert not only_pip and not only_conda, (
        f"in pyproject.toml (runtime + {', '.join(MIRRORED_EXTRAS)}) but not environment.yml: "
        f"{only_pip}; in environment.yml but not pyproject.toml: {only_conda}"
    )


def test_environment_yml_uses_the_same_version_ranges_as_pyproject():
    pip_side = pyproject_requirements()
    conda_side = environment_requirements()
    differing = {
        name: (str(pip_side[name]), str(conda_side[name]))
        for name in sorted(set(pip_side) & set(conda_side))
        if pip_side[name] != conda_side[name]
    }
    assert not differing, f"ranges differ (pyproject.toml, environment.yml): {differing}"


def test_environment_yml_installs_the_project_itself():
    environment = yaml.safe_load(ENVIRONMENT.read_text())
    pip_entries = [
        e
        for entry in environment["dependencies"]
        if isinstance(entry, dict)
        for e in entry.get("pip", [])
    ]
    assert "-e ." in pip_entries


def test_project_metadata():
    project = load_pyproject()["project"]
    assert project["name"] == "hessian-lab"
    assert SpecifierSet(project["requires-python"]) == SpecifierSet(">=3.11")
    packages = load_pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {"hessian_core*", "app*"} <= set(packages)


def test_panel_is_held_to_1_9_and_bokeh_to_what_panel_accepts():
    runtime = {
        normalize(Requirement(s).name): Requirement(s).specifier
        for s in load_pyproject()["project"]["dependencies"]
    }
    assert Version("1.9.4") in runtime["panel"]
    assert Version("1.10.0") not in runtime["panel"]
    panel_wants = next(
        Requirement(r).specifier
        for r in importlib.metadata.requires("panel") or []
        if normalize(Requirement(r).name) == "bokeh" and "extra" not in r
    )
    for version in ("3.7.0", "3.8.0", "3.9.2", "3.10.0", "3.6.0"):
        assert (Version(version) in runtime["bokeh"]) == (Version(version) in panel_wants), (
            f"bokeh range {runtime['bokeh']} disagrees with panel's {panel_wants} at {version}"
        )


def test_bench_extra_pins_torch_exactly():
    """A looser torch range would download a multi-GB CUDA build instead of the local CPU wheel."""
    bench = load_pyproject()["project"]["optional-dependencies"]["bench"]
    torch = [Requirement(s) for s in bench if normalize(Requirement(s).name) == "torch"]
    assert len(torch) == 1 and str(torch[0].specifier) == "==2.13.0"


def test_installed_runtime_dependencies_satisfy_pyproject():
    """The ranges resolve here: every runtime dependency is installed inside its range."""
    outside = {}
    for string in load_pyproject()["project"]["dependencies"]:
        requirement = Requirement(string)
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            outside[requirement.name] = "not installed"
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            outside[requirement.name] = f"{installed} not in {requirement.specifier}"
    assert not outside, outside


def test_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("serve", "test", "test-gpu", "bench", "lab", "lint"):
        assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), target


@pytest.mark.skipif(os.name != "posix", reason="CI runs .ci/run on POSIX only")
def test_ci_script_is_executable_and_runs_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK), ".ci/run must be executable (git update-index --chmod=+x)"
    text = script.read_text()
    assert "set -euo pipefail" in text
    assert re.search(r"^\s*make test\b", text, re.MULTILINE)


def test_readme_python_example_runs():
    """The README's example of the core is real code: it runs and its comments hold."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Using the core\n(.*?)(?=^## )", readme, re.DOTALL | re.MULTILINE)
    assert section, "README.md has no '## Using the core' section"
    blocks = re.findall(r"```python\n(.*?)```", section[1], re.DOTALL)
    assert blocks, "README.md's '## Using the core' has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    if "eigenvalues" in namespace and "lower" in namespace:
        import numpy as np

        eigenvalues, lower, upper = (namespace[k] for k in ("eigenvalues", "lower", "upper"))
        assert np.all(lower <= eigenvalues + 1e-10) and np.all(eigenvalues <= upper + 1e-10)
        g, V, Z = namespace["g"], namespace["V"], namespace["Z"]
        np.testing.assert_allclose(V @ Z.T, g.W, rtol=1e-12, atol=1e-12)


def _runtime_closure() -> set[str]:
    """Runtime dependencies of hessian-lab and, from installed metadata, everything they need."""
    from packaging.markers import default_environment

    environment = {**default_environment(), "extra": ""}
    pending = [Requirement(s) for s in load_pyproject()["project"]["dependencies"]]
    closure: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = normalize(requirement.name)
        if name in closure or (requirement.marker and not requirement.marker.evaluate(environment)):
            continue
        closure.add(name)
        try:
            pending += [Requirement(r) for r in importlib.metadata.requires(name) or []]
        except importlib.metadata.PackageNotFoundError:
            pass
    return closure


def _module_level_imports(path: Path) -> set[str]:
    """Top-level names imported when the module loads (lazy imports in functions excluded)."""
    import ast

    names: set[str] = set()
    statements = list(ast.parse(path.read_text(), str(path)).body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Try):
            statements += node.body + node.orelse + node.finalbody
            statements += [s for handler in node.handlers for s in handler.body]
    return names


def test_library_and_app_import_only_runtime_dependencies():
    """`make serve` installs the runtime dependencies only: hessian_core and app must not need
    a test, notebook, bench or gpu package at import time (import those lazily, if at all)."""
    import sys

    closure = _runtime_closure()
    providers = importlib.metadata.packages_distributions()
    first_party = {"hessian_core", "app"}
    offending = {}
    for package in ("hessian_core", "app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _module_level_imports(path) - first_party:
                if name in sys.stdlib_module_names or name == "__future__":
                    continue
                distributions = {normalize(d) for d in providers.get(name, [])}
                if not distributions & closure:
                    offending.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert not offending, (
        f"module-level imports outside the runtime dependencies: {offending}; add the package "
        "to [project] dependencies (and environment.yml) or import it inside the function"
    )
