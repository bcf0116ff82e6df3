"""Reviewers' decisions on possible duplicates: journal entries of kind ``duplicate_decision``.

An entry's ``data`` is ``{"duplicate_id": "D…", "customer_a": …, "customer_b": …,
"decision": "SAME" | "DIFFERENT", "note": …}`` with ``customer_a < customer_b``; who decided
and when are the entry's ``by`` and ``at``. The writers are the API's ``decideDuplicate``
and ``relgraph decide`` (both through :class:`DecisionBook`); ``load`` reads them
(:mod:`relgraph.ingest.decisions`), where the latest decision on a pair wins.

The customer ids are written beside the duplicate id because the id is keyed
(:meth:`relgraph.ingest.person_ids.PersonIdKey.duplicate_id`): a load under another secret
still applies every decision, and a decision stays listed after its pair has left the
review band.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> book = DecisionBook(Path(tempfile.mkdtemp()))
>>> made = book.record("D1", "CB9", "CB2", DIFFERENT, "两个人", by="k_1")
>>> (made.customer_a, made.customer_b, made.decision, made.by)
('CB2', 'CB9', 'DIFFERENT', 'k_1')
>>> [d.seq for d in book.all()], book.find("D1") == made
([1], True)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from relgraph.journal.follow import Follower
from relgraph.journal.kinds import DUPLICATE_DECISION
from relgraph.journal.log import Entry, Journal, JournalError, read
from relgraph.journal.resends import quoted, resent

SAME: Final = "SAME"
"""The two records are one person: the next load merges them, whatever the model says."""
DIFFERENT: Final = "DIFFERENT"
"""The two records are two persons: the next load keeps them apart, also through others."""
VERDICTS: Final = (SAME, DIFFERENT)
MAX_NOTE: Final = 2_000
"""Characters a note may hold: a reviewer's reason, not a document."""


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says what to send instead."""


@dataclass(frozen=True)
class DuplicateDecision:
    """One recorded decision, with who made it and when."""

    seq: int
    at: str
    """ISO 8601, UTC: when the journal took it."""
    by: str
    """An API key's id, or ``cli:<user>``."""
    duplicate_id: str
    customer_a: str
    customer_b: str
    decision: str
    note: str
    request_id: str | None = None
    """The client's id for the request (``requestId``): a resend under it is this decision."""

    @property
    def pair(self) -> tuple[str, str]:
        return (self.customer_a, self.customer_b)


def decision_record(
    duplicate_id: str, customer_a: str, customer_b: str, decision: str, note: str
) -> dict[str, str]:
    """The journal ``data`` of one decision, checked; the pair sorted.

    Raises
    ------
    DecisionError
        An unknown decision, a record paired with itself, or a note over ``MAX_NOTE``.
    """
    if decision not in VERDICTS:
        raise DecisionError(f"The decision must be SAME or DIFFERENT, not {decision!r}.")
    if customer_a == customer_b:
        raise DecisionError(
            f"A decision needs two different customer records, not {customer_a!r} twice."
        )
    if len(note) > MAX_NOTE:
        raise DecisionError(f"The note has {len(note):,} characters: keep it to {MAX_NOTE:,}.")
    a, b = sorted((customer_a, customer_b))
    return {
        "duplicate_id": duplicate_id,
        "customer_a": a,
        "customer_b": b,
        "decision": decision,
        "note": note,
    }


def _decision(entry: Entry) -> DuplicateDecision:
    data: Mapping[str, Any] = entry.data
    try:
        fields = {name: str(data[name]) for name in ("duplicate_id", "customer_a", "customer_b")}
        decision, note = str(data["decision"]), str(data.get("note") or "")
    except KeyError as exc:
        raise JournalError(
            f"journal entry {entry.seq} is a duplicate decision without {exc.args[0]!r}: "
            "restore the journal from a backup"
        ) from None
    if decision not in VERDICTS:
        raise JournalError(
            f"journal entry {entry.seq} decides {decision!r} (not SAME or DIFFERENT): "
            "restore the journal from a backup"
        )
    request_id = None if data.get("request_id") is None else str(data["request_id"])
    return DuplicateDecision(
        seq=entry.seq, at=entry.at, by=entry.by, decision=decision, note=note,
        request_id=request_id, **fields,
    )  # fmt: skip


