"""The apps depend on each other one way only: no import cycle among haoping's packages.

A cycle hidden in a function-local import still ties two apps together (each needs the other to
load, test or change), so every import counts, wherever it stands in a module.
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

import haoping

ROOT = Path(haoping.__file__).parent
PACKAGES = sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests")


def _modules() -> list[Path]:
    """The packages' modules, tests and migrations aside."""
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(ROOT).parts)
    )


def _imports(path: Path) -> set[str]:
    """Every haoping module `path` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("haoping.")}


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package → the packages it imports → the files that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in _modules():
        source = path.relative_to(ROOT).parts[0]
        shown = str(path.relative_to(ROOT.parent))
        for name in _imports(path):
            target = name.split(".")[1]
            if target in PACKAGES and target != source:
                graph[source][target].add(shown)
    return graph


def _cycle(graph: dict[str, dict[str, set[str]]]) -> list[str] | None:
    """One cycle of the graph, as the packages along it, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(graph.get(node, {})):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_every_module_imports() -> None:
    for path in _modules():
        importlib.import_module(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))


def test_no_import_cycle_among_the_packages() -> None:
    graph = package_graph()
    cycle = _cycle(graph)
    where = [f"{a} → {b}: {sorted(graph[a][b])}" for a, b in zip(cycle, cycle[1:], strict=False)] if cycle else []
    assert cycle is None, "import cycle: " + " → ".join(cycle or []) + "\n" + "\n".join(where)


def test_the_layers_run_one_way() -> None:
    """The rating's own chain: records, then evaluations, then rectification, then indicators."""
    graph = package_graph()
    layers = ["records", "evaluations", "rectification", "indicators"]
    for low, high in ((a, b) for i, a in enumerate(layers) for b in layers[i + 1 :]):
        assert high not in graph[low], f"{low} imports {high}: {sorted(graph[low][high])}"


def test_the_check_finds_a_cycle() -> None:
    graph: dict[str, dict[str, set[str]]] = {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b": {"x"}}, "b": {}}) is None


RULES = ("haoping/records/rules.py", "haoping/evaluations/rules.py")
# What a rule may read: the standard library, translated text, local time, a query's condition (`Q`, which
# reads nothing until a query runs it), the API's errors, and the records' rules.
RULES_MAY_IMPORT = {
    "django.utils.translation",
    "django.utils.timezone",
    "django.db.models",
    "haoping.errors",
    "haoping.records.rules",
}


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            # `from django.utils import timezone` imports django.utils.timezone.
            named = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update({node.module} if node.module in RULES_MAY_IMPORT or not named <= RULES_MAY_IMPORT else named)
            if node.module == "django.db.models":
                assert {a.name for a in node.names} == {"Q"}, f"{path}: imports {[a.name for a in node.names]}"
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_rules_read_no_app() -> None:
    """The rating rules decide over plain facts: no model, no query, no other module of an app."""
    for shown in RULES:
        path = ROOT.parent / shown
        outside = {
            m for m in _imported_modules(path) if m.split(".")[0] in {"django", "haoping"} and m not in RULES_MAY_IMPORT
        }
        assert outside == set(), f"{shown} imports {sorted(outside)}"
        assert ".objects" not in path.read_text(), f"{shown} runs a query"
