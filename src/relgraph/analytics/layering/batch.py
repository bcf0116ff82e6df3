"""The batch scan over every transfer."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering.blocks import blocks
from relgraph.analytics.layering.detectors import (
    _Bursts,
    _fan_bursts,
    _mapped,
    _scatter_gather,
    _slow_scatter_gather,
    gather_scatters,
    kind_starts,
)
from relgraph.analytics.layering.hops import (
    _Chains,
    _eligible,
    _starts,
    _transfer_arrays,
    _Tx,
    _walk,
    hop_and_spoke_links,
)
from relgraph.analytics.layering.merge import edge_times, merge_columns
from relgraph.analytics.layering.params import I64, B, LayeringParams
from relgraph.analytics.layering.roundtrip import _RoundTrips, round_trips
from relgraph.analytics.layering.routine import regular_flows, slow_params
from relgraph.analytics.layering.scoring import (
    Alerts,
    ScoredColumns,
    _assemble_columns,
    _Context,
    _context,
    _same_holder,
    holder_keys,
    routine_transfers,
    with_highs,
)
from relgraph.analytics.layering.season import bank_takings
from relgraph.analytics.layering.structuring import structuring_runs
from relgraph.graph import Projection


def scan(
    projection: Projection,
    params: LayeringParams | None = None,
    households_label: npt.ArrayLike | None = None,
    networks_label: npt.ArrayLike | None = None,
    *,
    merge: bool = True,
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
    merge : bool, default True
        One alert per pattern: alerts of one typology sharing a transfer merge
        (:mod:`.merge`). ``False`` gives one alert per chain of the definitions.

    Returns
    -------
    Alerts
        Every chain, round trip, scatter-gather, gather-scatter, fan burst (fast and
        slow), bipartite block, stack and structuring run, scored.

    Examples
    --------
    The chain A1 → A3 → A4 → A5 → A6 of ``tests/docbank.py`` (four hops in eight hours):

    >>> from relgraph.analytics.layering import alert_frames
    >>> chains = alert_frames(projection, scan(projection))["risk_chains"]
    >>> chains[["typology", "hops", "origin_account", "end_account"]].values.tolist()
    [['layering_chain', 4, 'A1', 'A6']]
    """
    params = params or LayeringParams()
    amount, ts, src, dst = _transfer_arrays(projection)
    tx = _eligible(amount, ts, src, dst, params.min_amount)
    ctx = _context(projection, params, households_label, networks_label)
    ctx = replace(ctx, takings=bank_takings(amount, ts, src, dst, ctx.enterprise, params))
    return scan_transfers(with_highs(tx, ctx, params), ctx, params, merge=merge)


@dataclass(frozen=True)
class Patterns:
    """What the definitions found among some transfers, before scoring (positions into
    the ``_Tx``)."""

    chains: _Chains
    scatter: list[I64]
    gather: list[I64]
    fans: dict[str, _Bursts]
    regular: B
    trips: _RoundTrips
    structuring: list[I64]
    layers: dict[str, list[I64]]
    """Bipartite blocks and stacks (:mod:`.blocks`)."""

    def holds(self, position: int) -> bool:
        """Whether any pattern holds the transfer at ``position`` (scoring then may be
        skipped for a transfer none holds: the real-time verdict's fast path)."""
        if any((paths == position).any() for paths in self.chains.paths.values()):
            return True
        if any((paths == position).any() for paths in self.trips.paths.values()):
            return True
        sets = [*self.scatter, *self.gather, *self.structuring]
        sets += [m for found in self.layers.values() for m in found]
        sets += [m for bursts in self.fans.values() for m in bursts.members]
        return any((members == position).any() for members in sets)


