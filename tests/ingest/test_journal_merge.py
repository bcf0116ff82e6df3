"""The next load merges what was streamed to the server (ingest/journal_merge.py): every
acknowledged transfer is loaded or accounted for, and the report says which rows came from
the journal."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from relgraph.config import moment_ms, source_zone
from relgraph.journal import ACCOUNT, TRANSFER, Journal
from relgraph.store.embedded import EmbeddedStore
from tests.banks import holder_each, load, read_quarantine, transfer, write_bank

WHEN = datetime(2026, 3, 2, 10, 0)


def _streamed(tx_id: str, frm: str, to: str, amount: float) -> dict[str, object]:
    """A transfer as the server journals it: canonical values (``record_rules``)."""
    ms = moment_ms(WHEN.isoformat(), source_zone())
    return {"tx_id": tx_id, "from_account": frm, "to_account": to, "amount": amount,
            "currency": "CNY", "ts": ms}  # fmt: skip


def test_a_streamed_transfer_is_loaded_unless_a_loaded_file_row_holds_its_id(
    tmp_path: Path,
) -> None:
    rows = [
        transfer("TW-1", "A1", "A2", 500.0, WHEN),
        transfer("TQ-1", "A1", "A2", 700.0, WHEN),
    ]
    tables = holder_each(rows)
    # The export's TQ-1 names an account the bank does not hold: quarantined. The server
    # had accepted a TQ-1 of its own (between known accounts), which must not vanish.
    tables["transfers"][1] = {**tables["transfers"][1], "to_account": "GONE"}
    bank = write_bank(tmp_path / "bank", tables)
    data = tmp_path / "data"
    Journal(data).append(
        TRANSFER,
        [
            _streamed("TW-1", "A1", "A2", 500.0),  # the export holds it too: its row wins
            _streamed("TQ-1", "A2", "A1", 650.0),
            _streamed("TJ-1", "A2", "A1", 80.0),
        ],
        by="ingest-key",
    )
    report = load(bank, data)
    (t,) = [t for t in report.tables if t.table == "transfers"]
    with EmbeddedStore(data, read_only=True) as store:
        loaded = store.read_table("transfers").to_pylist()
    by_id = {r["tx_id"]: r for r in loaded}
    assert sorted(by_id) == ["TJ-1", "TQ-1", "TW-1"]
    assert by_id["TQ-1"]["amount"] == 650.0  # the journal's, not the quarantined row's
    assert by_id["TW-1"]["amount"] == 500.0
    # Every row is loaded or quarantined, the journal's included, none counted twice.
    assert t.rows_in == t.loaded + t.quarantined == 4
    assert [q["tx_id"] for q in read_quarantine(data, "transfers")] == ["TQ-1"]
    assert any("3 rows from the server's journal" in n for n in t.notes), t.notes
    assert any("1 of the journal's rows were in the file already" in n for n in t.notes)
    assert load(bank, data).unchanged  # idempotent


def test_a_journalled_time_no_calendar_holds_is_quarantined_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    # Releases before 2026-12-04 journalled any integer ts the server was sent (2**63 ms, the
    # year 10000). The first load after the upgrade stopped on it with a traceback ("year is
    # out of range"), and every load after it too: the journal is append-only.
    bank = write_bank(tmp_path / "bank", holder_each([transfer("TW-1", "A1", "A2", 500.0, WHEN)]))
    data = tmp_path / "data"
    Journal(data).append(
        TRANSFER,
        [
            {**_streamed("TJ-huge", "A1", "A2", 80.0), "ts": 2**63},
            {**_streamed("TJ-10000", "A1", "A2", 90.0), "ts": 253_402_300_800_000},
            # The year 2999: a time the old server answered 200 to; loaded, it would move the
            # live index's clock there and empty every real-time verdict.
            {**_streamed("TJ-2999", "A1", "A2", 95.0), "ts": 32_472_144_000_000},
            _streamed("TJ-1", "A2", "A1", 70.0),
        ],
        by="k_old",
    )
    report = load(bank, data)
    (t,) = [t for t in report.tables if t.table == "transfers"]
    with EmbeddedStore(data, read_only=True) as store:
        loaded = sorted(store.read_table("transfers", ["tx_id"]).column("tx_id").to_pylist())
    assert loaded == ["TJ-1", "TW-1"]
    quarantined = {q["tx_id"]: q for q in read_quarantine(data, "transfers")}
    assert sorted(quarantined) == ["TJ-10000", "TJ-2999", "TJ-huge"]
    assert quarantined["TJ-huge"]["reason"].startswith("bad_timestamp: ts '9223372036854775808'")
    assert quarantined["TJ-2999"]["reason"].startswith("out_of_range: ts '2999-01-01")
    assert t.rows_in == t.loaded + t.quarantined == 5


def test_an_opening_date_journalled_as_an_instant_loads_as_its_day_in_beijing(
    tmp_path: Path,
) -> None:
    # Releases before 2026-12-05 journalled an opened_at sent in epoch ms as that instant:
    # 00:30 on 1 March Beijing time, 16:30 UTC on 28 February, loaded as 28 February.
    bank = write_bank(tmp_path / "bank", holder_each([transfer("TW-1", "A1", "A2", 500.0, WHEN)]))
    data = tmp_path / "data"
    account = {"holder_id": "CA1", "holder_kind": "customer", "product": "deposit"}
    Journal(data).append(
        ACCOUNT,
        [
            {
                **account,
                "account_id": "AJ-1",
                "opened_at": moment_ms("2026-03-01T00:30", source_zone()),
            },
            {
                **account,
                "account_id": "AJ-2",
                "opened_at": moment_ms("2026-03-01T00:00Z", source_zone()),
            },
        ],
        by="k_old",
    )
    load(bank, data)
    with EmbeddedStore(data, read_only=True) as store:
        opened = {
            r["account_id"]: r["opened_at"]
            for r in store.read_table("accounts", ["account_id", "opened_at"]).to_pylist()
        }
    day = moment_ms("2026-03-01T00:00Z", source_zone())
    assert (opened["AJ-1"], opened["AJ-2"]) == (day, day)


def test_a_journal_merged_in_chunks_loads_as_one_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The records go to DuckDB a chunk at a time (held whole, a day of streaming took more
    # memory than a load has): chunks of two give the rows, order and notes of one chunk.
    from relgraph.ingest import journal_merge

    bank = write_bank(tmp_path / "bank", holder_each([transfer("TF-1", "A1", "A2", 9.0, WHEN)]))
    streamed = [
        _streamed("TJ-1", "A1", "A2", 10.0),
        _streamed("TJ-2", "A2", "A1", 20.0),
        _streamed("TJ-3", "A1", "A2", 30.0),
        _streamed("TJ-2", "A2", "A1", 21.0),  # a second TJ-2, in another chunk: the first wins
        _streamed("TJ-4", "A2", "A1", 40.0),
    ]
    loaded = []
    for chunk in (2, journal_merge.CHUNK):
        monkeypatch.setattr(journal_merge, "CHUNK", chunk)
        data = tmp_path / f"data-{chunk}"
        Journal(data).append(TRANSFER, streamed, by="ingest-key")
        (t,) = [t for t in load(bank, data).tables if t.table == "transfers"]
        with EmbeddedStore(data, read_only=True) as store:
            rows = store.read_table("transfers").to_pylist()
        loaded.append(([(r["tx_id"], r["amount"]) for r in rows], t.notes, t.rows_in))
    assert loaded[0] == loaded[1]
    rows, notes, rows_in = loaded[0]
    assert rows == [("TF-1", 9.0), ("TJ-1", 10.0), ("TJ-2", 20.0), ("TJ-3", 30.0), ("TJ-4", 40.0)]
    assert rows_in == 5
    assert any("4 rows from the server's journal" in n for n in notes), notes


def test_journalled_times_are_written_at_once_as_the_text_of_their_exact_millisecond() -> None:
    from relgraph import model
    from relgraph.ingest.journal_merge import _FIRST_MS, _LAST_MS, _text, _texts

    ts = model.TRANSFERS.column("ts")
    times: list[int | None] = [
        int(v) for v in np.random.default_rng(7).integers(-2 * 10**12, 4_102_444_800_000, 20_000)
    ]
    times += [None, 0, -1, _FIRST_MS, _FIRST_MS - 1, _LAST_MS + 1]  # 1906 to 2100
    assert _texts(ts, times).to_pylist() == [_text(ts, v) for v in times]
    # Past 2100 a float of seconds lost a millisecond: this one was written as .802.
    assert _texts(ts, [8_878_905_855_803, _LAST_MS]).to_pylist() == [
        "2251-05-13T02:44:15.803Z",
        "9999-12-31T23:59:59.999Z",
    ]
    # What is no whole number of int64 (an old release's 2**63, a float, a text, a bool)
    # is written one by one, as before.
    for odd in ([2**63, 0], [1_700_000_000_123.0, None], ["1700000000123"], [True]):
        assert _texts(ts, odd).to_pylist() == [_text(ts, v) for v in odd]
