"""Layered transactions: multi-hop chains, cycles, scatter-gather and fan bursts, with risk scores.

Definitions (what the tests hold the code to; every threshold is a field of
:class:`LayeringParams`, environment ``RELGRAPH_LAYERING_<FIELD>``):

* An **eligible transfer** moves at least ``min_amount`` (default 5,000, in the
  transfer's currency — the projection carries no exchange rates) between two
  different accounts. Smaller payments (shopping, bills, most P2P) are never part of
  an alert.
* A **hop link** ``e → f`` joins two eligible transfers when ``f`` leaves the
  account ``e`` arrived at, strictly after ``e`` and at most ``window_hours``
  (default 72) later, and passes on between ``min_pass_share`` (0.8) and
  ``max_pass_share`` (1.0) of ``e``'s amount: skims are allowed, topping up with
  one's own money is not passing it on.
* A **chain** is a sequence of transfers ``e1 … ek`` through accounts
  ``a0 → a1 → … → ak``, each consecutive pair a hop link, with ``a0 … a(k-1)``
  distinct; ``ak`` is either new or ``a0`` (the money came home, and the chain ends
  there). Chains are reported **maximal**: the walk starts at a transfer no hop link
  enters and follows every hop link until none continues the chain (a link back to an
  intermediate account does not), the chain returns to ``a0``, or it holds
  ``max_hops`` (8) transfers (then it is marked truncated). A chain with at least
  ``min_hops`` (3) transfers is an alert. Its typology is ``cycle`` when ``ak`` is
  ``a0``, another account of the same holder, or an account of a person in the
  origin's household or hidden network (when those labels are given); otherwise
  ``layering_chain``.
* A **scatter-gather** is money split from account ``s`` over at least
  ``min_spokes`` (3) distinct middle accounts ``m`` that pass it on (hop links
  ``s → m → g``) to one account ``g``. The two-hop paths of one ``(s, g)`` pair are
  ordered by their first transfer and cut into episodes where two consecutive
  splits are more than ``window_hours`` apart; each episode with enough distinct
  middle accounts is one alert.
* A **fan-in (fan-out) burst** at account ``h``: its incoming (outgoing) eligible
  transfers, in time order; every transfer that opens a ``window_hours`` window
  holding at least ``min_fan`` (5) of them marks that window dense; overlapping
  dense windows merge into one burst, which is an alert when it involves at least
  ``min_fan`` distinct counterparties.
* A **gather-scatter**: a fan-in burst at ``h`` followed by a fan-out burst at ``h``
  that starts before the fan-in's last transfer plus the window, sending on between
  ``min_pass_share`` and ``max_pass_share`` of what came in.

Risk score. Each alert carries *reasons*: facts with a weight in [0, 1] (weights
are fields of :class:`LayeringParams`). The score is their noisy-OR,
``1 − Π(1 − weight)``, so every reason raises it and none alone decides it:

* ``hops`` — chains: ``hop_weight`` (0.15) at ``min_hops``, +0.05 per extra hop, at
  most 0.35; scatter-gather: 0.15 + 0.05 per extra middle account; fans: 0.1.
* ``speed`` — median time the money sat in an account (half the episode's span for a
  scatter-gather, the burst's span for fans):
  ≤ 1 h 0.3, ≤ 6 h 0.25, ≤ 24 h 0.15, else 0.
* ``retained`` — the share of the first amount that did not reach the end (data;
  weight 0.1 when under 10 %, i.e. almost everything passed through).
* ``new_accounts`` — accounts of the alert opened at most ``new_account_days`` (90)
  before its first transfer: 0.6 × their share of the alert's accounts.
* ``linked_endpoints`` — origin and end (``s`` and ``g``) are the same account or
  holder (0.5), in one household (0.4), one hidden network (0.35), or share a
  private device (≤ ``max_device_sharers`` users; 0.35).
* ``structuring`` — transfers in ``[(1 − structuring_band) × reporting_threshold,
  reporting_threshold)`` (45,000–50,000 by default): 0.6 × their share.

An alert at or above ``score_threshold`` (0.5) is reported by default. An
account's risk is the highest score of the alerts it takes part in, with those
alerts as its reasons.

Two entry points: :func:`scan`, the batch over every transfer (sort + window joins,
one vectorised step per hop), and :func:`check_account` for one account on demand,
which collects the account's neighbourhood from a :class:`LayeringIndex` and runs the
same definitions on it, so it finds exactly the batch chains through the account.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.analytics.params import _FromEnv
from relgraph.config import ConfigError
from relgraph.graph import Projection

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_HOUR_MS: Final = 3_600_000
_DAY_MS: Final = 24 * _HOUR_MS
TYPOLOGIES: Final = (
    "layering_chain",
    "cycle",
    "scatter_gather",
    "gather_scatter",
    "fan_in",
    "fan_out",
)
LINKS: Final = ("", "same_account", "same_holder", "household", "network", "device")
"""Codes of ``linked_endpoints``, strongest first (index 0: not linked)."""


@dataclass(frozen=True)
class LayeringParams(_FromEnv):
    """Layered-transaction thresholds (environment ``RELGRAPH_LAYERING_<FIELD>``).

    Examples
    --------
    >>> LayeringParams.from_env({"RELGRAPH_LAYERING_WINDOW_HOURS": "48"}).window_hours
    48.0
    """

    ENV_PREFIX = "LAYERING"

    window_hours: float = 72.0
    """A hop must leave the account at most this long after the money arrived."""
    min_pass_share: float = 0.8
    """A hop passes on at least this share of what arrived (skims allowed)."""
    max_pass_share: float = 1.0
    """…and at most this share: adding one's own money is not passing it on."""
    min_amount: float = 5_000.0
    """Transfers below this amount are never part of an alert (everyday payments)."""
    min_hops: int = 3
    """A chain needs at least this many transfers."""
    max_hops: int = 8
    """Chains are followed for at most this many transfers (then marked truncated)."""
    min_spokes: int = 3
    """Scatter-gather: distinct middle accounts needed."""
    min_fan: int = 5
    """Fan bursts: transfers in one window and distinct counterparties needed."""
    reporting_threshold: float = 50_000.0
    """Large-transaction reporting threshold (CNY 50,000)."""
    structuring_band: float = 0.1
    """Amounts in the top ``structuring_band`` below the threshold count as structuring."""
    new_account_days: int = 90
    """An account opened this recently before an alert is a new account."""
    max_device_sharers: int = 10
    """A device with more users links nobody (a kiosk)."""
    score_threshold: float = 0.5
    """Alerts at or above this score are reported by default."""
    hop_weight: float = 0.15
    linked_weight: float = 0.5
    """Weight when the end is the origin account or holder; household 0.4, network/device 0.35."""
    max_paths: int = 5_000_000
    """Batch: chains followed at once; a larger frontier raises (lower max_hops or raise this)."""
    check_max_paths: int = 20_000
    """On-demand check: transfers visited before giving up (the answer says it is truncated)."""

    def check(self) -> None:
        super().check()
        if not 0 < self.min_pass_share <= self.max_pass_share:
            raise ConfigError("LAYERING needs 0 < min_pass_share ≤ max_pass_share")
        if not 2 <= self.min_hops <= self.max_hops:
            raise ConfigError("LAYERING needs 2 ≤ min_hops ≤ max_hops")
        if self.window_hours <= 0 or self.min_spokes < 2 or self.min_fan < 2:
            raise ConfigError("LAYERING needs window_hours > 0, min_spokes ≥ 2 and min_fan ≥ 2")
        if not 0 <= self.structuring_band < 1 or not 0 <= self.score_threshold <= 1:
            raise ConfigError(
                "LAYERING needs structuring_band in [0, 1), score_threshold in [0, 1]"
            )

    @property
    def window_ms(self) -> int:
        return round(self.window_hours * _HOUR_MS)


