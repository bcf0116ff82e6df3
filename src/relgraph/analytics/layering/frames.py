"""Result tables of a scan: stable alert ids, risk chains, their hops, and each account's risk."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.analytics.layering import standing
from relgraph.analytics.layering.params import (
    I64,
)
from relgraph.analytics.layering.scoring import (
    Alerts,
)
from relgraph.analytics.sets import one_of
from relgraph.graph import Projection


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
    out[:] = distinct_ids(out.tolist(), alerts.typology.astype(str).tolist())
    return out


def batch_order(
    rows: I64, ts: I64, src: I64, account_id: Callable[[int], str], tx_ids: list[str]
) -> I64:
    """A live alert's ``rows`` (in time order) with the transfers of each instant in the
    batch's order: by payer's account id, then transfer id.

    The batch orders an alert's transfers by time, ties by their place in the projection
    (``graph/build.py``: by payer's account id, then time, then id), and numbers and hashes
    its hops in that order. The live index holds ties in the order they arrived (streamed
    ones after loaded ones), so two payments of one second sent in the other order got
    another chain id and other hop numbers than the next batch gives them.
    """
    at = ts[rows]
    tie = at[1:] == at[:-1]
    if not tie.any():
        return rows
    tied = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
    run = np.cumsum(np.r_[True, ~tie])[tied]  # runs keep their places: only ties move
    members = rows[tied].tolist()
    payers = [account_id(a) for a in src[rows[tied]].tolist()]
    keys = sorted(zip(run.tolist(), payers, [tx_ids[r] for r in members], members, strict=True))
    out = rows.copy()
    out[tied] = [k[3] for k in keys]
    return out


def distinct_ids(ids: list[str], typologies: list[str]) -> list[str]:
    """Alerts' ids made unique. Two typologies can hold the very same transfers: a payer's
    weekly 48,000s to six strangers are a slow fan-out and a structuring run, and the
    transfers' hash named both. A structuring run's id therefore always hashes its typology
    too (``R`` + a hash of the typology and the transfers' hash): its transfers are chosen by
    amount alone, so they are the ones most often another pattern's, and a verdict that
    finds the run but not the fan (real time sees less) still names it as the batch does.
    Any other two alerts holding the same transfers (rarer: a block that is also a stack)
    are told apart the same way, the one whose typology sorts first keeping the hash; every
    other id is the transfers' hash, as before.

    >>> distinct_ids(["R1", "R1", "R2"], ["structuring", "fan_out", "cycle"])
    ['Rcce52d0e25ecc0ed', 'R1', 'R2']
    """
    first: dict[str, str] = {}
    clash: set[str] = set()
    for chain, typology in zip(ids, typologies, strict=True):
        if typology in _TYPED:
            clash.add(chain)
            continue
        held = first.setdefault(chain, typology)
        if held != typology:
            clash.add(chain)
            first[chain] = min(held, typology)
    if not clash:
        return ids
    out = []
    for chain, typology in zip(ids, typologies, strict=True):
        if chain in clash and first.get(chain) != typology:
            chain = "R" + hashlib.blake2b(f"{typology}|{chain}".encode(), digest_size=8).hexdigest()
        out.append(chain)
    return out


_TYPED = frozenset({"structuring"})
"""Typologies whose ids always hash the typology (:func:`distinct_ids`)."""


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
    >>> from relgraph.analytics.layering import scan
    >>> frames = alert_frames(projection, scan(projection))
    >>> sorted(frames)
    ['account_risk', 'risk_chain_hops', 'risk_chains']
    """
    edges = projection.edge("Account", "TRANSFER", "Account")
    accounts = projection.nodes["Account"]
    ids = chain_ids(projection, alerts)
    n = len(alerts)
    reasons = [json.dumps(r, ensure_ascii=False) for r in alerts.all_reasons()]
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
    """Per account in any alert that counts toward its risk (:mod:`.standing`): the highest
    alert score and those alerts as reasons (JSON; ``role`` origin, end, intermediate or
    party; hub or counterparty for a fan, gather-scatter or structuring run)."""
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
    typology = alerts.typology[frame["alert"].to_numpy()]
    hubbed = one_of(typology, tuple(standing.HUBBED))
    frame["role"] = np.select(
        [hubbed & (account == origin), hubbed, account == origin, account == end, origin < 0],
        ["hub", "counterparty", "origin", "end", "party"],
        "intermediate",
    )
    transfer_hub = standing.transfer_hubs(
        edges.src, edges.dst, len(accounts), alerts.params.hub_partners
    )
    frame = frame[standing.counts(typology, origin, account, transfer_hub[account])]
    if frame.empty:
        return pd.DataFrame({"account_id": [], "score": [], "reasons": [], "alerts": []})
    frame = frame.assign(score=alerts.score[frame["alert"].to_numpy()])
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
