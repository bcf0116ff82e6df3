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
        known: dict[int, tuple[set[int], set[int]]] = {}  # each account's parties, once

        def parties(a: int) -> tuple[set[int], set[int]]:
            if a not in known:
                known[a] = self._parties(a)
            return known[a]

        (src_out, src_in), (dst_out, dst_in) = parties(src), parties(dst)
        if len(src_out) + len(src_in) > limit or len(dst_out) + len(dst_in) > limit:
            return set()

        def dealt_twice(group: set[int], a: int, side: int) -> bool:
            # Another account than ``a`` paid by two of ``group`` (side 0) or paying two
            # of them (1); busy members not read.
            seen: set[int] = set()
            for q in group:
                if self._quiet(q):
                    theirs = parties(q)[side] - {a}
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
        return {a for a in near if self._quiet(a) and sum(map(len, parties(a))) <= limit}

    @staticmethod
    def _count(sides: dict[int, Side], a: int) -> int:
        side = sides.get(a)
        return len(side.rows) if side is not None else 0

    def _quiet(self, a: int) -> bool:
        return self._count(self._out, a) + self._count(self._in, a) <= BLOCK_CONTEXT_ROWS

    def _parties(self, a: int) -> tuple[set[int], set[int]]:
        """The other accounts ``a`` paid and was paid by, among its live transfers."""
        paid, by = self._out.get(a), self._in.get(a)
        out = set(self._dst[paid.rows_array()].tolist()) if paid and paid.rows else set()
        inc = set(self._src[by.rows_array()].tolist()) if by and by.rows else set()
        return out - {a}, inc - {a}
