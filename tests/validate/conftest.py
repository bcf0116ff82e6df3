"""Hand-made stores and truth folders whose validation figures are known by hand."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from relgraph.analytics.settings import AnalysisSettings
from relgraph.store.embedded import EmbeddedStore

Rows = list[dict[str, Any]]


def write_truth(folder: Path, **files: Rows) -> Path:
    """Write ``<name>.csv`` for each keyword (a list of row dicts)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in files.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _table(rows: Rows, columns: list[str]) -> pa.Table:
    return pa.Table.from_pandas(pd.DataFrame(rows, columns=columns), preserve_index=False)


def customers(*rows: tuple[str, str] | tuple[str, str, str]) -> Rows:
    """``(customer_id, person_id[, match_evidence])`` rows of the stored customers table."""
    return [
        {
            "customer_id": r[0],
            "person_id": r[1],
            "match_score": 1.0 if len(r) > 2 else None,
            "match_evidence": r[2] if len(r) > 2 else None,
        }
        for r in rows
    ]


def make_store(
    data_dir: Path,
    customer_rows: Rows,
    *,
    analysed: bool = True,
    person_households: dict[str, str] | None = None,
    accounts: Sequence[str] = (),
    transfers: Sequence[tuple[str, str, str] | tuple[str, str, str, int]] = (),
    alerts: Sequence[tuple[str, str, float, list[str]]] = (),
    account_risk: dict[str, float] | None = None,
) -> Path:
    """A store holding exactly the given rows and results.

    ``transfers``: ``(tx_id, from_account, to_account[, ts])`` (epoch ms, default 0);
    ``alerts``: ``(chain_id, typology, score, [tx_id, …])``. Results are written only when
    ``analysed``.
    """
    by_tx = {t[0]: t for t in transfers}
    with EmbeddedStore(data_dir) as store:
        store.replace_tables(
            {
                "customers": _table(
                    customer_rows, ["customer_id", "person_id", "match_score", "match_evidence"]
                ),
                "accounts": _table([{"account_id": a} for a in accounts], ["account_id"]),
                "transfers": _table(
                    [
                        {
                            "tx_id": t[0],
                            "from_account": t[1],
                            "to_account": t[2],
                            "ts": t[3] if len(t) > 3 else 0,
                        }
                        for t in transfers
                    ],
                    ["tx_id", "from_account", "to_account", "ts"],
                ),
            },
            {"fingerprint": "hand-made", "loaded_at": "2026-01-01T00:00:00+00:00"},
        )
        if not analysed:
            return data_dir
        persons = sorted({str(r["person_id"]) for r in customer_rows})
        households = person_households or {p: "H" + p for p in persons}
        results = {
            "analysis_settings": AnalysisSettings().to_frame(),
            "person_households": pd.DataFrame(
                {"person_id": list(households), "household_id": list(households.values())}
            ),
            "risk_chains": pd.DataFrame(
                [
                    {"chain_id": c, "typology": t, "score": s, "reasons": "[]"}
                    for c, t, s, _ in alerts
                ],
                columns=["chain_id", "typology", "score", "reasons"],
            ),
            "risk_chain_hops": pd.DataFrame(
                [
                    {
                        "chain_id": c,
                        "hop": i,
                        "tx_id": tx,
                        "from_account": by_tx[tx][1],
                        "to_account": by_tx[tx][2],
                    }
                    for c, _, _, txs in alerts
                    for i, tx in enumerate(txs)
                ],
                columns=["chain_id", "hop", "tx_id", "from_account", "to_account"],
            ),
            "account_risk": pd.DataFrame(
                list((account_risk or {}).items()), columns=["account_id", "score"]
            ),
        }
        store.replace_results(
            {name: pa.Table.from_pandas(f, preserve_index=False) for name, f in results.items()}
        )
    return data_dir