def find_patterns(
    tx: _Tx,
    ctx: _Context,
    params: LayeringParams,
    segment: I64 | None = None,
    *,
    fans_only: bool = False,
    fans: bool = True,
    regular: B | None = None,
) -> Patterns:
    """Every chain, cycle, scatter-gather, gather-scatter, fan burst and structuring run
    among ``tx`` (definitions in the package docstring), not yet scored. ``segment``: per
    account, its part when ``tx`` is a disjoint union of neighbourhoods (:mod:`.union`).
    ``fans_only``: fan bursts, gather-scatters and regular flows only, the rest left
    empty (the verdicts :mod:`.gate` finds nothing else can hold); ``fans=False``: the
    rest without the fan bursts and gather-scatters (a union that found them already).
    ``regular``: :func:`.routine.regular_flows` of ``tx`` when known (per pair)."""
    chains = _Chains({}, {})
    scatter: list[I64] = []
    if not fans_only:
        links, spokes = hop_and_spoke_links(tx, params)
        chains = _walk(tx, links, _starts(links, len(tx)), params)
        scatter = _scatter_gather(tx, spokes, params)
    if regular is None:
        regular = regular_flows(tx, ctx.opened, params, ctx.origin)
    routine = routine_transfers(tx, ctx, params, regular)
    if not fans_only:
        scatter += _slow_scatter_gather(tx, routine, params)
    if fans:
        # Slow fans from money that is not routine: over a month every hub's salary, rent
        # and family transfers would join any burst.
        kept = np.flatnonzero(~routine).astype(np.int64)
        slow = slow_params(params)
        bursts = {
            "fan_in": _fan_bursts(tx, params, True, kind_starts(ctx.fan_starts, 1)),
            "fan_out": _fan_bursts(tx, params, False, kind_starts(ctx.fan_starts, 0)),
            "slow_fan_in": _mapped(_fan_bursts(tx.take(kept), slow, True), kept),
            "slow_fan_out": _mapped(_fan_bursts(tx.take(kept), slow, False), kept),
        }
        gather = gather_scatters(tx, params, ctx.fan_starts)
    else:
        bursts = {name: _Bursts([], np.zeros(0, np.int64)) for name in _FAN_KINDS}
        gather = []
    if fans_only:
        none: dict[str, list[I64]] = {"bipartite": [], "stack": []}
        return Patterns(chains, scatter, gather, bursts, regular, _RoundTrips({}, 0), [], none)
    trips = round_trips(tx, ctx, params, routine, segment)
    runs = structuring_runs(tx, params, _same_holder(ctx, tx.src, tx.dst), holder_keys(ctx, tx.src))
    bipartite, stacks = blocks(tx, routine, params, ctx.origin)
    layers = {"bipartite": bipartite, "stack": stacks}
    return Patterns(chains, scatter, gather, bursts, regular, trips, runs, layers)


_FAN_KINDS = ("fan_in", "fan_out", "slow_fan_in", "slow_fan_out")


def score_patterns(
    tx: _Tx, found: Patterns, ctx: _Context, params: LayeringParams, *, merge: bool = True
) -> Alerts:
    """The alerts of ``found``, with their facts, reasons and scores; with ``merge``, one
    alert per pattern (:mod:`.merge`)."""
    return score_pattern_columns(tx, found, ctx, params, merge=merge).to_alerts()


def score_pattern_columns(
    tx: _Tx,
    found: Patterns,
    ctx: _Context,
    params: LayeringParams,
    *,
    merge: bool = True,
    segment: I64 | None = None,
) -> ScoredColumns:
    """:func:`score_patterns` without pandas (the real-time verdict scores a handful of
    alerts per transfer): the same alerts and scores, facts and weights as plain columns.
    ``segment`` as for :func:`find_patterns`."""
    cut_chains = int(sum(int(t.sum()) for t in found.chains.truncated.values()))
    alerts = _assemble_columns(
        tx,
        found.chains,
        found.scatter,
        found.gather,
        found.fans,
        ctx,
        params,
        round_trips=found.trips.paths,
        structuring_runs=found.structuring,
        truncations={"layering_chain": cut_chains, "cycle": found.trips.truncations},
        regular=found.regular,
        layers=found.layers,
        segment=segment,
    )
    return merge_columns(alerts, edge_times(tx)) if merge else alerts


def scan_transfers(tx: _Tx, ctx: _Context, params: LayeringParams, *, merge: bool = True) -> Alerts:
    """The scan's definitions over the eligible transfers ``tx`` (``_eligible``) with the
    per-account context ``ctx`` (``_context``): the batch over every transfer, and the
    real-time verdict (:mod:`.live`) over the neighbourhood of a new one, run these same
    functions, so the two can never drift apart. Alert members are ``tx.edge`` values."""
    return score_patterns(tx, find_patterns(tx, ctx, params), ctx, params, merge=merge)
