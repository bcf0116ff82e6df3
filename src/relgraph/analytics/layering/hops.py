"""Eligible transfers, hop links between them, and the walk that turns links into chains."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.analytics.layering.params import (
    F64,
    I64,
    B,
    LayeringParams,
)
from relgraph.analytics.sets import argsort_stable, search, unique
from relgraph.graph import Projection
from relgraph.model import REPORTING_CURRENCY


@dataclass(frozen=True)
class _Tx:
    """Eligible transfers sorted by (source, time); ``edge`` maps them to EdgeSet positions."""

    edge: I64
    src: I64
    dst: I64
    amount: F64
    ts: I64
    payer_high: F64 | None = None
    """Per transfer: its payer's and payee's highs (:func:`.amounts.highs`) when known from
    a longer history than these transfers (the real-time index's); None: judged on these."""
    payee_high: F64 | None = None
    pair_count: I64 | None = None
    """Per transfer: the periods its pair transacted in before these transfers, and the
    latest of them (:mod:`.pairs`: the live index's; None: these transfers are all)."""
    pair_last: I64 | None = None

    def __len__(self) -> int:
        return len(self.edge)

    @cached_property
    def by_target(self) -> I64:
        """Positions in (target, time) order, ties by position. Hop links, payees' highs,
        fan-ins and hub histories all walk the arrivals in this order; one sort of the
        same transfers serves them all (at 1M transfers one sort costs about 1.4 s)."""
        return _by_account_time(self.dst, self.ts)

    def take(self, rows: I64) -> _Tx:
        return _Tx(
            self.edge[rows],
            self.src[rows],
            self.dst[rows],
            self.amount[rows],
            self.ts[rows],
            None if self.payer_high is None else self.payer_high[rows],
            None if self.payee_high is None else self.payee_high[rows],
            None if self.pair_count is None else self.pair_count[rows],
            None if self.pair_last is None else self.pair_last[rows],
        )


RowFacts = tuple[npt.NDArray[Any], ...]
"""Per row, facts from beyond the transfers scanned (the live index's): payer's and payee's
highs, and optionally the pair's earlier periods and the latest (``_Tx`` fields in order)."""


def with_facts(tx: _Tx, facts: RowFacts, at: I64) -> _Tx:
    """``tx`` with ``facts`` of the rows ``at`` (one per transfer of ``tx``)."""
    return same_transfers(tx, *(f[at] for f in facts))


def same_transfers(tx: _Tx, *facts: npt.NDArray[Any]) -> _Tx:
    """``tx`` with other per-row ``facts`` (``_Tx``'s fields after ``ts``, in order; those
    not given are None): the same transfers in the same order, so the orders already
    sorted out of ``tx`` (:attr:`_Tx.by_target`) carry over."""
    out = _Tx(tx.edge, tx.src, tx.dst, tx.amount, tx.ts, *facts)
    if "by_target" in tx.__dict__:
        out.__dict__["by_target"] = tx.by_target
    return out


@dataclass(frozen=True)
class _Links:
    """Hop links in CSR order by predecessor: the successors of ``p`` are ``succ[ptr[p]:ptr[p+1]]``."""

    pred: I64
    succ: I64
    ptr: I64


def _transfer_arrays(projection: Projection) -> tuple[F64, I64, I64, I64]:
    """Amount, time, source and target of every transfer; the amount of one in another
    currency than :data:`REPORTING_CURRENCY` is NaN, which no definition takes."""
    edges = projection.edge("Account", "TRANSFER", "Account")
    amount = edges.attrs["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    if "currency" in edges.attrs.columns:
        foreign = foreign_currency(edges.attrs["currency"])
        if foreign.any():  # a copy: the projection's column is shared and read-only
            amount = np.where(foreign, np.nan, amount)
    ts = edges.attrs["ts"].to_numpy(dtype=np.int64)
    return amount, ts, edges.src.astype(np.int64), edges.dst.astype(np.int64)


def foreign_currency(currency: pd.Series) -> B:
    """Per transfer: in a currency other than :data:`REPORTING_CURRENCY` (none given is
    taken as it: stores written before the graph kept currencies).

    >>> foreign_currency(pd.Series(["CNY", "USD", None])).tolist()
    [False, True, False]
    """
    return np.asarray(currency.notna() & (currency != REPORTING_CURRENCY), bool)


def _eligible(
    amount: F64, ts: I64, src: I64, dst: I64, min_amount: float, rows: I64 | None = None
) -> _Tx:
    """The eligible transfers among ``rows`` (all when None), sorted by (source, time)."""
    if rows is None:
        rows = np.arange(len(amount), dtype=np.int64)
    keep = rows[(amount[rows] >= min_amount) & (src[rows] != dst[rows])]
    # The EdgeSet is in (source, time) order already; a subset may not be, so sort stably.
    keep = keep[_by_account_time(src[keep], ts[keep])]
    return _Tx(keep, src[keep], dst[keep], amount[keep], ts[keep])


def _by_account_time(account: I64, ts: I64) -> I64:
    """The stable order by (account, time): ``np.lexsort((ts, account))``, as one sort of
    a packed key when it fits in 62 bits."""
    if len(ts) == 0:
        return np.zeros(0, np.int64)
    t0 = int(ts.min())
    span = int(ts.max()) - t0 + 1
    if (int(account.max()) + 1) * span >= 1 << 62:
        return np.lexsort((ts, account))
    return argsort_stable(account.astype(np.int64) * span + (ts - t0))


def _keys(account: I64, ts: I64, t0: int, span: int) -> I64:
    return account * span + (ts - t0)


def _links(tx: _Tx, params: LayeringParams, least: float | None = None) -> _Links:
    """Every hop link among ``tx``: a window join of arrivals against departures, each
    passing on at least ``least`` (default ``min_pass_share``)."""
    n = len(tx)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return _Links(empty, empty, np.zeros(1, np.int64))
    window = params.window_ms
    t0 = int(tx.ts.min())
    span = int(tx.ts.max()) - t0 + window + 1
    departures = _keys(tx.src, tx.ts, t0, span)  # ascending: tx is sorted by (src, ts)
    # Strictly after the arrival, at most ``window`` later: a (dst, ts) range per transfer.
    # Both bounds' queries ascend in the arrivals' (target, time) order.
    order = tx.by_target
    lo = search(departures, _keys(tx.dst, tx.ts, t0, span), side="right", order=order)
    hi = search(departures, _keys(tx.dst, tx.ts + window, t0, span), side="right", order=order)
    count = (hi - lo).astype(np.int64)
    pred = np.repeat(np.arange(n, dtype=np.int64), count)
    start = np.repeat(lo.astype(np.int64) - (np.cumsum(count) - count), count)
    succ = start + np.arange(len(pred), dtype=np.int64)
    least = params.min_pass_share if least is None else least
    return _narrowed(tx, _Links(pred, succ, np.zeros(0, np.int64)), least, params.max_pass_share)


def linked_to(tx: _Tx, mine: I64, params: LayeringParams, window: int, least: float) -> tuple[B, B]:
    """Per transfer ``i``: whether it is a link into ``mine[i]`` (arriving at its source at
    most ``window`` before it), and whether it is a link into or out of it (leaving its
    target at most ``window`` after it) passing on between ``least`` and
    ``max_pass_share`` — the window join of :func:`_links` against one transfer per row
    (``mine``: per row, the transfer it is asked about)."""
    t = tx.ts[mine]
    into = (tx.dst == tx.src[mine]) & (tx.ts < t) & (tx.ts >= t - window)
    out = (tx.src == tx.dst[mine]) & (tx.ts > t) & (tx.ts <= t + window)
    with np.errstate(divide="ignore", invalid="ignore"):
        # The same quotients as _links (successor over predecessor): the same verdict.
        share = np.where(into, tx.amount[mine] / tx.amount, tx.amount / tx.amount[mine])
    return into, (into | out) & (share >= least) & (share <= params.max_pass_share)


def _narrowed(tx: _Tx, links: _Links, least: float, most: float) -> _Links:
    """The links passing on between ``least`` and ``most`` of what arrived (in order)."""
    share = tx.amount[links.succ] / tx.amount[links.pred]
    ok = (share >= least) & (share <= most)
    pred, succ = links.pred[ok], links.succ[ok]
    n = len(tx)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pred, minlength=n), out=ptr[1:])
    return _Links(pred, succ, ptr)


