"""The Neo4j store against a recording runner: which file, which parameters, what batches."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from relgraph.config import Neo4jSettings
from relgraph.store import neo4j as neo4j_store
from relgraph.store.base import StoreError, TableNotFoundError
from relgraph.store.cypher import query
from relgraph.store.neo4j import WRITE_ORDER, Neo4jStore, generation_id
from relgraph.store.runner import LockLostError
from tests.graph.conftest import BANK, canonical_tables
from tests.store.recording import RecordingRunner

PARAMETER = re.compile(r"\$(\w+)")


def _tables() -> dict[str, pa.Table]:
    return canonical_tables(BANK)


def test_load_creates_the_schema_then_shared_nodes_then_tables_in_dependency_order(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "f1"})
    names = runner.statements()
    first_create = next(i for i, n in enumerate(names) if n.endswith("_create"))
    schema = [n for n in names[:first_create] if n.startswith("schema_")]
    assert names[: len(schema)] == schema
    assert "schema_person_key" in schema
    assert "schema_transfer_rows" in schema
    assert names[len(schema) : first_create] == [
        "store_lock",
        "state_read",
        "generations_read",
        "state_begin_load",
    ]
    created = list(dict.fromkeys(n.removesuffix("_create") for n in names if n.endswith("_create")))
    shared = [label for label, _ in neo4j_store.IDENTIFIERS]
    assert created == shared + [t for t in WRITE_ORDER if t in _tables()]
    assert names.index("state_commit_load") > max(
        i for i, n in enumerate(names) if n.endswith("_create")
    )


def test_a_load_holds_the_store_lock_from_reading_the_state_to_the_last_prune(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # Two loads of the same data at once CREATEd one generation twice; the second now waits,
    # then finds the data live.
    store.replace_tables(_tables(), {"fingerprint": "f1"})
    store.replace_tables({"persons": _tables()["persons"]}, {"fingerprint": "f2"})
    names = runner.statements()
    locks = [i for i, n in enumerate(names) if n == "store_lock"]
    assert [taken for taken, _ in runner.held] == locks
    assert len(locks) == 2
    first, second = runner.held
    assert names[first[0] + 1] == "state_read"
    # Released before the second load's schema statements, which are outside the lock.
    assert first[1] == next(
        i for i, n in enumerate(names) if i > first[0] and n.startswith("schema_")
    )
    assert "prune_person" in names[second[0] : second[1]]
    assert second[1] == len(names)


def test_each_shared_identifier_is_created_once_whatever_rows_share_it(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    store.replace_tables(tables, {})
    phones = [r["value"] for c in runner.named("phone_create") for r in c.params["rows"]]
    expected = set(tables["customers"].column("phone_norm").drop_null().to_pylist())
    expected |= set(tables["enterprises"].column("phone_norm").drop_null().to_pylist())
    assert sorted(phones) == sorted(expected)
    devices = [r["value"] for c in runner.named("device_create") for r in c.params["rows"]]
    assert sorted(devices) == sorted(set(tables["device_links"].column("device_id").to_pylist()))


def test_rows_go_in_batches_numbered_in_written_order(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    store.replace_tables(tables, {})
    persons = runner.named("persons_create")
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
    runner.overrides["transfers_create"] = lambda p: pa.table(
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


def test_a_load_deletes_generations_the_state_does_not_name(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # An earlier release stopped after its commit left the generation it replaced unnamed.
    tables = _tables()
    store.replace_tables(tables, {"fingerprint": "1"})
    live = generation_id(tables)
    runner.overrides["generations_read"] = lambda _: pd.DataFrame({"gen": ["unnamed", live]})
    runner.calls.clear()
    store.replace_tables(tables, {"fingerprint": "again"})
    assert {c.params["stale"] for c in runner.named("prune_")} == {"unnamed"}
    assert store.generation == live


def test_loading_the_live_data_again_writes_no_rows_and_keeps_its_generation(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {"loaded_at": "monday"})
    runner.calls.clear()
    store.replace_tables(_tables(), {"loaded_at": "tuesday"})
    assert store.meta() == {"loaded_at": "tuesday"}
    assert store.generation == generation_id(_tables())
    assert runner.named("prune_") == []
    assert [c for c in runner.calls if c.statement.endswith("_create")] == []


def test_a_retried_load_deletes_what_its_dead_attempt_left_before_creating(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    store.replace_tables(tables, {"fingerprint": "good"})
    changed = {**tables, "persons": tables["persons"].slice(1)}
    runner.overrides["transfers_create"] = lambda p: pd.DataFrame({"written": [0]})
    with pytest.raises(StoreError, match="load transfers"):
        store.replace_tables(changed, {"fingerprint": "dies"})
    del runner.overrides["transfers_create"]
    runner.calls.clear()
    store.replace_tables(changed, {"fingerprint": "retried"})
    names = runner.statements()
    first_create = next(i for i, n in enumerate(names) if n.endswith("_create"))
    retried = generation_id(changed)
    cleared = [c for c in runner.calls[:first_create] if c.statement.startswith("prune_")]
    assert {c.statement for c in cleared} == set(neo4j_store.PRUNE_STATEMENTS)
    assert {c.params["stale"] for c in cleared} == {retried}
    # The attempt's generation stays pending (deletable) until the commit names it live.
    assert "state_pruned" not in names[:first_create]
    assert store.meta() == {"fingerprint": "retried"}
    assert runner.state is not None
    assert runner.state["pending"] == []


def test_parallel_writers_send_every_row_once(runner: RecordingRunner) -> None:
    store = Neo4jStore(runner, Neo4jSettings(batch_size=3, writers=2))
    tables = _tables()
    store.replace_tables(tables, {})
    for name in ("persons", "transfers"):
        sent = [r["seq"] for c in runner.named(f"{name}_create") for r in c.params["rows"]]
        assert sorted(sent) == list(range(tables[name].num_rows)), name


def test_a_failed_batch_among_parallel_writers_stops_the_load(runner: RecordingRunner) -> None:
    store = Neo4jStore(runner, Neo4jSettings(batch_size=1, writers=2))
    tables = _tables()

    def second_batch_fails(p: dict[str, object]) -> pd.DataFrame:
        rows = p["rows"]
        assert isinstance(rows, list)
        return pd.DataFrame({"written": [0 if rows[0]["seq"] == 1 else len(rows)]})

    runner.overrides["persons_create"] = second_batch_fails
    with pytest.raises(StoreError, match=r"load persons: 1 of rows 1\.\.1 found no node"):
        store.replace_tables(tables, {})
    assert runner.named("customers_create") == []
    assert "state_commit_load" not in runner.statements()
    assert store.table_names() == []


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


def test_a_run_writes_its_results_under_one_lock_from_first_chunk_to_last_prune(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # Two analyze runs at once each pruned the chunks and the written-back properties of the
    # other; a second run now waits on the lock until the first has finished.
    store.replace_tables(_tables(), {})
    runner.calls.clear()
    store.replace_results({"households": pa.table({"household_id": ["H1"], "size": [2]})})
    names = runner.statements()
    assert names[:2] == ["schema_lock_key", "store_lock"]
    assert runner.held[-1] == (1, len(names))
    assert "writeback_prune_households" in names[2:]


def test_the_lock_is_given_up_when_the_write_back_fails(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    runner.calls.clear()
    runner.overrides["writeback_households"] = lambda p: pa.table({"written": [0]}).to_pandas()
    with pytest.raises(StoreError, match="writing them back onto the graph stopped"):
        store.replace_results({"households": pa.table({"household_id": ["H1"], "size": [2]})})
    assert runner.held[-1] == (1, len(runner.calls))


def test_a_persons_value_is_written_onto_its_node_and_an_enterprises_is_not(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # Person.aum in Neo4j is the value GraphQL serves (accounts, each once; records
    # unsummed), not the load's record summary; an enterprise node keeps its loaded row and
    # gets its value beside it.
    store.replace_tables(_tables(), {})
    runner.calls.clear()
    values = pa.table(
        {
            "party_id": ["P1", "P2", "E1"],
            "party_kind": ["person", "person", "enterprise"],
            "deposits": [10.0, None, 60.0],
            "aum": [100_000.0, None, 60.0],
            "loans": [0.0, 500.0, 0.0],
            "card_spend": [None, None, None],
            "value_source": ["accounts", "records", "accounts"],
        }
    )
    store.replace_results({"party_values": values})
    (written,) = runner.named("writeback_party_values")
    assert written.params["rows"] == [
        {"party_id": "P1", "aum": 100_000.0, "deposits": 10.0, "loans": 0.0,
         "value_source": "accounts"},
        {"party_id": "P2", "aum": None, "deposits": None, "loans": 500.0,
         "value_source": "records"},
    ]  # fmt: skip
    statement = query("writeback_party_values")
    for prop in ("p.aum = row.aum", "p.deposits = row.deposits", "p.loans = row.loans"):
        assert prop in statement
    # The enterprise's value goes beside its loaded deposits and loans, which it reads.
    (beside,) = runner.named("writeback_enterprise_values")
    assert beside.params["rows"] == [
        {"party_id": "E1", "aum": 60.0, "deposits": 60.0, "loans": 0.0,
         "value_source": "accounts"},
    ]  # fmt: skip
    statement = query("writeback_enterprise_values")
    assert "e.valueDeposits = row.deposits" in statement
    assert "e.deposits" not in statement
    assert "e.loans" not in statement


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
        # As the server answers: one record, the page's rows as lists of $columns' values.
        columns = list(p["columns"])  # type: ignore[call-overload]
        chosen = [[r.get(c) for c in columns] for r in rows[int(p["from"]) : int(p["to"])]]
        return pd.DataFrame({"rows": [chosen]})

    runner.overrides["persons_read"] = page
    store.page_rows = 2
    assert store.read_table("persons").equals(persons)
    pages = runner.named("persons_read")
    assert [(c.params["from"], c.params["to"]) for c in pages] == [(0, 2), (2, 4), (4, 6)]
    assert pages[0].params["columns"] == persons.column_names
    # A read of some columns asks the server for those only, in the order asked.
    wanted = list(reversed(persons.column_names[:2]))
    assert store.read_table("persons", wanted).equals(persons.select(wanted))
    assert runner.named("persons_read")[-1].params["columns"] == wanted
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


def test_the_state_says_the_graph_is_a_mix_until_a_write_back_finishes(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    households = pa.table({"household_id": ["H1"], "size": [2]})
    store.replace_results({"households": households})
    assert store.notices() == []
    (done,) = runner.named("state_written_back")
    assert done.params["run"] == store.state().results["households"]
    runner.overrides["writeback_households"] = lambda p: pa.table({"written": [0]}).to_pandas()
    with pytest.raises(StoreError, match="results saved"):
        store.replace_results({"households": households})
    run = json.loads(runner.state["results"])["households"]  # the run switched to
    assert store.notices() == [
        "the graph properties Neo4j users query (networkId, householdId, :Alert, LINKED, …) "
        f"are partly from an earlier run: writing run {run} back onto the graph stopped. "
        "GraphQL, stats and validate read the saved results; run `relgraph analyze` to "
        "complete the graph"
    ]
    # The next run that finishes its write-back, or a load, says the graph is whole again.
    del runner.overrides["writeback_households"]
    store.replace_results({"households": households})
    assert store.notices() == []
    runner.overrides["writeback_households"] = lambda p: pa.table({"written": [0]}).to_pandas()
    with pytest.raises(StoreError, match="results saved"):
        store.replace_results({"households": households})
    store.replace_tables({**_tables(), "transfers": _tables()["transfers"].slice(1)}, {})
    assert store.notices() == []


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


def test_rows_name_their_endpoints_by_the_element_ids_their_nodes_came_back_with(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # The recording runner answers a node batch with ids "<statement>:<seq or value>".
    tables = _tables()
    store.replace_tables(tables, {})

    def sent(statement: str) -> list[tuple[dict[str, object], dict[str, object]]]:
        """Each row of the statement's batches with its i-th value of every list parameter."""
        out = []
        for call in runner.named(statement):
            lists = {k: v for k, v in call.params.items() if k not in ("rows", "gen")}
            out += [(row, {k: v[i] for k, v in lists.items()}) for i, row in enumerate(
                call.params["rows"])]  # fmt: skip
        return out

    def seq_of(table: str, column: str) -> dict[object, int]:
        return {key: i for i, key in enumerate(tables[table].column(column).to_pylist())}

    accounts, customers = seq_of("accounts", "account_id"), seq_of("customers", "customer_id")
    enterprises, persons = seq_of("enterprises", "enterprise_id"), seq_of("persons", "person_id")
    transfers = sent("transfers_create")
    assert len(transfers) == tables["transfers"].num_rows
    for row, ends in transfers:
        assert ends == {
            "a": f"accounts:{accounts[row['from_account']]}",
            "b": f"accounts:{accounts[row['to_account']]}",
        }
    for row, ends in sent("customers_create"):
        assert ends["person"] == f"persons:{persons[row['person_id']]}"
        assert ends["phone"] == (row["phone_norm"] and f"phone:{row['phone_norm']}")
        assert ends["document"] == (
            row["id_number_norm"] and f"id_document:{row['id_number_norm']}"
        )
    holders = {"customer": ("customers", customers), "enterprise": ("enterprises", enterprises)}
    kinds = set()
    for row, ends in sent("accounts_create"):
        kind, seqs = holders[str(row["holder_kind"])]
        kinds.add(kind)
        assert ends == {"holder": f"{kind}:{seqs[row['holder_id']]}"}
    assert kinds == {"customers", "enterprises"}
    for row, ends in sent("device_links_create"):
        assert ends == {
            "customer": f"customers:{customers[row['customer_id']]}",
            "device": f"device:{row['device_id']}",
        }


