"""Money-laundering typologies injected per their published descriptions.

The seven shapes are those of AMLSim (IBM, Suzumura & Kanezashi 2021; ``fan_in``,
``fan_out``, ``cycle``, ``bipartite``, ``stack``, ``scatter_gather``, ``gather_scatter``)
and of IBM's AML transaction data (Altman et al., NeurIPS 2023 Datasets track, which adds
``random``; not planted here):

- fan_in: many accounts send to one; fan_out: one sends to many;
- cycle: money moves around a loop of accounts and returns to where it started;
- bipartite: a set of senders pays a set of receivers;
- stack: bipartite layers stacked (senders → layer 1 → layer 2);
- scatter_gather: one source scatters to intermediaries who all pay one beneficiary;
- gather_scatter: many sources gather at one hub that scatters to many beneficiaries.

Amounts, timings and participants are drawn here, not from any detector's settings:
pattern total log-normal (median ``TOTAL_MEDIAN``), a pace per pattern (``PACES``: hours,
days or weeks between hops), per hop either a professional fee (pass 96–99.7%) or a mule
keeping a share (pass 45–95%), 35% of patterns structured into chunks below the cash-report
line, amounts rounded to 100 or 1,000 for about half of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from indbank import clock

TYPOLOGIES: Final = (
    "fan_in",
    "fan_out",
    "cycle",
    "bipartite",
    "stack",
    "scatter_gather",
    "gather_scatter",
)
CUSTOMERS_PER_PATTERN: Final = 400
MIN_PER_TYPOLOGY: Final = 2
TOTAL_MEDIAN: Final = 300_000.0
TOTAL_SIGMA: Final = 0.9
TOTAL_RANGE: Final = (30_000.0, 8_000_000.0)
# (name, share of patterns, median hop delay in hours, log-normal sigma)
PACES: Final = (("fast", 0.35, 4.0, 0.9), ("days", 0.40, 36.0, 0.7), ("weeks", 0.25, 168.0, 0.5))
PROFESSIONAL_SHARE: Final = 0.65
FEE_RANGE: Final = (0.003, 0.04)
MULE_PASS_RANGE: Final = (0.45, 0.95)
STRUCTURED_SHARE: Final = 0.35
STRUCTURED_MAX_TOTAL: Final = 1_500_000.0
CHUNK_CAP_RANGE: Final = (30_000.0, 49_900.0)
"""Chunk caps below 50,000 CNY, the large-cash reporting line of PBoC Order [2016] No. 3."""
CHUNK_GAP_MEAN: Final = 1200.0
"""Mean seconds between a structured transfer's chunks (exponential)."""
ROUND_100_SHARE: Final = 0.40
ROUND_1000_SHARE: Final = 0.15
FRESH_SHARE: Final = 0.40
SHELL_SHARE: Final = 0.20
LAST_START_DAY: Final = 300
SECOND_LAP_SHARE: Final = 0.25
ROUND_TRIP_SHARE: Final = 0.20


@dataclass
class Planted:
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)
    sec: list[int] = field(default_factory=list)
    pattern: list[int] = field(default_factory=list)
    typology: list[int] = field(default_factory=list)


