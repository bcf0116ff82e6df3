"""A verdict's block context (:mod:`.live`): the accounts two steps from its transfer.

A verdict runs the definitions on its transfer's neighbourhood: the live transfers of its
two accounts, of the accounts that fed it and of the hop-link closure. A bipartite block
joins accounts two steps apart — its other sender pays its other receiver, a payment
neither of the transfer's accounts made or received — and a layer beside a block is its
receivers' onward payments or its senders' payers (:mod:`.blocks`). So without more, the
last payment of a block arriving live never got the block the batch finds.

When the transfer may be in a block or a layer by :func:`.focus._may_be_block`'s
conditions read off the live lists, the neighbourhood also holds the transfers *among*
its **block accounts**: its two accounts and their counterparties, each with at most
``block_max_degree`` counterparties. Every account of a block or a layer around the
transfer is one of them (a block's other sender pays the transfer's target, its other
receiver is paid by its source; a next layer's account is paid by the target or by the
other receivers; a previous layer's pays the source). Only those transfers: a block
account's payments to a shop would make the shop look small in the neighbourhood (most of
its payers unseen) and two customers of two shops a block, which the batch, seeing the
shop's whole month, never finds. Otherwise nothing more (most verdicts: a payment to a
shop, a salary, a bill).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from relgraph.analytics.layering.params import I64, LayeringParams
from relgraph.analytics.layering.sides import Side
from relgraph.analytics.sets import isin

BLOCK_CONTEXT_ROWS: Final = 200
"""Live transfers above which an account's counterparties are not counted for the block
context of a verdict (:meth:`BlockContext._block_parties`)."""


class BlockContext:
    """The block-context half of :class:`.live.LiveIndex` (its lists, declared here)."""

    params: LayeringParams
    _src: I64
    _dst: I64
    _out: dict[int, Side]
    _in: dict[int, Side]

    def _block_rows(self, src: int, dst: int) -> list[I64]:
        """The live transfers among the block accounts of a transfer ``src`` → ``dst``
        (module docstring; none when no block or layer can hold it)."""
        parties = self._block_parties(src, dst)
        if not parties:
            return []
        known = np.array(sorted(parties | {src, dst}), np.int64)
        lists = [side.rows_array() for a in sorted(parties) for sides in (self._out, self._in)
                 if (side := sides.get(a)) is not None and side.rows]  # fmt: skip
        if not lists:
            return []
        rows = np.concatenate(lists)
        # One end is the party itself: the row is among block accounts when both are.
        return [rows[isin(self._src[rows], known) & isin(self._dst[rows], known)]]

    def _block_parties(self, src: int, dst: int) -> set[int]:
        """The block accounts of a transfer ``src`` → ``dst`` beside the two (module
        docstring): when the transfer may be in a block by :func:`.focus._may_be_block`'s
        conditions read off the live lists (a block transfer, or one of a block's next or
        previous layer), every counterparty of the two within the degree limit; otherwise
        none.

        An account with more than :data:`BLOCK_CONTEXT_ROWS` live transfers is not looked
        into (a shop's or an employer's month: its degree is far over the limit, and
        counting it would cost more than the verdict)."""
        limit = self.params.block_max_degree
        if not (self._quiet(src) and self._quiet(dst)):
            return set()
        # Two counterparties need two rows: most transfers stop here, before any set.
        s_out, s_in, d_out, d_in = (
            self._count(side, a) for a in (src, dst) for side in (self._out, self._in)
        )
        if not ((d_in >= 2 and (s_out >= 2 or s_in >= 2)) or (s_out >= 2 and d_out >= 2)):
            return set()
        # Each account's parties, once, one direction at a time: a member of a group is
        # read in one direction only, and most are never read in the other.
        known: tuple[dict[int, set[int]], dict[int, set[int]]] = ({}, {})

        def party(a: int, side: int) -> set[int]:
            found = known[side].get(a)
            if found is None:
                found = known[side][a] = self._parties(a, side == 0)
            return found

        src_out, src_in, dst_out, dst_in = (
            party(src, 0),
            party(src, 1),
            party(dst, 0),
            party(dst, 1),
        )
        if len(src_out) + len(src_in) > limit or len(dst_out) + len(dst_in) > limit:
            return set()

        def dealt_twice(group: set[int], a: int, side: int) -> bool:
            # Another account than ``a`` paid by two of ``group`` (side 0) or paying two
            # of them (1); busy members not read.
            seen: set[int] = set()
            for q in group:
                if self._quiet(q):
                    theirs = party(q, side) - {a}
                    if seen & theirs:
                        return True
                    seen |= theirs
            return False

        block = len(src_out) >= 2 and len(dst_in) >= 2 and dealt_twice(dst_in, dst, 0)
        onward = len(src_in) >= 2 and len(dst_in) >= 2 and dealt_twice(src_in, src, 0)
        before = len(src_out) >= 2 and len(dst_out) >= 2 and dealt_twice(dst_out, dst, 1)
        if not (block or onward or before):
            return set()
        near = (src_out | src_in | dst_out | dst_in) - {src, dst}
        out: set[int] = set()
        for a in near:
            rows = self._count(self._out, a) + self._count(self._in, a)
            # No more parties than transfers: within the limit, none need counting.
            if rows <= BLOCK_CONTEXT_ROWS and (
                rows <= limit or len(party(a, 0)) + len(party(a, 1)) <= limit
            ):
                out.add(a)
        return out

    @staticmethod
    def _count(sides: dict[int, Side], a: int) -> int:
        side = sides.get(a)
        return len(side.rows) if side is not None else 0

    def _quiet(self, a: int) -> bool:
        return self._count(self._out, a) + self._count(self._in, a) <= BLOCK_CONTEXT_ROWS

    def _parties(self, a: int, paid: bool) -> set[int]:
        """The other accounts ``a`` paid (``paid``) or was paid by, among its live
        transfers."""
        side = (self._out if paid else self._in).get(a)
        if side is None or not side.rows:
            return set()
        ends = self._dst if paid else self._src
        rows = side.rows
        # A few rows: one lookup each costs less than an array's gather.
        found = (
            {ends.item(r) for r in rows}
            if len(rows) <= 16
            else set(ends[side.rows_array()].tolist())
        )
        found.discard(a)
        return found