# -- transfers and hop links ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Tx:
    """Eligible transfers sorted by (source, time); ``edge`` maps them to EdgeSet positions."""

    edge: I64
    src: I64
    dst: I64
    amount: F64
    ts: I64

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, rows: I64) -> _Tx:
        return _Tx(
            self.edge[rows], self.src[rows], self.dst[rows], self.amount[rows], self.ts[rows]
        )


@dataclass(frozen=True)
class _Links:
    """Hop links in CSR order by predecessor: the successors of ``p`` are ``succ[ptr[p]:ptr[p+1]]``."""

    pred: I64
    succ: I64
    ptr: I64


def _transfer_arrays(projection: Projection) -> tuple[F64, I64, I64, I64]:
    edges = projection.edge("Account", "TRANSFER", "Account")
    amount = edges.attrs["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    ts = edges.attrs["ts"].to_numpy(dtype=np.int64)
    return amount, ts, edges.src.astype(np.int64), edges.dst.astype(np.int64)


def _eligible(
    amount: F64, ts: I64, src: I64, dst: I64, min_amount: float, rows: I64 | None = None
) -> _Tx:
    """The eligible transfers among ``rows`` (all when None), sorted by (source, time)."""
    if rows is None:
        rows = np.arange(len(amount), dtype=np.int64)
    keep = rows[(amount[rows] >= min_amount) & (src[rows] != dst[rows])]
    # The EdgeSet is in (source, time) order already; a subset may not be, so sort stably.
    order = np.lexsort((ts[keep], src[keep]))
    keep = keep[order]
    return _Tx(keep, src[keep], dst[keep], amount[keep], ts[keep])


def _keys(account: I64, ts: I64, t0: int, span: int) -> I64:
    return account * span + (ts - t0)


def _links(tx: _Tx, params: LayeringParams) -> _Links:
    """Every hop link among ``tx``: a window join of arrivals against departures."""
    n = len(tx)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return _Links(empty, empty, np.zeros(1, np.int64))
    window = params.window_ms
    t0 = int(tx.ts.min())
    span = int(tx.ts.max()) - t0 + window + 1
    departures = _keys(tx.src, tx.ts, t0, span)  # ascending: tx is sorted by (src, ts)
    # Strictly after the arrival, at most ``window`` later: a (dst, ts) range per transfer.
    lo = np.searchsorted(departures, _keys(tx.dst, tx.ts, t0, span), side="right")
    hi = np.searchsorted(departures, _keys(tx.dst, tx.ts + window, t0, span), side="right")
    count = (hi - lo).astype(np.int64)
    pred = np.repeat(np.arange(n, dtype=np.int64), count)
    start = np.repeat(lo.astype(np.int64) - (np.cumsum(count) - count), count)
    succ = start + np.arange(len(pred), dtype=np.int64)
    share = tx.amount[succ] / tx.amount[pred]
    ok = (share >= params.min_pass_share) & (share <= params.max_pass_share)
    pred, succ = pred[ok], succ[ok]
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pred, minlength=n), out=ptr[1:])
    return _Links(pred, succ, ptr)


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


