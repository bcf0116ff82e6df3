"""The server's own time zone (``TZ``) changes nothing a load or an analysis stores.

Banks run relgraph on hosts set to UTC or to Asia/Shanghai; the zone of the data is
``RELGRAPH_SOURCE_TZ`` (and a mapping file's), never the process's. Each run is a
``relgraph load`` and ``relgraph analyze`` in a process of its own with ``TZ`` set (the C
library, Python's ``time`` and DuckDB read it when they start), on the same files: a
synthetic bank with dirty values, plus transfers in every form a bank writes a time in.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from tests.banks import read_quarantine

_RUN_TIMES = {"loaded_at", "analysed_at"}
"""When the run happened: the one thing two runs may differ in."""
_FORMS = [
    "2025-03-01 00:30:00", "2025-03-01T00:30:00+08:00", "2025-02-28T16:30:00Z",
    "2025-03-01", "2025-03-01 24:00:00", "２０２５－０３－０１ ００:３０:００", "2025/3/1 0:30",
    "20250301", "20250301 003000", "2025年3月1日 0:30", "2025-03-01T00:30:00-05:00",
    "45717.0208333", "1740760200000", "2025-02-29 10:00:00", "2025-03-01 24:30:00",
]  # fmt: skip
"""Beijing's 00:30 on 1 March in the forms banks write (and Excel serials, epoch ms and
impossible times, which are quarantined)."""


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("zone") / "bank"
    generate(300, 5, folder, "csv", dirty=0.02)
    _add_forms(folder)
    return folder


def _add_forms(folder: Path) -> None:
    with (folder / "transfers.csv").open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    with (folder / "transfers.csv").open("a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        for i, ts in enumerate(_FORMS):
            writer.writerow([f"TZ{i:02d}", first["from_account"], first["to_account"], "100.00",
                             "CNY", ts])  # fmt: skip


def _run(bank: Path, data: Path, zone: str, *, analyze: bool = True) -> None:
    env = {**os.environ, "TZ": zone, "RELGRAPH_ID_SECRET": "z" * 40}
    env.pop("RELGRAPH_SOURCE_TZ", None)
    runs = [["load", str(bank), "--data-dir", str(data)], ["analyze", "--data-dir", str(data)]]
    for args in runs if analyze else runs[:1]:
        done = subprocess.run(
            [sys.executable, "-m", "relgraph", *args], env=env, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]


def _rows(table: Any) -> list[tuple[Any, ...]]:
    names = [n for n in table.column_names if n not in _RUN_TIMES]
    return sorted(
        tuple(json.dumps(v, sort_keys=True, default=str) for v in row.values())
        for row in table.select(names).to_pylist()
    )


def _stored(data: Path) -> dict[str, Any]:
    with EmbeddedStore(data, read_only=True) as store:
        out: dict[str, Any] = {
            f"canonical.{n}": _rows(store.read_table(n)) for n in store.table_names()
        }
        out |= {f"results.{n}": _rows(store.read_results(n)) for n in store.result_names()}
    out |= {f"quarantine/{p.name}": p.read_bytes() for p in sorted((data / "quarantine").iterdir())}
    report = json.loads((data / "load-report.json").read_text(encoding="utf-8"))
    for key in ("fingerprint", "tables", "persons", "refusals", "quarantined_refusals"):
        out[f"load-report {key}"] = report[key]
    return out


def test_load_and_analyze_store_the_same_under_any_process_zone(bank: Path, tmp_path: Path) -> None:
    _same_under_every_zone(bank, tmp_path)


def test_a_bank_read_through_its_mapping_file_stores_the_same_under_any_process_zone(
    tmp_path: Path,
) -> None:
    # Compact times (20260601 052155) read by the mapping's strptime formats in its zone.
    bank = tmp_path / "bank"
    generate(200, 6, bank, "csv", locale="zh", export_style="bank")
    runs = _same_under_every_zone(bank, tmp_path)
    assert runs["load-report tables"]


def _same_under_every_zone(bank: Path, tmp_path: Path) -> dict[str, Any]:
    runs = {}
    for zone in ("UTC", "Asia/Shanghai", "America/New_York"):
        data = tmp_path / zone.replace("/", "-")
        _run(bank, data, zone)
        runs[zone] = _stored(data)
    utc = runs.pop("UTC")
    assert utc["results.risk_chains"], "the bank has alerts to compare"
    for zone, stored in runs.items():
        assert stored.keys() == utc.keys(), zone
        differ = [name for name in utc if stored[name] != utc[name]]
        assert differ == [], f"TZ={zone} stored other {differ}"
    return utc


def test_beijing_half_past_midnight_is_one_instant_in_every_form(
    bank: Path, tmp_path: Path
) -> None:
    _run(bank, tmp_path / "UTC", "UTC", analyze=False)
    # Beijing's 00:30 on 1 March is 16:30 UTC on 28 February, whichever way it was written.
    with EmbeddedStore(tmp_path / "UTC", read_only=True) as store:
        times = {r["tx_id"]: r["ts"] for r in store.read_table("transfers", ["tx_id", "ts"]).to_pylist()
                 if r["tx_id"].startswith("TZ")}  # fmt: skip
    half_past = 1_740_760_200_000
    midnight = half_past - 30 * 60_000
    assert times == {
        "TZ00": half_past, "TZ01": half_past, "TZ02": half_past, "TZ03": midnight,
        "TZ04": midnight + 86_400_000, "TZ05": half_past, "TZ06": half_past, "TZ07": midnight,
        "TZ08": half_past, "TZ09": half_past, "TZ10": half_past + 13 * 3_600_000,
    }  # fmt: skip
    quarantined = {q["tx_id"]: q["reason"] for q in read_quarantine(tmp_path / "UTC", "transfers")}
    assert {t: quarantined[t].split(":")[0] for t in quarantined if t.startswith("TZ")} == {
        f"TZ{i}": "bad_timestamp" for i in range(11, 15)
    }
