"""The Neo4j store against a recording runner: which file, which parameters, what batches."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
import pytest

from relgraph.config import Neo4jSettings
from relgraph.store import neo4j as neo4j_store
from relgraph.store.base import StoreError, TableNotFoundError
from relgraph.store.cypher import query
from relgraph.store.neo4j import WRITE_ORDER, Neo4jStore, generation_id
from tests.graph.conftest import BANK, canonical_tables
from tests.store.recording import RecordingRunner

PARAMETER = re.compile(r"\$(\w+)")


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def store(runner: RecordingRunner) -> Neo4jStore:
    return Neo4jStore(runner, Neo4jSettings(batch_size=2))


def _tables() -> dict[str, pa.Table]:
    return canonical_tables(BANK)


def test_load_creates_the_schema_then_merges_tables_in_dependency_order(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "f1"})
    names = runner.statements()
    first_merge = next(i for i, n in enumerate(names) if n.endswith("_merge"))
    schema = [n for n in names[:first_merge] if n.startswith("schema_")]
    assert names[: len(schema)] == schema
    assert "schema_person_key" in schema
    assert "schema_transfer_rows" in schema
    assert names[len(schema) : first_merge] == ["state_read", "state_begin_load"]
    merged = list(dict.fromkeys(n.removesuffix("_merge") for n in names if n.endswith("_merge")))
    assert merged == [t for t in WRITE_ORDER if t in _tables()]
    assert names.index("state_commit_load") > max(
        i for i, n in enumerate(names) if n.endswith("_merge")
    )


def test_rows_go_in_batches_numbered_in_written_order(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    store.replace_tables(tables, {})
    persons = runner.named("persons_merge")
    n = tables["persons"].num_rows
    assert [len(c.params["rows"]) for c in persons] == [2] * (n // 2) + [1] * (n % 2)
    rows = [r for c in persons for r in c.params["rows"]]
    assert [r["seq"] for r in rows] == list(range(n))
    assert [r["person_id"] for r in rows] == tables["persons"].column("person_id").to_pylist()
    gen = generation_id(tables)
    assert {c.params["gen"] for c in persons} == {gen}
    assert all(c.write and c.operation == "load persons" for c in persons)


def test_every_call_sends_exactly_the_parameters_its_file_declares(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "f"})
    store.replace_results({"households": pa.table({"household_id": ["H1"], "size": [2]})})
    store.read_results("households")
    for call in runner.calls:
        declared = set(PARAMETER.findall(query(call.statement)))
        assert set(call.params) == declared, call.statement


def test_a_row_that_finds_no_node_aborts_before_the_commit(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "good"})
    good = runner.state and runner.state["gen"]
    runner.overrides["transfers_merge"] = lambda p: pa.table(
        {"written": [len(p["rows"]) - 1]}
    ).to_pandas()
    changed = {**_tables(), "persons": _tables()["persons"].slice(1)}
    with pytest.raises(StoreError, match=r"load transfers: 1 of rows 0\.\.1 found no node"):
        store.replace_tables(changed, {"fingerprint": "bad"})
    assert runner.state is not None
    assert runner.state["gen"] == good
    assert store.meta() == {"fingerprint": "good"}
    assert runner.state["pending"] == [generation_id(changed)]


def test_next_load_deletes_the_old_generation_and_abandoned_ones(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    store.replace_tables(tables, {"fingerprint": "1"})
    first = generation_id(tables)
    runner.calls.clear()
    store.replace_tables({**tables, "persons": tables["persons"].slice(1)}, {"fingerprint": "2"})
    pruned = {c.params["stale"] for c in runner.named("prune_")}
    assert pruned == {first}
    labels = {c.statement for c in runner.named("prune_")}
    assert labels == set(neo4j_store.PRUNE_STATEMENTS)
    assert runner.state is not None
    assert runner.state["pending"] == []


def test_loading_the_same_data_twice_merges_onto_the_same_generation(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"loaded_at": "monday"})
    runner.calls.clear()
    store.replace_tables(_tables(), {"loaded_at": "tuesday"})
    assert store.meta() == {"loaded_at": "tuesday"}
    assert runner.named("prune_") == []
    assert {c.params["gen"] for c in runner.named("persons_merge")} == {generation_id(_tables())}


def test_unknown_table_is_refused_before_anything_is_written(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    with pytest.raises(StoreError, match=r"no graph mapping for tables \['ledger'\]"):
        store.replace_tables({"ledger": pa.table({"x": [1]})}, {})
    assert runner.calls == []


def test_results_round_trip_through_chunks_and_switch_atomically(
    store: Neo4jStore, runner: RecordingRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neo4j_store, "CHUNK_BYTES", 100)
    store.replace_tables(_tables(), {})
    table = pa.table({"household_id": [f"H{i}" for i in range(50)], "size": list(range(50))})
    store.replace_results({"households": table, "networks": pa.table({"network_id": ["N1"]})})
    parts = runner.named("result_chunk_merge")
    assert len([c for c in parts if c.params["table"] == "households"]) > 1
    assert all(len(c.params["data"]) <= 100 for c in parts)
    commit = runner.statements().index("state_commit_results")
    assert commit > max(i for i, n in enumerate(runner.statements()) if n == "result_chunk_merge")
    assert store.read_results("households").equals(table)
    assert store.result_names() == ["households", "networks"]
    store.replace_results({"networks": pa.table({"network_id": ["N2"]})})
    assert store.read_results("households").equals(table)
    assert store.read_results("networks").column(0).to_pylist() == ["N2"]
    assert {k[0] for k in runner.chunks} == {"households", "networks"}
    assert len({k[1] for k in runner.chunks if k[0] == "networks"}) == 1


def test_results_are_written_back_onto_the_graph(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    runner.calls.clear()
    store.replace_results(
        {
            "households": pa.table({"household_id": ["H1"], "size": [2]}),
            "person_households": pa.table(
                {"person_id": ["P1", "P2"], "household_id": ["H1", "H1"]}
            ),
            "suppressed_identifiers": pa.table({"kind": ["device"], "id": ["K1"]}),
        }
    )
    written = [c for c in runner.calls if c.statement.startswith("writeback_")]
    assert [c.statement for c in written] == [
        "writeback_households",
        "writeback_prune_households",
        "writeback_person_households",
        "writeback_prune_person_households",
    ]
    run = runner.results_map()["households"]
    assert all(c.params["run"] == run for c in written)
    assert written[2].params["rows"] == [
        {"person_id": "P1", "household_id": "H1"},
        {"person_id": "P2", "household_id": "H1"},
    ]


def test_reading_what_was_never_written_is_a_clear_error(store: Neo4jStore) -> None:
    with pytest.raises(TableNotFoundError, match="no canonical table 'customers'"):
        store.read_table("customers")
    with pytest.raises(TableNotFoundError, match="no results table 'households'"):
        store.read_results("households")
    with pytest.raises(StoreError, match="run `relgraph load DIR` before writing results"):
        store.replace_results({"households": pa.table({"x": [1]})})
    assert store.table_names() == []
    assert store.meta() == {}


def test_reads_page_through_a_table_in_seq_ranges(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    persons = _tables()["persons"]
    rows = [dict(r, seq=i, gen="g") for i, r in enumerate(persons.to_pylist())]

    def page(p: dict[str, object]) -> object:
        chosen = rows[int(p["from"]) : int(p["to"])]
        return pa.table({"row": chosen}).to_pandas() if chosen else pa.table({}).to_pandas()

    runner.overrides["persons_read"] = page
    store.page_rows = 2
    assert store.read_table("persons").equals(persons)
    pages = runner.named("persons_read")
    assert [(c.params["from"], c.params["to"]) for c in pages] == [(0, 2), (2, 4), (4, 6)]
    described = json.loads(runner.state["tables"])
    assert described["persons"]["rows"] == persons.num_rows


def test_long_loads_report_progress_per_batch(store: Neo4jStore) -> None:
    seen: list[tuple[str, int, int]] = []
    store.progress = lambda stage, done, total: seen.append((stage, done, total))
    store.replace_tables(_tables(), {})
    persons = [s for s in seen if s[0] == "load persons"]
    n = _tables()["persons"].num_rows
    assert persons[-1] == ("load persons", n, n)
    assert [done for _, done, _ in persons] == sorted({min(i + 2, n) for i in range(0, n, 2)})


def test_a_failed_write_back_says_the_results_are_saved(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    runner.overrides["writeback_households"] = lambda p: pa.table({"written": [0]}).to_pandas()
    households = pa.table({"household_id": ["H1"], "size": [2]})
    with pytest.raises(StoreError, match="results saved; writing them back onto the graph stopped"):
        store.replace_results({"households": households})
    assert store.read_results("households").equals(households)


def test_a_state_node_left_by_an_unfinished_first_load_reads_as_empty(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    runner.overrides["state_read"] = lambda p: pd.DataFrame(
        {"gen": [float("nan")], "meta": [None], "tables": [None], "results": [None],
         "pending": [["g0"]]}
    )  # fmt: skip
    state = store.state()
    assert (state.gen, state.meta, state.tables, state.pending) == (None, {}, {}, ("g0",))
    assert store.table_names() == []