# -- scatter-gather and fan bursts ------------------------------------------------------------------


def _episodes(group: I64, ts: I64, window: int) -> I64:
    """Episode number of each row (rows sorted by group, ts): a new one at a new group or a gap."""
    if len(group) == 0:
        return np.zeros(0, np.int64)
    new = np.ones(len(group), bool)
    new[1:] = (group[1:] != group[:-1]) | (np.diff(ts) > window)
    return np.cumsum(new) - 1


def _distinct_count(episode: I64, value: I64, n_episodes: int) -> I64:
    pairs = (
        np.unique(np.stack([episode, value], axis=1), axis=0)
        if len(episode)
        else np.zeros((0, 2), np.int64)
    )
    return np.bincount(pairs[:, 0], minlength=n_episodes).astype(np.int64)


def _scatter_gather(tx: _Tx, links: _Links, params: LayeringParams) -> list[I64]:
    """Scatter-gather episodes as lists of _Tx positions (definition above)."""
    e, f = links.pred, links.succ
    s, m, g = tx.src[e], tx.dst[e], tx.dst[f]
    order = np.lexsort((f, e, tx.ts[e], g, s))
    e, f, s, m, g = e[order], f[order], s[order], m[order], g[order]
    n_accounts = int(max(tx.src.max(initial=0), tx.dst.max(initial=0))) + 1
    episode = _episodes(s * n_accounts + g, tx.ts[e], params.window_ms)
    n_ep = int(episode.max(initial=-1)) + 1
    spokes = _distinct_count(episode, m, n_ep)
    keep = spokes[episode] >= params.min_spokes
    return _ragged_union(episode[keep], e[keep], f[keep])


def _ragged_union(episode: I64, *members: I64) -> list[I64]:
    """Per episode (in order): the distinct member positions, ascending."""
    if len(episode) == 0:
        return []
    ep = np.concatenate([episode] * len(members))
    pos = np.concatenate(members)
    pairs = np.unique(np.stack([ep, pos], axis=1), axis=0)
    cuts = np.flatnonzero(np.diff(pairs[:, 0])) + 1
    return [np.asarray(x, np.int64) for x in np.split(pairs[:, 1], cuts)]


@dataclass(frozen=True)
class _Bursts:
    """Fan bursts: members (positions into the _Tx) and hub account per burst."""

    members: list[I64]
    hub: I64


def _fan_bursts(tx: _Tx, params: LayeringParams, inbound: bool) -> _Bursts:
    """Fan-in (``inbound``) or fan-out bursts (definition above)."""
    hub_of = tx.dst if inbound else tx.src
    other = tx.src if inbound else tx.dst
    order = np.lexsort((np.arange(len(tx)), tx.ts, hub_of))
    hub, ts, other = hub_of[order], tx.ts[order], other[order]
    if len(order) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    t0 = int(ts.min())
    window = params.window_ms
    span = int(ts.max()) - t0 + window + 1
    key = _keys(hub, ts, t0, span)
    last = np.searchsorted(key, key + window, side="right") - 1
    dense = np.flatnonzero(last - np.arange(len(key)) + 1 >= params.min_fan)
    if len(dense) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    ends = last[dense]
    # Overlapping dense windows merge: a new burst where a window opens past every earlier end.
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(dense), bool)
    new[1:] = dense[1:] > reach[:-1]
    first = dense[new]
    burst_end = reach[np.flatnonzero(np.append(new[1:], True))]
    length = burst_end - first + 1
    burst = np.repeat(np.arange(len(first), dtype=np.int64), length)
    rows = np.repeat(first - (np.cumsum(length) - length), length) + np.arange(length.sum())
    distinct = _distinct_count(burst, other[rows], len(first))
    good = np.flatnonzero(distinct >= params.min_fan)
    cuts = np.cumsum(length)[:-1]
    members = np.split(order[rows], cuts)
    return _Bursts([np.sort(members[i]) for i in good.tolist()], hub[first[good]])


def _gather_scatter(
    tx: _Tx, fan_in: _Bursts, fan_out: _Bursts, params: LayeringParams
) -> list[I64]:
    """A fan-in burst followed by a fan-out burst at the same hub that sends most of it on."""
    out: list[I64] = []
    if not fan_in.members or not fan_out.members:
        return out
    by_hub: dict[int, list[int]] = {}
    for j, h in enumerate(fan_out.hub.tolist()):
        by_hub.setdefault(h, []).append(j)
    # One loop per fan-in burst (a few per busy account), never per transfer.
    for i, h in enumerate(fan_in.hub.tolist()):
        came = fan_in.members[i]
        t_first, t_last = int(tx.ts[came].min()), int(tx.ts[came].max())
        total_in = float(tx.amount[came].sum())
        for j in by_hub.get(h, []):
            went = fan_out.members[j]
            t_out = int(tx.ts[went].min())
            share = float(tx.amount[went].sum()) / total_in
            if (
                t_first < t_out <= t_last + params.window_ms
                and params.min_pass_share <= share <= params.max_pass_share
            ):
                out.append(np.union1d(came, went).astype(np.int64))
    return out


# -- alerts, features, scores -----------------------------------------------------------------------


