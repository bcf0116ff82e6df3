"""Clusters and person ids for :mod:`relgraph.ingest.linkage`: the complete-linkage guard
over scored pairs, and stable keyed person ids per cluster."""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph.ingest.person_ids import PersonIdKey, hmac_id_sql


def _clusters(
    n: int,
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    match: npt.NDArray[np.bool_],
    compatible: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Transitive closure of the matches, with the complete-linkage guard for bigger clusters.

    Matches are taken strongest first, equal scores by record position (``a``, then
    ``b``); two clusters join only when every pair across them is ``compatible`` (a pair
    never scored is not). The pairs come from a multi-threaded database in no fixed
    order, and which of two equally strong matches joins first can decide the clusters:
    the same records must give the same persons on every run.
    """
    graph = sp.coo_array((np.ones(int(match.sum())), (a[match], b[match])), shape=(n, n)).tocsr()
    _, components = connected_components(graph, directed=False)
    label: npt.NDArray[np.int64] = components.astype(np.int64)
    sizes = np.bincount(label, minlength=n)
    big = np.flatnonzero(sizes > 2)
    if len(big) == 0:
        return label
    ok_rows = np.flatnonzero(compatible & (sizes[label[a]] > 2))
    ok = set(zip(a[ok_rows].tolist(), b[ok_rows].tolist(), strict=True))
    members_of: dict[int, list[int]] = {}
    for record in np.flatnonzero(np.isin(label, big)).tolist():
        members_of.setdefault(int(label[record]), []).append(record)
    edge_rows = np.flatnonzero(match & (sizes[label[a]] > 2))
    edge_rows = edge_rows[np.lexsort((b[edge_rows], a[edge_rows], -p[edge_rows]))]
    cluster = {r: r for members in members_of.values() for r in members}
    groups = {r: [r] for r in cluster}
    for row in edge_rows.tolist():
        x, y = cluster[int(a[row])], cluster[int(b[row])]
        if x == y:
            continue
        left, right = groups[x], groups[y]
        if all((min(s, t), max(s, t)) in ok for s in left for t in right):
            groups[x] = left + right
            for r in right:
                cluster[r] = x
            del groups[y]
    for root, members in groups.items():
        label[members] = n + root
    return label


def _stable_ids(
    customer_id: npt.NDArray[np.object_],
    label: npt.NDArray[np.int64],
    idn: npt.NDArray[np.object_],
    valid: npt.NDArray[np.bool_],
    previous: pd.Series | None,
    key: PersonIdKey,
) -> npt.NDArray[np.object_]:
    import duckdb

    frame = pd.DataFrame({"label": label, "cid": customer_id, "idn": idn, "valid": valid})
    frame["idn"] = frame["idn"].where(frame["valid"], None)
    frame["old"] = frame["cid"].map(previous) if previous is not None else None
    frame["old"] = frame["old"].astype(object).where(frame["old"].notna(), None)
    con = duckdb.connect(":memory:")
    try:
        key.install(con)
        con.register("frame", frame)
        # One row per cluster: its smallest valid id number, the id most of its records had
        # before, and its smallest customer_id — then the person id. Two clusters asking for
        # one id (a person split since, or one id number kept apart by a decision): one with
        # an id number, else the larger, keeps it; the other is keyed by its smallest
        # customer_id, so two persons never share an id.
        ids = con.sql(
            f"""
            WITH c AS (
                SELECT label,
                       min(idn) FILTER (WHERE idn IS NOT NULL) AS idn,
                       mode(old) FILTER (WHERE old IS NOT NULL) AS old,
                       min(cid) AS cid,
                       count(*) AS size
                FROM frame GROUP BY label
            ), w AS (
                SELECT *,
                       CASE WHEN idn IS NOT NULL THEN {hmac_id_sql("'id:' || idn")}
                            ELSE old END AS wanted
                FROM c
            ), r AS (
                SELECT *, row_number() OVER (
                    PARTITION BY wanted ORDER BY idn IS NULL, size DESC, cid) AS rank
                FROM w
            )
            SELECT label,
                   CASE WHEN wanted IS NOT NULL AND rank = 1 THEN wanted
                        ELSE {hmac_id_sql("'record:' || cid")} END AS person_id
            FROM r
            """  # noqa: S608 - the SQL is constant; the key is bound as variables
        ).df()
    finally:
        con.close()
    return frame["label"].map(ids.set_index("label")["person_id"]).to_numpy(object)


def _mark_different(
    best_ev: npt.NDArray[np.object_],
    position: dict[str, int],
    different: frozenset[tuple[str, str]],
) -> None:
    """Lead the evidence of each record in a DIFFERENT pair this load holds with the decision."""
    for x, y in different:
        if x in position and y in position:
            for row in (position[x], position[y]):
                old = json.loads(best_ev[row]) if best_ev[row] is not None else []
                if not any(i.get("comparison") == "decision" for i in old):
                    new = [{"comparison": "decision", "level": "different", "weight": None}]
                    best_ev[row] = json.dumps(new + old, ensure_ascii=False)