def decisions(data_dir: Path) -> list[DuplicateDecision]:
    """Every decision in the journal of ``data_dir``, oldest first."""
    return [_decision(e) for e in read(data_dir, [DUPLICATE_DECISION])]


def latest(made: Iterable[DuplicateDecision]) -> dict[tuple[str, str], DuplicateDecision]:
    """The decision in force per pair: the latest (highest ``seq``) made on it."""
    out: dict[tuple[str, str], DuplicateDecision] = {}
    for decision in sorted(made, key=lambda d: d.seq):
        out[decision.pair] = decision
    return out


class DecisionBook:
    """Records and lists the decisions of one data directory.

    Each listing reads on from where the last one stopped (:class:`.follow.Follower`), so it
    sees what any writer appended (the CLI may write beside a running server) and costs what
    the journal gained: a whole read each time the files changed cost ~2 s a listing after
    100,000 streamed transfers, as every transfer changes them.
    """

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir)
        self._journal = Journal(self._data_dir)
        self._lock = threading.Lock()
        self._follower = Follower(self._data_dir, [DUPLICATE_DECISION])
        self._made: list[DuplicateDecision] = []

    def record(
        self,
        duplicate_id: str,
        customer_a: str,
        customer_b: str,
        decision: str,
        note: str,
        *,
        by: str,
    ) -> DuplicateDecision:
        """Append one decision durably and return it as recorded.

        Raises
        ------
        DecisionError
            A decision that cannot be recorded (see :func:`decision_record`).
        JournalError
            The journal cannot be written (the decision is not recorded).
        """
        data = decision_record(duplicate_id, customer_a, customer_b, decision, note)
        with self._lock:
            (entry,) = self._journal.append(DUPLICATE_DECISION, [data], by=by)
        return _decision(entry)

    def record_once(
        self,
        duplicate_id: str,
        pair: tuple[str, str],
        decision: str,
        note: str,
        *,
        by: str,
        request_id: str | None = None,
    ) -> tuple[DuplicateDecision, bool]:
        """As :meth:`record`, unless the decision resends one recorded before
        (:mod:`relgraph.journal.resends`: an API client's retry): then that one, and False.

        Raises
        ------
        ResendConflictError
            ``request_id`` was used by ``by`` for another decision.
        """
        data = decision_record(duplicate_id, *pair, decision, note)
        if request_id is not None:
            data["request_id"] = request_id
        content = (duplicate_id, (data["customer_a"], data["customer_b"]), decision, note)
        # Under the journal's lock too: the check reads what every process wrote before it.
        with self._lock, self._journal.held() as append:
            earlier = resent(
                self._all(),
                by=by,
                request_id=request_id,
                on_target=lambda d: d.duplicate_id == duplicate_id,
                same=lambda d: (d.duplicate_id, d.pair, d.decision, d.note) == content,
                described=lambda d: f"{d.decision} on {d.duplicate_id}, note {quoted(d.note)}",
            )
            if earlier is not None:
                return earlier, False
            (entry,) = append(DUPLICATE_DECISION, [data], by)
        return _decision(entry), True

    def all(self) -> list[DuplicateDecision]:
        """Every decision, oldest first."""
        with self._lock:
            return self._all()

    def _all(self) -> list[DuplicateDecision]:
        fresh, again = self._follower.read_on()
        try:
            made = [_decision(e) for e in fresh]
        except JournalError:
            # Read past: the next listing reads from the start again and says it again.
            self._follower.restart()
            self._made = []
            raise
        self._made = made if again else self._made + made
        return list(self._made)

    def find(self, duplicate_id: str) -> DuplicateDecision | None:
        """The latest decision recorded under ``duplicate_id``, if any."""
        found = [d for d in self.all() if d.duplicate_id == duplicate_id]
        return found[-1] if found else None