@dataclass(frozen=True)
class Alerts:
    """Alerts of one scan (or one check), with their transfers, facts, reasons and scores.

    Attributes
    ----------
    typology : ndarray of str
        Per alert, one of :data:`TYPOLOGIES`.
    ptr, edges : ndarray of int
        The transfers of alert ``i`` are EdgeSet positions ``edges[ptr[i]:ptr[i+1]]``, in
        hop order for chains and time order otherwise.
    facts : DataFrame
        Per alert: ``hops``, ``first_ts``, ``last_ts``, ``amount_in``, ``amount_out``,
        ``retained``, ``median_dwell_ms``, ``new_accounts``, ``linked`` (a
        :data:`LINKS` code), ``structuring``, ``truncated``, ``origin``, ``end`` (account
        indices; −1 for fans).
    weights : DataFrame
        Per alert, the weight of each reason (columns ``hops``, ``speed``, ``retained``,
        ``new_accounts``, ``linked_endpoints``, ``structuring``).
    score : ndarray of float
        Noisy-OR of the weights.
    params : LayeringParams
        The thresholds used.
    """

    typology: npt.NDArray[np.object_]
    ptr: I64
    edges: I64
    facts: pd.DataFrame
    weights: pd.DataFrame
    score: F64
    params: LayeringParams = field(default_factory=LayeringParams)

    def __len__(self) -> int:
        return len(self.typology)

    def transfers(self, i: int) -> I64:
        """EdgeSet positions of alert ``i``'s transfers."""
        return self.edges[self.ptr[i] : self.ptr[i + 1]]

    def reasons(self, i: int) -> list[dict[str, Any]]:
        """Alert ``i``'s reasons as data: ``{"reason", "weight", "value"}``, strongest first."""
        f = self.facts.iloc[i]
        w = self.weights.iloc[i]
        values: dict[str, Any] = {
            "hops": int(f["hops"]),
            "speed": {"median_dwell_minutes": round(float(f["median_dwell_ms"]) / 60_000, 1)},
            "retained": round(float(f["retained"]), 4),
            "new_accounts": int(f["new_accounts"]),
            "linked_endpoints": str(f["linked"]),
            "structuring": int(f["structuring"]),
        }
        always = ("hops", "speed", "retained")
        rows = [
            {"reason": name, "weight": round(float(w[name]), 4), "value": values[name]}
            for name in values
            if name in always or float(w[name]) > 0
        ]
        if bool(f["truncated"]):
            rows.append({"reason": "truncated", "weight": 0.0, "value": self.params.max_hops})
        return sorted(rows, key=lambda r: -float(r["weight"]))


@dataclass(frozen=True)
class _Context:
    """Per-account and per-person data the scoring reads."""

    opened: I64
    """Per account: opening time in epoch ms (−1 when unknown)."""
    person: I64
    enterprise: I64
    household: I64 | None
    network: I64 | None
    device_keys: I64
    """Sorted ``person * n_devices + device`` for private devices."""
    device_ptr: I64
    device_of: I64
    n_devices: int


def _context(
    projection: Projection,
    params: LayeringParams,
    households_label: npt.ArrayLike | None,
    networks_label: npt.ArrayLike | None,
) -> _Context:
    attrs = projection.nodes["Account"].attrs
    opened = attrs["opened_at"].to_numpy(dtype=np.float64, na_value=np.nan)
    opened_ms = np.where(np.isnan(opened), -1, opened).astype(np.int64)
    uses = projection.edge("Person", "USES_DEVICE", "Device")
    n_dev = max(uses.n_target, 1)
    users = np.bincount(uses.dst, minlength=n_dev)
    private = users[uses.dst] <= params.max_device_sharers
    src = uses.src.astype(np.int64)[private]
    dst = uses.dst.astype(np.int64)[private]
    ptr = np.zeros(uses.n_source + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=uses.n_source), out=ptr[1:])
    return _Context(
        opened=opened_ms,
        person=attrs["person"].to_numpy(dtype=np.int64),
        enterprise=attrs["enterprise"].to_numpy(dtype=np.int64),
        household=None if households_label is None else np.asarray(households_label, np.int64),
        network=None if networks_label is None else np.asarray(networks_label, np.int64),
        device_keys=np.sort(src * n_dev + dst),
        device_ptr=ptr,
        device_of=dst,
        n_devices=n_dev,
    )


