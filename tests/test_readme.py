"""What the README tells an operator or a new engineer, held to what the code does: the
variables it reads, the thresholds and their defaults, the make targets, the API's paths,
the example queries and the compose command."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from graphql import build_schema, parse, validate

from relgraph.analytics.layering import LayeringParams
from relgraph.analytics.params import GroupParams, HouseholdParams, InfluenceParams, NetworkParams
from relgraph.ingest.linkage import LinkageParams

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


SECTIONS: dict[str, Any] = {
    "NETWORK": NetworkParams,
    "HOUSEHOLD": HouseholdParams,
    "GROUP": GroupParams,
    "INFLUENCE": InfluenceParams,
    "LAYERING": LayeringParams,
    "IDENTITY": LinkageParams,
}
"""The thresholds read as ``RELGRAPH_<SECTION>_<FIELD>``: the README's thresholds table."""


def test_every_variable_the_code_reads_is_in_the_readme() -> None:
    read = {
        name
        for path in (ROOT / "src" / "relgraph").rglob("*.py")
        for name in re.findall(r"\"((?:RELGRAPH|NEO4J)_[A-Z0-9_]*[A-Z0-9])\"", path.read_text())
    }
    assert "RELGRAPH_SCORING_PROCESSES" in read, "the pattern no longer finds what the code reads"
    # A threshold is in the table by its section's prefix (the test below).
    thresholds = tuple(f"RELGRAPH_{prefix}_" for prefix in SECTIONS)
    missing = sorted(n for n in read if not n.startswith(thresholds) and f"`{n}`" not in README)
    assert not missing, f"read by src/ but not in the README: {missing}"


def _settings_row(prefix: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| `RELGRAPH_{prefix}_` |")]
    assert len(rows) == 1, f"one row for RELGRAPH_{prefix}_ in the README's thresholds table"
    return rows[0]


@pytest.mark.parametrize("prefix", sorted(SECTIONS))
def test_the_thresholds_table_names_real_settings_with_their_defaults(prefix: str) -> None:
    kind = SECTIONS[prefix]
    defaults = {f.name.upper(): getattr(kind(), f.name) for f in fields(kind)}
    row = _settings_row(prefix).split(" | ", 1)[1]
    named = re.findall(r"`([A-Z_]+)`(?: \(([-0-9.e]+)[);:])?", row)
    assert named
    for name, default in named:
        assert name in defaults, f"RELGRAPH_{prefix}_{name} is in the README but sets nothing"
        if default:
            assert float(default) == defaults[name], f"RELGRAPH_{prefix}_{name}"
    # The layering row ends in "…" (a pointer to its params module); every other row is whole,
    # since an error message may name any of its settings (RELGRAPH_INFLUENCE_TOLERANCE).
    if "…" not in row:
        wildcards = re.findall(r"`\*(_[A-Z]+)`", row)
        listed = {name for name, _ in named}
        unlisted = sorted(
            name
            for name in defaults
            if name not in listed and not any(name.endswith(w) for w in wildcards)
        )
        assert not unlisted, f"RELGRAPH_{prefix}_*: {unlisted} not in the README"


def test_the_compose_command_sets_every_variable_compose_requires() -> None:
    # `docker compose up` stops before starting anything on a `${NAME:?…}` left unset: the
    # README's command lacked RELGRAPH_AUDIT_KEY, which the production image needs.
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    assert "NEO4J_PASSWORD" in required
    commands = [line for line in README.splitlines() if line.endswith("docker compose up")]
    assert len(commands) == 1
    missing = sorted(name for name in required if f"{name}=" not in commands[0])
    assert not missing, f"the README's `docker compose up` leaves {missing} unset"


def _graphql_examples() -> list[str]:
    return re.findall(r"```graphql\n(.*?)```", README, re.S)


def test_the_graphql_examples_validate_against_the_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    examples = _graphql_examples()
    assert examples
    for example in examples:
        assert validate(schema, parse(example)) == [], example


def test_the_customer_example_is_the_query_demo_prints() -> None:
    # The README's id (CB35746102) was in no bank `make demo` makes: NOT_FOUND for whoever
    # pasted it. demo prints the query with a person of its own bank, whose id depends on the
    # data directory's id secret, so the README shows where the id goes instead.
    from relgraph.cli.serving import DEMO_QUERIES

    customer = [e for e in _graphql_examples() if e.startswith("query Customer ")]
    assert len(customer) == 1
    assert customer[0].strip() == DEMO_QUERIES[0].format(person="<person or customer id>")


def test_the_path_table_names_every_path_the_server_answers(tmp_path: Path) -> None:
    # The ingestion endpoints (POST /v1/transfers, /v1/accounts) were missing from it.
    from starlette.routing import Route

    from relgraph.api.app import create_app, default_state
    from relgraph.api.auth import KeyRing, Role

    app = create_app(default_state(tmp_path, KeyRing({"k" * 20: Role.ANALYST})))
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and not route.path.endswith("/")  # a redirect to the path
        for method in sorted(route.methods or {"GET"})
        if method in ("GET", "POST")
    }
    assert ("POST", "/v1/transfers") in served
    table = [
        line
        for line in README.splitlines()
        if line.startswith("| `GET /") or line.startswith("| `POST /")
    ]
    missing = sorted(
        f"{method} {path}"
        for method, path in served
        if not any(f"`{method} {path}`" in row for row in table)
    )
    assert not missing, f"served but not in the README's path table: {missing}"