@lru_cache(maxsize=16)
def spoke_params(params: LayeringParams) -> LayeringParams:
    """The settings whose hop links are scatter-gather spokes: passing on at least
    ``spoke_min_share`` (kept per settings, as :func:`.routine.slow_params`)."""
    return replace(params, min_pass_share=params.spoke_min_share)


@lru_cache(maxsize=16)
def slow_spoke_params(params: LayeringParams) -> LayeringParams:
    """The settings of slow scatter-gathers: spokes at ``spoke_min_share`` whose second
    transfer follows the first within the round-trip horizon (as slow fans widen theirs)."""
    return replace(
        params,
        window_hours=params.cycle_horizon_days * 24,
        min_pass_share=params.spoke_min_share,
    )


def hop_and_spoke_links(tx: _Tx, params: LayeringParams) -> tuple[_Links, _Links]:
    """The chains' hop links and the scatter-gather spokes among ``tx``: one window join
    at the looser share, narrowed to each (the same links as two joins)."""
    if params.spoke_min_share == params.min_pass_share:
        links = _links(tx, params)
        return links, links
    loose = _links(tx, params, params.loosest_share)
    most = params.max_pass_share
    return (_narrowed(tx, loose, params.min_pass_share, most),
            _narrowed(tx, loose, params.spoke_min_share, most))  # fmt: skip


@dataclass(frozen=True)
class _Chains:
    """Chains by length: ``paths[k]`` is an (n, k) array of positions into the _Tx."""

    paths: dict[int, I64]
    truncated: dict[int, B]
    cut: bool = False
    """Whether the frontier was cut to ``limit`` chains (on-demand checks only)."""


