"""A held-back "tomorrow" of a synthetic bank: transfers to stream against a running server.

:func:`hold_back` moves out of ``transfers.csv`` the last ``days`` of transfers and the
last transfer of every planted laundering pattern (so each pattern completes only when its
held-back transfer arrives), writing them in time order to ``tomorrow/transfers.csv``
(the same columns: what ``relgraph stream`` sends) and the patterns they complete to
``truth/tomorrow.csv`` (``pattern_key``, ``typology``, ``tx_id``: the completing
transfer). Loading the rest and streaming tomorrow gives the same data as loading all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

TOMORROW_DIR: Final = "tomorrow"
_DAY_MS: Final = 86_400_000


def hold_back(out: Path, days: float = 1.0) -> dict[str, int]:
    """Split ``out/transfers.csv`` (a plain CSV bank) into today and tomorrow; returns the
    row counts of both and the number of patterns tomorrow completes."""
    path = out / "transfers.csv"
    if not path.exists():
        raise ValueError(
            f"{path} not found: --tomorrow needs a plain CSV bank (--format csv "
            "--export-style plain)"
        )
    transfers = pd.read_csv(path, dtype=str, keep_default_na=False)
    when = pd.to_datetime(transfers["ts"]).astype("int64") // 1_000_000
    planted = pd.read_csv(out / "truth" / "laundering.csv", dtype=str)
    at = planted.merge(pd.DataFrame({"tx_id": transfers["tx_id"], "_ms": when}), on="tx_id")
    # The completing transfer of each pattern: its last by time.
    last = at.sort_values(["_ms", "tx_id"]).groupby("pattern_key", sort=False).tail(1)
    cut = int(when.max()) - round(days * _DAY_MS)
    held = (when > cut) | transfers["tx_id"].isin(set(last["tx_id"]))
    order = when[held].sort_values(kind="stable").index
    (out / TOMORROW_DIR).mkdir(parents=True, exist_ok=True)
    transfers.loc[order].to_csv(out / TOMORROW_DIR / "transfers.csv", index=False)
    transfers.loc[~held].to_csv(path, index=False)
    last[["pattern_key", "typology", "tx_id"]].to_csv(out / "truth" / "tomorrow.csv", index=False)
    return {"today": int((~held).sum()), "tomorrow": int(held.sum()), "patterns": len(last)}
