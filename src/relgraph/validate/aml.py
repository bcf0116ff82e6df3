"""Transaction monitoring against ``laundering.csv`` and ``suspicious_accounts.csv``.

Definitions (``relgraph.validate.metrics`` holds each one):

* a planted pattern is **found** when at least half of its transfers are in alerts
  scoring at or above the default threshold (the ``layering.score_threshold`` that
  ``analyze`` stored); a planted transfer the store does not hold is never in an alert;
* an alert is **true** when at least half of its transfers are planted;
* recall and precision are at the default threshold; the sweep over other thresholds is
  labelled as such;
* accounts are ranked by their stored ``account_risk.score``, every account of the store
  (score 0 when in no alert), ties broken pessimistically. Suspicious accounts are the
  accounts at either end of a planted transfer and those labelled 1 in
  ``suspicious_accounts.csv``; an account labelled 0 is clean even when a planted
  transfer touches it. A labelled account the store does not hold is a miss;
* recall per typology is also split by a pattern's **span** (its first to last held
  transfer): within the horizon (``cycle_horizon_days``, the longest detection window) or
  longer. A pattern longer than every window is found only in parts; the split tells what
  the definitions miss within their reach from what their settings put beyond it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from relgraph.validate.metrics import (
    alert_precision,
    average_precision,
    background_fpr,
    pattern_spans,
    patterns_found,
    pr_curve,
    precision_at_k,
    recall_by_span,
    recall_by_typology,
    reliability_table,
    true_alerts,
)
from relgraph.validate.section import Section

OTHER_THRESHOLDS: Final = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
TOP_FALSE_POSITIVES: Final = 10


def _reasons(text: object) -> str:
    """``reason=value (weight)`` for each reason an alert's score was made of."""
    try:
        parts = json.loads(str(text))
    except json.JSONDecodeError:
        return str(text)
    return "; ".join(
        f"{p.get('reason')}={json.dumps(p.get('value'), ensure_ascii=False)} ({p.get('weight')})"
        for p in parts
        if isinstance(p, dict)
    )


def _accounts(hops: pd.DataFrame, chain_id: str, shown: int = 4) -> str:
    """The accounts an alert's transfers touch (the first ``shown``, then how many more)."""
    rows = hops[hops["chain_id"] == chain_id]
    names = list(dict.fromkeys([*rows["from_account"], *rows["to_account"]]))
    more = f" … +{len(names) - shown}" if len(names) > shown else ""
    return ", ".join(str(n) for n in names[:shown]) + more


@dataclass(frozen=True)
class Alerts:
    """The stored alerts: score by chain_id, their transfers, and the rows themselves."""

    chains: pd.DataFrame
    hops: pd.DataFrame
    score: pd.Series
    transfers: pd.DataFrame
    """One row per (alert, tx_id)."""

    @classmethod
    def from_results(cls, chains: pd.DataFrame, hops: pd.DataFrame) -> Alerts:
        chains = chains.astype({"score": float})
        return cls(
            chains=chains,
            hops=hops,
            score=chains.set_index("chain_id")["score"],
            transfers=hops.rename(columns={"chain_id": "alert"})[["alert", "tx_id"]],
        )