def _make_targets() -> tuple[set[str], set[str]]:
    """(targets with a rule, targets declared .PHONY) of the Makefile."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rules = set(re.findall(r"^([a-z][\w-]*):(?!=)", makefile, re.M))
    phony = {
        name for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.M) for name in line.split()
    }
    return rules, phony


def test_every_phony_make_target_has_a_rule() -> None:
    # `.PHONY: bench` without a rule: `make bench` said "Nothing to be done" and exited 0.
    rules, phony = _make_targets()
    assert {"demo", "test"} <= rules
    assert not sorted(phony - rules), f"declared .PHONY without a rule: {sorted(phony - rules)}"


def test_every_make_command_the_readme_gives_exists() -> None:
    named = set(re.findall(r"`make ([a-z][\w-]*)", README)) | set(
        re.findall(r"^make ([a-z][\w-]*)", README, re.M)
    )
    assert {"demo", "test", "eval"} <= named
    rules, _ = _make_targets()
    assert not sorted(named - rules), "the README gives make targets the Makefile lacks"
    # And the other way: `make unit` (the unit tests alone) was nowhere a newcomer would look.
    assert not sorted(rules - named), (
        f"Makefile targets the README does not give: {sorted(rules - named)}"
    )


def test_the_mapping_example_is_one_the_loader_reads(tmp_path: Path) -> None:
    from relgraph.ingest.mapping import read_mapping

    examples = re.findall(r"```yaml\n(.*?)```", README, re.S)
    assert len(examples) == 1
    (tmp_path / "mapping.yaml").write_text(examples[0], encoding="utf-8")
    mapping = read_mapping(tmp_path / "mapping.yaml")
    assert mapping.files["客户信息.csv"].table == "customers"


def test_the_truth_table_names_every_truth_file_synth_writes(tmp_path: Path) -> None:
    # truth/tomorrow.csv (synth --tomorrow) was in no table.
    from relgraph.synth import generate
    from relgraph.synth.tomorrow import hold_back

    generate(100, 3, tmp_path / "bank", "csv", dirty=0.02)
    (tmp_path / "held").mkdir()
    generate(100, 3, tmp_path / "held" / "bank", "csv")
    hold_back(tmp_path / "held" / "bank", 1.0)
    written = {p.name for p in (tmp_path / "bank" / "truth").iterdir()} | {
        p.name for p in (tmp_path / "held" / "bank" / "truth").iterdir()
    }
    assert {"persons.csv", "dirty.csv", "tomorrow.csv"} <= written
    missing = sorted(name for name in written if f"| `{name}` |" not in README)
    assert not missing, f"synth writes truth files the README's table lacks: {missing}"


def test_the_command_table_gives_each_default_the_command_has() -> None:
    # `[--rate 200]`: a literal (not a placeholder such as N or D) is the flag's default.
    import typer

    from relgraph.cli import app

    def walk(group: Any, path: tuple[str, ...] = ()) -> Any:
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from walk(command, (*path, name))
            else:
                yield " ".join((*path, name)), command

    commands = dict(walk(typer.main.get_command(app)))
    checked = 0
    for line in README.splitlines():
        row = re.match(r"\| `relgraph ((?:audit )?[a-z-]+)([^`]*)`", line)
        if row is None:
            continue
        options = {flag: p for p in commands[row.group(1)].params for flag in p.opts}
        for flag, shown in re.findall(r"\[(--[a-z-]+) ([^\]\s|]+)\]", row.group(2)):
            if shown.isupper():  # a placeholder
                continue
            default = options[flag].default
            assert str(default) == shown.rstrip("/") or (
                isinstance(default, float) and default == float(shown)
            ), f"relgraph {row.group(1)} {flag}: README {shown}, default {default}"
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("doc", ["README.md", "docs/ARCHITECTURE.md"])
def test_every_path_the_docs_name_exists(doc: str) -> None:
    """A file or folder named by its path from the repository (``tests/api/…``) or from the
    package (``analytics/layering/peaks.py``) is there: where a newcomer goes looking."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    top = "src|tests|benchmarks|tools|docs|cypher|web|docker"
    package = "analytics|api|ingest|store|jobs|engines|graph|synth|validate|journal|cli"
    named = set(re.findall(rf"(?<![\w/.-])((?:{top}|{package})/[\w./*-]*[\w/*])", text))
    assert len(named) > 10
    built = "src/relgraph/api/static"  # `make web` writes it; not committed
    missing = sorted(
        path
        for path in named
        if "*" not in path
        and not path.startswith(built)
        and not any(
            (where / name).exists()
            for where in (ROOT, ROOT / "src" / "relgraph")
            for name in (path, path + ".py")  # a module by its name: jobs/analyze
        )
    )
    assert not missing, f"{doc} names paths that are not there: {missing}"
