"""Stacks whose next or previous layer is not a block (analytics/layering/blocks.py).

Each story lives on its own accounts (amounts in CNY, 2026; every account opened in 2015):

* Next layer: ``SA1``–``SA3`` each pay ``SM1`` and ``SM2`` about 40,000 (a block); two days
  later ``SM1`` pays ``SC1`` 21,000 and ``SC2`` 95,000, ``SM2`` pays ``SC2`` 99,000 and
  ``SC3`` 17,000. The second layer is no block (no two of ``SC1``–``SC3`` share two
  payers), but two receivers of the block pay ``SC2`` what they just received: one
  ``stack`` alert, the block and those two payments.
* Previous layer: ``PA1`` pays ``PM1`` 60,000 and ``PM2`` 55,000, ``PA2`` pays ``PM1`` and
  ``PA3`` pays ``PM2``; a day later ``PM1`` and ``PM2`` each pay ``PC1`` and ``PC2`` about
  42,000 (a block). The first layer is no block, but ``PA1`` paid two senders of the
  block before they paid: one ``stack`` alert, the block and ``PA1``'s two payments.
* Friends ``FR1`` and ``FR2`` each pay ``FR3`` and ``FR4`` their share of two bills (a
  block, as every shared bill is); then ``FR3`` alone pays a small restaurant ``REST``:
  no next layer, no stack. Friends ``FB1`` and ``FB2`` split two bills with ``FB3`` and
  ``FB4``, who both then pay shop ``SHOP`` (paid by 40 customers): a shop is never a
  layer (``block_max_degree``), no stack.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from relgraph.analytics.layering import Alerts, scan
from relgraph.analytics.layering.batch import find_patterns, score_pattern_columns
from relgraph.analytics.layering.focus import focused_patterns
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import LayeringParams
from relgraph.analytics.layering.scoring import ScoredColumns, _Context
from relgraph.analytics.layering.union import scan_union
from relgraph.graph import Projection
from tests.banks import Rows, holder_each, project, transfer, write_bank

START = datetime(2026, 3, 2, 10, 0)
HOUR = timedelta(hours=1)


NEXT_DAY = START + timedelta(days=40)
NEXT: Rows = [
    *(transfer(f"SNa{i}{j}", f"SA{i}", f"SM{j}", 39_000 + 700 * i + 300 * j,
          NEXT_DAY + (3 * i + j) * HOUR) for i in (1, 2, 3) for j in (1, 2)),
    transfer("SNb11", "SM1", "SC1", 21_000, NEXT_DAY + 50 * HOUR),
    transfer("SNb12", "SM1", "SC2", 95_000, NEXT_DAY + 52 * HOUR),
    transfer("SNb22", "SM2", "SC2", 99_000, NEXT_DAY + 55 * HOUR),
    transfer("SNb23", "SM2", "SC3", 17_000, NEXT_DAY + 58 * HOUR),
]  # fmt: skip
PREV_DAY = START + timedelta(days=70)
PREV: Rows = [
    transfer("SPa11", "PA1", "PM1", 60_000, PREV_DAY),
    transfer("SPa12", "PA1", "PM2", 55_000, PREV_DAY + 2 * HOUR),
    transfer("SPa21", "PA2", "PM1", 30_000, PREV_DAY + 4 * HOUR),
    transfer("SPa32", "PA3", "PM2", 35_000, PREV_DAY + 6 * HOUR),
    *(transfer(f"SPb{i}{j}", f"PM{i}", f"PC{j}", 41_000 + 600 * i + 200 * j,
          PREV_DAY + (24 + 3 * i + j) * HOUR) for i in (1, 2) for j in (1, 2)),
]  # fmt: skip
FRIENDS_DAY = START + timedelta(days=100)
FRIENDS: Rows = [
    *(transfer(f"SFa{i}{j}", f"FR{i}", f"FR{j}", 400 if j == 3 else 300,
          FRIENDS_DAY + (i + j) * HOUR) for i in (1, 2) for j in (3, 4)),
    transfer("SFr", "FR3", "REST", 1_500, FRIENDS_DAY + 30 * HOUR),
    *(transfer(f"SFo{k}", f"DINER{k}", "REST", 200 + 50 * k, FRIENDS_DAY + k * 24 * HOUR)
      for k in range(2)),
    *(transfer(f"SGa{i}{j}", f"FB{i}", f"FB{j}", 350 if j == 3 else 250,
          FRIENDS_DAY + (i + j) * HOUR) for i in (1, 2) for j in (3, 4)),
    transfer("SGs3", "FB3", "SHOP", 900, FRIENDS_DAY + 20 * HOUR),
    transfer("SGs4", "FB4", "SHOP", 800, FRIENDS_DAY + 22 * HOUR),
    *(transfer(f"SGo{k}", f"BUYER{k}", "SHOP", 100 + 10 * k, FRIENDS_DAY + (k - 20) * HOUR)
      for k in range(40)),
]  # fmt: skip
TRANSFERS: Rows = [*NEXT, *PREV, *FRIENDS]
BANK = holder_each(TRANSFERS)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("stacks")
    return project(write_bank(root / "bank", BANK), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


def _tx_ids(bank: Projection, alerts: Alerts, i: int) -> set[str]:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    return {str(x) for x in ids[alerts.transfers(i)]}


def _touching(bank: Projection, alerts: Alerts, prefix: str) -> list[int]:
    """Alerts (any score) holding a transfer whose id starts with ``prefix``."""
    return [
        i for i in range(len(alerts)) if any(t.startswith(prefix) for t in _tx_ids(bank, alerts, i))
    ]


def _stacks(bank: Projection, alerts: Alerts, prefix: str) -> list[int]:
    return [i for i in _touching(bank, alerts, prefix) if alerts.typology[i] == "stack"]


def test_a_stack_whose_next_layer_is_not_a_block_is_one_stack_alert(
    bank: Projection, alerts: Alerts
) -> None:
    stacks = _stacks(bank, alerts, "SN")
    assert len(stacks) == 1
    i = stacks[0]
    block = {f"SNa{i}{j}" for i in (1, 2, 3) for j in (1, 2)}
    assert _tx_ids(bank, alerts, i) == block | {"SNb12", "SNb22"}
    assert alerts.score[i] >= alerts.params.score_threshold
    reasons = {str(r["reason"]): r for r in alerts.reasons(i)}
    assert reasons["pass_through"]["weight"] > 0
    # The planted pattern is found: at least half its transfers in alerts at the threshold.
    strong = set().union(*(_tx_ids(bank, alerts, k) for k in _touching(bank, alerts, "SN")
                           if alerts.score[k] >= alerts.params.score_threshold))  # fmt: skip
    assert 2 * len(strong & {t["tx_id"] for t in NEXT}) >= len(NEXT)


def test_a_stack_whose_previous_layer_is_not_a_block_is_one_stack_alert(
    bank: Projection, alerts: Alerts
) -> None:
    stacks = _stacks(bank, alerts, "SP")
    assert len(stacks) == 1
    i = stacks[0]
    block = {f"SPb{i}{j}" for i in (1, 2) for j in (1, 2)}
    assert _tx_ids(bank, alerts, i) == block | {"SPa11", "SPa12"}
    assert alerts.score[i] >= alerts.params.score_threshold


def test_friends_splitting_bills_are_not_a_stack(bank: Projection, alerts: Alerts) -> None:
    # Two friends' shares of two bills are a block; one of them paying a restaurant is no
    # next layer (two of the block's receivers must pay one account), nor are both paying
    # a shop (no layer through an account with more than block_max_degree counterparties)…
    for friends in ("SFa", "SGa"):
        kinds = [str(alerts.typology[i]) for i in _touching(bank, alerts, friends)]
        assert kinds == ["bipartite"], friends
    assert not _stacks(bank, alerts, "SF")
    assert not _stacks(bank, alerts, "SG")
    # …while the same shape with two receivers paying one account on is a stack.
    assert _stacks(bank, alerts, "SNb")


# -- the real-time verdict: the same stacks from its focused detectors and its union ----


def _arrays(rows: Rows) -> tuple[_Tx, _Context, dict[str, int]]:
    """The stories' transfers as a scan's arrays (positions in ``rows`` order)."""
    names = sorted({r[k] for r in rows for k in ("from_account", "to_account")})
    at = {a: k for k, a in enumerate(names)}
    n = len(names)
    ctx = _Context(np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.arange(n, dtype=np.int64), np.zeros(0, np.int64), np.zeros(n + 1, np.int64),
                   np.zeros(0, np.int64), 1)  # fmt: skip
    ts = [int(datetime.fromisoformat(r["ts"]).timestamp() * 1000) for r in rows]
    order = np.argsort([at[r["from_account"]] * 10**15 + t for r, t in zip(rows, ts, strict=True)])
    tx = _Tx(
        np.arange(len(rows), dtype=np.int64),
        np.array([at[rows[k]["from_account"]] for k in order], np.int64),
        np.array([at[rows[k]["to_account"]] for k in order], np.int64),
        np.array([float(rows[k]["amount"]) for k in order]),
        np.array([ts[k] for k in order], np.int64),
    )
    return tx, ctx, {rows[k]["tx_id"]: p for p, k in enumerate(order)}


def _holding(alerts: ScoredColumns, p: int) -> list[tuple[list[int], str, float]]:
    return [(alerts.transfers(i).tolist(), str(alerts.typology[i]), float(alerts.score[i]))
            for i in range(len(alerts)) if (alerts.transfers(i) == p).any()]  # fmt: skip


def test_the_verdict_on_a_layer_transfer_finds_its_stack() -> None:
    # focus.py runs the block detector only where a necessary condition holds: a transfer
    # of a next or previous layer is no block transfer, so the condition must admit it.
    rows = [*NEXT, *PREV, *FRIENDS]
    tx, ctx, at = _arrays(rows)
    params = LayeringParams()
    every = score_pattern_columns(tx, find_patterns(tx, ctx, params), ctx, params)
    for p in range(len(tx)):
        found = focused_patterns(tx, ctx, params, p)
        got = [] if found is None else _holding(score_pattern_columns(tx, found, ctx, params), p)
        assert got == _holding(every, p), p
    for layer in ("SNb12", "SNb22", "SPa11", "SPa12"):
        found = focused_patterns(tx, ctx, params, at[layer])
        assert found is not None, layer
        scored = score_pattern_columns(tx, found, ctx, params)
        assert [t for _, t, _ in _holding(scored, at[layer])] == ["stack"], layer


def test_a_union_of_verdicts_keeps_a_layer_transfers_part_whole() -> None:
    # gate.py sends a part where only fans can hold the verdict's transfer to the fan
    # detectors alone: a layer transfer of a stack must not be sent there.
    tx, ctx, at = _arrays([*NEXT, *PREV])
    params = LayeringParams()
    arrays = (tx.amount, tx.ts, tx.src, tx.dst)
    whole = np.arange(len(tx), dtype=np.int64)
    layers = ["SNb12", "SNb22", "SPa11", "SPa12"]
    union = scan_union([whole] * len(layers), arrays, lambda a: _Context(
        ctx.opened[a], ctx.person[a], ctx.enterprise[a], ctx.household, ctx.network,
        ctx.device_keys, ctx.device_ptr, ctx.device_of, ctx.n_devices),
        params, verdicts=np.array([at[x] for x in layers]))  # fmt: skip
    held = union.holding(np.array([at[x] for x in layers]))
    for k, layer in enumerate(layers):
        assert [str(union.alerts.typology[i]) for i in held[k]] == ["stack"], layer
