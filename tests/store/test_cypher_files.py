"""Every statement in cypher/ parses with Neo4j's own parser and uses only allow-listed names."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from relgraph import model
from relgraph.canonical import CANONICAL_TABLES, canonical_schema
from relgraph.store import cypher
from relgraph.store.base import StoreError
from relgraph.store.neo4j import IDENTIFIERS, PRUNE_STATEMENTS, WRITE_BACK, WRITE_ORDER

ROOT = Path(__file__).resolve().parents[2]
LINTER = ROOT / "tools" / "cypher-lint"
CYPHER_DIR = ROOT / "cypher"
SRC = ROOT / "src" / "relgraph"


def property_keys() -> set[str]:
    """Every property a statement may read: canonical and result columns, relgraph's own."""
    keys = {c for t in CANONICAL_TABLES for c in canonical_schema(t).names}
    keys |= {c for _, columns, _ in WRITE_BACK for c in columns or ()}
    keys |= {"household_id", "group_id", "chain_id"}  # keys of the result nodes
    return keys | set(model.STORE_PROPERTY_KEYS)


def lint(tmp_path: Path, *files: Path) -> tuple[int, list[dict[str, object]]]:
    if shutil.which("node") is None or not (LINTER / "node_modules").is_dir():
        pytest.fail(
            "the Cypher linter is not installed: run `make test` (npm ci in tools/cypher-lint)"
        )
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {
                "labels": list(model.STORE_NODE_LABELS),
                "relationshipTypes": list(model.STORE_REL_TYPES),
                "propertyKeys": sorted(property_keys()),
            }
        )
    )
    done = subprocess.run(
        ["node", str(LINTER / "lint.mjs"), str(schema), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def test_every_statement_passes_the_neo4j_parser(tmp_path: Path) -> None:
    files = sorted(CYPHER_DIR.glob("*.cypher"))
    assert len(files) > 50
    code, reports = lint(tmp_path, *files)
    problems = {r["file"]: r["problems"] for r in reports if r["problems"]}
    assert problems == {}
    assert code == 0
    assert len(reports) == len(files)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MATCH (n:Person RETURN n", "Invalid input 'RETURN'"),
        ("MATCH (n:Persn) RETURN n", "Label Persn is not present"),
        ("MATCH (a)-[:KNOWS]->(b) RETURN a", "Relationship type KNOWS is not present"),
        ("MATCH (n) RETURN n;\nMATCH (m) DETACH DELETE m", "2 statements; one per file"),
        (
            "CALL gds.wcc.write($graph, {}) YIELD components RETURN components",
            "Unknown procedure output: `components`",
        ),
        (
            "CALL gds.wcc.wrte($graph, {}) YIELD componentCount RETURN componentCount",
            "Procedure gds.wcc.wrte is not present",
        ),
        ("CALL gds.graph.drop() YIELD graphName RETURN graphName", "required number of arguments"),
        ("RETURN gds.versoin() AS version", "Function gds.versoin is not present"),
        ("MATCH (p:Person) RETURN p.housholdId AS h", "housholdId is not present"),
    ],
)
def test_a_broken_statement_is_caught(tmp_path: Path, text: str, message: str) -> None:
    broken = tmp_path / "broken.cypher"
    broken.write_text(text)
    code, [report] = lint(tmp_path, broken)
    assert code == 1
    assert any(message in str(p["message"]) for p in report["problems"])


def test_every_statement_the_store_runs_exists() -> None:
    shipped = set(cypher.statement_names())
    used = {f"{t}_{action}" for t in WRITE_ORDER for action in ("create", "read")}
    used |= {f"{label}_create" for label, _ in IDENTIFIERS}
    used |= set(PRUNE_STATEMENTS)
    used |= {f"writeback_{name}" for name, _, _ in WRITE_BACK}
    used |= {prune for _, _, prune in WRITE_BACK if prune is not None}
    assert used <= shipped, sorted(used - shipped)


def test_the_loader_reads_the_top_level_cypher_folder() -> None:
    on_disk = {path.stem: path.read_text("utf-8").strip() for path in CYPHER_DIR.glob("*.cypher")}
    assert set(cypher.statement_names()) == set(on_disk)
    assert cypher.query("state_read") == on_disk["state_read"]


def test_the_loader_refuses_names_that_are_not_statements() -> None:
    with pytest.raises(StoreError, match="no Cypher statement 'nope'"):
        cypher.query("nope")
    with pytest.raises(StoreError, match="invalid Cypher statement name"):
        cypher.query("../secrets")


CYPHER_TEXT = re.compile(r"MATCH \(|MERGE \(|UNWIND \$\w+ AS|CALL gds\.|DETACH DELETE")


def test_no_cypher_is_written_in_python() -> None:
    """The loader is the only source of query text: no statement is built in src/."""
    found = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and CYPHER_TEXT.search(node.value)
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert found == []


def _keys(text: str) -> set[str]:
    return {part.split(":")[0].strip().removeprefix("r.") for part in text.split(",")}


def test_the_hop_write_back_finds_a_hop_by_the_key_the_schema_makes_unique() -> None:
    """A hop is looked up by the relationship's unique index, named in a hint (MERGE takes
    none, and the first write-back after a load is planned on statistics that make the walk
    over every INVOLVES between the alert and the account look as cheap): a fan's hub has
    hundreds of one alert's hops, and the walk was quadratic (10 s at 10,000 customers)."""
    text = cypher.query("writeback_risk_chain_hops")
    found = re.search(r"OPTIONAL MATCH \(al\)-\[found:INVOLVES \{([^}]*)\}\]->\(a\)", text)
    hint = re.search(r"USING INDEX found:INVOLVES\(([^)]*)\)", text)
    unique = re.search(
        r"FOR \(\)-\[r:INVOLVES\]-\(\) REQUIRE \(([^)]*)\) IS UNIQUE",
        cypher.query("schema_involves_key"),
    )
    assert found is not None
    assert hint is not None
    assert unique is not None
    keys = {"chainId", "hop", "gen"}
    assert _keys(found.group(1)) == _keys(hint.group(1)) == _keys(unique.group(1)) == keys
