"""A person's referral influence as the API serves it (the ``influence`` results table's row)."""

from __future__ import annotations

import pandas as pd
import strawberry


@strawberry.type
class Influence:
    rank: int
    direct_referrals: int
    cascade_size: int
    cascade_aum: float
    pagerank: float


def influence_of(frame: object, row: int) -> Influence:
    """Row ``row`` of the stored ``influence`` frame (typed ``object`` in the read model's
    results, which hold frames of every shape)."""
    assert isinstance(frame, pd.DataFrame)
    r = frame.iloc[row]
    return Influence(
        rank=int(r["rank"]),
        direct_referrals=int(r["direct_referrals"]),
        cascade_size=int(r["cascade_size"]),
        cascade_aum=float(r["cascade_aum"]),
        pagerank=float(r["pagerank"]),
    )
