"""A verdict's holder context (:mod:`.live`): the band transfers of its payer's other accounts.

A structuring run is its payer's holder's (:mod:`.routine`): one person paying 49,000
from each of three cards, or from accounts the bank keeps under two customer numbers that
identity resolution joined, avoids the report as surely as from one card. The verdict's
neighbourhood holds the live transfers of the transfer's own accounts only, so when the
transfer is in the structuring band it also holds the band transfers of every other
account of its payer's person (or enterprise): what the batch groups into the run. Only
those — a holder's everyday payments from its other cards would change nothing a run is
made of, and would bring shops' months into the neighbourhood.

The holder's accounts are read from a person → accounts (enterprise → accounts) index of
the loaded accounts, built once when the live index is, and the accounts opened since.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.routine import in_band
from relgraph.analytics.layering.scoring import _Context
from relgraph.analytics.layering.sides import Side


class _Members:
    """Accounts per holder number (CSR): ``accounts[ptr[h]:ptr[h + 1]]``."""

    def __init__(self, holder: I64) -> None:
        has = np.flatnonzero(holder >= 0).astype(np.int64)
        order = np.argsort(holder[has], kind="stable")
        self.accounts = has[order]
        counts = np.bincount(holder[has], minlength=int(holder.max(initial=-1)) + 1)
        self.ptr = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=self.ptr[1:])

    def of(self, h: int) -> list[int]:
        if not 0 <= h < len(self.ptr) - 1:
            return []
        return self.accounts[self.ptr[h] : self.ptr[h + 1]].tolist()  # type: ignore[no-any-return]


class HolderContext:
    """The holder-context half of :class:`.live.LiveIndex` (its lists, declared here)."""

    params: LayeringParams
    _ctx: _Context
    _amount: F64
    _src: I64
    _out: dict[int, Side]
    _new_person: list[int]
    _new_enterprise: list[int]

    @cached_property
    def _persons(self) -> _Members:
        return _Members(self._ctx.person)

    @cached_property
    def _enterprises(self) -> _Members:
        return _Members(self._ctx.enterprise)

    def _build_holders(self) -> None:
        """Build the holder indexes now (at start-up, not in the first band verdict)."""
        _ = self._persons, self._enterprises

    def _same_holder(self, a: int, b: int) -> bool:
        """Two accounts of one person or one enterprise (a transfer that pays nobody):
        :func:`.scoring._same_holder` for one pair, without building arrays for it."""
        (pa, ea), (pb, eb) = self.holder(a), self.holder(b)
        return (pa >= 0 and pa == pb) or (ea >= 0 and ea == eb)

    def holder(self, a: int) -> tuple[int, int]:
        """Account ``a``'s person and enterprise index (−1 when none)."""
        if (k := a - len(self._ctx.person)) >= 0:
            return self._new_person[k], self._new_enterprise[k]
        return int(self._ctx.person[a]), int(self._ctx.enterprise[a])

    def holders(self, accounts: I64) -> tuple[I64, I64]:
        """:meth:`holder` of each of ``accounts``, as arrays."""
        base = len(self._ctx.person)
        if len(accounts) and accounts.max() < base:
            # No account opened since the load (most calls): two lookups, not eight steps.
            person = self._ctx.person[accounts].astype(np.int64, copy=False)
            return person, self._ctx.enterprise[accounts].astype(np.int64, copy=False)
        old = accounts < base
        person = np.empty(len(accounts), np.int64)
        enterprise = np.empty(len(accounts), np.int64)
        person[old] = self._ctx.person[accounts[old]]
        enterprise[old] = self._ctx.enterprise[accounts[old]]
        new = np.flatnonzero(~old)
        if len(new):
            at = accounts[new] - base
            person[new] = np.asarray(self._new_person, np.int64)[at]
            enterprise[new] = np.asarray(self._new_enterprise, np.int64)[at]
        return person, enterprise

    def _holder_accounts(self, a: int) -> list[int]:
        """Every account of ``a``'s holder (``a`` included; ``[a]`` when it has none)."""
        base = len(self._ctx.person)
        person, enterprise = self.holder(a)
        if person < 0 and enterprise < 0:
            return [a]
        members = self._persons.of(person) if person >= 0 else self._enterprises.of(enterprise)
        same = self._new_person if person >= 0 else self._new_enterprise
        key = person if person >= 0 else enterprise
        members += [base + i for i, h in enumerate(same) if h == key]
        return members

    def _holder_band_rows(self, row: int) -> list[I64]:
        """The live band transfers of the other accounts of ``row``'s payer's holder, when
        ``row`` is in the structuring band (module docstring); none otherwise."""
        if not in_band(self._amount[row : row + 1], self.params)[0]:
            return []
        src = int(self._src[row])
        out: list[I64] = []
        for a in self._holder_accounts(src):
            side = self._out.get(a)
            if a != src and side is not None and side.rows:
                rows = side.rows_array()
                out.append(rows[in_band(self._amount[rows], self.params)])
        return out