def _as_objects(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns as Python objects."""
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c])]
    return frame.astype(dict.fromkeys(text, object))


def _planted_figures(
    section: Section,
    laundering: pd.DataFrame,
    threshold: float,
    alerts: Alerts,
    transfers: pd.DataFrame,
    horizon_days: float,
) -> None:
    """Pattern recall (also by span), alert precision, the sweep, reliability, FPR and the
    top false positives."""
    fig = section.figures
    score = alerts.score
    planted = pd.DataFrame({"pattern": laundering["pattern_key"], "tx_id": laundering["tx_id"]})
    planted_ids = pd.Index(planted["tx_id"].unique())
    typology = laundering.drop_duplicates("pattern_key").set_index("pattern_key")["typology"]

    def found_at(t: float) -> pd.Series:
        hit = patterns_found(planted, alerts.transfers, score, t)
        return hit.reindex(typology.index, fill_value=False)

    found = found_at(threshold)
    recall = float(found.mean()) if len(found) else None
    by_typology = recall_by_typology(typology, found)
    is_true = true_alerts(alerts.transfers, planted_ids).reindex(score.index, fill_value=False)
    precision = alert_precision(is_true, score, threshold)
    strong = alerts.transfers.loc[alerts.transfers["alert"].isin(score.index[score >= threshold])]
    fpr = background_fpr(transfers["tx_id"], planted_ids, set(strong["tx_id"]))
    n_missing, listed = section.unheld(planted["tx_id"], pd.Index(transfers["tx_id"]))
    fig.update(
        patterns=len(typology),
        patterns_found=int(found.sum()),
        recall=recall,
        recall_by_typology={
            r.typology: {"patterns": r.patterns, "found": r.found, "recall": r.recall}
            for r in by_typology.itertuples()
        },
        true_alerts_at_threshold=int(is_true[score >= threshold].sum()),
        alert_precision=precision,
        background_transfers=int((~transfers["tx_id"].isin(planted_ids)).sum()),
        background_fpr=fpr,
        missing_transfers=n_missing,
        missing_transfers_listed=listed,
    )
    section.headline.update(
        {
            f"pattern recall (score ≥ {threshold:g})": recall,
            f"alert precision (score ≥ {threshold:g})": precision,
            "false-positive rate on background transfers": fpr,
        }
    )
    section.headline["planted transfers not in the store (misses)"] = n_missing
    if n_missing:
        section.tables.append(
            (
                f"Planted transfers not in the store (first {len(listed)} of {n_missing}; "
                "never in an alert: they count against their patterns)",
                pd.DataFrame({"tx_id": listed}),
            )
        )
    section.tables.append(("Recall per planted typology (default threshold)", by_typology))
    spans = pattern_spans(planted, transfers.set_index("tx_id")["ts"])
    by_span = recall_by_span(typology, found, spans, horizon_days)
    fig["horizon_days"] = horizon_days
    fig["recall_within_horizon"] = {
        r["typology"]: {
            "patterns": int(r["within"]),
            "found": int(r["found_within"]),
            # NaN (no pattern within the horizon) is no ratio: None, as _ratio gives.
            "recall": None if pd.isna(r["recall_within"]) else float(r["recall_within"]),
            "longer": int(r["longer"]),
            "found_longer": int(r["found_longer"]),
        }
        for r in by_span.to_dict("records")
    }
    section.tables.append(
        (
            f"Recall per typology of patterns spanning at most the {horizon_days:g}-day horizon "
            "(and the longer ones found)",
            by_span,
        )
    )

    def sweep(thresholds: Iterable[float]) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "threshold": float(t),
                    "alerts": int((score >= t).sum()),
                    "precision": alert_precision(is_true, score, t),
                    "recall": float(found_at(t).mean()) if len(typology) else None,
                }
                for t in thresholds
            ],
            columns=["threshold", "alerts", "precision", "recall"],
        )

    others = sweep(sorted({*OTHER_THRESHOLDS, threshold}))
    fig["other_thresholds"] = others.to_dict("records")
    section.tables.append((f"At other thresholds (labelled; the default is {threshold:g})", others))
    reliability = reliability_table(score.to_numpy(), is_true.to_numpy())
    fig["reliability"] = reliability.to_dict("records")
    section.tables.append(("Reliability: alert score band vs observed precision", reliability))
    section.plots["alert_scores"] = pd.DataFrame({"score": score, "true": is_true})
    # The curve at every score the alerts take (to 0.01), not only the labelled thresholds.
    section.plots["alert_sweep"] = sweep(np.unique(np.round(score.to_numpy(), 2)))
    false = alerts.chains.set_index("chain_id").loc[~is_true.to_numpy()]
    top = false.sort_values("score", ascending=False, kind="stable").head(TOP_FALSE_POSITIVES)
    section.tables.append(
        (
            f"Highest-scoring false positives (top {TOP_FALSE_POSITIVES})",
            pd.DataFrame(
                {
                    "chain_id": top.index,
                    "typology": top["typology"].to_numpy(),
                    "score": top["score"].round(4).to_numpy(),
                    "accounts": [_accounts(alerts.hops, c) for c in top.index],
                    "reasons": top["reasons"].map(_reasons).to_numpy(),
                }
            ),
        )
    )


def _account_figures(
    section: Section,
    positives: set[str],
    suspicious: pd.DataFrame | None,
    accounts: pd.Series,
    account_risk: pd.DataFrame,
) -> None:
    """Precision at k, average precision and the PR curve over every stored account."""
    fig = section.figures
    missing_accounts = 0
    if suspicious is not None:
        labelled = suspicious.drop_duplicates("account_id", keep="last")
        confirmed = labelled.loc[labelled["label"] == 1, "account_id"]
        positives = (positives | set(confirmed)) - set(
            labelled.loc[labelled["label"] == 0, "account_id"]
        )
        held = pd.Index(accounts)
        missing_accounts, listed = section.unheld(confirmed, held)
        fig["missing_accounts"] = missing_accounts
        fig["missing_accounts_listed"] = listed
        # A clean account the store does not hold has no rank to take: it changes no
        # figure, but the row was not used, so it is counted and listed.
        clean = labelled.loc[labelled["label"] == 0, "account_id"]
        missing_clean, clean_listed = section.unheld(clean, held)
        fig["missing_clean_accounts"] = missing_clean
        fig["missing_clean_accounts_listed"] = clean_listed
        for count, shown, what in (
            (missing_accounts, listed, "labelled 1, counted as misses"),
            (missing_clean, clean_listed, "labelled 0, not ranked"),
        ):
            if count:
                section.tables.append(
                    (
                        f"Labelled accounts not in the store (first {len(shown)} of {count}; "
                        f"{what})",
                        pd.DataFrame({"account_id": shown}),
                    )
                )
    risk = account_risk.drop_duplicates("account_id").set_index("account_id")["score"]
    account_score = accounts.map(risk).fillna(0.0).astype(float).to_numpy()
    label = accounts.isin(positives).to_numpy()
    k = int(label.sum()) + missing_accounts
    ap = average_precision(account_score, label, missing=missing_accounts)
    p_at_k = precision_at_k(account_score, label, k)
    fig.update(
        accounts=len(accounts), suspicious_accounts=k, precision_at_k=p_at_k, average_precision=ap
    )
    section.headline.update(
        {f"precision at k={k} (accounts)": p_at_k, "average precision (accounts)": ap}
    )
    if suspicious is not None:
        section.headline["suspicious accounts not in the store (misses)"] = missing_accounts
        section.headline["clean accounts not in the store (not ranked)"] = fig[
            "missing_clean_accounts"
        ]
    section.plots["account_pr"] = pr_curve(account_score, label, missing=missing_accounts)


def aml(
    laundering: pd.DataFrame | None,
    suspicious: pd.DataFrame | None,
    threshold: float,
    transfers: pd.DataFrame,
    accounts: pd.Series,
    chains: pd.DataFrame,
    hops: pd.DataFrame,
    account_risk: pd.DataFrame,
    *,
    horizon_days: float,
) -> Section:
    """Per-typology recall, alert precision, account ranking, calibration and false positives.

    Parameters
    ----------
    laundering, suspicious
        The truth files (either may be None, not both).
    threshold
        The default score threshold the stored run used.
    transfers
        Stored ``transfers``: ``tx_id, from_account, to_account, ts``.
    accounts
        Every stored ``account_id``.
    chains, hops, account_risk
        Stored ``risk_chains`` (``chain_id, typology, score, reasons``),
        ``risk_chain_hops`` (``chain_id, tx_id, from_account, to_account``) and ``account_risk``
        (``account_id, score``).
    horizon_days
        The stored run's ``cycle_horizon_days``: recall is also split by pattern span.
    """
    section = Section("aml", "Transaction monitoring (laundering.csv, suspicious_accounts.csv)")
    # Ids as Python strings: pandas tests membership in an Arrow-backed string column value
    # by value (1.5 s for 20,000 ids against 100,000), in an object column by hash table
    # (0.03 s); a bank's laundering.csv of 100,000 rows is tested against several times.
    laundering = None if laundering is None else _as_objects(laundering)
    transfers, hops = _as_objects(transfers), _as_objects(hops)
    alerts = Alerts.from_results(chains, hops)
    threshold_alerts = int((alerts.score >= threshold).sum())
    section.figures.update(
        threshold=threshold, alerts=len(alerts.chains), alerts_at_threshold=threshold_alerts
    )
    positives: set[str] = set()
    if laundering is not None:
        _planted_figures(section, laundering, threshold, alerts, transfers, horizon_days)
        touched = transfers[transfers["tx_id"].isin(set(laundering["tx_id"]))]
        positives = set(touched["from_account"]) | set(touched["to_account"])
    else:
        section.notes.append(
            "Pattern recall, alert precision and the false-positive rate need laundering.csv "
            "(planted transfers); the account figures below use suspicious_accounts.csv."
        )
    _account_figures(section, positives, suspicious, accounts, account_risk)
    return section
