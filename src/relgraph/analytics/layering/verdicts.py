"""What a real-time verdict reports: the alerts a new transfer completes or extends."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from relgraph.analytics.layering.check import Hop
from relgraph.analytics.layering.params import I64

Prepared = tuple[I64, bool] | None
"""What :meth:`LiveIndex.prepare` read for a verdict: the neighbourhood and whether it was
cut, or None (no definition can hold the transfer)."""

LiveHop = Hop
"""One transfer of a live alert: the same record as a stored alert's hop."""


@dataclass(frozen=True)
class LiveAlert:
    """An alert holding a new transfer, as the verdict reports it."""

    chain_id: str
    typology: str
    score: float
    reasons: list[dict[str, Any]]
    hops: list[LiveHop]
    extends: str | None
    """The alert this one grew from (the same transfers but the new one), when known."""
    size: int = 0
    """Transfers in the alert (``hops`` is left empty below the score threshold)."""
    hub: int = -1
    """A fan's, gather-scatter's or structuring run's hub account (index), else −1."""

    @property
    def accounts(self) -> set[str]:
        return {h.from_account for h in self.hops} | {h.to_account for h in self.hops}


@dataclass(frozen=True)
class Verdict:
    """The alerts a new transfer completes or extends, and how much was searched."""

    alerts: list[LiveAlert]
    neighbourhood: int
    """Transfers the definitions ran on."""
    truncated: bool
    """The verdict did not see all it reads: the neighbourhood reached ``check_max_paths``
    transfers and was cut, or the transfer arrived so late that its longest detection
    window reaches back past what the live index still holds."""


def chain_id(tx_ids: list[str]) -> str:
    """The batch's id of an alert with these transfers (``frames.chain_ids``)."""
    return "R" + hashlib.blake2b("|".join(tx_ids).encode(), digest_size=8).hexdigest()
