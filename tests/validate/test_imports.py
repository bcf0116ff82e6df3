"""validate sits beside the pipeline, not in it: what it imports and who imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import relgraph

SRC = Path(relgraph.__file__).parent
ALLOWED = (
    "relgraph.store",
    "relgraph.model",
    "relgraph.config",
    "relgraph.analytics.settings",
    # A bank's truth files are read by the loader's rules for text and ids, not a second set.
    "relgraph.ingest.text_csv",
    "relgraph.record_rules",
    "relgraph.normal_form",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("relgraph")}


def test_validate_reads_only_the_store_model_config_stored_settings_and_text_rules() -> None:
    for path in (SRC / "validate").glob("*.py"):
        outside = {
            n for n in _imports(path)
            if not n.startswith("relgraph.validate") and not n.startswith(ALLOWED)
        }  # fmt: skip
        assert not outside, f"{path.name} imports {outside}"


def test_nothing_but_the_cli_imports_validate() -> None:
    for path in SRC.rglob("*.py"):
        if path.parent.name in {"validate", "cli"}:
            continue
        assert not any(n.startswith("relgraph.validate") for n in _imports(path)), path