def _share_device(ctx: _Context, p: I64, q: I64) -> B:
    """Per pair: do persons ``p`` and ``q`` use one private device?"""
    result = np.zeros(len(p), bool)
    ok = (p >= 0) & (q >= 0) & (p != q)
    if not ok.any() or len(ctx.device_keys) == 0:
        return result
    pair = np.flatnonzero(ok)
    count = ctx.device_ptr[p[pair] + 1] - ctx.device_ptr[p[pair]]
    which = np.repeat(pair, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    device = ctx.device_of[ctx.device_ptr[p[which]] + offset]
    key = q[which] * ctx.n_devices + device
    pos = np.minimum(np.searchsorted(ctx.device_keys, key), len(ctx.device_keys) - 1)
    hit = ctx.device_keys[pos] == key
    result[which[hit]] = True
    return result


def _linked(ctx: _Context, a: I64, b: I64) -> I64:
    """Per pair of accounts: the strongest :data:`LINKS` code (0 when unrelated)."""
    code = np.zeros(len(a), np.int64)
    pa_, pb = ctx.person[a], ctx.person[b]
    ea, eb = ctx.enterprise[a], ctx.enterprise[b]
    persons = (pa_ >= 0) & (pb >= 0)
    tests: list[tuple[int, B]] = [
        (5, _share_device(ctx, pa_, pb)),
    ]
    if ctx.network is not None:
        tests.append(
            (4, persons & (ctx.network[np.maximum(pa_, 0)] == ctx.network[np.maximum(pb, 0)]))
        )
    if ctx.household is not None:
        tests.append(
            (3, persons & (ctx.household[np.maximum(pa_, 0)] == ctx.household[np.maximum(pb, 0)]))
        )
    tests.append((2, (persons & (pa_ == pb)) | ((ea >= 0) & (ea == eb))))
    tests.append((1, a == b))
    # Weaker codes first, so a stronger one overwrites them.
    for value, hit in tests:
        code[hit] = value
    return code


_LINK_WEIGHT: Final = np.array([0.0, 1.0, 1.0, 0.8, 0.7, 0.7])
"""Per LINKS code, as a share of ``linked_weight`` (0.5 → 0.5, 0.5, 0.4, 0.35, 0.35)."""


def _speed_weight(dwell_ms: F64) -> F64:
    return np.select(
        [dwell_ms <= _HOUR_MS, dwell_ms <= 6 * _HOUR_MS, dwell_ms <= _DAY_MS],
        [0.3, 0.25, 0.15],
        0.0,
    )


def _sum_by(group: I64, values: F64, n: int) -> F64:
    return np.asarray(np.bincount(group, weights=values, minlength=n), np.float64)


def _assemble(
    tx: _Tx,
    chains: _Chains,
    scatter: list[I64],
    gather_scatter: list[I64],
    fans: dict[str, _Bursts],
    ctx: _Context,
    params: LayeringParams,
) -> Alerts:
    """Alerts with their facts, reason weights and scores, from positions into ``tx``."""
    typ: list[npt.NDArray[np.object_]] = []
    members: list[I64] = []
    sizes: list[I64] = []
    origin: list[I64] = []
    end: list[I64] = []
    hops: list[I64] = []
    dwell: list[F64] = []
    amount_in: list[F64] = []
    amount_out: list[F64] = []
    truncated: list[B] = []

    for k in sorted(chains.paths):
        paths = chains.paths[k]
        a0 = tx.src[paths[:, 0]]
        ak = tx.dst[paths[:, -1]]
        n = len(paths)
        members.append(paths.ravel())
        sizes.append(np.full(n, k, np.int64))
        origin.append(a0)
        end.append(ak)
        hops.append(np.full(n, k, np.int64))
        dwell.append(np.median(np.diff(tx.ts[paths], axis=1), axis=1).astype(np.float64))
        amount_in.append(tx.amount[paths[:, 0]])
        amount_out.append(tx.amount[paths[:, -1]])
        truncated.append(chains.truncated[k])
        typ.append(np.full(n, "layering_chain", object))
    n_chain = sum(len(t) for t in typ)

    def add_sets(name: str, sets: list[I64], hub: I64 | None) -> None:
        if not sets:
            return
        n = len(sets)
        flat = np.concatenate(sets)
        size = np.array([len(s) for s in sets], np.int64)
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(size, out=ptr[1:])
        # Time order inside each set.
        grp = np.repeat(np.arange(n), size)
        order = np.lexsort((tx.ts[flat], grp))
        flat = flat[order]
        members.append(flat)
        sizes.append(size)
        typ.append(np.full(n, name, object))
        first_ts = tx.ts[flat[ptr[:-1]]]
        last_ts = tx.ts[flat[ptr[1:] - 1]]
        truncated.append(np.zeros(n, bool))
        if name == "scatter_gather":
            # Middle accounts are the sources of the second legs; facts per episode.
            srcs = tx.src[flat]
            s = tx.src[flat[ptr[:-1]]]
            leg2 = srcs != np.repeat(s, size)
            first_leg = ~leg2
            into = _sum_by(grp, np.where(first_leg, tx.amount[flat], 0.0), n)
            outof = _sum_by(grp, np.where(leg2, tx.amount[flat], 0.0), n)
            g = tx.dst[flat[ptr[1:] - 1]]
            spokes = np.array(
                [
                    len(
                        np.unique(tx.dst[flat[ptr[i] : ptr[i + 1]][first_leg[ptr[i] : ptr[i + 1]]]])
                    )
                    for i in range(n)
                ],
                np.int64,
            )
            origin.append(s)
            end.append(g)
            hops.append(spokes)
            amount_in.append(into)
            amount_out.append(outof)
            dwell.append(((last_ts - first_ts) / 2.0).astype(np.float64))
        else:
            assert hub is not None
            # A burst has a hub, not two endpoints: ``linked_endpoints`` never fires on it.
            origin.append(hub)
            end.append(np.full(n, -1, np.int64))
            hops.append(size)
            total = _sum_by(grp, tx.amount[flat], n)
            amount_in.append(total)
            amount_out.append(total)
            dwell.append((last_ts - first_ts).astype(np.float64))

    add_sets("scatter_gather", scatter, None)
    gs_hub = np.array([int(tx.dst[s[np.argmin(tx.ts[s])]]) for s in gather_scatter], np.int64)
    add_sets("gather_scatter", gather_scatter, gs_hub)
    add_sets("fan_in", fans["fan_in"].members, fans["fan_in"].hub)
    add_sets("fan_out", fans["fan_out"].members, fans["fan_out"].hub)

    typology = np.concatenate(typ) if typ else np.zeros(0, object)
    n = len(typology)
    flat = np.concatenate(members) if members else np.zeros(0, np.int64)
    size = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=ptr[1:])
    o = np.concatenate(origin) if origin else np.zeros(0, np.int64)
    e = np.concatenate(end) if end else np.zeros(0, np.int64)
    grp = np.repeat(np.arange(n), size)
    ts = tx.ts[flat]
    first_ts = np.full(n, 0, np.int64)
    last_ts = np.full(n, 0, np.int64)
    if n:
        first_ts = np.minimum.reduceat(ts, ptr[:-1]) if len(ts) else first_ts
        last_ts = np.maximum.reduceat(ts, ptr[:-1]) if len(ts) else last_ts

    # New accounts: each distinct account of an alert, opened shortly before its first transfer.
    acc = np.concatenate([tx.src[flat], tx.dst[flat]])
    acc_grp = np.concatenate([grp, grp])
    pairs = np.unique(np.stack([acc_grp, acc], axis=1), axis=0) if n else np.zeros((0, 2), np.int64)
    opened = ctx.opened[pairs[:, 1]]
    start = first_ts[pairs[:, 0]]
    fresh = (
        (opened >= 0) & (opened >= start - params.new_account_days * _DAY_MS) & (opened <= start)
    )
    new_accounts = np.bincount(pairs[:, 0][fresh], minlength=n).astype(np.int64)
    n_accounts = np.bincount(pairs[:, 0], minlength=n).astype(np.int64)

    linked = np.zeros(n, np.int64)
    ends = np.flatnonzero((o >= 0) & (e >= 0))
    linked[ends] = _linked(ctx, o[ends], e[ends])
    is_chain = np.arange(n) < n_chain
    cycle = is_chain & np.isin(linked, [1, 2]) | is_chain & (
        (linked == 3) | ((linked == 4) & (ctx.network is not None))
    )
    typology[cycle] = "cycle"

    low = params.reporting_threshold * (1 - params.structuring_band)
    amounts = tx.amount[flat]
    band = (amounts >= low) & (amounts < params.reporting_threshold)
    structuring = np.bincount(grp[band], minlength=n).astype(np.int64)

    a_in = np.concatenate(amount_in) if amount_in else np.zeros(0)
    a_out = np.concatenate(amount_out) if amount_out else np.zeros(0)
    retained = np.where(a_in > 0, 1 - a_out / np.where(a_in > 0, a_in, 1), 0.0)
    h = np.concatenate(hops) if hops else np.zeros(0, np.int64)
    d = np.concatenate(dwell) if dwell else np.zeros(0)
    trunc = np.concatenate(truncated) if truncated else np.zeros(0, bool)
    facts = pd.DataFrame(
        {
            "hops": h,
            "first_ts": first_ts,
            "last_ts": last_ts,
            "amount_in": a_in,
            "amount_out": a_out,
            "retained": retained,
            "median_dwell_ms": d,
            "new_accounts": new_accounts,
            "linked": np.asarray(LINKS, dtype=object)[linked],
            "structuring": structuring,
            "truncated": trunc,
            "origin": o,
            "end": e,
        }
    )
    fan = np.isin(typology, ["fan_in", "fan_out", "gather_scatter"])
    extra = np.where(is_chain, h - params.min_hops, h - params.min_spokes)
    w_hops = np.where(fan, 0.1, np.minimum(params.hop_weight + 0.05 * np.maximum(extra, 0), 0.35))
    w_speed = _speed_weight(d)
    pass_through = ~fan & (retained < 0.1)
    w_retained = np.where(pass_through, 0.1, 0.0)
    # A share, not a count: a payroll run reaching 240 employees, 6 of them new, is not a
    # flow through fresh accounts; a chain through 2 new accounts of 4 is.
    w_new = 0.6 * new_accounts / np.maximum(n_accounts, 1)
    w_linked = params.linked_weight * _LINK_WEIGHT[linked]
    w_struct = 0.6 * structuring / np.maximum(size, 1)
    weights = pd.DataFrame(
        {
            "hops": w_hops,
            "speed": w_speed,
            "retained": w_retained,
            "new_accounts": w_new,
            "linked_endpoints": w_linked,
            "structuring": w_struct,
        }
    )
    score = 1 - np.prod(1 - weights.to_numpy(np.float64), axis=1) if n else np.zeros(0)
    return Alerts(
        typology, ptr, tx.edge[flat], facts, weights, np.asarray(score, np.float64), params
    )


