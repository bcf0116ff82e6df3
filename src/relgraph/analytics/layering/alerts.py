"""Alerts as the layering scan reports them: typology, transfers, facts, weights, score.

:class:`Alerts` holds facts and weights as DataFrames (the batch scan's tables);
:class:`ScoredColumns` the same as plain columns (the real-time verdict's, no pandas).
A score is the noisy-or of the positive weights, lowered by each discount
(:func:`noisy_or`); reasons are the non-zero weights with their facts, strongest first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.analytics.layering.params import F64, I64, LayeringParams

DISCOUNTS: Final = ("routine", "ordinary")
"""Reasons that lower a score: it is multiplied by ``1 + weight`` (weights ≤ 0) of each."""


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
    truncations: dict[str, int] = field(default_factory=dict)
    """Per typology: how often a search cap cut the search (chains: chains stopped at
    ``max_hops``; cycles: branching and paths-per-start cuts)."""

    def __len__(self) -> int:
        return len(self.typology)

    def take(self, rows: I64) -> Alerts:
        """The alerts ``rows`` (in that order), as an Alerts of their own."""
        ptr, edges = _take_spans(self.ptr, self.edges, rows)
        return Alerts(
            self.typology[rows],
            ptr,
            edges,
            self.facts.iloc[rows].reset_index(drop=True),
            self.weights.iloc[rows].reset_index(drop=True),
            self.score[rows],
            self.params,
            self.truncations,
        )

    def transfers(self, i: int) -> I64:
        """EdgeSet positions of alert ``i``'s transfers."""
        return self.edges[self.ptr[i] : self.ptr[i + 1]]

    def reasons(self, i: int) -> list[dict[str, Any]]:
        """Alert ``i``'s reasons as data: ``{"reason", "weight", "value"}``, strongest first."""
        return _reasons(self.facts.iloc[i], self.weights.iloc[i], self.params)

    def all_reasons(self) -> list[list[dict[str, Any]]]:
        """:meth:`reasons` of every alert, in order. The columns are read once as Python
        lists: a DataFrame row per alert costs ~30 pandas lookups (66 of the 174 s of a
        profiled 100,000-customer ``analyze``). The same values, so the same reasons."""
        facts = {str(k): v.tolist() for k, v in self.facts.items()}
        weights = {str(k): v.tolist() for k, v in self.weights.items()}
        return [
            _reasons({k: v[i] for k, v in facts.items()}, {k: v[i] for k, v in weights.items()},
                     self.params)
            for i in range(len(self))
        ]  # fmt: skip


Columns = dict[str, npt.NDArray[Any]]
"""Equal-length columns by name: a frame without pandas (a verdict scores a handful of
alerts, and building a DataFrame costs more than scoring them)."""


@dataclass(frozen=True)
class ScoredColumns:
    """:class:`Alerts` with their facts and weights as plain columns (:data:`Columns`).

    What the scoring computes; :meth:`to_alerts` gives the :class:`Alerts` of the batch
    scan. The real-time verdict reads these directly: the same numbers, without building
    two DataFrames per transfer.
    """

    typology: npt.NDArray[np.object_]
    ptr: I64
    edges: I64
    facts: Columns
    weights: Columns
    score: F64
    params: LayeringParams = field(default_factory=LayeringParams)
    truncations: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.typology)

    def transfers(self, i: int) -> I64:
        """EdgeSet positions of alert ``i``'s transfers."""
        return self.edges[self.ptr[i] : self.ptr[i + 1]]

    def take(self, rows: I64) -> ScoredColumns:
        """The alerts ``rows`` (in that order), as columns of their own."""
        ptr, edges = _take_spans(self.ptr, self.edges, rows)
        return ScoredColumns(
            self.typology[rows],
            ptr,
            edges,
            {name: column[rows] for name, column in self.facts.items()},
            {name: column[rows] for name, column in self.weights.items()},
            self.score[rows],
            self.params,
            self.truncations,
        )

    def reasons(self, i: int) -> list[dict[str, Any]]:
        """As :meth:`Alerts.reasons`."""
        f = {name: column[i] for name, column in self.facts.items()}
        w = {name: column[i] for name, column in self.weights.items()}
        return _reasons(f, w, self.params)

    def to_alerts(self) -> Alerts:
        return Alerts(
            self.typology,
            self.ptr,
            self.edges,
            pd.DataFrame(self.facts),
            pd.DataFrame(self.weights),
            self.score,
            self.params,
            self.truncations,
        )

    @classmethod
    def of(cls, alerts: Alerts) -> ScoredColumns:
        def columns(frame: pd.DataFrame) -> Columns:
            return {str(name): frame[name].to_numpy() for name in frame.columns}

        return cls(
            alerts.typology,
            alerts.ptr,
            alerts.edges,
            columns(alerts.facts),
            columns(alerts.weights),
            alerts.score,
            alerts.params,
            alerts.truncations,
        )


def noisy_or(weights: Columns) -> F64:
    """The score of reason weights: noisy-OR of the positive ones, times ``1 + weight`` of
    each discount (:data:`DISCOUNTS`), in that order."""
    names = [name for name in weights if name not in DISCOUNTS]
    n = len(next(iter(weights.values()))) if weights else 0
    positive = (
        np.stack([np.asarray(weights[name], np.float64) for name in names], axis=1)
        if names
        else np.zeros((n, 0))
    )
    score = 1 - np.prod(1 - positive, axis=1)
    for name in DISCOUNTS:
        if name in weights:
            score = score * (1 + np.asarray(weights[name], np.float64))
    return np.asarray(score, np.float64)


def _reasons(f: Any, w: Any, params: LayeringParams) -> list[dict[str, Any]]:
    """One alert's reasons from its facts ``f`` and weights ``w`` (a row: name → value)."""
    values: dict[str, Any] = {
        "hops": int(f["hops"]),
        "speed": {"median_dwell_minutes": round(float(f["median_dwell_ms"]) / 60_000, 1)},
        "retained": round(float(f["retained"]), 4),
        "new_accounts": int(f["new_accounts"]),
        "linked_endpoints": str(f["linked"]),
        "structuring": int(f["structuring"]),
        "round_trip": str(f["linked"]),
        "fan_excess": round(float(f["fan_excess"]), 2),
        "pass_through": round(float(f["pass_through"]), 4),
        "routine": round(float(f["routine"]), 4),
        "ordinary": round(float(f["ordinary"]), 4),
        "unusual_amounts": round(float(f["unusual_amounts"]), 4),
        "many_to_many": int(f["block_width"]),
        "unrelated_persons": round(float(f["unrelated_persons"]), 4),
        "unfunded": round(float(f["funded"]), 4),
    }
    always = ("hops", "speed", "retained")
    rows = [
        {"reason": name, "weight": round(float(w[name]), 4), "value": values[name]}
        for name in values
        if name in always or float(w[name]) != 0
    ]
    if bool(f["truncated"]):
        rows.append({"reason": "truncated", "weight": 0.0, "value": params.max_hops})
    return sorted(rows, key=lambda r: -abs(float(r["weight"])))


def _take_spans(ptr: I64, edges: I64, rows: I64) -> tuple[I64, I64]:
    """The CSR spans ``rows`` (in that order) of ``edges`` as a CSR of their own."""
    size = np.diff(ptr)[rows]
    out = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(size, out=out[1:])
    starts = np.repeat(ptr[:-1][rows] - out[:-1], size)
    return out, edges[starts + np.arange(int(out[-1]), dtype=np.int64)]