def test_an_endpoint_no_node_was_created_for_is_sent_as_null(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    tables = _tables()
    orphan = tables["transfers"].slice(0, 1).to_pylist()[0] | {"to_account": "NOPE"}
    transfers = pa.concat_tables(
        [tables["transfers"], pa.Table.from_pylist([orphan], tables["transfers"].schema)]
    )
    store.replace_tables({**tables, "transfers": transfers}, {})
    last = runner.named("transfers_create")[-1].params
    assert last["rows"][-1]["to_account"] == "NOPE"
    assert last["b"][-1] is None
    assert last["a"][-1] is not None


def _lost(statement: str) -> LockLostError:
    """What the driver runner raises for a write it rolled back: the lock was ended."""
    return LockLostError(f"the Neo4j store lock was taken from this run; {statement!r} rolled back")


def _fails_with(error: Exception) -> Callable[[dict[str, Any]], pd.DataFrame]:
    def raise_it(_: dict[str, Any]) -> pd.DataFrame:
        raise error

    return raise_it


@pytest.mark.parametrize("statement", ["transfers_create", "state_commit_load"])
def test_a_load_that_lost_the_lock_publishes_nothing_and_says_to_run_again(
    store: Neo4jStore, runner: RecordingRunner, statement: str
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "live"})
    live = runner.state
    assert live is not None
    other = {**_tables(), "transfers": _tables()["transfers"].slice(1)}
    runner.overrides[statement] = _fails_with(_lost(statement))
    with pytest.raises(StoreError) as caught:
        store.replace_tables(other, {"fingerprint": "lost"})
    message = str(caught.value)
    assert "the Neo4j store lock was taken from this run" in message
    assert "Nothing of it was published: the store keeps its last good state" in message
    assert message.endswith("the next load deletes what this one wrote. Run `relgraph load` again")
    # Nothing after the lost write: no commit, no deletes; the last good state is served.
    assert runner.statements()[-1] == statement
    assert store.meta() == {"fingerprint": "live"}
    assert store.state().pending == (generation_id(other),)
    # The next load deletes what the lost one staged.
    del runner.overrides[statement]
    store.replace_tables(_tables(), {"fingerprint": "again"})
    assert {c.params["stale"] for c in runner.named("prune_")} >= {generation_id(other)}
    assert store.state().pending == ()


