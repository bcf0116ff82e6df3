"""A held-back "tomorrow" of a synthetic bank: transfers to stream against a running server.

:func:`hold_back` moves out of ``transfers.csv`` the last ``days`` of transfers and every
transfer of every planted laundering pattern (so each pattern is seen, leg by leg, only in
the stream and completes when its last transfer arrives: a pattern's earlier legs can lie
months before the end, beyond the live index's horizon, so holding back only its last leg
would leave it to the batch), writing them in time order to ``<out>-tomorrow/transfers.csv``
(beside the bank, so ``relgraph load <out>`` does not read it; the same columns: what
``relgraph stream`` sends) and the patterns they complete to
``truth/tomorrow.csv`` (``pattern_key``, ``typology``, ``tx_id``: the completing
transfer). Loading the rest and streaming tomorrow gives the same data as loading all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

_DAY_MS: Final = 86_400_000


def tomorrow_dir(out: Path) -> Path:
    """Where :func:`hold_back` writes tomorrow's transfers for the bank in ``out``."""
    return out.parent / f"{out.name}-tomorrow"


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
    moments = pd.to_datetime(transfers["ts"])
    when = (moments - pd.Timestamp(0)) // pd.Timedelta(milliseconds=1)  # any unit pandas picks
    planted = pd.read_csv(out / "truth" / "laundering.csv", dtype=str)
    at = planted.merge(pd.DataFrame({"tx_id": transfers["tx_id"], "_ms": when}), on="tx_id")
    # The completing transfer of each pattern: its last by time.
    last = at.sort_values(["_ms", "tx_id"]).groupby("pattern_key", sort=False).tail(1)
    cut = int(when.max()) - round(days * _DAY_MS)
    held = (when > cut) | transfers["tx_id"].isin(set(at["tx_id"]))
    order = when[held].sort_values(kind="stable").index
    folder = tomorrow_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    transfers.loc[order].to_csv(folder / "transfers.csv", index=False)
    transfers.loc[~held].to_csv(path, index=False)
    last[["pattern_key", "typology", "tx_id"]].to_csv(out / "truth" / "tomorrow.csv", index=False)
    return {"today": int((~held).sum()), "tomorrow": int(held.sum()), "patterns": len(last)}
