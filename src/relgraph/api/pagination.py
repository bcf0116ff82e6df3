"""Cursor pagination: ``edges { node cursor }``, ``pageInfo``, ``totalCount``; ``first`` ≤ 100."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar

import numpy.typing as npt
import strawberry
from graphql import GraphQLResolveInfo
from graphql.execution.values import VariableValues, get_argument_values

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
    "This cursor is from another build of the graph (a load or analyze since, or another "
    "server behind this address): paging on would skip or repeat entries. Start again "
    "without `after`."
)


def foreign_cursor(cursor: str) -> ClientError:
    # One answer for another list's cursor and an edited one: both would page from an offset
    # that means something else here, and telling them apart would tell a forger how far off.
    return ClientError(
        f"Invalid cursor {cursor!r}: it was made for another list or other arguments (filter, "
        "orderBy, search text, parent), or changed since. Pass the endCursor of this list's "
        "last page, asked the same way, or start again without `after`."
    )


class ForeignCursorError(ClientError):
    """A cursor of this graph that this list did not make; ``claimed`` is the place it names
    (unverified: good only for saying what was wrong)."""

    def __init__(self, cursor: str, claimed: str) -> None:
        super().__init__(str(foreign_cursor(cursor)))
        self.claimed = claimed


@dataclass(frozen=True)
class ListCursors:
    """The cursors of one list in one graph: the list is its field, its parent and its
    arguments but ``first``/``after`` (``scope``), folded into the MAC each cursor ends in.

    A cursor reads ``g:<generation>:<place>:<mac>``: the graph's token and a place (an
    offset, or the queue's sort key), and 16 hex digits of a keyed BLAKE2b of the rest under
    the list's key (itself made from the graph's cursor key and the list). It names no parent, filter or caller; every role
    is given the same cursor for the same place.
    """

    generation: str
    key: bytes = field(repr=False)

    @classmethod
    def of(cls, generation: str, secret: bytes, scope: str) -> ListCursors:
        digest = hashlib.blake2b(LIST_PURPOSE + scope.encode(), key=secret, digest_size=32)
        return cls(generation, digest.digest())

    def _mac(self, text: str) -> str:
        # Keyed BLAKE2b, a MAC in one pass: a page makes one per edge, on every request.
        return hashlib.blake2b(text.encode(), key=self.key, digest_size=8).hexdigest()

    def encode(self, place: int | str) -> str:
        """The cursor of ``place`` (after which the next page starts)."""
        text = f"g:{self.generation}:{place}"
        return base64.urlsafe_b64encode(f"{text}:{self._mac(text)}".encode()).decode()

    def place(self, cursor: str) -> str:
        """The place ``cursor`` names, when this list in this graph made it.

        A cursor from another graph is refused rather than read as a place in this one: a
        refresh reorders the lists (households merged, values changed), and the same offset
        would silently skip or repeat entries for a client paging through all of them. One
        from another list, or edited, would page from an offset into another order.
        """
        try:
            text = base64.urlsafe_b64decode(cursor.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise invalid_cursor(cursor) from None
        kind, _, rest = text.partition(":")
        if kind == "o" and rest.isascii() and rest.isdigit():
            # An offset cursor of the server before cursors named their graph: it is gone.
            raise ClientError(STALE_CURSOR)
        issued, _, placed = rest.partition(":")
        if kind != "g" or not issued or not placed:
            raise invalid_cursor(cursor)
        if issued != self.generation:
            raise ClientError(STALE_CURSOR)
        place, _, mac = placed.rpartition(":")
        if not place or not hmac.compare_digest(mac, self._mac(f"g:{issued}:{place}")):
            raise ForeignCursorError(cursor, place or placed)
        return place


def list_scope(info: GraphQLResolveInfo[Any], of: object) -> str:
    """What names the list ``info`` resolves: its type and field, the parent ``of`` and every
    argument as the server reads it (defaults filled in, variables substituted) but the
    page's own. Only ever MAC'd: a cursor carries none of it."""
    parent = info.parent_type
    field_def = parent.fields[info.field_name]
    variables: Any = info.variable_values
    if not isinstance(variables, VariableValues):
        # Strawberry's executor hands resolvers the plain dict of coerced values.
        variables = VariableValues(sources={}, coerced=variables)
    args = get_argument_values(field_def, info.field_nodes[0], variables)
    args.pop("first", None)
    args.pop("after", None)
    return json.dumps([parent.name, info.field_name, str(of), args], sort_keys=True, default=repr)


LIST_PURPOSE = b"relgraph-cursor-list\0"
"""Keeps a list's cursor key from passing as any other MAC under the graph's cursor key."""


def invalid_cursor(cursor: str) -> ClientError:
    # Bad input, not a limit: LIMIT_EXCEEDED tells a client to wait and retry the same.
    return ClientError(f"Invalid cursor {cursor!r}: pass an endCursor from an earlier page.")


def decode_cursor(cursor: str, cursors: ListCursors, suffix: str = "") -> int:
    """The offset ``cursor`` names in its list (followed by ``suffix``, what else the
    list's pages must agree on, as :func:`paginate` was given it)."""
    place = cursors.place(cursor)
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
    cursors: ListCursors,
) -> Connection[T]:
    """One page of ``items`` (already in answer order) as a connection of ``make(item)``;
    ``cursors`` are the list's in the graph ``items`` come from, and each place ends in
    ``suffix``."""
    size = check_first(first)
    start = decode_cursor(after, cursors, suffix) + 1 if after else 0
    if deadline_check is not None:
        deadline_check()
    page = items[start : start + size]
    edges = [
        Edge(
            cursor=cursors.encode(f"{start + i}{suffix}"),
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
