"""The live alert queue's bookkeeping (:mod:`.live`): the stages a grown alert replaces, and
each account's risk now.

An alert that grows — a fan of five a sixth payment makes a fan of six, a chain one more hop
makes longer — replaces the alert it grew from, live or stored: the batch will have only the
grown one. An account's risk in a verdict is therefore the stored score, leaving out stored
alerts a live one grew from, raised by the live alerts through it still queued.
"""

from __future__ import annotations

import json

from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.verdicts import LiveAlert
from relgraph.api.live_records import FoundAlert
from relgraph.api.readmodel import ReadModel


class AlertQueue:
    """The queue half of :class:`.live.LiveScoring` (its state, declared here)."""

    model: ReadModel
    index: LiveIndex
    alerts: dict[str, FoundAlert]
    """Live alerts by chain id, replaced ones removed."""
    _by_tx: dict[str, set[str]]
    """Per transfer: the live alerts holding it."""
    _account_alerts: dict[int, dict[str, float]]
    """Per account: the live alerts through it that a verdict reported, with their scores."""
    _replaced: set[str]
    """Stored alerts a live one grew from."""

    def _grew(self, alert: LiveAlert) -> None:
        """``alert`` grew from ``alert.extends`` (live or stored): that one is gone."""
        if alert.extends is not None:
            self.alerts.pop(alert.extends, None)
            self._replaced.add(alert.extends)

    def _supersede(self, alert: LiveAlert) -> None:
        """Drop the live alerts of ``alert``'s typology whose transfers it holds all of: a
        chain that grew by several transfers in one batch, or by another path, is one
        pattern (the batch merges them), not a queue of its stages."""
        mine = {h.tx_id for h in alert.hops}
        if not mine:  # hops are kept above the threshold only
            return
        held = {c for t in mine for c in self._by_tx.get(t, ())}
        for chain in held:
            other = self.alerts.get(chain)
            if other is None or other.alert.typology != alert.typology:
                continue
            if {h.tx_id for h in other.alert.hops} <= mine:
                del self.alerts[chain]
        for t in mine:
            self._by_tx.setdefault(t, set()).add(alert.chain_id)

    def score(self, account: int) -> float:
        """The account's risk now (module docstring)."""
        account_id = self.index.account_id(account)
        stored, reasons = self.model.results.account_risk.get(account_id, (0.0, "[]"))
        stored = float(stored)
        if stored > 0 and self._replaced:
            # Its highest alerts are listed (five): the best one no live alert grew from.
            listed = json.loads(reasons)
            if listed and listed[0]["chain_id"] in self._replaced:
                kept = [e["score"] for e in listed if e["chain_id"] not in self._replaced]
                stored = float(max(kept, default=0.0))
        held = self._account_alerts.get(account, {})
        gone = [c for c in held if c not in self.alerts]
        for chain in gone:  # replaced for good: an alert id is never found fresh again
            del held[chain]
        return round(max(stored, *held.values(), 0.0), 4)