class _Pattern:
    """One pattern's draws: pace, pass-through, structuring and rounding."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        pace = rng.choice(len(PACES), p=[p[1] for p in PACES])
        self.delay_h, self.sigma = PACES[pace][2], PACES[pace][3]
        self.professional = rng.random() < PROFESSIONAL_SHARE
        structured = rng.random() < STRUCTURED_SHARE
        self.cap = rng.uniform(*CHUNK_CAP_RANGE)
        u = rng.random()
        self.round_to = (
            100.0
            if u < ROUND_100_SHARE
            else (1000.0 if u < ROUND_100_SHARE + ROUND_1000_SHARE else 0.0)
        )
        self.total = float(
            np.clip(np.exp(rng.normal(np.log(TOTAL_MEDIAN), TOTAL_SIGMA)), *TOTAL_RANGE)
        )
        self.start = float(rng.uniform(0, LAST_START_DAY)) * clock.DAY
        # Structuring is for sums a few dozen deposits can carry; larger ones go whole.
        self.structured = structured and self.total <= STRUCTURED_MAX_TOTAL

    def delay(self) -> float:
        return float(np.exp(self.rng.normal(np.log(self.delay_h), self.sigma))) * 3600.0

    def passed(self, amount: float) -> float:
        if self.professional:
            return amount * (1 - self.rng.uniform(*FEE_RANGE))
        return amount * self.rng.uniform(*MULE_PASS_RANGE)

    def window(self) -> float:
        return self.delay() * self.rng.uniform(2, 8)


def _emit(
    out: Planted, pat: _Pattern, src: int, dst: int, amount: float, t: float, pid: int, typ: int
) -> None:
    pieces = np.array([amount])
    structured = pat.structured and amount > pat.cap
    if structured:
        # Near-equal chunks (±10%), none above the cap; minutes to an hour or so apart.
        k = int(np.ceil(amount / (0.9 * pat.cap)))
        pieces = np.minimum(amount / k * pat.rng.uniform(0.9, 1.1, k), pat.cap)
    gaps = np.concatenate([[0.0], np.cumsum(pat.rng.exponential(CHUNK_GAP_MEAN, pieces.size - 1))])
    for piece, gap in zip(pieces, gaps, strict=True):
        if pat.round_to:
            # Rounding must not lift a structured chunk over the line: round down then.
            steps = np.floor(piece / pat.round_to) if structured else np.round(piece / pat.round_to)
            value = float(steps * pat.round_to)
        else:
            value = round(float(piece), 2)
        if value < 1:
            continue
        when = t + gap
        out.src.append(src)
        out.dst.append(dst)
        out.amount.append(float(value))
        out.sec.append(int(when))
        out.pattern.append(pid)
        out.typology.append(typ)


def plant(
    rng: np.random.Generator,
    n_customers: int,
    existing: np.ndarray,
    fresh: np.ndarray,
    shells: np.ndarray,
) -> Planted:
    """Plant the patterns; participants are account indices from the three pools."""
    n_patterns = max(MIN_PER_TYPOLOGY * len(TYPOLOGIES), round(n_customers / CUSTOMERS_PER_PATTERN))
    typ = np.arange(n_patterns) % len(TYPOLOGIES)
    rng.shuffle(typ)
    pools = [list(rng.permutation(p)) for p in (existing, fresh, shells)]

    def take(k: int, shells_ok: bool = True) -> list[int]:
        picked: list[int] = []
        for _ in range(k):
            u = rng.random()
            which = (
                1 if u < FRESH_SHARE else (2 if shells_ok and u < FRESH_SHARE + SHELL_SHARE else 0)
            )
            if not pools[which]:
                which = 0 if pools[0] else (1 if pools[1] else 2)
            if not pools[which]:
                raise ValueError("too few accounts for the planted patterns: use more customers")
            picked.append(int(pools[which].pop()))
        return picked

    out = Planted()
    for pid, t in enumerate(typ.tolist()):
        pat = _Pattern(rng)
        name = TYPOLOGIES[t]
        if name in ("fan_in", "fan_out"):
            k = int(rng.integers(5, 19))
            hub = take(1)[0]
            others = take(k, shells_ok=False)
            parts = rng.dirichlet(np.full(k, 1.5)) * pat.total
            span = pat.window()
            for o, part in zip(others, parts, strict=True):
                when = pat.start + rng.uniform(0, span)
                if name == "fan_in":
                    _emit(out, pat, o, hub, part, when, pid, t)
                else:
                    _emit(out, pat, hub, o, part, when, pid, t)
        elif name == "cycle":
            ring = take(int(rng.integers(3, 9)))
            laps = 2 if rng.random() < SECOND_LAP_SHARE else 1
            amount, when = pat.total, pat.start
            for _ in range(laps):
                for i in range(len(ring)):
                    _emit(out, pat, ring[i], ring[(i + 1) % len(ring)], amount, when, pid, t)
                    amount = pat.passed(amount)
                    when += pat.delay()
        elif name == "bipartite":
            a, b = take(int(rng.integers(2, 6))), take(int(rng.integers(2, 7)))
            edges = [(x, y) for x in a for y in b if rng.random() < 0.7]
            covered_a = {x for x, _ in edges}
            covered_b = {y for _, y in edges}
            edges += [(x, b[int(rng.integers(len(b)))]) for x in a if x not in covered_a]
            edges += [(a[int(rng.integers(len(a)))], y) for y in b if y not in covered_b]
            parts = rng.dirichlet(np.full(len(edges), 2.0)) * pat.total
            span = pat.window()
            for (x, y), part in zip(edges, parts, strict=True):
                _emit(out, pat, x, y, part, pat.start + rng.uniform(0, span), pid, t)
        elif name == "stack":
            layers = [take(int(rng.integers(2, 5))) for _ in range(3)]
            inflow = dict.fromkeys(layers[0], pat.total / len(layers[0]))
            when = pat.start
            for upper, lower in itertools.pairwise(layers):
                nxt: dict[int, float] = dict.fromkeys(lower, 0.0)
                for x in upper:
                    targets = [y for y in lower if rng.random() < 0.8] or [
                        lower[int(rng.integers(len(lower)))]
                    ]
                    sent = pat.passed(inflow[x]) if upper is not layers[0] else inflow[x]
                    for y, part in zip(
                        targets, rng.dirichlet(np.full(len(targets), 2.0)) * sent, strict=True
                    ):
                        _emit(out, pat, x, y, part, when + rng.uniform(0, pat.delay()), pid, t)
                        nxt[y] += part
                inflow = nxt
                when += pat.delay() * 2
        elif name == "scatter_gather":
            source = take(1, shells_ok=False)[0]
            mids = take(int(rng.integers(3, 11)))
            sink = source if rng.random() < ROUND_TRIP_SHARE else take(1)[0]
            parts = rng.dirichlet(np.full(len(mids), 3.0)) * pat.total
            for m, part in zip(mids, parts, strict=True):
                t1 = pat.start + rng.uniform(0, pat.delay())
                _emit(out, pat, source, m, part, t1, pid, t)
                _emit(out, pat, m, sink, pat.passed(part), t1 + pat.delay(), pid, t)
        else:  # gather_scatter
            sources = take(int(rng.integers(3, 11)), shells_ok=False)
            hub = take(1)[0]
            dests = take(int(rng.integers(3, 11)), shells_ok=False)
            parts = rng.dirichlet(np.full(len(sources), 2.0)) * pat.total
            last = pat.start
            for s, part in zip(sources, parts, strict=True):
                when = pat.start + rng.uniform(0, pat.window())
                last = max(last, when)
                _emit(out, pat, s, hub, part, when, pid, t)
            out_total = pat.passed(pat.total)
            for d, part in zip(
                dests, rng.dirichlet(np.full(len(dests), 2.0)) * out_total, strict=True
            ):
                _emit(out, pat, hub, d, part, last + pat.delay() * rng.uniform(0.5, 1.5), pid, t)
    return out
