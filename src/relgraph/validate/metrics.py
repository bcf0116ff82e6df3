"""The validation metrics: pure functions over ids, labels and scores, one definition each.

These are the definitions ``relgraph validate``, the benchmarks and the issues use.
A truth id the store does not hold (quarantined or never loaded) is passed as a
missing found label (``None``) or counted in ``missing``: it is a miss, never excluded.
A ratio with nothing to divide by (no pairs, no alerts) is ``None``, not 0 or 1.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

Labels = Sequence[Hashable | None] | pd.Series


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def pair_count(labels: Labels) -> int:
    """Pairs of items that share a label; missing labels (None/NaN) pair with nothing.

    >>> pair_count(["a", "a", "a", "b", None, None])
    3
    """
    counts = pd.Series(labels, dtype=object).dropna().value_counts()
    return int((counts * (counts - 1) // 2).sum())


@dataclass(frozen=True)
class PairScores:
    """Pairwise agreement of a found clustering with the true one."""

    precision: float | None
    """Found pairs (two items in one found cluster) that are true pairs."""
    recall: float | None
    """True pairs (two items in one true cluster) found, over ALL truth rows."""
    f1: float | None
    truth_pairs: int
    found_pairs: int
    both: int


def pairwise(truth: Labels, found: Labels) -> PairScores:
    """Pairwise precision, recall and F1 of ``found`` against ``truth``, item by item.

    ``truth[i]`` is item i's true cluster; ``found[i]`` its found cluster, or None when
    the store does not hold the item: its true pairs count as missed (recall is over all
    truth rows) and it forms no found pair.

    >>> s = pairwise(["a", "a", "b", "b"], ["x", "x", "x", None])
    >>> s.truth_pairs, s.found_pairs, s.both
    (2, 3, 1)
    >>> round(s.precision, 3), s.recall, round(s.f1, 3)
    (0.333, 0.5, 0.4)
    """
    t = pd.Series(truth, dtype=object).reset_index(drop=True)
    f = pd.Series(found, dtype=object).reset_index(drop=True)
    present = f.notna()
    both = pair_count((t[present].astype(str) + "\x1f" + f[present].astype(str)).tolist())
    truth_pairs, found_pairs = pair_count(t), pair_count(f)
    p, r = _ratio(both, found_pairs), _ratio(both, truth_pairs)
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None
    if p is not None and r is not None and p + r == 0:
        f1 = 0.0
    return PairScores(p, r, f1, truth_pairs, found_pairs, both)


def split_clusters(truth: Labels, found: Labels) -> pd.DataFrame:
    """True clusters of two or more items that the found clustering splits.

    A cluster is split when its items fall into more than one found cluster or any of
    them is missing from the store. Columns: ``truth`` (the cluster), ``size``,
    ``pieces`` (found clusters it spans, each missing item a piece of its own) and
    ``missing``; the most split first.

    >>> split_clusters(["a", "a", "a", "b", "b", "c"], ["x", "y", None, "z", "z", "w"])
      truth  size  pieces  missing
    0     a     3       3        1
    """
    frame = pd.DataFrame(
        {"truth": pd.Series(truth, dtype=object), "found": pd.Series(found, dtype=object)}
    )
    frame = frame[frame["truth"].notna()].assign(missing=lambda f: f["found"].isna())
    grouped = frame.groupby("truth", sort=True)
    out = pd.DataFrame(
        {
            "size": grouped.size(),
            "missing": grouped["missing"].sum(),
            "found_pieces": grouped["found"].nunique(),
        }
    )
    out["pieces"] = out["found_pieces"] + out["missing"]
    out = out[(out["size"] >= 2) & (out["pieces"] >= 2)]
    out = out.sort_values(["pieces", "size"], ascending=False, kind="stable")
    return out.reset_index()[["truth", "size", "pieces", "missing"]].astype(
        {"size": int, "pieces": int, "missing": int}
    )


def merged_clusters(truth: Labels, found: Labels) -> pd.DataFrame:
    """Found clusters that hold items of more than one true cluster.

    Columns: ``found`` (the cluster), ``size`` (its items in the truth) and ``truth_clusters``
    (how many true clusters they come from); the most merged first.

    >>> merged_clusters(["a", "a", "b", "c"], ["x", "x", "x", None])
      found  size  truth_clusters
    0     x     3               2
    """
    frame = pd.DataFrame(
        {"truth": pd.Series(truth, dtype=object), "found": pd.Series(found, dtype=object)}
    ).dropna()
    grouped = frame.groupby("found", sort=True)["truth"]
    out = pd.DataFrame({"size": grouped.size(), "truth_clusters": grouped.nunique()})
    out = out[out["truth_clusters"] >= 2]
    out = out.sort_values(["truth_clusters", "size"], ascending=False, kind="stable")
    return out.reset_index()[["found", "size", "truth_clusters"]].astype(
        {"size": int, "truth_clusters": int}
    )


def clusters_found_whole(truth: Labels, found: Labels) -> float | None:
    """Share of true clusters whose items all carry one and the same found label.

    A missing item (None) breaks its cluster. Used for guarantee circles: a planted
    circle is found whole when every member is in one found circle.

    >>> clusters_found_whole(["c1", "c1", "c2", "c2", "c3"], ["x", "x", "y", None, "z"])
    0.6666666666666666
    """
    frame = pd.DataFrame(
        {"truth": pd.Series(truth, dtype=object), "found": pd.Series(found, dtype=object)}
    )
    whole = frame.groupby("truth")["found"].agg(
        lambda s: bool(s.notna().all() and s.nunique() == 1)
    )
    return _ratio(int(whole.sum()), len(whole))


def groups_all_correct(group: Labels, correct: Sequence[bool] | pd.Series) -> float | None:
    """Share of groups in which every member is ``correct``.

    Used for corporate groups: a planted group counts when the planted controller is
    found for every member enterprise.

    >>> groups_all_correct(["g1", "g1", "g2"], [True, False, True])
    0.5
    """
    frame = pd.DataFrame(
        {"group": pd.Series(group, dtype=object), "ok": pd.Series(correct, dtype=bool)}
    )
    per_group = frame.groupby("group")["ok"].all()
    return _ratio(int(per_group.sum()), len(per_group))


def pessimistic_order(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray
) -> np.ndarray:
    """Ranking by descending score, ties broken pessimistically (negatives first).

    A tie cannot then flatter the ranking: equal scores are ranked as if the
    ranking had got them wrong.

    >>> pessimistic_order([0.5, 0.9, 0.5], [True, False, False]).tolist()
    [1, 2, 0]
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    return np.lexsort((y, -s))


