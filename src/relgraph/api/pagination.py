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


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError):
        raise ClientError(
            f"Invalid cursor {cursor!r}: pass an endCursor from an earlier page."
        ) from None
    if kind != "o" or offset < 0:
        # Bad input, not a limit: LIMIT_EXCEEDED tells a client to wait and retry the same.
        raise ClientError(f"Invalid cursor {cursor!r}: pass an endCursor from an earlier page.")
    return offset


def check_first(first: int | None) -> int:
    """The page size asked for, refused above ``MAX_PAGE`` rather than cut silently."""
    if first is None:
        return DEFAULT_PAGE
    if first < 0 or first > MAX_PAGE:
        raise LimitError(f"first must be between 0 and {MAX_PAGE}, not {first}.")
    return first


def paginate(
    items: Sequence[S] | npt.NDArray[Any],
    first: int | None,
    after: str | None,
    make: Callable[[S], T],
    deadline_check: Callable[[], None] | None = None,
) -> Connection[T]:
    """One page of ``items`` (already in answer order) as a connection of ``make(item)``."""
    size = check_first(first)
    start = decode_cursor(after) + 1 if after else 0
    if deadline_check is not None:
        deadline_check()
    page = items[start : start + size]
    edges = [
        Edge(cursor=encode_cursor(start + i), make=partial(make, item), built=[])
        for i, item in enumerate(page)
    ]
    end = edges[-1].cursor if edges else None
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=start + size < len(items), end_cursor=end),
        total_count=len(items),
    )
