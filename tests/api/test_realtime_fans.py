"""A streamed fan is judged against the same figures as the next batch judges it.

A fan whose hub has no earlier transfer in the fan's direction is judged against its
peers, as every slow (30-day) fan is: the 90th percentile of distinct counterparties per
window over every account of the bank. The live verdict took that figure from its own
neighbourhood (a few accounts): a fan-out of six 48,000s by an account that had only
received pay scored 0.8279 live and 0.8941 in the next batch (``fan_excess`` 0 against
0.3566), six weekly 48,000s to strangers 0.811 against 0.8165.

Such a hub's own usual (its transfers that way per window) and whether the bank had watched
it silent long enough to judge it at all are counted over the bank's time, from its first
transfer; the live verdict counted them over its neighbourhood's, which for a dormant
account is its fan alone: six 48,000s by an old account silent since the bank's first
transfer scored 0.8583 live and 0.9128 in the batch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from tests.api.test_realtime_ties import HISTORY, _at, _stream_then_batch


def _assert_same_verdicts(realtime: dict[str, Any], chains: pd.DataFrame, typology: str) -> None:
    """The live alerts (``typology`` among them) are the batch's: same ids, typology, score
    and reasons (values and their types, as the stored chain serves them)."""
    assert typology in {a.typology for a in realtime.values()}
    assert sorted(realtime) == sorted(chains.index)
    for chain_id, alert in realtime.items():
        assert alert.typology == chains.at[chain_id, "typology"]
        assert alert.score == chains.at[chain_id, "score"]
        assert json.loads(json.dumps(alert.reasons)) == json.loads(
            str(chains.at[chain_id, "reasons"])
        )


# P only ever received pay (HISTORY); then pays six strangers 48,000 each within hours.
FAN_OUT_AFTER_PAY = [_at(1 + 0.5 * i, f"F{i}", "P", f"T{i}", 48_000.0) for i in range(6)]
# An account opened long ago, silent since the bank's first transfer, pays six strangers.
DORMANT = [_at(1 + 0.5 * i, f"D{i}", "OLD", f"U{i}", 48_000.0) for i in range(6)]
# A slow fan-out: 48,000 to a stranger every five days.
WEEKLY = [_at(24 * 5 * i, f"W{i}", "P", f"R{i}", 48_000.0) for i in range(6)]


def test_a_fan_out_by_an_account_that_only_received_pay_scores_as_in_the_batch(
    tmp_path: Path,
) -> None:
    realtime, chains, _ = _stream_then_batch(
        tmp_path, HISTORY, FAN_OUT_AFTER_PAY, [[0, 1, 2, 3, 4, 5]]
    )
    _assert_same_verdicts(realtime, chains, "fan_out")


def test_a_fan_out_by_a_dormant_account_scores_as_in_the_batch(tmp_path: Path) -> None:
    realtime, chains, _ = _stream_then_batch(tmp_path, HISTORY, DORMANT, [[0, 1, 2, 3, 4, 5]])
    _assert_same_verdicts(realtime, chains, "fan_out")


def test_a_slow_fan_out_to_strangers_scores_as_in_the_batch(tmp_path: Path) -> None:
    realtime, chains, _ = _stream_then_batch(tmp_path, HISTORY, WEEKLY, [[i] for i in range(6)])
    _assert_same_verdicts(realtime, chains, "fan_out")
