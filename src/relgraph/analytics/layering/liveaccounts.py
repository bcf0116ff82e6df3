"""The accounts of :class:`.live.LiveIndex`: the projection's, numbered as loaded, then
those opened after the load (``POST /v1/accounts``), numbered after them in arrival order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from relgraph.analytics.layering.opening import opening_moments


class LiveAccounts:
    """The accounts half of :class:`.live.LiveIndex` (its lists, declared here)."""

    zone: tzinfo
    _ids: list[str]
    _index: Mapping[str, int]
    _new_ids: list[str]
    _new_index: dict[str, int]
    _new_opened: list[int]
    _new_person: list[int]
    _new_enterprise: list[int]

    def account(self, account_id: str) -> int | None:
        found = self._index.get(account_id)
        return found if found is not None else self._new_index.get(account_id)

    def account_id(self, index: int) -> str:
        base = len(self._ids)
        return self._ids[index] if index < base else self._new_ids[index - base]

    def add_account(
        self, account_id: str, opened_ms: int | None, person: int = -1, enterprise: int = -1
    ) -> int:
        """Register an account opened after the load (its holder's person or enterprise
        index when the holder is known, so same-holder and household links still fire)."""
        found = self.account(account_id)
        if found is not None:
            return found
        index = len(self._ids) + len(self._new_ids)
        self._new_ids.append(account_id)
        self._new_index[account_id] = index
        opened = -1 if opened_ms is None else int(opening_moments([opened_ms], self.zone)[0])
        self._new_opened.append(opened)
        self._new_person.append(person)
        self._new_enterprise.append(enterprise)
        return index
