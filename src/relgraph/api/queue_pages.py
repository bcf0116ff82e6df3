"""Pages of lists that change while they are paged: the alert queue, duplicate decisions.

The queue moves under an analyst who works it: a reviewed alert leaves ``status: OPEN``,
a real-time alert comes in at its score. An offset then skips the alerts that moved up
(as many as were reviewed on the page before) or serves one again. A cursor here is the
sort key of the last alert served (its score or first time, and its chain id: what the
risk key was shown on that page, no person), and the next page starts after that key,
wherever that alert has gone. The gone chains' decisions after the ordered part are placed
the same way, by the journal seq of a chain's first decision (their order): reporting the
ones a page showed takes them out of ``status: ESCALATED`` and would have made an offset
skip as many. Duplicate decisions, newest first, are placed by their position counted from
the oldest.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from relgraph.api.errors import ClientError
from relgraph.api.pagination import (
    Connection,
    Edge,
    ForeignCursorError,
    ListCursors,
    PageInfo,
    check_first,
    invalid_cursor,
)

S = TypeVar("S")
T = TypeVar("T")

Key = tuple[Any, ...]


def keyed_page(
    ordered: Sequence[S],
    key_of: Callable[[S], Key],
    tail: Sequence[S],
    first: int | None,
    after: str | None,
    make: Callable[[S], T],
    *,
    tail_key: Callable[[S], int],
    order: str,
    listed: str,
    cursors: ListCursors,
) -> Connection[T]:
    """A page of ``ordered`` (ascending by ``key_of``, keys unique) then ``tail``
    (ascending by ``tail_key``, keys unique).

    ``order`` and ``listed`` name the sort and the list in the refusal of a cursor made
    under another ``orderBy``.
    """
    size = check_first(first)
    n, total = len(ordered), len(ordered) + len(tail)
    start = (
        0
        if not after
        else _start(after, ordered, key_of, [tail_key(t) for t in tail], order, listed, cursors)
    )
    edges: list[Edge[T]] = []
    for i in range(start, min(start + size, total)):
        item = ordered[i] if i < n else tail[i - n]
        place = f"k{order}:{json.dumps(list(key_of(item)))}" if i < n else f"t{tail_key(item)}"
        edges.append(Edge(cursor=cursors.encode(place), make=partial(make, item), built=[]))
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + size < total, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=total,
    )


def _start(
    after: str,
    ordered: Sequence[S],
    key_of: Callable[[S], Key],
    tail_keys: list[int],
    order: str,
    listed: str,
    cursors: ListCursors,
) -> int:
    try:
        place = cursors.place(after)
    except ForeignCursorError as exc:
        # The same list under another orderBy: say which (the order is no secret to the
        # caller who asked for it), rather than that the cursor is foreign.
        made_under = exc.claimed[1:].partition(":")[0]
        if exc.claimed.startswith("k") and made_under not in ("", order):
            raise ClientError(
                f"This cursor is from {listed} ordered by {made_under.upper()}: pass the same "
                "orderBy, or start again without `after`."
            ) from None
        raise
    if place.startswith("t") and place[1:].isascii() and place[1:].isdigit():
        # After every decision at or before the last one served, wherever it has gone.
        return len(ordered) + bisect.bisect_right(tail_keys, int(place[1:]))
    made_under, _, text = place[1:].partition(":")
    if not place.startswith("k") or not text:
        raise invalid_cursor(after)  # an offset: another list's cursor
    if made_under != order:
        raise ClientError(
            f"This cursor is from {listed} ordered by {made_under.upper()}: pass the same "
            "orderBy, or start again without `after`."
        )
    try:
        key = tuple(json.loads(text))
        # After every alert whose key sorts at or before the last one served.
        return bisect.bisect_right(range(len(ordered)), key, key=lambda i: key_of(ordered[i]))
    except (ValueError, TypeError):
        raise invalid_cursor(after) from None
