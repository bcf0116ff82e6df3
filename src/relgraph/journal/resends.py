"""A reviewer's decision sent twice is one decision.

A client that lost an answer (a timeout, a dropped connection, an HTTP retry) sends the
same decision again. Journaled twice, it reads as two decisions in the record a regulator
is shown, and a resend arriving after a colleague's decision undoes it. So a decision is a
resend of an earlier one (nothing is written; the earlier one is the answer) when:

* it carries a request id (the client's, ``requestId``) its key used before, with the same
  content; the same request id with other content is refused, naming the decision it was
  used for (a client bug, or two decisions under one id: neither may pass as the other);
* or, with no request id, it is the latest decision on its target and says the same thing
  by the same key (it would change nothing but add a line).

A decision with a new request id, or with none that differs from the latest, is new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol, TypeVar

MAX_REQUEST_ID: Final = 128
"""Characters a request id may hold (a UUID is 36)."""


class Decision(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def by(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...


D = TypeVar("D", bound=Decision)


class ResendConflictError(ValueError):
    """A request id sent again with other content; the message says which decision it was."""


def request_id_problem(request_id: str | None) -> str | None:
    """Why ``request_id`` is refused, if it is."""
    if request_id is None:
        return None
    if not request_id or len(request_id) > MAX_REQUEST_ID:
        return f"requestId must be 1 to {MAX_REQUEST_ID} characters, not {len(request_id)}."
    return None


def resent(
    made: Sequence[D],
    *,
    by: str,
    request_id: str | None,
    on_target: Callable[[D], bool],
    same: Callable[[D], bool],
    described: Callable[[D], str],
) -> D | None:
    """The decision in ``made`` (oldest first) that a new one by ``by`` resends, if any.

    ``on_target``: whether a decision is on the new one's target; ``same``: whether it says
    what the new one says; ``described``: how the refusal names it.

    Raises
    ------
    ResendConflictError
        ``request_id`` was used by ``by`` for a decision that says something else.
    """
    if request_id is not None:
        earlier = next((d for d in reversed(made) if d.by == by and d.request_id == request_id), None)  # fmt: skip
        if earlier is None or same(earlier):
            return earlier
        raise ResendConflictError(
            f"Request id {request_id!r} was used for another decision (entry {earlier.seq}: "
            f"{described(earlier)}): send a new request id for a new decision."
        )
    latest = next((d for d in reversed(made) if on_target(d)), None)
    return latest if latest is not None and latest.by == by and same(latest) else None


def quoted(note: str | None) -> str:
    """A note as a refusal names it: the first 60 characters."""
    text = note or ""
    return repr(text if len(text) <= 60 else text[:60] + "…")