# -- batch scan -------------------------------------------------------------------------------------


def scan(
    projection: Projection,
    params: LayeringParams | None = None,
    households_label: npt.ArrayLike | None = None,
    networks_label: npt.ArrayLike | None = None,
) -> Alerts:
    """Scan every transfer for layered flows (definitions in the module docstring).

    Parameters
    ----------
    projection : Projection
        The graph; its ``Account-TRANSFER->Account`` edges are scanned.
    params : LayeringParams, optional
        Thresholds; defaults (or ``LayeringParams.from_env()`` at the caller's choice).
    households_label, networks_label : array-like of int, optional
        Per person: household / hidden-network index (``Households.label``,
        ``Networks.label``). Without them, cycles are found only back to the origin's
        own accounts and the household / network reasons never fire.

    Returns
    -------
    Alerts
        Every chain, cycle, scatter-gather, gather-scatter and fan burst, scored.

    Examples
    --------
    >>> alerts = scan(projection)  # doctest: +SKIP
    >>> alert_frames(projection, alerts)["risk_chains"].head()  # doctest: +SKIP
    """
    params = params or LayeringParams()
    amount, ts, src, dst = _transfer_arrays(projection)
    tx = _eligible(amount, ts, src, dst, params.min_amount)
    links = _links(tx, params)
    chains = _walk(tx, links, _starts(links, len(tx)), params)
    scatter = _scatter_gather(tx, links, params)
    fans = {"fan_in": _fan_bursts(tx, params, True), "fan_out": _fan_bursts(tx, params, False)}
    gather = _gather_scatter(tx, fans["fan_in"], fans["fan_out"], params)
    ctx = _context(projection, params, households_label, networks_label)
    return _assemble(tx, chains, scatter, gather, fans, ctx, params)


