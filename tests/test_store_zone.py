"""The load records the zone it read naive times in (``RELGRAPH_SOURCE_TZ`` as it ran), and
``analyze`` and ``serve`` read the data's own days in it, whatever their own
``RELGRAPH_SOURCE_TZ`` (``config.data_zone``): a bank loaded under Asia/Shanghai and analysed
under UTC finds what an analysis under Asia/Shanghai finds. A store an earlier release loaded
records none: it is read in the process's zone, as that release read it.

The bank: a chain M0 → M1 → M2 → M3 at 01:00, 02:00 and 03:00 Beijing time on 14 May through
accounts opened that day (as in tests/analytics/test_opening_day.py). Read in UTC, 14 May
begins at 08:00 Beijing, so the mules look used before they were opened and the chain loses
its ``new_accounts`` reason.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from relgraph import model
from relgraph.analytics.layering.check import LayeringIndex
from relgraph.analytics.layering.live import LiveIndex
from relgraph.cli import app
from relgraph.record_rules import check_record
from relgraph.store.embedded import EmbeddedStore
from tests.banks import holder_each, projection_of, transfer, write_bank

runner = CliRunner()
SHANGHAI, UTC = "Asia/Shanghai", "UTC"
NOTE = (
    "note: RELGRAPH_SOURCE_TZ is UTC, but the store was loaded reading times in Asia/Shanghai: "
    "its days (accounts' opening days) and the times sent to it are read in Asia/Shanghai, the "
    "store's zone; load the files again under UTC to read them there"
)
MAY_14: int = 1_778_716_800_000
"""2026-05-14T00:00Z: how the opening date 14 May is stored (and sent by a client)."""


def _rows(*, streamed_m3: bool = False) -> list[dict[str, Any]]:
    rows, amount = [], 200_000.0
    for hop in range(2 if streamed_m3 else 3):
        at = datetime(2026, 5, 14, 1) + timedelta(hours=hop)
        rows.append(transfer(f"X{hop}", f"M{hop}", f"M{hop + 1}", round(amount, 2), at))
        amount *= 0.95
    rows += [
        transfer(f"B{i}", f"P{i % 7}", f"P{(i + 1) % 7}", 100 + i,
                 datetime(2026, 4, 1) + timedelta(hours=7 * i))
        for i in range(120)
    ]  # fmt: skip
    return rows


def _bank(root: Path, *, streamed_m3: bool = False) -> Path:
    tables = holder_each(_rows(streamed_m3=streamed_m3))
    for account in tables["accounts"]:
        if account["account_id"] in ("M1", "M2", "M3"):
            account["opened_at"] = "2026-05-14"
    return write_bank(root / "bank", tables)


def _run(zone: str, *args: str) -> Any:
    env = {"RELGRAPH_SOURCE_TZ": zone, "RELGRAPH_API_KEYS": "analyst:" + "k" * 32}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def _chains(data: Path) -> list[dict[str, Any]]:
    with EmbeddedStore(data, read_only=True) as store:
        chains: list[dict[str, Any]] = store.read_results("risk_chains").to_pylist()
    return chains


def _reasons(chains: list[dict[str, Any]]) -> dict[str, Any]:
    (chain,) = [c for c in chains if c["typology"] == "layering_chain"]
    return {r["reason"]: r["value"] for r in json.loads(chain["reasons"])}


def _notes(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("note:")]


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """The bank loaded under Asia/Shanghai (not analysed)."""
    _run(SHANGHAI, "load", str(_bank(tmp_path)), "--data-dir", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def never_serve(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    import relgraph.api.server

    started: list[Any] = []
    monkeypatch.setattr(relgraph.api.server, "serve", lambda *a, **k: started.append(a))
    return started


def test_analyze_under_utc_reads_a_shanghai_loads_days_as_shanghai(
    loaded: Path, tmp_path: Path
) -> None:
    at_home = shutil.copytree(loaded, tmp_path / "analysed-in-shanghai")
    abroad = shutil.copytree(loaded, tmp_path / "analysed-in-utc")
    quiet = _run(SHANGHAI, "analyze", "--data-dir", str(at_home))
    told = _run(UTC, "analyze", "--data-dir", str(abroad))
    assert _chains(abroad) == _chains(at_home)
    assert _reasons(_chains(abroad))["new_accounts"] == 3
    # One line on stderr, only where the zones differ.
    assert (_notes(quiet), _notes(told)) == ([], [NOTE])


def test_serve_under_another_zone_says_the_stores_is_used(
    loaded: Path, never_serve: list[Any]
) -> None:
    _run(SHANGHAI, "analyze", "--data-dir", str(loaded))
    assert _notes(_run(UTC, "serve", "--data-dir", str(loaded))) == [NOTE]
    assert _notes(_run(SHANGHAI, "serve", "--data-dir", str(loaded))) == []
    assert len(never_serve) == 2


def test_a_store_an_earlier_release_loaded_is_read_in_the_process_zone_until_loaded_again(
    loaded: Path, tmp_path: Path
) -> None:
    # As a release before 2026-12-05 left it: no zone recorded.
    with duckdb.connect(str(loaded / "relgraph.duckdb")) as con:
        con.execute("DELETE FROM main.relgraph_meta WHERE key = 'source_tz'")
    told = _run(UTC, "analyze", "--data-dir", str(loaded))
    assert _notes(told) == []
    assert "new_accounts" not in _reasons(_chains(loaded))  # read in UTC, as it was
    # The same files again are a load, not "unchanged": it records the zone.
    again = _run(SHANGHAI, "load", str(tmp_path / "bank"), "--data-dir", str(loaded))
    assert "unchanged" not in again.output
    with EmbeddedStore(loaded, read_only=True) as store:
        assert store.meta()["source_tz"] == SHANGHAI
    _run(UTC, "analyze", "--data-dir", str(loaded))
    assert _reasons(_chains(loaded))["new_accounts"] == 3


def test_the_live_index_reads_a_streamed_accounts_opening_day_in_the_stores_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # M3 and the last hop arrive by stream at a server whose own zone is UTC.
    _run(SHANGHAI, "load", str(_bank(tmp_path, streamed_m3=True)), "--data-dir",
         str(tmp_path / "data"))  # fmt: skip
    monkeypatch.setenv("RELGRAPH_SOURCE_TZ", UTC)
    projection = projection_of(tmp_path / "data")
    ids = projection.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(projection), ids,
                                {a: i for i, a in enumerate(ids)})  # fmt: skip
    m3 = live.add_account("M3", MAY_14)
    sent = {"tx_id": "X2", "from_account": "M2", "to_account": "M3", "amount": 180_500,
            "currency": "CNY", "ts": "2026-05-14 03:00:00"}  # fmt: skip
    checked = check_record(model.TRANSFERS, sent, live.zone)
    assert checked.values["ts"] == 1_778_698_800_000  # 03:00 Beijing, 19:00 UTC the day before
    row = live.add("X2", live.account("M2") or 0, m3, 180_500.0, checked.values["ts"])
    (chain,) = [a for a in live.verdict(row).alerts if a.typology == "layering_chain"]
    assert {r["reason"]: r["value"] for r in chain.reasons}["new_accounts"] == 3


def test_a_record_without_an_offset_is_read_in_the_zone_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RELGRAPH_SOURCE_TZ", UTC)
    sent = {"tx_id": "T1", "from_account": "A1", "to_account": "A2", "amount": "10",
            "currency": "CNY", "ts": "2026-05-14 03:00:00"}  # fmt: skip
    assert check_record(model.TRANSFERS, sent).values["ts"] == 1_778_727_600_000
    beijing = check_record(model.TRANSFERS, sent, ZoneInfo(SHANGHAI)).values["ts"]
    assert beijing == 1_778_727_600_000 - 8 * 3_600_000
    account = {"account_id": "N1", "holder_id": "C1", "holder_kind": "customer",
               "product": "deposit", "opened_at": MAY_14 - 3_600_000}  # fmt: skip
    # 23:00 UTC on the 13th is 07:00 on the 14th in Beijing: that day, in the store's zone.
    assert check_record(model.ACCOUNTS, account, ZoneInfo(SHANGHAI)).values["opened_at"] == MAY_14
    assert check_record(model.ACCOUNTS, account).values["opened_at"] == MAY_14 - 86_400_000


def test_a_load_under_another_zone_than_the_stores_says_every_naive_time_moves(
    loaded: Path, tmp_path: Path
) -> None:
    # A new machine or a cron job without the old RELGRAPH_SOURCE_TZ: before, the load re-read
    # every naive time of the files 8 h off (exit 0, no word) while streamed transfers, sent
    # as instants, kept theirs.
    args = ["load", str(tmp_path / "bank"), "--data-dir", str(loaded)]
    moved = _notes(_run(UTC, *args))
    assert moved == [
        "note: this load reads times without an offset in UTC (RELGRAPH_SOURCE_TZ), the store's "
        "last load read them in Asia/Shanghai: every such time in the files moves by 8 h today "
        "(times sent to the server keep theirs); if that is not meant, set "
        "RELGRAPH_SOURCE_TZ=Asia/Shanghai and load again"
    ]
    assert _notes(_run(UTC, *args)) == []  # the store's zone now
