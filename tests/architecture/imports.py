"""The import rules of ``src/relgraph``, read from the source with ``ast``.

Imports run one way: cli → jobs/api → analytics/engines → graph → store → model/config.
Every import counts — module level, inside functions and under ``TYPE_CHECKING`` — because
a function-level import is still a dependency, and a hidden one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = "relgraph"

# What each part of relgraph may import besides itself (dotted prefixes under relgraph).
ALLOWED: Mapping[str, frozenset[str]] = {
    "": frozenset(),  # relgraph/__init__.py
    "model": frozenset(),
    "config": frozenset(),
    "canonical": frozenset({"model"}),
    "store": frozenset({"model", "config", "canonical"}),
    # normal_form: which normalised identifiers name nothing (an id number ``无``).
    "graph": frozenset({"store", "model", "config", "canonical", "normal_form"}),
    "journal": frozenset(),
    # Ingest's normalisation rules for one value (the API normalises what a person types).
    "normal_form": frozenset(),
    # The value rules of one record, shared by the loader and the server's ingestion
    # endpoints (the api may not import ingest, which needs DuckDB).
    "record_rules": frozenset({"model", "config"}),
    "ingest": frozenset(
        {"record_rules", "journal", "store", "model", "config", "canonical", "normal_form"}
    ),
    "synth": frozenset({"model", "config"}),
    # Analytics are pure functions over the projection: never the store, API, jobs or CLI;
    # of the engines only the protocol they call.
    "analytics": frozenset({"graph", "model", "config", "engines.base"}),
    "engines": frozenset({"analytics", "graph", "store", "model", "config"}),
    # validate reads a bank's truth files by the loader's rules for text and ids (the
    # whole-file reader of ingest.text_csv, record_rules' and normal_form's id patterns).
    "validate": frozenset(
        {"analytics", "graph", "store", "model", "config", "canonical"}
        | {"ingest.text_csv", "record_rules", "normal_form"}
    ),
    "jobs": frozenset(
        {"analytics", "engines", "graph", "store", "ingest", "journal", "model", "config"}
        | {"canonical", "record_rules"}
    ),
    "api": frozenset(
        {"jobs", "analytics", "graph", "store", "journal", "record_rules", "model", "config"}
        | {"normal_form"}
    ),
    "cli": frozenset(
        {"jobs", "api", "validate", "analytics", "engines", "graph", "store", "ingest"}
        | {"synth", "journal", "record_rules", "model", "config", "canonical"}
    ),
    "__main__": frozenset({"cli"}),
}


@dataclass(frozen=True)
class Import:
    """One import of a relgraph module by another (dotted names without ``relgraph.``)."""

    source: str
    target: str
    path: Path
    line: int


def module_name(path: Path, src: Path) -> str:
    """``relgraph/analytics/networks.py`` → ``analytics.networks`` (``""`` for the root)."""
    parts = list(path.relative_to(src / ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, src: Path) -> Iterator[Import]:
    """Every relgraph module ``path`` imports, wherever in the file the import stands."""
    source = module_name(path, src)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                    yield Import(source, alias.name[len(ROOT) + 1 :], path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = source.split(".") if source else []
                if not is_package:
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            elif node.module and (node.module == ROOT or node.module.startswith(ROOT + ".")):
                base = node.module[len(ROOT) + 1 :]
            else:
                continue
            for alias in node.names:
                # ``from relgraph.analytics import layering`` imports a module when one exists.
                candidate = f"{base}.{alias.name}" if base else alias.name
                sub = src / ROOT / Path(*candidate.split("."))
                found = sub.with_suffix(".py").exists() or (sub / "__init__.py").exists()
                yield Import(source, candidate if found else base, path, node.lineno)


def part(module: str) -> str:
    return module.split(".", 1)[0]


def allowed(imp: Import) -> bool:
    mine, theirs = part(imp.source), part(imp.target)
    if mine == theirs:
        return True
    rules = ALLOWED.get(mine)
    if rules is None:
        return False  # a new top-level part must be placed in ALLOWED first
    return any(imp.target == rule or imp.target.startswith(rule + ".") for rule in rules)


def all_imports(src: Path) -> list[Import]:
    return [imp for path in sorted((src / ROOT).rglob("*.py")) for imp in imports_of(path, src)]


def violations(src: Path) -> list[str]:
    """Imports against :data:`ALLOWED`, as ``path:line: a imports b``."""
    found = {
        f"{imp.path}:{imp.line}: {imp.source or ROOT} imports {imp.target}"
        for imp in all_imports(src)
        if not allowed(imp)
    }
    return sorted(found)


def cycles(src: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (Tarjan's SCC)."""
    graph: dict[str, set[str]] = {}
    for imp in all_imports(src):
        if imp.target != imp.source and not imp.source.startswith(imp.target + "."):
            # A module importing its own package's __init__ is Python's normal start-up.
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