# -- result tables ----------------------------------------------------------------------------------


def chain_ids(
    projection: Projection, alerts: Alerts, tx_ids: npt.NDArray[np.object_] | None = None
) -> npt.NDArray[np.object_]:
    """Per alert: ``R`` + 16 hex digits of a hash of its transfer ids, in alert order.

    The same transfers give the same id on every re-run over unchanged data.
    ``tx_ids`` (every transfer's id, EdgeSet order) saves reading them again.
    """
    if tx_ids is None:
        tx_ids = projection.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    out = np.empty(len(alerts), object)
    for i in range(len(alerts)):
        text = "|".join(tx_ids[alerts.transfers(i)].tolist())
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        out[i] = f"R{digest}"
    return out


def alert_frames(projection: Projection, alerts: Alerts) -> dict[str, pd.DataFrame]:
    """Result tables to store: ``risk_chains``, ``risk_chain_hops`` and ``account_risk``.

    Parameters
    ----------
    projection : Projection
        The graph the alerts were found in.
    alerts : Alerts
        From :func:`scan`.

    Returns
    -------
    dict of DataFrame
        ``risk_chains`` (chain_id, typology, score, reasons as JSON, first_ts, last_ts,
        hops, amount_in, amount_out, origin_account, end_account, above_threshold);
        ``risk_chain_hops`` (chain_id, hop, tx_id, from_account, to_account, amount, ts);
        ``account_risk`` (account_id, score, reasons as JSON: the account's alerts,
        highest score first, at most five, and its role in each).

    Examples
    --------
    >>> frames = alert_frames(projection, scan(projection))  # doctest: +SKIP
    >>> sorted(frames)  # doctest: +SKIP
    ['account_risk', 'risk_chain_hops', 'risk_chains']
    """
    edges = projection.edge("Account", "TRANSFER", "Account")
    accounts = projection.nodes["Account"]
    ids = chain_ids(projection, alerts)
    n = len(alerts)
    reasons = [json.dumps(alerts.reasons(i), ensure_ascii=False) for i in range(n)]
    facts = alerts.facts

    def account_ids(index: I64) -> npt.NDArray[np.object_]:
        return accounts.id_of(np.where(index >= 0, index, -1))

    chains = pd.DataFrame(
        {
            "chain_id": ids,
            "typology": alerts.typology.astype(str),
            "score": alerts.score,
            "reasons": reasons,
            "first_ts": facts["first_ts"].to_numpy(),
            "last_ts": facts["last_ts"].to_numpy(),
            "hops": facts["hops"].to_numpy(),
            "amount_in": facts["amount_in"].to_numpy(),
            "amount_out": facts["amount_out"].to_numpy(),
            "origin_account": account_ids(facts["origin"].to_numpy(np.int64)),
            "end_account": account_ids(facts["end"].to_numpy(np.int64)),
            "above_threshold": alerts.score >= alerts.params.score_threshold,
        }
    )
    size = np.diff(alerts.ptr)
    grp = np.repeat(np.arange(n), size)
    hop = np.arange(len(alerts.edges)) - np.repeat(alerts.ptr[:-1], size)
    e = alerts.edges
    hops = pd.DataFrame(
        {
            "chain_id": ids[grp] if n else np.zeros(0, object),
            "hop": hop,
            "tx_id": edges.attrs["tx_id"].to_numpy(object)[e],
            "from_account": accounts.id_of(edges.src[e]) if len(e) else np.zeros(0, object),
            "to_account": accounts.id_of(edges.dst[e]) if len(e) else np.zeros(0, object),
            "amount": edges.attrs["amount"].to_numpy(np.float64)[e],
            "ts": edges.attrs["ts"].to_numpy(np.int64)[e],
        }
    )
    return {
        "risk_chains": chains,
        "risk_chain_hops": hops,
        "account_risk": account_risk(projection, alerts, ids),
    }


