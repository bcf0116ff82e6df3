"""Link evidence as readable rows: which identifier, which family tie, which transfers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from relgraph import model
from relgraph.analytics.person_links import EVIDENCE_KINDS, IDENTIFIERS, KIND_CODE, Links
from relgraph.graph import Projection

_REF_NODES: dict[str, model.NodeKind] = {
    **{kind: node for kind, (_, node) in IDENTIFIERS.items()},
    "enterprise": "Enterprise",
}


def evidence_frame(projection: Projection, links: Links) -> pd.DataFrame:
    """One row per piece of evidence of every link.

    Columns: ``person_a``, ``person_b`` (person ids), ``kind`` (one of
    ``links.EVIDENCE_KINDS``), ``ref`` (the shared identifier's or enterprise's id, the
    family relation, or a transfer's ``tx_id``), ``weight`` (the evidence's weight in
    the link's strength) and ``count`` (persons sharing the identifier, or transfers
    between the two persons; a link lists at most ``max_transfer_evidence`` of them).
    """
    persons = projection.nodes["Person"]
    ev = links.evidence
    kinds = np.asarray(EVIDENCE_KINDS, dtype=object)[ev.kind]
    ref = np.empty(len(ev.a), dtype=object)
    for kind, node_kind in _REF_NODES.items():
        rows = np.flatnonzero(ev.kind == KIND_CODE[kind])
        ref[rows] = projection.nodes[node_kind].id_of(ev.ref[rows])
    family = np.flatnonzero(ev.kind == KIND_CODE["family"])
    ref[family] = np.asarray(model.RELATIONS, dtype=object)[ev.ref[family]]
    plain = ev.kind != KIND_CODE["transfer"]
    frame = pd.DataFrame(
        {
            "person_a": persons.id_of(ev.a[plain]),
            "person_b": persons.id_of(ev.b[plain]),
            "kind": kinds[plain],
            "ref": ref[plain],
            "weight": ev.weight[plain],
            "count": ev.count[plain],
        }
    )
    # Transfers: one row per listed transfer, carrying the pair's weight and full count.
    transfer_rows = np.flatnonzero(~plain)
    per_link = np.full(len(links), -1, np.int64)
    per_link[links.evidence_link[transfer_rows]] = transfer_rows
    row = per_link[links.transfer_link]
    transfers = projection.edge("Account", "TRANSFER", "Account")
    tx = pd.DataFrame(
        {
            "person_a": persons.id_of(links.a[links.transfer_link]),
            "person_b": persons.id_of(links.b[links.transfer_link]),
            "kind": "transfer",
            "ref": transfers.attrs["tx_id"].to_numpy(object)[links.transfer_edge],
            "weight": ev.weight[row],
            "count": ev.count[row],
        }
    )
    return pd.concat([frame, tx], ignore_index=True)
