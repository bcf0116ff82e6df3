"""synth --tomorrow: planted patterns are held back whole, so they complete only in the stream."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from relgraph.synth import generate
from relgraph.synth.tomorrow import hold_back, tomorrow_dir


def test_tomorrow_holds_every_planted_transfer_and_the_last_day(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    generate(600, 3, bank, "csv", locale="zh", export_style="plain")
    everything = pd.read_csv(bank / "transfers.csv", dtype=str)
    split = hold_back(bank, 1.0)
    today = pd.read_csv(bank / "transfers.csv", dtype=str)
    tomorrow = pd.read_csv(tomorrow_dir(bank) / "transfers.csv", dtype=str)
    planted = pd.read_csv(bank / "truth" / "laundering.csv", dtype=str)
    completing = pd.read_csv(bank / "truth" / "tomorrow.csv", dtype=str)

    assert split == {"today": len(today), "tomorrow": len(tomorrow),
                     "patterns": planted["pattern_key"].nunique()}  # fmt: skip
    assert sorted(today["tx_id"].tolist() + tomorrow["tx_id"].tolist()) == sorted(
        everything["tx_id"]
    )
    assert not set(planted["tx_id"]) & set(today["tx_id"])  # no pattern completes today
    assert set(completing["tx_id"]) <= set(tomorrow["tx_id"])
    moments = pd.to_datetime(tomorrow["ts"])
    assert moments.is_monotonic_increasing  # streamed in time order
    last_day = pd.to_datetime(everything["ts"]) > pd.to_datetime(
        everything["ts"]
    ).max() - pd.Timedelta(days=1)
    assert set(everything.loc[last_day, "tx_id"]) <= set(tomorrow["tx_id"])


def test_tomorrow_of_a_dirty_bank_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    # The malformed rows of --dirty (a timestamp "2026-00-10T08:00:00") ended the split in a
    # pandas traceback, exit 1, after the bank was written without its tomorrow; and
    # dirty.csv's line numbers would no longer name the rows once tomorrow's leave the file.
    from typer.testing import CliRunner

    from relgraph.cli import app

    out = tmp_path / "bank"
    done = CliRunner().invoke(
        app, ["synth", "--out", str(out), "--customers", "300", "--dirty", "0.02",
              "--tomorrow", "1"],
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert "error: --tomorrow needs a bank without --dirty rows" in " ".join(done.output.split())
    assert not out.exists()
