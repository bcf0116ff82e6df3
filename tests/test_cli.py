"""The command line end to end: synth → load → stats, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.store.embedded import EmbeddedStore

runner = CliRunner()


def _flat(output: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(output.split())


def test_synth_load_stats_analyze(tmp_path: Path) -> None:
    bank, data = tmp_path / "bank", tmp_path / "data"
    result = runner.invoke(
        app, ["synth", "--out", str(bank), "--customers", "300", "--dirty", "0.02"]
    )
    assert result.exit_code == 0, result.output
    assert "transfers" in result.output

    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    report = json.loads((data / "load-report.json").read_text())
    assert all(t["rows_in"] == t["loaded"] + t["quarantined"] for t in report["tables"])
    assert sum(t["quarantined"] for t in report["tables"]) > 0
    assert "quarantine reasons" in result.output

    again = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert again.exit_code == 0
    assert "unchanged since the last load" in _flat(again.output)

    result = runner.invoke(app, ["stats", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output

    analysed = runner.invoke(app, ["analyze", "--data-dir", str(data)])
    assert analysed.exit_code == 0, analysed.output
    assert "person_networks" in analysed.output
    with EmbeddedStore(data, read_only=True) as store:
        assert store.read_results("person_networks").num_rows == report["persons"]
        assert store.read_results("person_households").num_rows == report["persons"]
        assert {"networks", "network_links", "network_evidence", "households"} <= set(
            store.result_names()
        )
    assert "Account-TRANSFER->Account" in result.output
    assert f"Person │ {report['persons']:,} │" in _flat(result.output)


def test_load_without_a_required_table_fails_clearly(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    runner.invoke(app, ["synth", "--out", str(bank), "--customers", "50"])
    (bank / "customers.csv").unlink()
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "required table(s) missing" in _flat(result.output)
    assert "customers" in result.output
    assert not (tmp_path / "data" / "load-report.json").exists()


def test_stats_before_any_load_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `relgraph load DIR` first" in _flat(result.output)


def test_analyze_before_any_load_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `relgraph load DIR` first" in _flat(result.output)
    assert not (tmp_path / "empty").exists()


def test_bad_threshold_setting_is_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["analyze", "--data-dir", str(tmp_path)], env={"RELGRAPH_NETWORK_STRONG_LINK": "high"}
    )
    assert result.exit_code == 2
    assert "RELGRAPH_NETWORK_STRONG_LINK must be a float, not 'high'" in _flat(result.output)


def test_synth_refuses_a_tiny_bank(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "b"), "--customers", "3"])
    assert result.exit_code == 2
    assert "error:" in result.output


@pytest.mark.parametrize("command", ["stats", "analyze", "serve"])
def test_an_unreachable_neo4j_is_a_clear_error_at_start_up(
    tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{port}")
    monkeypatch.setenv("NEO4J_PASSWORD", "secret-password")
    monkeypatch.setenv("RELGRAPH_NEO4J_RETRY_TIME", "0")
    monkeypatch.setenv("RELGRAPH_API_KEYS", "analyst:" + "k" * 32)
    result = runner.invoke(app, [command, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert f"cannot reach Neo4j at bolt://127.0.0.1:{port}" in " ".join(result.output.split())
    assert "secret-password" not in result.output


def test_load_stats_analyze_against_the_neo4j_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI on RELGRAPH_STORE=neo4j, over the Python emulation of its statements."""
    from relgraph.config import Neo4jSettings
    from relgraph.store.neo4j import Neo4jStore
    from tests.store.emulator import EmulatedNeo4j

    database = EmulatedNeo4j()
    monkeypatch.setattr(
        Neo4jStore,
        "connect",
        classmethod(lambda cls, s: cls(database, Neo4jSettings(batch_size=500))),
    )
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    bank, data = tmp_path / "bank", tmp_path / "data"
    assert runner.invoke(app, ["synth", "--out", str(bank), "--customers", "300"]).exit_code == 0
    loaded = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert loaded.exit_code == 0, loaded.output
    customers = database.named("customers_merge")
    assert sum(len(c.params["rows"]) for c in customers) == 300
    again = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output
    stats = runner.invoke(app, ["stats", "--data-dir", str(data)])
    assert stats.exit_code == 0, stats.output
    assert "CustomerRecord" in stats.output
    analysed = runner.invoke(app, ["analyze", "--data-dir", str(data)])
    assert analysed.exit_code == 0, analysed.output
    assert database.named("writeback_person_households")
    assert "households" in database.results_map()
    spec = tmp_path / "criteria.json"
    spec.write_text('{"unit": "HOUSEHOLD", "minSize": 2}', encoding="utf-8")
    out = tmp_path / "audience.csv"
    audience = runner.invoke(
        app, ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data)]
    )
    assert audience.exit_code == 0, audience.output
    assert out.read_text(encoding="utf-8").startswith('"unit","unit_id"')


def test_analyze_with_gds_uses_the_gds_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.cli import _engine
    from relgraph.config import Neo4jSettings, Settings
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore
    from tests.store.recording import RecordingRunner

    recorder = RecordingRunner(
        state={"gen": "g7", "meta": "{}", "tables": "{}", "results": "{}", "pending": []}
    )
    store = Neo4jStore(recorder, Neo4jSettings())
    made: list[str] = []
    monkeypatch.setattr(
        GdsEngine,
        "connect",
        classmethod(lambda cls, s, gen: made.append(gen) or cls(RecordingRunner(), gen, 10)),
    )
    settings = Settings.from_env({"RELGRAPH_STORE": "neo4j", "RELGRAPH_ANALYTICS_ENGINE": "gds"})
    engine = _engine(settings, store)
    assert isinstance(engine, GdsEngine)
    assert made == ["g7"]
    assert _engine(Settings.from_env({}), store) is None


def test_analyze_whose_pagerank_does_not_converge_writes_nothing_and_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, data = tmp_path / "bank", tmp_path / "data"
    runner.invoke(app, ["synth", "--out", str(bank), "--customers", "300"])
    assert runner.invoke(app, ["load", str(bank), "--data-dir", str(data)]).exit_code == 0
    monkeypatch.setenv("RELGRAPH_INFLUENCE_MAX_ITERATIONS", "1")
    result = runner.invoke(app, ["analyze", "--data-dir", str(data)])
    assert result.exit_code != 0
    assert "did not converge" in _flat(result.output)
    assert "RELGRAPH_INFLUENCE_MAX_ITERATIONS" in _flat(result.output)
    with EmbeddedStore(data, read_only=True) as store:
        assert store.result_names() == []