def _walk(
    tx: _Tx, links: _Links, starts: I64, params: LayeringParams, limit: int | None = None
) -> _Chains:
    """Follow every hop link from ``starts``, one vectorised step per hop (definition above).

    More than ``params.max_paths`` chains at once raise; with ``limit``, the frontier is
    cut to that many instead (and the result says so).
    """
    paths = starts[:, None]
    accounts = np.stack([tx.src[starts], tx.dst[starts]], axis=1)
    found: dict[int, list[I64]] = {}
    cut = False
    for k in range(1, params.max_hops):
        if limit is not None and len(paths) > limit:
            paths, accounts, cut = paths[:limit], accounts[:limit], True
        if len(paths) > params.max_paths:
            raise ValueError(
                f"layering: {len(paths):,} chains of {k} hops followed at once, over max_paths "
                f"({params.max_paths:,}); lower max_hops or raise max_paths"
            )
        last = paths[:, -1]
        count = links.ptr[last + 1] - links.ptr[last]
        parent = np.repeat(np.arange(len(paths), dtype=np.int64), count)
        offset = np.arange(len(parent), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        nxt = links.succ[links.ptr[last][parent] + offset]
        to = tx.dst[nxt]
        # A hop back into a1 … ak (an intermediate account) does not continue the chain.
        ok = ~(accounts[parent, 1:] == to[:, None]).any(axis=1)
        continued = np.bincount(parent[ok], minlength=len(paths)) > 0
        if k >= params.min_hops:
            found.setdefault(k, []).append(paths[~continued])
        parent, nxt, to = parent[ok], nxt[ok], to[ok]
        paths = np.concatenate([paths[parent], nxt[:, None]], axis=1)
        accounts = np.concatenate([accounts[parent], to[:, None]], axis=1)
        home = to == accounts[:, 0]
        if k + 1 >= params.min_hops:
            found.setdefault(k + 1, []).append(paths[home])
        paths, accounts = paths[~home], accounts[~home]
        if len(paths) == 0:
            break
    out: dict[int, I64] = {}
    truncated: dict[int, B] = {}
    for k, parts in found.items():
        out[k] = np.concatenate(parts, axis=0)
        truncated[k] = np.zeros(len(out[k]), bool)
    if len(paths):
        k = params.max_hops
        prior = out.get(k, np.zeros((0, k), np.int64))
        out[k] = np.concatenate([prior, paths], axis=0)
        truncated[k] = np.concatenate(
            [truncated.get(k, np.zeros(0, bool)), np.ones(len(paths), bool)]
        )
    return _Chains({k: v for k, v in out.items() if len(v)}, truncated, cut)


def _starts(links: _Links, n: int) -> I64:
    """Transfers no hop link enters and at least one leaves."""
    entered = np.bincount(links.succ, minlength=n) > 0
    leaves = np.diff(links.ptr) > 0
    return np.flatnonzero(~entered & leaves).astype(np.int64)


def _merge_round_trips(tx: _Tx, paths: I64) -> tuple[I64, I64, I64]:
    """One alert per loop of accounts: the round trips of ``k`` hops through the same
    account sequence (money split into chunks, or sent round twice, gives one per choice
    of chunk) merge into one alert holding all their transfers in time order.

    Returns the merged transfers (grouped by alert), their count per alert and, per
    alert, its earliest round trip (for the facts).
    """
    if len(paths) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), paths
    seq = np.concatenate([tx.src[paths[:, :1]], tx.dst[paths]], axis=1)
    order = np.lexsort((tx.ts[paths[:, 0]], *seq.T[::-1]))
    ranked = seq[order]
    new = np.ones(len(order), bool)
    new[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
    group = np.empty(len(order), np.int64)
    group[order] = np.cumsum(new) - 1
    first = paths[order[new]]
    n_groups = len(first)
    k = paths.shape[1]
    pos = paths.ravel()
    width = len(tx) + 1
    code = unique(np.repeat(group, k) * width + pos)
    grp, member = code // width, code % width
    by_time = np.lexsort((tx.edge[member], tx.ts[member], grp))  # ties as merge.py orders
    size = np.bincount(grp, minlength=n_groups).astype(np.int64)
    return member[by_time].astype(np.int64), size, first


def _new_round_trips(tx: _Tx, chains: _Chains, found: dict[int, I64]) -> dict[int, I64]:
    """The round trips that are not already a chain (a fast chain home is both)."""
    out: dict[int, I64] = {}
    for k, paths in found.items():
        known = chains.paths.get(k)
        if known is None or len(known) == 0:
            out[k] = paths
            continue
        both = np.concatenate([known, paths], axis=0)
        _, first, inverse = np.unique(both, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        mine = inverse[len(known) :]
        # A round trip is new when the first row with its transfers is not a chain's.
        keep = first[mine] >= len(known)
        if keep.any():
            out[k] = paths[keep]
    return out
