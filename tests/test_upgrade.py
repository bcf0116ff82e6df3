"""A data directory an earlier release loaded, opened by this one: ``serve`` and ``analyze``
say that its tables are what that release read, and the load they ask for clears it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from tests.banks import people, write_bank

runner = CliRunner()
KEYS = {"RELGRAPH_API_KEYS": "analyst:" + "k" * 32}
EARLIER = "loaded by an earlier relgraph release"


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env=KEYS)


def _flat(output: str) -> str:
    return " ".join(output.split())


@pytest.fixture
def never_serve(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    import relgraph.api.server

    started: list[Any] = []
    monkeypatch.setattr(relgraph.api.server, "serve", lambda *a, **k: started.append(a))
    return started


def test_serve_and_analyze_name_a_store_an_earlier_release_loaded(
    tmp_path: Path, never_serve: list[Any]
) -> None:
    source = write_bank(tmp_path / "bank", {"customers": people("C1", "C2")})
    data = tmp_path / "data"
    assert _run("load", str(source), "--data-dir", str(data)).exit_code == 0
    # As a release before 2026-12-05 left it: its own fingerprint, no rules version. The new
    # release served and analysed it as if its own rules had read the files.
    with duckdb.connect(str(data / "relgraph.duckdb")) as con:
        con.execute("DELETE FROM main.relgraph_meta WHERE key = 'rules_version'")
        con.execute("UPDATE main.relgraph_meta SET value = 'earlier' WHERE key = 'fingerprint'")
    analysed = _run("analyze", "--data-dir", str(data))
    assert analysed.exit_code == 0, analysed.output
    assert EARLIER in _flat(analysed.output)
    served = _run("serve", "--data-dir", str(data))
    assert served.exit_code == 0, served.output
    assert EARLIER in _flat(served.output)
    # A campaign export most of all: its consent is what the earlier rules read.
    criteria = tmp_path / "criteria.json"
    criteria.write_text('{"unit": "HOUSEHOLD"}', encoding="utf-8")
    exported = _run("audience", "--criteria", str(criteria), "--out", str(tmp_path / "a.csv"),
                    "--data-dir", str(data))  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert f"warning: the store was {EARLIER}" in _flat(exported.output)
    assert "run `relgraph load DIR` on the same files" in _flat(served.output)
    assert len(never_serve) == 1

    reloaded = _run("load", str(source), "--data-dir", str(data))
    assert reloaded.exit_code == 0, reloaded.output
    assert "unchanged" not in reloaded.output
    assert _run("analyze", "--data-dir", str(data)).exit_code == 0
    served = _run("serve", "--data-dir", str(data))
    assert "note:" not in served.output