def account_risk(
    projection: Projection, alerts: Alerts, ids: npt.NDArray[np.object_] | None = None
) -> pd.DataFrame:
    """Per account in any alert: the highest alert score and the alerts as reasons (JSON)."""
    edges = projection.edge("Account", "TRANSFER", "Account")
    accounts = projection.nodes["Account"]
    if ids is None:
        ids = chain_ids(projection, alerts)
    n = len(alerts)
    size = np.diff(alerts.ptr)
    grp = np.repeat(np.arange(n), size)
    e = alerts.edges
    frame = pd.DataFrame(
        {
            "alert": np.concatenate([grp, grp]),
            "account": np.concatenate([edges.src[e], edges.dst[e]]).astype(np.int64),
        }
    ).drop_duplicates()
    if frame.empty:
        return pd.DataFrame({"account_id": [], "score": [], "reasons": [], "alerts": []})
    facts = alerts.facts
    origin = facts["origin"].to_numpy(np.int64)[frame["alert"].to_numpy()]
    end = facts["end"].to_numpy(np.int64)[frame["alert"].to_numpy()]
    account = frame["account"].to_numpy()
    frame["role"] = np.select(
        [account == origin, account == end, origin < 0], ["origin", "end", "party"], "intermediate"
    )
    frame["score"] = alerts.score[frame["alert"].to_numpy()]
    frame = frame.sort_values(["account", "score", "alert"], ascending=[True, False, True])
    counts = frame.groupby("account", sort=True).size()
    top = frame[frame.groupby("account", sort=True).cumcount() < 5]
    entries = [
        {"chain_id": str(ids[a]), "typology": str(alerts.typology[a]), "score": round(float(s), 4),
         "role": str(r)}
        for a, s, r in zip(top["alert"].tolist(), top["score"].tolist(), top["role"].tolist(), strict=True)
    ]  # fmt: skip
    # Rows are grouped by account, highest score first: cut the list at each new account.
    bounds = np.cumsum(np.minimum(counts.to_numpy(), 5))
    starts = np.concatenate([[0], bounds[:-1]])
    account_index = counts.index.to_numpy(np.int64)
    return pd.DataFrame(
        {
            "account_id": accounts.id_of(account_index),
            "score": top["score"].to_numpy()[starts],
            "reasons": [json.dumps(entries[a:b]) for a, b in zip(starts, bounds, strict=True)],
            "alerts": counts.to_numpy(),
        }
    )


# -- on-demand check --------------------------------------------------------------------------------

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
    >>> index = LayeringIndex.build(projection)  # doctest: +SKIP
    >>> check_account(projection, 42, index=index).score  # doctest: +SKIP
    0.0
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
        tx_ids = projection.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
        return cls(amount, ts, src, dst, out_key, in_order, in_key, tx_ids, t0, span, ctx, params)

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
    chains : list of dict
        Per alert: ``chain_id``, ``typology``, ``score``, ``reasons`` and ``hops`` (each
        ``tx_id``, ``from_account``, ``to_account``, ``amount``, ``ts``), highest score first.
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
    chains: list[dict[str, Any]]
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
    middle account it shows in neither; its chains show the flow).

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
    >>> index = LayeringIndex.build(projection)  # doctest: +SKIP
    >>> result = check_account(projection, 7, window_hours=48, index=index)  # doctest: +SKIP
    >>> result.score, [c["typology"] for c in result.chains]  # doctest: +SKIP
    (0.62, ['layering_chain'])
    """
    base = params or (index.params if index is not None else LayeringParams())
    p = _check_arguments(
        projection, account_index, base, window_hours, max_hops, min_amount, since_ms, until_ms
    )
    if index is None:
        index = LayeringIndex.build(projection, p, households_label, networks_label)
    a = int(account_index)
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
    # One hop on from the account's own transfers: the second legs of its scatter-gathers.
    reach = np.union1d(np.union1d(seen, forward), index.successors(own, p)[1])

    tx = _eligible(index.amount, index.ts, index.src, index.dst, p.min_amount, reach)
    links = _links(tx, p)
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
    scatter = [s for s in _scatter_gather(tx, links, p) if a in _sg_ends(tx, s)]
    own_pos = np.flatnonzero(np.isin(tx.edge, own)).astype(np.int64)
    own_tx = tx.take(own_pos)
    fans: dict[str, _Bursts] = {}
    for name, inbound in (("fan_in", True), ("fan_out", False)):
        bursts = _fan_bursts(own_tx, p, inbound)
        mine = np.flatnonzero(bursts.hub == a)
        fans[name] = _Bursts([own_pos[bursts.members[i]] for i in mine.tolist()], bursts.hub[mine])
    gather = _gather_scatter(tx, fans["fan_in"], fans["fan_out"], p)
    alerts = _assemble(tx, _Chains(kept, kept_trunc), scatter, gather, fans, index.context, p)
    return _answer(projection, index, a, alerts, truncated, p)


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
    chains_out: list[dict[str, Any]] = []
    for i in np.argsort(-alerts.score, kind="stable").tolist():
        e = alerts.transfers(i)
        frm = accounts.id_of(index.src[e])
        to = accounts.id_of(index.dst[e])
        hops = [
            {
                "tx_id": str(index.tx_ids[x]),
                "from_account": str(f),
                "to_account": str(t),
                "amount": float(index.amount[x]),
                "ts": int(index.ts[x]),
            }
            for x, f, t in zip(e.tolist(), frm, to, strict=True)
        ]
        chains_out.append(
            {
                "chain_id": str(ids[i]),
                "typology": str(alerts.typology[i]),
                "score": float(alerts.score[i]),
                "reasons": alerts.reasons(i),
                "hops": hops,
            }
        )
    reasons = [{k: c[k] for k in ("chain_id", "typology", "score")} for c in chains_out]
    return AccountCheck(
        account_index=a,
        account_id=str(accounts.id_of([a])[0]),
        score=float(alerts.score.max(initial=0.0)),
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
