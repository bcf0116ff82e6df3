"""Cursor pagination: ``edges { node cursor }``, ``pageInfo``, ``totalCount``; ``first`` ≤ 100."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

import numpy.typing as npt
import strawberry

from relgraph.api.errors import ClientError, LimitError

MAX_PAGE = 100
DEFAULT_PAGE = 20

T = TypeVar("T")
S = TypeVar("S")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    make: strawberry.Private[Callable[[], T]]
    built: strawberry.Private[list[T]]

    @strawberry.field
    def node(self) -> T:
        """Built only when asked for: building a node names it in the audit trail as read,
        and a query for ``totalCount`` alone reads none."""
        if not self.built:
            self.built.append(self.make())
        return self.built[0]


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


STALE_CURSOR = (
    "This cursor is from the graph served before a refresh (`relgraph load`/`analyze`, or a "
    "server restart): paging on would skip or repeat entries. Start again without `after`."
)


def encode_cursor(generation: str, place: int | str) -> str:
    """The place after which the next page starts, in the graph ``generation`` (the served
    read model's random token: it names no entry, no value and no caller)."""
    return base64.urlsafe_b64encode(f"g:{generation}:{place}".encode()).decode()


def invalid_cursor(cursor: str) -> ClientError:
    # Bad input, not a limit: LIMIT_EXCEEDED tells a client to wait and retry the same.
    return ClientError(f"Invalid cursor {cursor!r}: pass an endCursor from an earlier page.")


def cursor_place(cursor: str, generation: str) -> str:
    """The place ``cursor`` names in the graph ``generation`` (as :func:`encode_cursor` wrote it).

    A cursor from another graph is refused rather than read as a place in this one: a
    refresh reorders the lists (households merged, values changed), and the same offset
    would silently skip or repeat entries for a client paging through all of them.
    """
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_cursor(cursor) from None
    kind, _, rest = text.partition(":")
    if kind == "o" and rest.isascii() and rest.isdigit():
        # An offset cursor of the server before cursors named their graph: its graph is gone.
        raise ClientError(STALE_CURSOR)
    issued, _, place = rest.partition(":")
    if kind != "g" or not issued or not place:
        raise invalid_cursor(cursor)
    if issued != generation:
        raise ClientError(STALE_CURSOR)
    return place


def decode_cursor(cursor: str, generation: str, suffix: str = "") -> int:
    """The offset ``cursor`` names in the graph ``generation`` (followed by ``suffix``, what
    else the list's pages must agree on, as :func:`paginate` was given it)."""
    place = cursor_place(cursor, generation)
    offset = place.removesuffix(suffix) if suffix else place
    if (offset == place and suffix) or not offset.isascii() or not offset.isdigit():
        raise invalid_cursor(cursor)
    return int(offset)


def check_first(first: int | None) -> int:
    """The page size asked for, refused above ``MAX_PAGE`` rather than cut silently."""
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        # Bad input, not a limit: LIMIT_EXCEEDED tells a client to wait and retry the same.
        raise ClientError(f"first must be between 0 and {MAX_PAGE}, not {first}.")
    if first > MAX_PAGE:
        raise LimitError(f"first must be between 0 and {MAX_PAGE}, not {first}.")
    return first


def paginate(
    items: Sequence[S] | npt.NDArray[Any],
    first: int | None,
    after: str | None,
    make: Callable[[S], T],
    deadline_check: Callable[[], None] | None = None,
    suffix: str = "",
    *,
    generation: str,
) -> Connection[T]:
    """One page of ``items`` (already in answer order) as a connection of ``make(item)``;
    ``generation`` names the graph ``items`` come from (``ReadModel.generation``), and each
    cursor ends in ``suffix``."""
    size = check_first(first)
    start = decode_cursor(after, generation, suffix) + 1 if after else 0
    if deadline_check is not None:
        deadline_check()
    page = items[start : start + size]
    edges = [
        Edge(
            cursor=encode_cursor(generation, f"{start + i}{suffix}"),
            make=partial(make, item),
            built=[],
        )
        for i, item in enumerate(page)
    ]
    end = edges[-1].cursor if edges else None
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=start + size < len(items), end_cursor=end),
        total_count=len(items),
    )