def precision_at_k(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, k: int
) -> float | None:
    """Share of positives among the ``k`` highest-scoring items (ties pessimistic).

    For AML ``k`` is the number of suspicious accounts, so a perfect ranking scores 1.

    >>> precision_at_k([0.9, 0.8, 0.8, 0.1], [True, True, False, False], 2)
    0.5
    """
    if k <= 0:
        return None
    y = np.asarray(labels, dtype=bool)[pessimistic_order(scores, labels)]
    return float(y[:k].sum()) / k


def average_precision(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, missing: int = 0
) -> float | None:
    """Average precision of a ranking of every item, ties broken pessimistically.

    The mean, over all positives, of the precision among the items ranked at or above
    it. ``missing`` positives the store does not hold are never ranked and add 0 to the
    sum (they still count in the mean). Every account is ranked: an account in no alert
    is passed with score 0, so it ties with the other unalerted accounts below every
    negative of equal score.

    >>> average_precision([0.9, 0.5, 0.1], [True, False, True])
    0.8333333333333333
    >>> average_precision([0.5, 0.5], [True, False])  # tie: the negative counts first
    0.5
    >>> average_precision([0.9], [True], missing=1)
    0.5
    """
    y = np.asarray(labels, dtype=bool)[pessimistic_order(scores, labels)]
    positives = int(y.sum()) + missing
    if positives == 0:
        return None
    hits = np.cumsum(y)
    ranks = np.arange(1, y.size + 1)
    return float((hits[y] / ranks[y]).sum()) / positives


