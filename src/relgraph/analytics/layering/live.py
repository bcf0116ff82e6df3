"""Real-time layering: a live index of recent transfers and the verdict on each new one.

The batch scan (:func:`.batch.scan`) reads every transfer; a running server gets them one
batch at a time and must answer within milliseconds whether a new transfer completes or
extends a layered flow. :class:`LiveIndex` keeps the transfers of the last
:meth:`LiveIndex.horizon_ms` (the longest detection window: a chain of ``max_hops`` hops of
``window_hours`` each, or the round-trip horizon, whichever is longer) in per-account
time-ordered lists; older ones leave the index and only per-account aggregates (count and
sum in and out) remain — the store keeps them. Each account also keeps, per direction, a
running count and largest amount of its payments (receipts) ever (:mod:`.sides`): when a
transfer arrives, its payer's and payee's *highs* (:func:`.amounts.highs`, read only from
the past) are taken from them and kept with it, so the verdict judges outsized payments and
a hub's habits against the whole past, as the batch does, although its neighbourhood holds
only part of it (a late arrival is judged against what had arrived). The bank's takings per
hour count each arrival too: a shop's fan-in is judged in the batch's season (:mod:`.season`).

The verdict on a new transfer ``t`` (:meth:`LiveIndex.verdict`) collects its neighbourhood —
the hop-link closure of ``t`` back to where its chains start and forward from there (as
:func:`.check.check_account` does), plus every live transfer of the accounts ``t`` joins and
of the accounts that fed it (what fan bursts, a hub's history, routine flows and
scatter-gathers are judged on), and when ``t`` may be in a bipartite block or a layer beside
one, the transfers among its accounts' small counterparties (:mod:`.blockctx`: a block's
other sender pays its other receiver), and when ``t`` may be a slow scatter-gather's spoke,
its splitter's and gatherer's transfers (:mod:`.slowctx`), and when ``t`` is in the
structuring band, its payer's holder's other band transfers (:mod:`.holderctx`), and the legs
of the round trips through ``t`` (:mod:`.loopctx`) — and runs the batch definitions on it
(:func:`.batch.find_patterns` and :func:`.batch.score_pattern_columns`: the same functions
for both; :mod:`.focus` runs only those that can hold ``t``, with the same result). The alerts
that hold ``t`` are its verdict; their ids are the batch's (:func:`.frames.chain_ids` hashes
the transfer ids), so the next batch ``analyze`` names the same chains. A request's
transfers are verdicts on the index as each found it (:meth:`LiveIndex.prepare` reads a
neighbourhood right after its transfer joined), scored together
(:meth:`LiveIndex.verdicts_known`: one scan of the neighbourhoods side by side,
:mod:`.union`, the same alerts as one by one).

What the neighbourhood cannot see: round trips past :mod:`.loopctx`'s caps, a slow
scatter-gather whose splits go on (each within the horizon of the one before) for longer
than the index keeps, and most history older than the horizon. Three
parts of it are kept: periods (blocks, established relationships) count from the bank's
first transfer (the context's ``origin``), as the batch's do; each pair keeps the periods
its transfers that left fell in (:mod:`.pairs`), so a pair transacting every month stays
an established relationship; a hub's 72-hour fans that left stay as its **fan peaks**
(:mod:`.peaks`), so last month's payroll still makes this month's ordinary. A regular flow
(same amounts, same intervals) needs its repeats in the index. A fan judged against its
peers (a hub with no earlier transfer in its direction, and every slow fan) takes the bank's
figure, kept as counts and moved by each arrival (:mod:`.peerctx`), and such a hub's own
usual and the bank's watch of it count from the origin; a hub's steadiness and the usual of
a hub with a history are judged on what the index holds: a merchant is never steady here
(that takes 60 days), and a hub whose earlier transfers that way all left (no fan peak
kept) is judged against its peers, where the batch judges it against its own history.
A hub never idle for a window has one burst as long as it is busy, tiled from its first
transfer (:func:`.detectors._pieces`): the index keeps where it began (:mod:`.origins`), so
72-hour fans and gather-scatter sides are tiled as in the batch; a slow fan is tiled from
its first non-routine row still held, and its piece (up to three 30-day tiles) takes in
the rows past the horizon not yet evicted: its members can depend on when the eviction ran.
``benchmarks/bench_parity.py`` counts where the two disagree on a bank nobody here wrote;
tests/api/test_realtime_parity.py on the synthetic bank.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import tzinfo
from operator import itemgetter

import numpy as np

from relgraph.analytics.layering.batch import score_pattern_columns
from relgraph.analytics.layering.blockctx import BlockContext
from relgraph.analytics.layering.check import LayeringIndex
from relgraph.analytics.layering.eviction import Evicting
from relgraph.analytics.layering.focus import focused_patterns
from relgraph.analytics.layering.frames import batch_order, distinct_ids
from relgraph.analytics.layering.hops import _eligible, _Tx, with_facts
from relgraph.analytics.layering.liveaccounts import LiveAccounts
from relgraph.analytics.layering.loopctx import LoopContext
from relgraph.analytics.layering.origins import no_starts
from relgraph.analytics.layering.parallel import ScoringPool, scan_groups
from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.peerctx import PeerContext
from relgraph.analytics.layering.scoring import ScoredColumns, _Context
from relgraph.analytics.layering.season import HourlyTakings
from relgraph.analytics.layering.sides import Loaded, Renumbering, loaded_payments
from relgraph.analytics.layering.sides import Side as _Side
from relgraph.analytics.layering.slowctx import SlowSpokeContext
from relgraph.analytics.layering.standing import alert_hub
from relgraph.analytics.layering.verdicts import LiveAlert, LiveHop, Prepared, Verdict, chain_id
from relgraph.analytics.sets import unique, unique_inverse

_GROW = 1.5


class LiveIndex(Evicting, BlockContext, SlowSpokeContext, LoopContext, LiveAccounts, PeerContext):
    """Recent transfers by account, appendable, with the verdict on each new one.

    Not thread-safe: the server applies batches one at a time (one writer), and reads
    happen under the same lock.
    """

    def __init__(
        self,
        context: _Context,
        params: LayeringParams,
        account_ids: list[str],
        account_index: Mapping[str, int],
        zone: tzinfo,
    ) -> None:
        self.params = params
        self.zone = zone  # of the data's days: new accounts' opening days are read in it
        self._ctx = context
        self._ids = account_ids
        """Ids of the projection's accounts (shared, never written)."""
        self._index = account_index
        self._new_ids: list[str] = []
        self._new_index: dict[str, int] = {}
        self._new_opened: list[int] = []
        self._new_person: list[int] = []
        self._new_enterprise: list[int] = []
        self._n = 0
        cap = 1024
        self._amount = np.zeros(cap, np.float64)
        self._ts = np.zeros(cap, np.int64)
        self._src = np.zeros(cap, np.int64)
        self._dst = np.zeros(cap, np.int64)
        self._payer_high = np.zeros(cap, np.float64)
        """Per row: its payer's and payee's highs (:func:`.amounts.highs`), judged as it
        arrived against their whole past (the running numbers of ``_Side.paid``)."""
        self._payee_high = np.zeros(cap, np.float64)
        self._pair_count = np.zeros(cap, np.int64)  # its pair's periods before (:mod:`.pairs`)
        self._pair_last = np.zeros(cap, np.int64)
        self._tx: list[str] = []
        self._base: dict[bool, tuple[I64, F64]] = {}
        """Per direction (departing?), per loaded account: its numbers before the index's
        live rows (count, largest)."""
        self._renumbering = Renumbering()
        self._out: dict[int, _Side] = {}
        self._in: dict[int, _Side] = {}
        self.now = 0
        """The latest transfer time seen (epoch ms): the horizon is measured back from it."""
        self.live = 0
        """Transfers in the index (within the horizon)."""
        self._takings = HourlyTakings(context.takings)  # the loaded bank's, then arrivals'
        none = np.zeros(0, np.int64)
        self._build_peers(np.zeros(0), none, none, none, context.origin)
        self.pool: ScoringPool | None = None
        """Worker processes that score large requests' neighbourhoods beside this one
        (:mod:`.parallel`; None: all here)."""

    # -- building ------------------------------------------------------------------------

    @classmethod
    def from_index(
        cls, index: LayeringIndex, account_ids: list[str], account_index: Mapping[str, int]
    ) -> LiveIndex:
        """The live index over a loaded projection: its transfers within the horizon of the
        newest one, with the projection's per-account context and settings."""
        live = cls(index.context, index.params, account_ids, account_index, index.zone)
        if len(index.ts) == 0:
            return live
        live._build_peers(index.amount, index.ts, index.src, index.dst, index.context.origin)
        now = int(index.ts.max())
        live_row = index.ts >= now - live.horizon_ms
        if not live_row.all():
            # The older transfers never join the index: their hubs keep their fan peaks.
            live._keep_peaks(index.amount, index.ts, index.src, index.dst, ~live_row,
                             now - live.horizon_ms)  # fmt: skip
            old = np.flatnonzero(~live_row)
            live._keep_pairs(index.amount, index.ts, index.src, index.dst, old)
            live._evicted_to = now - live.horizon_ms  # what came before never joined
        loaded = loaded_payments(index, live_row)
        live._base = {True: loaded.base_out, False: loaded.base_in}
        rows = np.flatnonzero(live_row)
        rows = rows[np.lexsort((rows, index.ts[rows]))]  # time order: lists stay sorted
        live._bulk(
            index.amount[rows],
            index.ts[rows],
            index.src[rows],
            index.dst[rows],
            [str(t) for t in index.tx_ids[rows]],
            loaded.take(rows),
        )
        live.now = now
        live._build_holders()
        return live

    def _bulk(
        self,
        amount: F64,
        ts: I64,
        src: I64,
        dst: I64,
        tx: list[str],
        history: Loaded,
    ) -> None:
        n = len(amount)
        self._reserve(n)
        lo = self._n
        self._amount[lo : lo + n] = amount
        self._ts[lo : lo + n] = ts
        self._src[lo : lo + n] = src
        self._dst[lo : lo + n] = dst
        self._payer_high[lo : lo + n] = history.payer_high
        self._payee_high[lo : lo + n] = history.payee_high
        self._pair_count[lo : lo + n], self._pair_last[lo : lo + n] = self._pairs.lookup(src, dst)
        self._tx.extend(tx)
        self._n += n
        self.live += n
        rows = np.arange(lo, lo + n, dtype=np.int64)
        for sides, key in ((self._out, src), (self._in, dst)):
            # Stable by account: each account's rows stay in the time order they came in.
            order = np.argsort(key, kind="stable")
            keys, first = np.unique(key[order], return_index=True)
            bounds = np.append(first, n).tolist()
            ts_sorted, rows_sorted = ts[order].tolist(), rows[order].tolist()
            count, largest = history.numbers(sides is self._out)
            paid_sorted, max_sorted = count[order].tolist(), largest[order].tolist()
            for i, a in enumerate(keys.tolist()):
                side = self._side(sides, a)
                side.ts.extend(ts_sorted[bounds[i] : bounds[i + 1]])
                side.rows.extend(rows_sorted[bounds[i] : bounds[i + 1]])
                side.paid.extend(paid_sorted[bounds[i] : bounds[i + 1]])
                side.paid_max.extend(max_sorted[bounds[i] : bounds[i + 1]])

    def _side(self, sides: dict[int, _Side], a: int) -> _Side:
        """``a``'s side, made on first use (starting from the account's numbers before the
        index's live rows)."""
        side = sides.get(a)
        if side is None:
            side = sides[a] = _Side.of(self._renumbering)
            base = self._base.get(sides is self._out)
            if base is not None and a < len(base[0]):
                side.evicted_paid, side.evicted_paid_max = int(base[0][a]), float(base[1][a])
        return side

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= len(self._amount):
            return
        cap = max(need, int(len(self._amount) * _GROW) + 1)
        for name in ("_amount", "_ts", "_src", "_dst", "_payer_high", "_payee_high",
                     "_pair_count", "_pair_last"):  # fmt: skip
            old = getattr(self, name)
            new = np.zeros(cap, old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _context_of(self, accounts: I64) -> _Context:
        """The context with per-account arrays for ``accounts`` only (compact indices)."""
        base = len(self._ctx.opened)
        old = accounts < base
        opened = np.empty(len(accounts), np.int64)
        opened[old] = self._ctx.opened[accounts[old]]
        new = np.flatnonzero(~old)
        if len(new):
            opened[new] = np.asarray(self._new_opened, np.int64)[accounts[new] - base]
        person, enterprise = self.holders(accounts)
        peaks = np.zeros((len(accounts), 2))
        kept = np.flatnonzero(accounts < len(self._peaks))
        peaks[kept] = self._peaks[accounts[kept]]
        starts = no_starts(len(accounts))
        kept = np.flatnonzero(accounts < len(self._starts))
        starts[kept] = self._starts[accounts[kept]]
        c = self._ctx  # built field by field: dataclasses.replace costs more than the rest
        return _Context(opened, person, enterprise, c.household, c.network, c.device_keys,
                        c.device_ptr, c.device_of, c.n_devices, peaks, c.origin,
                        self._takings.current(), self.peer_figures(), starts)  # fmt: skip

    # -- transfers -----------------------------------------------------------------------

    def add(self, tx_id: str, src: int, dst: int, amount: float, ts: int) -> int:
        """Append one transfer; returns its row. Evicts what fell out of the horizon."""
        self._reserve(1)
        row = self._n
        self._amount[row], self._ts[row] = amount, ts
        self._src[row], self._dst[row] = src, dst
        before = self._pairs.lookup(self._src[row : row + 1], self._dst[row : row + 1])
        self._pair_count[row], self._pair_last[row] = before[0][0], before[1][0]
        self._tx.append(tx_id)
        self._n += 1
        self.live += 1
        p = self.params
        eligible = self._eligible_row(row)
        if eligible and self._ctx.origin is None:
            # A bank that starts empty: its periods count from its first transfer, as a
            # batch over what arrived would count them.
            self._ctx = replace(self._ctx, origin=ts)
        if eligible and self.holder(dst)[1] >= 0:
            self._takings.add(ts)
        pays = eligible and not self._same_holder(src, dst)
        for sides, a, high in (
            (self._out, src, self._payer_high),
            (self._in, dst, self._payee_high),
        ):
            count, largest = self._side(sides, a).paid_before(ts - p.horizon_ms)
            high[row] = largest if pays and count >= p.routine_min_repeats else np.nan
        for sides, a in ((self._out, src), (self._in, dst)):
            side = self._side(sides, a)
            if not side.ts or side.ts[-1] <= ts:
                at = len(side.ts)
                side.append(ts, row)
            else:  # late arrival: keep the list in time order
                at = bisect.bisect_right(side.ts, ts)
                side.insert(at, ts, row)
            side.count_payment(at, amount if pays else None)
        if eligible:
            self._count_peers(row, self._ctx.origin or ts)
        if ts > self.now:
            self.now = ts
        return row

    def __len__(self) -> int:
        return self.live

    @property
    def origin(self) -> int | None:
        """The bank's first transfer (epoch ms; None before any): periods count from it."""
        return self._ctx.origin

    # -- the verdict ---------------------------------------------------------------------

    def _range(self, sides: dict[int, _Side], a: int, lo: int, hi: int) -> list[int]:
        """Rows of ``a``'s side with ``lo < ts <= hi``."""
        side = sides.get(a)
        if side is None:
            return []
        i = bisect.bisect_right(side.ts, lo)
        j = bisect.bisect_right(side.ts, hi)
        return side.rows[i:j]

    def _passes(self, pred: int, succ: int, least: float) -> bool:
        paid, passed = self._amount.item(pred), self._amount.item(succ)
        if paid == 0:  # numpy's inf or nan, as before, where Python's division raises
            return bool(
                least <= self._amount[succ] / self._amount[pred] <= self.params.max_pass_share
            )
        return least <= passed / paid <= self.params.max_pass_share

    def _eligible_row(self, r: int) -> bool:
        # One Python number each, not a numpy scalar: called per row a search looks at.
        amount, src, dst = self._amount.item(r), self._src.item(r), self._dst.item(r)
        return amount >= self.params.min_amount and src != dst

    def _preds(self, r: int, least: float | None = None) -> list[int]:
        """Hop links into ``r``: arrivals at its source at most a window before it, passing
        on at least ``least`` (default: a chain's ``min_pass_share``)."""
        ts, w = self._ts.item(r), self.params.window_ms
        least = self.params.min_pass_share if least is None else least
        # Strictly before r: an arrival at the same millisecond is no predecessor.
        found = self._range(self._in, self._src.item(r), ts - w - 1, ts - 1)
        return [e for e in found if self._eligible_row(e) and self._passes(e, r, least)]

    def _succs(self, r: int, least: float | None = None) -> list[int]:
        ts, w = self._ts.item(r), self.params.window_ms
        least = self.params.min_pass_share if least is None else least
        found = self._range(self._out, self._dst.item(r), ts, ts + w)
        return [f for f in found if self._eligible_row(f) and self._passes(r, f, least)]

    def neighbourhood(self, row: int) -> tuple[I64, bool]:
        """The transfers the verdict on ``row`` runs the definitions on, and whether the
        search was cut at ``check_max_paths``."""
        p = self.params
        limit = p.check_max_paths
        seen = {row}
        frontier = [row]
        starts: set[int] = set()
        truncated = False
        # Backward to where the chains through the row start.
        for depth in range(p.max_hops):
            nxt: list[int] = []
            for e in frontier:
                preds = self._preds(e)
                if not preds:
                    starts.add(e)
                elif depth == p.max_hops - 1:
                    starts.add(e)  # deeper than a chain reaches: it starts here
                for q in preds:
                    if q not in seen:
                        seen.add(q)
                        nxt.append(q)
            frontier = nxt
            if not frontier or len(seen) > limit:
                truncated = truncated or bool(frontier)
                break
        # Forward from the starts (and the row: chains it may have started out of order).
        forward = set(starts) | {row}
        frontier = list(forward)
        for _ in range(p.max_hops - 1):
            nxt = []
            for e in frontier:
                for f in self._succs(e):
                    if f not in forward:
                        forward.add(f)
                        nxt.append(f)
            frontier = nxt
            if not frontier or len(forward) + len(seen) > limit:
                truncated = truncated or bool(frontier)
                break
        rows = seen | forward
        # Context: every live transfer of the accounts the row joins and of those that fed
        # it (fans, hub history, routine flows, round trips back home), and where the
        # splitting accounts' other departures went (scatter-gather spokes, which may pass
        # on less than a chain's hop).
        least = p.loosest_share
        feeders = {int(self._src[q]) for q in self._preds(row, least)}
        accounts = {int(self._src[row]), int(self._dst[row])} | feeders
        for s in feeders | {int(self._src[row])}:
            for e in list(self._out[s].rows if s in self._out else []):
                rows.update(self._succs(e, least))
        # A slow scatter-gather's splitter and gatherer, when the row may be its spoke.
        slow, spokes = self._slow_rows(row)
        accounts |= slow
        # The accounts' whole lists as arrays (a merchant's month is thousands of rows: a
        # sort of arrays, not a set of Python ints); a block's, among its accounts only.
        lists = [np.fromiter(rows, np.int64, len(rows)), *spokes]
        lists += self._block_rows(int(self._src[row]), int(self._dst[row]))
        lists += self._holder_band_rows(row)  # a structuring run is the payer's holder's
        lists += self._loop_rows(row)  # a round trip's legs through other accounts
        for a in sorted(accounts):
            for sides in (self._out, self._in):
                side = sides.get(a)
                if side is not None and side.rows:
                    lists.append(side.rows_array())
        out = unique(np.concatenate(lists))
        return out, truncated or len(out) > limit

    def _hop(self, r: int) -> LiveHop:
        src, dst = self.account_id(int(self._src[r])), self.account_id(int(self._dst[r]))
        return LiveHop(self._tx[r], src, dst, float(self._amount[r]), int(self._ts[r]))

    def verdict(self, row: int) -> Verdict:
        """The alerts holding transfer ``row`` (added with :meth:`add`), scored as the
        batch scores them; ``extends`` names the alert it grew from when that alert is
        one of ``known`` (see :meth:`verdict_known`)."""
        return self.verdict_known(row, frozenset())

    def _may_hold(self, row: int) -> bool:
        """Whether any definition could put ``row`` in an alert (False: the verdict is
        empty without running them — the fast path of most everyday transfers).
        Necessary conditions, one per definition: a chain or scatter-gather needs a hop link
        (or a spoke) into or out of the row; a fan burst needs ``min_fan`` (a gather-scatter's
        side ``min_spokes``) departures of its source or arrivals at its target within a
        window either side, a slow fan ``min_fan`` within ``cycle_horizon_days``;
        structuring needs an amount in the band, or for a split payment another transfer
        below the reporting threshold between the same two accounts within a window; a round trip needs money to have reached the row's source within the
        round-trip horizon before it (or, for a late arrival, to have left its target after
        it); a block or a layer beside one needs block accounts (``BlockContext._block_parties``).
        """
        p = self.params
        if not self._eligible_row(row):
            return False
        if self._preds(row, p.loosest_share) or self._succs(row, p.loosest_share):
            return True
        ts, w = int(self._ts[row]), p.window_ms
        src, dst = int(self._src[row]), int(self._dst[row])
        if len(self._range(self._out, src, ts - w - 1, ts + w)) >= p.fewest_fan:
            return True
        if len(self._range(self._in, dst, ts - w - 1, ts + w)) >= p.fewest_fan:
            return True
        amount = float(self._amount[row])
        threshold = p.reporting_threshold
        if (1 - p.structuring_band) * threshold <= amount < threshold:
            return True
        # A split payment: another transfer below the threshold to the same account
        # within a window either side.
        if amount < threshold and any(
            r != row and int(self._dst[r]) == dst and float(self._amount[r]) < threshold
            for r in self._range(self._out, src, ts - w - 1, ts + w)
        ):
            return True
        horizon = p.horizon_ms
        arrived = self._range(self._in, src, ts - horizon - 1, ts)
        left_after = self._range(self._out, dst, ts, ts + horizon)
        slow = any(len(self._range(side, a, ts - horizon - 1, ts + horizon)) >= p.min_fan
                   for side, a in ((self._out, src), (self._in, dst)))  # fmt: skip
        return bool(arrived or left_after or slow or self._block_parties(src, dst))

    def prepare(self, row: int) -> Prepared:
        """What the verdict on ``row`` runs the definitions on, read now — before later
        transfers of its batch join the index: its neighbourhood and whether it was cut,
        or None when no definition can hold ``row`` (:meth:`_may_hold`)."""
        return self.neighbourhood(row) if self._may_hold(row) else None

    def verdict_known(self, row: int, known: frozenset[str] | set[str]) -> Verdict:
        return self.verdicts_known([row], [self.prepare(row)], known)[0]

    def verdicts_known(
        self,
        rows: Sequence[int],
        prepared: Sequence[Prepared],
        known: frozenset[str] | set[str],
    ) -> list[Verdict]:
        """The verdicts on a batch's transfers ``rows`` (added in this order), each from
        what :meth:`prepare` read right after it was added; ``extends`` is judged against
        ``known`` and the alerts of the batch's earlier verdicts, as one by one.

        Two or more neighbourhoods to score are scanned together (:mod:`.union`: the same
        alerts as each alone; a large union in groups, some in :attr:`pool`'s processes,
        :mod:`.parallel`); a single one by :mod:`.focus`.
        """
        # Neighbourhoods to score: the row is eligible (so among the transfers scanned).
        todo = [k for k, part in enumerate(prepared) if part is not None and len(part[0])]
        parts = [part[0] for part in prepared if part is not None and len(part[0])]
        found: dict[int, list[tuple[ScoredColumns, int, I64]]] = {k: [] for k in todo}
        if len(todo) == 1:
            k, rows_k = todo[0], parts[0]
            tx, ctx, position, mine_k = self._local(rows_k, rows[k])
            patterns = focused_patterns(tx, ctx, self.params, position)
            if patterns is not None:
                scored = score_pattern_columns(tx, patterns, ctx, self.params)
                found[k] = [
                    (scored, i, rows_k)
                    for i in range(len(scored))
                    if (scored.transfers(i) == mine_k).any()
                ]
        elif todo:
            arrays = (self._amount, self._ts, self._src, self._dst)
            at = np.array([np.searchsorted(parts[j], rows[k]) for j, k in enumerate(todo)])
            highs = (self._payer_high, self._payee_high, self._pair_count, self._pair_last)
            groups = scan_groups(parts, arrays, highs, self._context_of, self.params, at,
                                 self.pool)  # fmt: skip
            for lo, _, (alerts, held), whole in groups:
                for j, mine in enumerate(held):
                    found[todo[lo + j]] = [(alerts, i, whole) for i in mine]
        out: list[Verdict] = []
        added: set[str] = set()
        for k, row in enumerate(rows):
            part = prepared[k]
            # A late arrival whose longest window reaches back past what the index still
            # holds: cut, though no search was (the batch will judge it with all of them).
            late = int(self._ts[row]) - (self.horizon_ms - self.params.window_ms) < self._evicted_to
            if part is None:
                out.append(Verdict([], 0, late))
                continue
            live = [self._alert(a, i, where, row, known, added) for a, i, where in found.get(k, [])]
            ids = [a.chain_id for a in live]
            if (named := distinct_ids(ids, [a.typology for a in live])) is not ids:
                live = [replace(a, chain_id=c) for a, c in zip(live, named, strict=True)]
            live.sort(key=lambda a: -a.score)
            added.update(a.chain_id for a in live)
            out.append(Verdict(live, len(part[0]), part[1] or late))
        return out

    def _local(self, rows: I64, row: int) -> tuple[_Tx, _Context, int, int]:
        """The neighbourhood as a scan of its own: transfers, context, and ``row``'s
        position among the transfers and among ``rows`` (its alerts' member value)."""
        # By digits, not np.unique: a merchant's month is thousands of accounts (1 ms).
        accounts, local = unique_inverse(np.concatenate([self._src[rows], self._dst[rows]]))
        src_c, dst_c = local[: len(rows)], local[len(rows) :]
        tx = _eligible(self._amount[rows], self._ts[rows], src_c, dst_c, self.params.min_amount)
        # Highs as judged on arrival, against the accounts' whole past (the neighbourhood
        # holds only part of it): the batch's.
        facts = (self._payer_high, self._payee_high, self._pair_count, self._pair_last)
        tx = with_facts(tx, facts, rows[tx.edge])
        ctx = self._context_of(accounts)
        mine = int(np.searchsorted(rows, row))
        position = np.flatnonzero(tx.edge == mine)
        return tx, ctx, int(position[0]), mine

    def _alert(
        self,
        alerts: ScoredColumns,
        i: int,
        where: I64,
        row: int,
        known: frozenset[str] | set[str],
        added: set[str],
    ) -> LiveAlert:
        """Alert ``i`` (its transfers: positions into ``where``) as the verdict on ``row``
        reports it."""
        # Ties in time as the batch orders them: the chain id hashes the hops in order.
        rows = batch_order(
            where[alerts.transfers(i)], self._ts, self._src, self.account_id, self._tx
        )
        live_rows = rows.tolist()
        # A merchant's fan-in holds thousands: fetch and drop in C, not per element.
        tx_ids = (
            list(itemgetter(*live_rows)(self._tx))
            if len(live_rows) > 1
            else [self._tx[live_rows[0]]]
        )
        at = live_rows.index(row)
        rest = tx_ids[:at] + tx_ids[at + 1 :]
        prior = chain_id(rest) if rest else None
        score = float(alerts.score[i])
        # Hops (and reasons) only for alerts a user is shown: a merchant's fan-in below
        # the threshold can hold thousands of transfers, and its id is all that is kept.
        shown = score >= self.params.score_threshold
        return LiveAlert(
            chain_id=chain_id(tx_ids),
            typology=str(alerts.typology[i]),
            score=score,
            reasons=alerts.reasons(i) if shown else [],
            hops=[self._hop(r) for r in live_rows] if shown else [],
            extends=prior if prior is not None and (prior in known or prior in added) else None,
            size=len(live_rows),
            hub=alert_hub(str(alerts.typology[i]), self._src[rows], self._dst[rows]),
        )
