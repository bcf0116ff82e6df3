"""The real-time verdict's scoring path without pandas gives the batch scan's alerts.

The verdict scores a handful of alerts per transfer through :class:`ScoredColumns` and
:func:`merge_columns`; the batch scan builds its DataFrames from the same columns. These
tests pin the pieces that differ between the two sizes of input: the components of the
merge (label propagation for a few alerts, scipy for many) and the round-trip early exit.
"""

from __future__ import annotations

import numpy as np
import pytest

from relgraph.analytics.layering import merge as merging
from relgraph.analytics.layering.batch import (
    find_patterns,
    scan_transfers,
    score_pattern_columns,
)
from relgraph.analytics.layering.hops import _eligible, _transfer_arrays, _Tx
from relgraph.analytics.layering.params import LayeringParams
from relgraph.analytics.layering.roundtrip import _returns_home
from relgraph.analytics.layering.scoring import _context
from relgraph.graph import Projection
from tests.analytics.test_layering import BANK
from tests.banks import project, write_bank


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("columns")
    return project(write_bank(root / "bank", BANK), root / "data")


def test_components_known_answer() -> None:
    # Alerts 0 and 2 share transfer node 0, 2 and 3 share node 2; alert 1 stands alone.
    grp = np.array([0, 0, 1, 2, 2, 3], np.int64)
    tnode = np.array([0, 1, 3, 0, 2, 2], np.int64)
    labels = merging._components(grp, tnode, 4, 4)
    assert labels.tolist() == [0, 1, 0, 0]


def test_components_by_propagation_match_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n, k = int(rng.integers(2, 40)), int(rng.integers(1, 50))
        grp = np.r_[np.arange(n), np.sort(rng.integers(0, n, 2 * n))].astype(np.int64)
        tnode = rng.integers(0, k, len(grp)).astype(np.int64)
        small = merging._components(grp, tnode, n, k)
        monkeypatch.setattr(merging, "_PROPAGATE_MAX", 0)
        large = merging._components(grp, tnode, n, k)
        monkeypatch.undo()
        # The same partition, numbered in the order of each component's first alert.
        assert np.unique(small, return_inverse=True)[1].tolist() == (
            np.unique(large, return_inverse=True)[1].tolist()
        )


def test_columns_give_the_batch_alerts_and_reasons(bank: Projection) -> None:
    params = LayeringParams(score_threshold=0.0)
    tx = _eligible(*_transfer_arrays(bank), params.min_amount)
    ctx = _context(bank, params, None, None)
    frames = scan_transfers(tx, ctx, params)
    columns = score_pattern_columns(tx, find_patterns(tx, ctx, params), ctx, params)
    assert len(frames) == len(columns) > 0
    assert frames.typology.tolist() == columns.typology.tolist()
    assert frames.edges.tolist() == columns.edges.tolist()
    assert frames.score.tolist() == columns.score.tolist()
    for i in range(len(frames)):
        assert frames.reasons(i) == columns.reasons(i)


def test_returns_home_known_answer() -> None:
    hour = 3_600_000
    # A→B then B→A an hour later: A's money came home. B→A itself leaves B and nothing
    # reaches B after it; C→D never returns; E→F returns after the horizon only.
    accounts = {name: i for i, name in enumerate("ABCDEF")}
    legs = [("A", "B", 1), ("B", "A", 2), ("C", "D", 3), ("E", "F", 4), ("F", "E", 40)]
    tx = _Tx(
        np.arange(len(legs), dtype=np.int64),
        np.array([accounts[a] for a, _, _ in legs], np.int64),
        np.array([accounts[b] for _, b, _ in legs], np.int64),
        np.full(len(legs), 50_000.0),
        np.array([h * hour for _, _, h in legs], np.int64),
    )
    group = np.arange(6, dtype=np.int64)
    no_network = np.full(6, -1, np.int64)
    assert _returns_home(tx, group, no_network, 24 * hour).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]
    # C and D in one hidden network: C→D does not leave home.
    network = np.array([-1, -1, 7, 7, -1, -1], np.int64)
    assert not _returns_home(tx, group, network, 24 * hour)[2]
    # With a horizon of two days, E's money is home again in time.
    assert _returns_home(tx, group, no_network, 48 * hour)[3]