def pr_curve(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, missing: int = 0
) -> pd.DataFrame:
    """Precision and recall of "score ≥ threshold" at every distinct score.

    Recall is over all positives, ``missing`` ones included. Columns ``threshold``,
    ``selected``, ``precision``, ``recall``; highest threshold first.

    >>> pr_curve([0.9, 0.5, 0.5, 0.1], [True, True, False, False])
       threshold  selected  precision  recall
    0        0.9         1   1.000000     0.5
    1        0.5         3   0.666667     1.0
    2        0.1         4   0.500000     1.0
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    positives = int(y.sum()) + missing
    thresholds = np.unique(s)[::-1]
    order = np.sort(s)
    ranked_hits = np.sort(s[y])
    selected = order.size - np.searchsorted(order, thresholds, side="left")
    hits = ranked_hits.size - np.searchsorted(ranked_hits, thresholds, side="left")
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "selected": selected.astype(int),
            "precision": hits / np.maximum(selected, 1),
            "recall": hits / positives if positives else np.full(thresholds.size, np.nan),
        }
    )


def patterns_found(
    pattern_tx: pd.DataFrame, alert_tx: pd.DataFrame, alert_score: pd.Series, threshold: float
) -> pd.Series:
    """Per planted pattern: at least half of its transfers are in alerts scoring ≥ ``threshold``.

    ``pattern_tx`` has columns ``pattern``, ``tx_id`` (every planted transfer, held by
    the store or not); ``alert_tx`` columns ``alert``, ``tx_id``; ``alert_score`` the
    score by alert. Several alerts may cover one pattern together.

    >>> planted = pd.DataFrame({"pattern": ["p", "p", "p", "q", "q"],
    ...                         "tx_id": ["t1", "t2", "t3", "t4", "t5"]})
    >>> alerts = pd.DataFrame({"alert": ["A", "A", "B"], "tx_id": ["t1", "t2", "t4"]})
    >>> patterns_found(planted, alerts, pd.Series({"A": 0.9, "B": 0.2}), 0.5).to_dict()
    {'p': True, 'q': False}
    """
    strong = alert_score[alert_score >= threshold].index
    alerted = set(alert_tx.loc[alert_tx["alert"].isin(strong), "tx_id"])
    covered = pattern_tx["tx_id"].isin(alerted)
    share = covered.groupby(pattern_tx["pattern"]).mean()
    return share >= 0.5


def true_alerts(alert_tx: pd.DataFrame, planted: set[str] | pd.Index) -> pd.Series:
    """Per alert: at least half of its transfers are planted.

    >>> alerts = pd.DataFrame({"alert": ["A", "A", "B", "B", "B"],
    ...                        "tx_id": ["t1", "x1", "t2", "x2", "x3"]})
    >>> true_alerts(alerts, {"t1", "t2"}).to_dict()
    {'A': True, 'B': False}
    """
    share = alert_tx["tx_id"].isin(planted).groupby(alert_tx["alert"]).mean()
    return share >= 0.5


def recall_by_typology(typology: pd.Series, found: pd.Series) -> pd.DataFrame:
    """Per typology: planted patterns, those found, and recall; ``typology`` and ``found``
    are indexed by pattern.

    >>> recall_by_typology(pd.Series({"p": "cycle", "q": "cycle", "r": "fan_in"}),
    ...                    pd.Series({"p": True, "q": False, "r": True})).to_dict("records")
    [{'typology': 'cycle', 'patterns': 2, 'found': 1, 'recall': 0.5}, \
{'typology': 'fan_in', 'patterns': 1, 'found': 1, 'recall': 1.0}]
    """
    hit = found.reindex(typology.index, fill_value=False).astype(bool)
    frame = pd.DataFrame({"typology": typology, "found": hit})
    out = frame.groupby("typology", sort=True)["found"].agg(["size", "sum"]).reset_index()
    out.columns = pd.Index(["typology", "patterns", "found"])
    out["recall"] = out["found"] / out["patterns"]
    return out.astype({"patterns": int, "found": int})


def pattern_spans(pattern_tx: pd.DataFrame, ts: pd.Series) -> pd.Series:
    """Per planted pattern: days from its first to its last transfer that the store holds.

    ``pattern_tx`` has columns ``pattern``, ``tx_id``; ``ts`` is each held transfer's time
    (epoch milliseconds) indexed by ``tx_id``. A pattern with no held transfer has no span
    (NaN).

    >>> planted = pd.DataFrame({"pattern": ["p", "p", "q", "r"], "tx_id": ["a", "b", "c", "x"]})
    >>> pattern_spans(planted, pd.Series({"a": 0, "b": 36 * 3_600_000, "c": 5})).to_dict()
    {'p': 1.5, 'q': 0.0, 'r': nan}
    """
    when = pattern_tx["tx_id"].map(ts).astype(float)
    by = when.groupby(pattern_tx["pattern"].to_numpy(), sort=True)
    return (by.max() - by.min()) / 86_400_000


def recall_by_span(
    typology: pd.Series, found: pd.Series, span_days: pd.Series, horizon_days: float
) -> pd.DataFrame:
    """Per typology: recall of the patterns spanning at most ``horizon_days`` (their first
    to last held transfer), and how many of the rest (longer, or with no transfer held)
    were found anyway. All three series are indexed by pattern.

    The detection windows end at the horizon (the round-trip horizon, the longest), so
    this splits what the definitions miss within their reach from what lies beyond it.

    >>> recall_by_span(pd.Series({"p": "cycle", "q": "cycle", "r": "cycle"}),
    ...                pd.Series({"p": True, "q": False, "r": False}),
    ...                pd.Series({"p": 3.0, "q": 12.0, "r": 41.0}), 30).to_dict("records")
    [{'typology': 'cycle', 'within': 2, 'found_within': 1, 'recall_within': 0.5, \
'longer': 1, 'found_longer': 0}]
    """
    hit = found.reindex(typology.index, fill_value=False).astype(bool)
    within = (span_days.reindex(typology.index) <= horizon_days).to_numpy()
    frame = pd.DataFrame(
        {
            "typology": typology.to_numpy(),
            "within": within,
            "found_within": hit.to_numpy() & within,
            "longer": ~within,
            "found_longer": hit.to_numpy() & ~within,
        }
    )
    out = (
        frame.groupby("typology", sort=True)
        .sum()
        .reset_index()
        .astype({c: int for c in ("within", "found_within", "longer", "found_longer")})
    )
    out.insert(3, "recall_within", out["found_within"] / out["within"].where(out["within"] > 0))
    return out


def alert_precision(is_true: pd.Series, score: pd.Series, threshold: float) -> float | None:
    """Share of true alerts among the alerts scoring at or above ``threshold``.

    >>> alert_precision(pd.Series([True, False, True]), pd.Series([0.9, 0.6, 0.2]), 0.5)
    0.5
    """
    selected = score >= threshold
    return _ratio(int(is_true[selected].sum()), int(selected.sum()))


def reliability_table(
    score: Sequence[float] | np.ndarray, is_true: Sequence[bool] | np.ndarray, bins: int = 10
) -> pd.DataFrame:
    """Alerts by score band of width ``1 / bins``: how many, mean score, observed precision.

    A calibrated score has precision close to its band. The top band includes 1.0;
    empty bands are left out.

    >>> table = reliability_table([0.05, 0.95, 0.91, 1.0], [False, True, False, True], bins=2)
    >>> table[["low", "high", "alerts", "mean_score"]].values.tolist()
    [[0.0, 0.5, 1.0, 0.05], [0.5, 1.0, 3.0, 0.9533]]
    >>> table["precision"].round(3).tolist()
    [0.0, 0.667]
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(is_true, dtype=bool)
    band = np.minimum((s * bins).astype(np.int64), bins - 1)
    frame = pd.DataFrame({"band": band, "score": s, "true": y})
    out = frame.groupby("band").agg(
        alerts=("true", "size"), mean_score=("score", "mean"), precision=("true", "mean")
    )
    out.insert(0, "high", (out.index + 1) / bins)
    out.insert(0, "low", out.index / bins)
    out["mean_score"] = out["mean_score"].round(4)
    return out.reset_index(drop=True).astype({"alerts": int})


def background_fpr(
    transfers: pd.Series, planted: set[str] | pd.Index, alerted: set[str] | pd.Index
) -> float | None:
    """Share of background (not planted) transfers that are in an alert.

    Pass ``alerted`` = the transfers of alerts at or above the threshold.

    >>> background_fpr(pd.Series(["t1", "b1", "b2", "b3", "b4"]), {"t1"}, {"t1", "b1"})
    0.25
    """
    background = transfers[~transfers.isin(planted)]
    return _ratio(int(background.isin(alerted).sum()), len(background))