@pytest.mark.parametrize(
    "failure",
    [
        _lost("prune_alert"),
        # A real server whose disk filled during the deletes (RESULTS.md, 2026-12-05).
        StoreError(
            "delete old generation: statement 'prune_alert' failed: "
            "Neo.DatabaseError.Transaction.TransactionCommitFailed: Could not apply the "
            "transaction to the store after written to log."
        ),
    ],
)
def test_a_load_whose_deletes_stop_after_its_commit_is_live_and_says_so(
    store: Neo4jStore,
    runner: RecordingRunner,
    failure: StoreError,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.replace_tables(_tables(), {"fingerprint": "live"})
    runner.overrides["prune_alert"] = _fails_with(failure)
    other = {**_tables(), "transfers": _tables()["transfers"].slice(1)}
    # No error: the load is published, so its caller must keep its quarantine and report.
    store.replace_tables(other, {"fingerprint": "new"})
    assert "the load is live; deleting the generation it replaced stopped" in caplog.text
    assert str(failure) in caplog.text
    assert runner.statements()[-1] == "prune_alert"
    assert store.meta() == {"fingerprint": "new"}
    # The replaced generation is still named (pending), so the next load deletes it.
    assert store.state().pending == (generation_id(_tables()),)
    del runner.overrides["prune_alert"]
    runner.calls.clear()
    store.replace_tables(other, {"fingerprint": "again"})
    assert {c.params["stale"] for c in runner.named("prune_")} == {generation_id(_tables())}
    assert store.state().pending == ()


def test_results_that_lost_the_lock_are_not_switched_to(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    households = pa.table({"household_id": ["H1"], "size": [2]})
    store.replace_results({"households": households})
    runner.overrides["state_commit_results"] = _fails_with(_lost("state_commit_results"))
    with pytest.raises(StoreError) as caught:
        store.replace_results({"households": pa.table({"household_id": ["H2"], "size": [3]})})
    message = str(caught.value)
    assert "Nothing of it was published" in message
    assert message.endswith(
        "the next analyze or load deletes what this one wrote. Run `relgraph analyze` again"
    )
    assert runner.statements()[-1] == "state_commit_results"
    assert store.read_results("households").equals(households)


def test_a_lock_lost_after_the_switch_says_the_results_are_saved(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    store.replace_tables(_tables(), {})
    runner.overrides["result_chunk_prune"] = _fails_with(_lost("result_chunk_prune"))
    households = pa.table({"household_id": ["H1"], "size": [2]})
    with pytest.raises(StoreError, match="results saved; writing them back onto the graph stopped"):
        store.replace_results({"households": households})
    assert not runner.named("writeback_")  # another run may hold the lock: nothing more
    assert store.read_results("households").equals(households)
