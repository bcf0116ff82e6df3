"""The on-demand check of one account over a shared transfer index."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering import standing
from relgraph.analytics.layering.detectors import (
    _Bursts,
    _fan_bursts,
    _gather_scatter,
    _scatter_gather,
    gather_bursts,
)
from relgraph.analytics.layering.frames import chain_ids
from relgraph.analytics.layering.hops import (
    _Chains,
    _eligible,
    _keys,
    _transfer_arrays,
    _Tx,
    _walk,
    hop_and_spoke_links,
    spoke_params,
)
from relgraph.analytics.layering.merge import edge_times, merge_overlapping
from relgraph.analytics.layering.params import (
    _HOUR_MS,
    F64,
    I64,
    B,
    LayeringParams,
)
from relgraph.analytics.layering.scoring import (
    Alerts,
    _assemble,
    _Context,
    _context,
)
from relgraph.analytics.layering.season import bank_takings
from relgraph.analytics.sets import unique
from relgraph.config import data_zone
from relgraph.graph import Projection

MAX_WINDOW_HOURS: Final = 30 * 24.0
"""Largest window an on-demand check accepts (30 days)."""
MAX_CHECK_HOPS: Final = 12
"""Largest ``max_hops`` an on-demand check accepts."""


@dataclass(frozen=True)
class LayeringIndex:
    """Every transfer sorted by (source, time) and by (target, time), for on-demand checks.

    Built once per projection (about a second on a million customers' transfers) and
    shared by every check; a check then reads only the account's neighbourhood.

    Examples
    --------
    >>> index = LayeringIndex.build(projection)
    >>> round(check_account(projection, account("A3"), index=index).score, 2)
    0.56
    """

    amount: F64
    ts: I64
    src: I64
    dst: I64
    out_key: I64
    """``src * span + (ts - t0)`` per transfer, ascending (EdgeSet order)."""
    in_order: I64
    """Transfer positions sorted by (target, time)."""
    in_key: I64
    """``dst * span + (ts - t0)`` in ``in_order``, ascending."""
    tx_ids: npt.NDArray[np.object_]
    t0: int
    span: int
    context: _Context
    params: LayeringParams
    zone: tzinfo
    """The zone of the data's days (:func:`relgraph.config.data_zone`): the live index reads
    the opening days of accounts sent to the server in it."""
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The batch alerts with ``params`` and the alerts of each account, once computed."""
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    """Held while the batch alerts are computed: callers at the same time wait for the one
    scan instead of each starting their own (seconds each on a large bank)."""

    def batch_alerts(self, projection: Projection) -> tuple[Alerts, I64, I64]:
        """The scan's alerts (computed on first use) and, per account, its alerts in CSR
        form (``alert_of[ptr[a]:ptr[a+1]]``)."""
        with self.lock:
            return self._batch_alerts(projection)

    def _batch_alerts(self, projection: Projection) -> tuple[Alerts, I64, I64]:
        if "alerts" not in self.cache:
            from relgraph.analytics.layering.batch import scan

            alerts = scan(projection, self.params, self.context.household, self.context.network)
            size = np.diff(alerts.ptr)
            grp = np.repeat(np.arange(len(alerts), dtype=np.int64), size)
            key = unique(
                np.concatenate([self.src[alerts.edges], self.dst[alerts.edges]])
                * max(len(alerts), 1)
                + np.concatenate([grp, grp])
            )
            n_acc = len(projection.nodes["Account"])
            account, alert = key // max(len(alerts), 1), key % max(len(alerts), 1)
            ptr = np.zeros(n_acc + 1, np.int64)
            np.cumsum(np.bincount(account, minlength=n_acc), out=ptr[1:])
            self.cache["alerts"] = (alerts, ptr, alert.astype(np.int64))
        found: tuple[Alerts, I64, I64] = self.cache["alerts"]
        return found

    @classmethod
    def build(
        cls,
        projection: Projection,
        params: LayeringParams | None = None,
        households_label: npt.ArrayLike | None = None,
        networks_label: npt.ArrayLike | None = None,
    ) -> LayeringIndex:
        """Index ``projection``'s transfers (labels as for :func:`scan`)."""
        params = params or LayeringParams()
        amount, ts, src, dst = _transfer_arrays(projection)
        # Room for the widest window either side, so a key never spills into the next account.
        margin = int(MAX_WINDOW_HOURS * _HOUR_MS) + 1
        t0 = (int(ts.min()) if len(ts) else 0) - margin
        span = (int(ts.max()) if len(ts) else 0) - t0 + 2 * margin
        out_key = _keys(src, ts, t0, span)
        if len(out_key) > 1 and (np.diff(out_key) < 0).any():
            raise ValueError("transfers are not in (source, time) order: rebuild the projection")
        in_order = np.lexsort((np.arange(len(ts)), ts, dst)).astype(np.int64)
        in_key = _keys(dst[in_order], ts[in_order], t0, span)
        ctx = _context(projection, params, households_label, networks_label)
        ctx = replace(ctx, takings=bank_takings(amount, ts, src, dst, ctx.enterprise, params))
        # Scans of part of the bank (a verdict's neighbourhood, a check) cut periods where
        # the batch does: from the bank's first eligible transfer.
        eligible = (amount >= params.min_amount) & (src != dst)
        if eligible.any():
            ctx = replace(ctx, origin=int(ts[eligible].min()))
        tx_ids = projection.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
        return cls(amount, ts, src, dst, out_key, in_order, in_key, tx_ids, t0, span, ctx, params,
                   data_zone(projection.meta))  # fmt: skip

    def partners_of(self, a: int) -> int:
        """How many distinct other accounts ``a`` paid or was paid by (:mod:`.standing`)."""
        out = self.dst[np.searchsorted(self.out_key, a * self.span) : np.searchsorted(
            self.out_key, (a + 1) * self.span)]  # fmt: skip
        lo, hi = np.searchsorted(self.in_key, [a * self.span, (a + 1) * self.span])
        other = np.concatenate([out, self.src[self.in_order[lo:hi]]])
        return len(unique(other[other != a]))

    def _eligible(self, rows: I64, params: LayeringParams) -> I64:
        ok = (self.amount[rows] >= params.min_amount) & (self.src[rows] != self.dst[rows])
        return np.asarray(rows[ok], np.int64)

    def _key(self, account: I64, ts: I64) -> I64:
        return _keys(account, ts, self.t0, self.span)

    def successors(self, rows: I64, params: LayeringParams) -> tuple[I64, I64]:
        """Hop links leaving ``rows``: (predecessor, successor) transfer positions."""
        arrive = self.dst[rows]
        lo = np.searchsorted(self.out_key, self._key(arrive, self.ts[rows]), "right")
        hi = np.searchsorted(
            self.out_key, self._key(arrive, self.ts[rows] + params.window_ms), "right"
        )
        pred, succ = _expand(rows, lo, hi)
        return self._passes(pred, succ, params)

    def predecessors(self, rows: I64, params: LayeringParams) -> tuple[I64, I64]:
        """Hop links entering ``rows``: (predecessor, successor) transfer positions."""
        leave = self.src[rows]
        lo = np.searchsorted(
            self.in_key, self._key(leave, self.ts[rows] - params.window_ms), "left"
        )
        hi = np.searchsorted(self.in_key, self._key(leave, self.ts[rows]), "left")
        succ, at = _expand(rows, lo, hi)
        return self._passes(self.in_order[at], succ, params)

    def _passes(self, pred: I64, succ: I64, params: LayeringParams) -> tuple[I64, I64]:
        share = self.amount[succ] / self.amount[pred]
        ok = (
            (share >= params.min_pass_share)
            & (share <= params.max_pass_share)
            & (self.amount[pred] >= params.min_amount)
            & (self.amount[succ] >= params.min_amount)
            & (self.src[pred] != self.dst[pred])
            & (self.src[succ] != self.dst[succ])
        )
        return pred[ok], succ[ok]


def _expand(rows: I64, lo: npt.NDArray[Any], hi: npt.NDArray[Any]) -> tuple[I64, I64]:
    """Each of ``rows`` repeated once per position of its ``lo:hi`` range, beside the position."""
    count = (hi - lo).astype(np.int64)
    owner = np.repeat(rows, count)
    start = np.repeat(lo.astype(np.int64) - (np.cumsum(count) - count), count)
    return owner, start + np.arange(len(owner), dtype=np.int64)


@dataclass(frozen=True)
class Hop:
    """One transfer of an alert, in hop order (``ts`` in epoch milliseconds)."""

    tx_id: str
    from_account: str
    to_account: str
    amount: float
    ts: int


@dataclass(frozen=True)
class CheckedChain:
    """One alert an account takes part in: its reasons are data (as stored, JSON-ready)."""

    chain_id: str
    typology: str
    score: float
    reasons: list[dict[str, Any]]
    hops: Sequence[Hop]


@dataclass(frozen=True)
class AccountCheck:
    """The answer of :func:`check_account`.

    Attributes
    ----------
    account_index : int
    account_id : str
    score : float
        Highest score of the alerts the account takes part in (0 without any).
    alerts : Alerts
        Those alerts.
    chains : list of CheckedChain
        Per alert, highest score first.
    reasons : list of dict
        The account's reasons: one per alert (``chain_id``, ``typology``, ``score``).
    truncated : bool
        Whether the search stopped at ``check_max_paths`` (the answer may be incomplete).
    params : LayeringParams
        The thresholds used (defaults with the call's overrides).
    """

    account_index: int
    account_id: str
    score: float
    alerts: Alerts
    chains: list[CheckedChain]
    reasons: list[dict[str, Any]]
    truncated: bool
    params: LayeringParams


def _check_arguments(
    projection: Projection,
    account_index: int,
    params: LayeringParams,
    window_hours: float | None,
    max_hops: int | None,
    min_amount: float | None,
    since_ms: int | None,
    until_ms: int | None,
) -> LayeringParams:
    n = len(projection.nodes["Account"])
    if isinstance(account_index, bool) or not isinstance(account_index, int | np.integer):
        raise ValueError(f"account_index must be an integer, not {account_index!r}")
    if not 0 <= int(account_index) < n:
        raise ValueError(f"account_index must be in 0..{n - 1}, not {account_index}")
    changes: dict[str, Any] = {}
    if window_hours is not None:
        if not (np.isfinite(window_hours) and 0 < window_hours <= MAX_WINDOW_HOURS):
            raise ValueError(
                f"window_hours must be > 0 and ≤ {MAX_WINDOW_HOURS:g}, not {window_hours!r}"
            )
        changes["window_hours"] = float(window_hours)
    if max_hops is not None:
        if isinstance(max_hops, bool) or not isinstance(max_hops, int | np.integer):
            raise ValueError(f"max_hops must be an integer, not {max_hops!r}")
        if not params.min_hops <= max_hops <= MAX_CHECK_HOPS:
            raise ValueError(
                f"max_hops must be in {params.min_hops}..{MAX_CHECK_HOPS}, not {max_hops}"
            )
        changes["max_hops"] = int(max_hops)
    if min_amount is not None:
        if not (np.isfinite(min_amount) and min_amount > 0):
            raise ValueError(f"min_amount must be a positive number, not {min_amount!r}")
        changes["min_amount"] = float(min_amount)
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise ValueError(f"since_ms ({since_ms}) is after until_ms ({until_ms})")
    return replace(params, **changes)


def check_account(
    projection: Projection,
    account_index: int,
    params: LayeringParams | None = None,
    window_hours: float | None = None,
    max_hops: int | None = None,
    min_amount: float | None = None,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    index: LayeringIndex | None = None,
    households_label: npt.ArrayLike | None = None,
    networks_label: npt.ArrayLike | None = None,
) -> AccountCheck:
    """Check one account: the chains through it and the bursts at it, scored.

    Walks backward from the account's eligible transfers (those between ``since_ms`` and
    ``until_ms`` when given) to where their chains start, forward from there, and runs
    the batch definitions on that neighbourhood: the chains are exactly the batch
    chains through the account (same thresholds). Also reported: fan bursts and
    gather-scatter at the account, and scatter-gathers it splits or gathers (as a
    middle account it shows in neither; its chains show the flow). With other settings
    than the index's, at the window's scale only: round trips, slow fans and slow
    scatter-gathers are judged on every transfer (routine flows, a hub's history), and
    come with the index's own settings, from the batch alerts.

    Parameters
    ----------
    projection : Projection
    account_index : int
        The account's index (``projection.nodes["Account"].index(account_id)``).
    params : LayeringParams, optional
        Defaults for everything not overridden (the index's when omitted).
    window_hours : float, optional
        In (0, 720].
    max_hops : int, optional
        In ``min_hops``..12.
    min_amount : float, optional
        Positive.
    since_ms, until_ms : int, optional
        Only the account's transfers in this time range start the search.
    index : LayeringIndex, optional
        Built once per projection and reused; built here when omitted (slow: seconds).
    households_label, networks_label : array-like of int, optional
        As for :func:`scan`; used only when ``index`` is built here.

    Returns
    -------
    AccountCheck

    Raises
    ------
    ValueError
        On an account index or argument out of range, with the range in the message.

    Examples
    --------
    Account A3 of ``tests/docbank.py`` is in a four-hop chain; with a two-hour window
    the three hours between its second and third hop break it.

    >>> index = LayeringIndex.build(projection)
    >>> result = check_account(projection, account("A3"), index=index)
    >>> [(c.typology, len(c.hops)) for c in result.chains]
    [('layering_chain', 4)]
    >>> check_account(projection, account("A3"), window_hours=2, index=index).chains
    []
    """
    base = params or (index.params if index is not None else LayeringParams())
    p = _check_arguments(
        projection, account_index, base, window_hours, max_hops, min_amount, since_ms, until_ms
    )
    if index is None:
        index = LayeringIndex.build(projection, p, households_label, networks_label)
    a = int(account_index)
    if p == index.params and since_ms is None and until_ms is None:
        # The index's own settings: the batch alerts through the account, exactly (round
        # trips, routine flows and a hub's history are judged over every transfer).
        every, ptr, alert_of = index.batch_alerts(projection)
        mine = np.sort(alert_of[ptr[a] : ptr[a + 1]])
        return _answer(projection, index, a, every.take(mine), False, p)
    limit = p.check_max_paths
    first_out = np.searchsorted(index.out_key, a * index.span)
    out_rows = np.arange(first_out, np.searchsorted(index.out_key, (a + 1) * index.span))
    in_lo = np.searchsorted(index.in_key, a * index.span)
    in_hi = np.searchsorted(index.in_key, (a + 1) * index.span)
    own = index._eligible(np.concatenate([out_rows, index.in_order[in_lo:in_hi]]), p)
    if since_ms is not None:
        own = own[index.ts[own] >= since_ms]
    if until_ms is not None:
        own = own[index.ts[own] <= until_ms]

    # Backward: every transfer whose chains may reach the account's, and which of them start.
    truncated = False
    seen = np.unique(own)
    frontier = seen
    entered: list[I64] = []
    for _ in range(p.max_hops - 1):
        if len(frontier) == 0:
            break
        pred, succ = index.predecessors(frontier, p)
        entered.append(succ)
        frontier = np.setdiff1d(np.unique(pred), seen, assume_unique=True)
        seen = np.union1d(seen, frontier)
        if len(seen) > limit:
            truncated = True
            break
    if len(frontier):
        # At the depth limit, whether a transfer has predecessors still decides if it starts.
        entered.append(index.predecessors(frontier, p)[1])
    has_pred = np.unique(np.concatenate(entered)) if entered else np.zeros(0, np.int64)
    starts = np.setdiff1d(seen, has_pred, assume_unique=True)

    # Forward from the starts, with a visited set of its own (a start's chain passes through
    # transfers the backward walk saw, and must go on from them).
    forward = frontier = starts
    for _ in range(p.max_hops - 1):
        if len(frontier) == 0 or len(forward) > limit:
            truncated = truncated or len(frontier) > 0
            break
        nxt = np.unique(index.successors(frontier, p)[1])
        frontier = np.setdiff1d(nxt, forward, assume_unique=True)
        forward = np.union1d(forward, frontier)
    # One hop on from the account's own transfers, and one back: the other legs of the
    # scatter-gathers it splits or gathers (spokes may pass on less than a chain's hop).
    by_spoke = spoke_params(p)
    legs = np.union1d(index.successors(own, by_spoke)[1], index.predecessors(own, by_spoke)[0])
    reach = np.union1d(np.union1d(np.union1d(seen, forward), index.successors(own, p)[1]), legs)

    tx = _eligible(index.amount, index.ts, index.src, index.dst, p.min_amount, reach)
    links, spokes = hop_and_spoke_links(tx, p)
    start_pos = np.flatnonzero(np.isin(tx.edge, starts)).astype(np.int64)
    chains = _walk(tx, links, start_pos, p, limit=limit)
    truncated = truncated or chains.cut
    kept: dict[int, I64] = {}
    kept_trunc: dict[int, B] = {}
    for k, paths in chains.paths.items():
        touches = ((tx.src[paths] == a) | (tx.dst[paths] == a)).any(axis=1)
        if touches.any():
            kept[k] = paths[touches]
            kept_trunc[k] = chains.truncated[k][touches]
    scatter = [s for s in _scatter_gather(tx, spokes, p) if a in _sg_ends(tx, s)]
    own_pos = np.flatnonzero(np.isin(tx.edge, own)).astype(np.int64)
    own_tx = tx.take(own_pos)
    fans: dict[str, _Bursts] = {}
    sides: dict[str, _Bursts] = {}  # the gather-scatter's, at a (detectors.gather_bursts)
    for name, inbound in (("fan_in", True), ("fan_out", False)):
        fans[name] = _at(_fan_bursts(own_tx, p, inbound), a, own_pos)
        sides[name] = _at(gather_bursts(own_tx, p, inbound), a, own_pos)
    gather = _gather_scatter(tx, sides["fan_in"], sides["fan_out"], p)
    alerts = _assemble(tx, _Chains(kept, kept_trunc), scatter, gather, fans, index.context, p)
    alerts = merge_overlapping(alerts, edge_times(tx))
    return _answer(projection, index, a, alerts, truncated, p)


def _at(bursts: _Bursts, a: int, positions: I64) -> _Bursts:
    """The bursts at hub ``a``, as ``positions`` of the transfers they were found among."""
    mine = np.flatnonzero(bursts.hub == a)
    return _Bursts([positions[bursts.members[i]] for i in mine.tolist()], bursts.hub[mine])


def _answer(
    projection: Projection,
    index: LayeringIndex,
    a: int,
    alerts: Alerts,
    truncated: bool,
    p: LayeringParams,
) -> AccountCheck:
    ids = chain_ids(projection, alerts, index.tx_ids)
    accounts = projection.nodes["Account"]
    chains_out: list[CheckedChain] = []
    for i in np.argsort(-alerts.score, kind="stable").tolist():
        e = alerts.transfers(i)
        frm = accounts.id_of(index.src[e])
        to = accounts.id_of(index.dst[e])
        hops = [
            Hop(str(index.tx_ids[x]), str(f), str(t), float(index.amount[x]), int(index.ts[x]))
            for x, f, t in zip(e.tolist(), frm, to, strict=True)
        ]
        chains_out.append(
            CheckedChain(
                str(ids[i]),
                str(alerts.typology[i]),
                float(alerts.score[i]),
                alerts.reasons(i),
                hops,
            )
        )
    # The account's risk: the alerts that count toward it (a transfer hub's part in
    # another account's fan does not, :mod:`.standing`), as ``Account.risk`` reads it.
    hub = alerts.facts["origin"].to_numpy(np.int64)
    transfer_hub = np.full(len(alerts), index.partners_of(a) > p.hub_partners)
    counted = standing.counts(alerts.typology, hub, np.full(len(alerts), a), transfer_hub)
    held = {str(ids[i]) for i in np.flatnonzero(counted).tolist()}
    reasons: list[dict[str, Any]] = [
        {"chain_id": c.chain_id, "typology": c.typology, "score": c.score}
        for c in chains_out
        if c.chain_id in held
    ]
    return AccountCheck(
        account_index=a,
        account_id=str(accounts.id_of([a])[0]),
        score=float(alerts.score[counted].max(initial=0.0)),
        alerts=alerts,
        chains=chains_out,
        reasons=reasons,
        truncated=truncated,
        params=p,
    )


def _sg_ends(tx: _Tx, members: I64) -> set[int]:
    """The splitting and the gathering account of a scatter-gather episode."""
    first = members[np.argmin(tx.ts[members])]
    s = int(tx.src[first])
    gathered = {int(x) for x in tx.dst[members][tx.src[members] != s]}
    return {s, *gathered}
