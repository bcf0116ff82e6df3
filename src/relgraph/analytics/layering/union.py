"""Many neighbourhoods in one pass: the batch definitions on their disjoint union.

A request brings up to a thousand transfers, and each verdict (:mod:`.live`) runs the
definitions on its own neighbourhood — a few dozen transfers, where what costs is the
fixed price of some hundreds of small numpy calls, not the work. :func:`scan_union`
runs :func:`.batch.find_patterns` and :func:`.batch.score_pattern_columns` once over
all the neighbourhoods of a batch laid side by side, and gives each exactly the alerts a
scan of it alone gives (the same transfers, facts, reasons, scores and order):

* **accounts are numbered per neighbourhood** (an account in two neighbourhoods is two
  accounts), and so are persons, enterprises, households and hidden networks: nothing
  links two neighbourhoods — no transfer, no common holder, home or shared device;
* **periods count from one origin**: established relationships and block periods are
  cut into 30-day periods from the context's ``origin`` (the bank's first transfer, as
  the batch cuts them), the same moment for every part. Without an origin each
  neighbourhood's times are shifted so that its first eligible transfer falls on the
  same moment as every other's (opening times move with them): what counts from the
  scan's first transfer then counts from its own, and differences of times are
  unchanged;
* what is judged over the whole scan is judged per neighbourhood (``segment``): a hub's
  history (its scan's last time, its peers' quantile, running sums restarted), the
  round-trip windows (from its own first non-routine transfer);
* every order the definitions make (by account, transfer, hub, alert) keeps each
  neighbourhood's own relative order, so ties fall the same way.

Everything else in the definitions is per transfer, account, pair, hub, path or alert.
``tests/analytics/test_layering_union.py`` holds the union to scanning each alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from relgraph.analytics.layering.batch import Patterns, find_patterns, score_pattern_columns
from relgraph.analytics.layering.detectors import NO_START, _Bursts
from relgraph.analytics.layering.gate import needs_all
from relgraph.analytics.layering.hops import RowFacts, _Chains, _eligible, _Tx, with_facts
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.layering.roundtrip import _RoundTrips
from relgraph.analytics.layering.scoring import ScoredColumns, _Context
from relgraph.analytics.sets import sort_values, unique_inverse


@dataclass(frozen=True)
class UnionScan:
    """The alerts of every neighbourhood; an alert's transfers are union positions
    (neighbourhood ``k``'s ``i``-th transfer is at ``offsets[k] + i``)."""

    alerts: ScoredColumns
    offsets: I64
    segment_of: I64
    """Per alert: its neighbourhood."""

    def holding(self, verdicts: I64) -> list[list[int]]:
        """Per neighbourhood ``k``: its alerts (indices, in order) that hold its transfer at
        position ``verdicts[k]``."""
        alerts = self.alerts
        grp = np.repeat(np.arange(len(alerts)), np.diff(alerts.ptr))
        hit = alerts.edges == (self.offsets + verdicts)[self.segment_of[grp]]
        out: list[list[int]] = [[] for _ in range(len(self.offsets))]
        for i in np.unique(grp[hit]).tolist():
            out[int(self.segment_of[i])].append(i)
        return out


def scan_union(
    parts: Sequence[I64],
    arrays: tuple[F64, I64, I64, I64],
    context_of: Callable[[I64], _Context],
    params: LayeringParams,
    highs: RowFacts | None = None,
    verdicts: I64 | None = None,
) -> UnionScan:
    """Scan the neighbourhoods ``parts`` (each: row numbers into ``arrays`` = amount,
    time, source and target account per row) side by side (module docstring).

    ``highs``: per row its payer's and payee's highs as the live index judged them on
    arrival, against the accounts' whole past (a neighbourhood holds only part of it).

    ``verdicts``: per part, the position in it of the (eligible) transfer its verdict is
    on. Only the alerts holding that transfer are then the same as a scan of the part
    alone: a part where nothing but fans can hold it (:mod:`.gate`) is scanned for fans
    and gather-scatters only.

    Every part must hold an eligible transfer. ``context_of`` gives the context for some
    accounts (their indices as in ``arrays``), compacted to them, as the verdict builds it.
    """
    amount_all, ts_all, src_all, dst_all = arrays
    sizes = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    offsets = np.cumsum(sizes) - sizes
    rows = np.concatenate(parts) if len(parts) else np.zeros(0, np.int64)
    seg_row = np.repeat(np.arange(len(parts), dtype=np.int64), sizes)
    amount, ts, src, dst = amount_all[rows], ts_all[rows], src_all[rows], dst_all[rows]
    eligible = (amount >= params.min_amount) & (src != dst)
    first = np.full(len(parts), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, seg_row[eligible], ts[eligible])
    if (first == np.iinfo(np.int64).max).any():
        raise ValueError("scan_union: every neighbourhood needs an eligible transfer")
    width = int(max(src.max(initial=0), dst.max(initial=0))) + 1
    n = len(rows)
    keys, inverse = unique_inverse(np.concatenate([seg_row * width + src, seg_row * width + dst]))
    segment = (keys // width).astype(np.int64)
    own = context_of(keys % width)
    # With an origin every part counts its periods from, the parts keep their own times.
    shift = first.max() - first if own.origin is None else np.zeros(len(parts), np.int64)
    tx = _eligible(amount, ts + shift[seg_row], inverse[:n], inverse[n:], params.min_amount)
    if highs is not None:
        tx = with_facts(tx, highs, rows[tx.edge])
    ctx = union_context(own, segment, shift)
    if verdicts is None:
        found = find_patterns(tx, ctx, params, segment)
    else:
        position = np.full(n, -1, np.int64)
        position[tx.edge] = np.arange(len(tx), dtype=np.int64)
        p = position[offsets + verdicts]
        if (p < 0).any():
            raise ValueError("scan_union: a verdict's transfer must be eligible")
        found = _gated(tx, ctx, params, segment, needs_all(tx, ctx, params, segment, p))
        # Only parts where a pattern holds the verdict's transfer are scored (the others'
        # verdicts are empty): a scan of fewer whole parts, each still as alone.
        held = _holding(found, segment[tx.src], p)
        if not held.all():
            if not held.any():  # one part (the smallest) stands for an empty scan
                held[np.argmin(np.bincount(segment[tx.src], minlength=len(p)))] = True
            kept = np.flatnonzero(held[segment[tx.src]])
            tx, found = tx.take(kept), _kept(found, kept, len(tx))
    alerts = score_pattern_columns(tx, found, ctx, params, segment=segment)
    segment_of = seg_row[alerts.edges[alerts.ptr[:-1]]] if len(alerts) else np.zeros(0, np.int64)
    return UnionScan(alerts, offsets, segment_of)


def _gated(tx: _Tx, ctx: _Context, params: LayeringParams, segment: I64, need: B) -> Patterns:
    """Every detector on the parts that ``need`` them, fans only on the others: one
    :class:`.batch.Patterns` over all of ``tx`` (each part's patterns in their own order).

    Fan bursts, gather-scatters and regular flows are found per hub or pair, so once
    over every part (each part's in its own order): a night request's union is a few
    hundred rows, where a second pass of those detectors costs its fixed price again."""
    every = need[segment[tx.src]]
    if every.all() or not every.any():
        return find_patterns(tx, ctx, params, segment, fans_only=not every.any())
    hubs = find_patterns(tx, ctx, params, segment, fans_only=True)
    rows = np.flatnonzero(every)
    # Regular flows are per pair, and every part counts its periods from the same moment
    # (the origin, or its first transfer shifted to one), so the union's flags are its own.
    whole = _compact_scan(tx.take(rows), ctx, params, segment, hubs.regular[rows])
    rest = _joined([whole], [rows], len(tx))
    return replace(rest, fans=hubs.fans, gather=hubs.gather, regular=hubs.regular)


def _compact_scan(
    tx: _Tx, ctx: _Context, params: LayeringParams, segment: I64, regular: B
) -> Patterns:
    """:func:`.batch.find_patterns` without fans on some parts of the union with their
    accounts numbered densely (in the same order): the round-trip search builds a graph
    over every account of its context, and these parts are a few of the union's.
    ``regular``: the parts' regular flows, found already."""
    n = len(tx)
    accounts, local = unique_inverse(np.concatenate([tx.src, tx.dst]))
    sub = replace(tx, src=local[:n], dst=local[n:])
    own = take_context(ctx, accounts)
    return find_patterns(sub, own, params, segment[accounts], fans=False, regular=regular)


def take_context(ctx: _Context, at: I64) -> _Context:
    """The per-account arrays of ``ctx`` at ``at`` (holder data unchanged)."""
    peaks = None if ctx.fan_peaks is None else ctx.fan_peaks[at]
    starts = None if ctx.fan_starts is None else ctx.fan_starts[at]
    return _Context(ctx.opened[at], ctx.person[at], ctx.enterprise[at], ctx.household,
                    ctx.network, ctx.device_keys, ctx.device_ptr, ctx.device_of, ctx.n_devices,
                    peaks, ctx.origin, ctx.takings, ctx.peers, starts)  # fmt: skip


def _joined(found: list[Patterns], rows: list[I64], n: int) -> Patterns:
    """Patterns found on subsets ``rows`` of the transfers, as positions into all ``n``."""

    def sets(of: list[list[I64]]) -> list[I64]:
        return [r[m] for r, part in zip(rows, of, strict=True) for m in part]

    def by_length(of: list[dict[int, I64]]) -> dict[int, I64]:
        lengths = sorted({k for part in of for k in part})
        return {
            k: np.concatenate([r[part[k]] for r, part in zip(rows, of, strict=True) if k in part])
            for k in lengths
        }

    chains = _Chains(
        by_length([f.chains.paths for f in found]),
        {
            k: np.concatenate([f.chains.truncated[k] for f in found if k in f.chains.truncated])
            for k in sorted({k for f in found for k in f.chains.truncated})
        },
    )
    fans = {
        name: _Bursts(
            sets([f.fans[name].members for f in found]),
            np.concatenate([f.fans[name].hub for f in found]),
        )
        for name in found[0].fans
    }
    regular = np.zeros(n, bool)
    for r, f in zip(rows, found, strict=True):
        regular[r] = f.regular
    trips = _RoundTrips(
        by_length([f.trips.paths for f in found]), sum(f.trips.truncations for f in found)
    )
    layers = {name: sets([f.layers[name] for f in found]) for name in found[0].layers}
    return Patterns(
        chains,
        sets([f.scatter for f in found]),
        sets([f.gather for f in found]),
        fans,
        regular,
        trips,
        sets([f.structuring for f in found]),
        layers,
    )


def _holding(found: Patterns, seg_row: I64, p: I64) -> B:
    """Per part: whether a pattern of ``found`` holds its verdict's transfer ``p``."""
    flat = [paths.ravel() for paths in found.chains.paths.values()]
    flat += [paths.ravel() for paths in found.trips.paths.values()]
    flat += [*found.scatter, *found.gather, *found.structuring]
    flat += [m for sets in found.layers.values() for m in sets]
    flat += [m for bursts in found.fans.values() for m in bursts.members]
    held = np.zeros(len(p), bool)
    if flat:
        at = np.concatenate(flat)
        held[seg_row[at[at == p[seg_row[at]]]]] = True
    return held


def _kept(found: Patterns, rows: I64, n: int) -> Patterns:
    """The patterns lying on ``rows`` (whole parts: a pattern never spans two), as
    positions into those rows."""
    new = np.full(n, -1, np.int64)
    new[rows] = np.arange(len(rows), dtype=np.int64)

    def sets(of: list[I64]) -> list[I64]:
        return [new[m] for m in of if new[m[0]] >= 0]

    def by_length(of: dict[int, I64]) -> tuple[dict[int, I64], dict[int, B]]:
        keep = {k: new[paths[:, 0]] >= 0 for k, paths in of.items()}
        return {k: new[paths[keep[k]]] for k, paths in of.items() if keep[k].any()}, keep

    chain_paths, keep = by_length(found.chains.paths)
    truncated = {k: t[keep[k]] for k, t in found.chains.truncated.items() if k in chain_paths}
    fans = {}
    for name, bursts in found.fans.items():
        mine = np.array([new[m[0]] >= 0 for m in bursts.members], bool)
        fans[name] = _Bursts(sets(bursts.members), bursts.hub[mine] if len(mine) else bursts.hub)
    return Patterns(
        _Chains(chain_paths, truncated),
        sets(found.scatter),
        sets(found.gather),
        fans,
        found.regular[rows],
        _RoundTrips(by_length(found.trips.paths)[0], found.trips.truncations),
        sets(found.structuring),
        {name: sets(found_sets) for name, found_sets in found.layers.items()},
    )


def union_context(ctx: _Context, segment: I64, shift: I64) -> _Context:
    """The context of the union's accounts: ``ctx`` per account (as if one scan), with
    opening times shifted as their segment's transfers and every holder, household,
    network and device user numbered per segment."""
    opened = np.where(ctx.opened >= 0, ctx.opened + shift[segment], ctx.opened)
    person, persons = _per_segment(ctx.person, segment)
    enterprise, _ = _per_segment(ctx.enterprise, segment)
    person_seg = np.zeros(len(persons), np.int64)
    person_seg[person[person >= 0]] = segment[person >= 0]
    # None stays None and empty stays empty (a bank without persons): the definitions
    # tell the two apart.
    household, network = ctx.household, ctx.network
    if household is not None and len(household):
        household = _labels(household[persons], person_seg, keep_negative=False)
    if network is not None and len(network):
        network = _labels(network[persons], person_seg, keep_negative=True)
    keys, ptr, device_of = devices_of(ctx, persons)
    # Takings are read at absolute times: not at shifted ones (no origin).
    takings = ctx.takings if ctx.origin is not None else None
    starts = ctx.fan_starts  # kept times, shifted as their segment's transfers
    if starts is not None and shift.any():
        starts = np.where(starts != NO_START, starts + shift[segment][:, None, None], starts)
    return _Context(opened, person, enterprise, household, network, keys, ptr, device_of,
                    ctx.n_devices, ctx.fan_peaks, ctx.origin, takings, ctx.peers,
                    starts)  # fmt: skip


def devices_of(ctx: _Context, persons: I64) -> tuple[I64, I64, I64]:
    """The private devices of ``persons`` (person numbers of ``ctx``), the ``i``-th of them
    numbered ``i``, in ``ctx``'s layout (``scoring._context``): sorted keys, pointers,
    devices."""
    count = ctx.device_ptr[persons + 1] - ctx.device_ptr[persons]
    ptr = np.zeros(len(persons) + 1, np.int64)
    np.cumsum(count, out=ptr[1:])
    within = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], count)
    device_of = ctx.device_of[np.repeat(ctx.device_ptr[persons], count) + within]
    owner = np.repeat(np.arange(len(persons), dtype=np.int64), count)
    return sort_values(owner * ctx.n_devices + device_of), ptr, device_of


def _per_segment(value: I64, segment: I64) -> tuple[I64, I64]:
    """Per account: its holder numbered per segment (−1 kept), and per new number the
    original one (numbers ascend with (segment, original), so orders within a segment
    are kept)."""
    has = value >= 0
    out = np.full(len(value), -1, np.int64)
    if not has.any():
        return out, np.zeros(0, np.int64)
    width = int(value.max()) + 1
    keys, inverse = unique_inverse(segment[has] * width + value[has])
    out[has] = inverse
    return out, (keys % width).astype(np.int64)


def _labels(label: I64, segment: I64, *, keep_negative: bool) -> I64:
    """Labels numbered per segment: equal within one segment exactly when they were
    (−1, "none", kept when ``keep_negative``)."""
    if len(label) == 0:
        return label.astype(np.int64)
    width = int(label.max()) + 2
    out = unique_inverse(segment * width + (label + 1))[1]
    return np.where(label < 0, -1, out) if keep_negative else out
