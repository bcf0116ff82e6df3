"""Alert decisions: an analyst's status and note on a risk chain, kept in the journal and
carried to the chains of later analyses.

Each decision is a ``chain_review`` journal entry (:mod:`relgraph.journal`) holding the
chain as it was reviewed — its id, its transfers and what the queue shows of it — so it
outlives the chain:

* **It follows its chain.** Chain ids hash their transfers, so a re-analysis that changes a
  chain's transfers changes its id. A decision follows to the current chain that holds at
  least half of the transfers it was made on (the most of them; the same id, then the
  smaller id, on a tie). Decisions that reach one chain are one history.
* **It is never dropped.** A decision whose chain is gone (and no chain holds half of its
  transfers) stays listed, as the chain it was made on, with its history.
* **New evidence reopens a dismissal.** A dismissed chain that now holds a transfer the
  dismissal was not made on (it grew: more hops, more payers, two chains merged) or one
  the bank corrected (a tx_id re-sent with another amount, time or account) is ``OPEN``
  again, its history kept; a chain that only lost transfers stays dismissed.
* **REPORTED is final.** A chain reported to the regulator stays ``REPORTED``; later
  reviews may add notes (as ``REPORTED``) but never change the status, and a history that
  holds a report is ``REPORTED`` whatever came after.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.journal import CHAIN_REVIEW, Entry, Journal
from relgraph.journal.follow import Follower
from relgraph.journal.resends import quoted, resent

OPEN: Final = "OPEN"
ESCALATED: Final = "ESCALATED"
DISMISSED: Final = "DISMISSED"
REPORTED: Final = "REPORTED"
STATUSES: Final = (OPEN, ESCALATED, DISMISSED, REPORTED)
MAX_NOTE = 2_000
"""Characters a note may hold."""


@dataclass(frozen=True)
class Review:
    """One decision, as the journal holds it."""

    seq: int
    chain_id: str
    """The chain as it was when reviewed (its id then)."""
    status: str
    note: str | None
    by: str
    at: str
    snapshot: Mapping[str, Any]
    """``typology``, ``score``, ``reasons`` and ``hops`` (``[tx_id, from, to, amount, ts]``
    each) of the chain when reviewed: what is shown once the chain is gone."""
    request_id: str | None = None
    """The client's id for the request (``requestId``): a resend under it is this decision."""

    @property
    def tx_ids(self) -> list[str]:
        return [str(h[0]) for h in self.snapshot.get("hops", [])]

    @classmethod
    def from_entry(cls, entry: Entry) -> Review:
        data = entry.data
        return cls(
            seq=entry.seq,
            chain_id=str(data["chain_id"]),
            status=str(data["status"]),
            note=None if data.get("note") is None else str(data["note"]),
            by=entry.by,
            at=entry.at,
            snapshot=data.get("chain", {}),
            request_id=None if data.get("request_id") is None else str(data["request_id"]),
        )

    def says(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` (a :func:`review_record`) decides what this decision did."""
        return (self.chain_id, self.status, self.note, _json(self.snapshot)) == (
            record["chain_id"], record["status"], record["note"], _json(record["chain"])
        )  # fmt: skip


def review_record(
    chain_id: str,
    status: str,
    note: str | None,
    snapshot: Mapping[str, Any],
    request_id: str | None = None,
) -> dict[str, Any]:
    """The journal entry's ``data`` for a decision (``request_id`` only when sent)."""
    record = {"chain_id": chain_id, "status": status, "note": note, "chain": dict(snapshot)}
    return record if request_id is None else record | {"request_id": request_id}


def _json(value: Any) -> str:
    # As the journal writes it: a snapshot read back has lists where one built has tuples.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def status_of(history: Sequence[Review]) -> str:
    """The status a history gives: REPORTED once reported, else the latest decision's."""
    if not history:
        return OPEN
    if any(r.status == REPORTED for r in history):
        return REPORTED
    return history[-1].status


class ReviewLog:
    """Every decision this server knows, in journal order; appends go to the journal first
    (durable before acknowledged), then here."""

    def __init__(self, data_dir: Path | None) -> None:
        self._journal = None if data_dir is None else Journal(data_dir)
        self._follower = None if data_dir is None else Follower(data_dir, [CHAIN_REVIEW])
        self._lock = threading.Lock()
        self._reviews: list[Review] = []
        self._seen = 0
        self.reload()

    @property
    def writable(self) -> bool:
        return self._journal is not None

    def reload(self) -> None:
        """Pick up decisions other writers appended to the journal since the last read."""
        with self._lock:
            self._read_on()

    def _read_on(self) -> None:
        if self._follower is None:
            return
        # Read on from the last read (a whole read cost ~2 s after 100,000 streamed
        # transfers, at every refresh); read again from the start, reviews are kept:
        # seqs at or below the last seen are skipped, as before.
        fresh, _ = self._follower.read_on()
        try:
            self._add([Review.from_entry(e) for e in fresh if e.seq > self._seen])
        except Exception:
            # Read past: the next reload reads from the start again and fails again.
            self._follower.restart()
            raise

    def _add(self, reviews: Iterable[Review]) -> None:
        for review in reviews:
            if review.seq > self._seen:
                self._reviews.append(review)
                self._seen = review.seq

    def append(
        self,
        record: Mapping[str, Any],
        by: str,
        check: Callable[[Sequence[Review]], None] | None = None,
    ) -> tuple[Review, bool]:
        """Write a decision durably and return it, and whether it is new: False when it
        resends a decision already written (:mod:`relgraph.journal.resends`), which is
        returned and nothing is written. Raises JournalError when the disk refuses, and
        ResendConflictError for a request id used for another decision.

        ``check`` sees every decision written before this one and raises to refuse it: two
        reviewers at once cannot both pass a check that the other's decision would fail.
        """
        if self._journal is None:
            raise RuntimeError("no journal")
        # Under the journal's lock, after reading what other processes wrote (another
        # server of the graph): the resend check and ``check`` see every earlier decision.
        with self._lock, self._journal.held() as append:
            self._read_on()
            earlier = resent(
                self._reviews,
                by=by,
                request_id=record.get("request_id"),
                on_target=lambda r: r.chain_id == record["chain_id"],
                same=lambda r: r.says(record),
                described=lambda r: f"{r.status} on chain {r.chain_id}, note {quoted(r.note)}",
            )
            if earlier is not None:
                return earlier, False
            if check is not None:
                check(tuple(self._reviews))
            (entry,) = append(CHAIN_REVIEW, [record], by)
            review = Review.from_entry(entry)
            self._add([review])
            return review, True

    def snapshot(self) -> tuple[Review, ...]:
        with self._lock:
            return tuple(self._reviews)


@dataclass
class Orphan:
    """Decisions whose chain no longer exists, shown as the chain they were last made on."""

    chain_id: str
    history: list[Review]


class ReviewView:
    """Decisions laid over one analysis's chains (see the module's rules)."""

    def __init__(
        self, reviews: Sequence[Review], chain_ids: npt.NDArray[Any], hops: pd.DataFrame | None
    ) -> None:
        self.count = len(reviews)
        current = {str(c): i for i, c in enumerate(chain_ids.tolist())}
        cases = _cases(reviews)
        target = _follow(cases, hops, current)
        self.by_chain: dict[str, list[Review]] = {}
        """Current chain id (or a gone chain's id) → the merged history."""
        self.current_of: dict[str, str] = {}
        """Every id a decision was made on → the current chain it followed to."""
        self.orphans: list[Orphan] = []
        for case, history in enumerate(cases):
            chain = target.get(case)
            if chain is None:
                self.orphans.append(Orphan(history[-1].chain_id, list(history)))
            else:
                self.by_chain.setdefault(chain, []).extend(history)
                for review in history:
                    self.current_of[review.chain_id] = chain
        for history in self.by_chain.values():
            history.sort(key=lambda r: r.seq)
        for orphan in self.orphans:
            self.by_chain.setdefault(orphan.chain_id, orphan.history)
        self.orphans.sort(key=lambda o: o.history[-1].seq)
        self.row_status = np.full(len(chain_ids), OPEN, dtype=object)
        self.reviewed = np.zeros(len(chain_ids), dtype=bool)
        for chain, history in self.by_chain.items():
            row = current.get(chain)
            if row is not None:
                self.row_status[row] = status_of(history)
                self.reviewed[row] = True
        self.reopened = _reopened(self.by_chain, current, hops)
        """Current chains whose dismissal new evidence reopened (see the module's rules)."""
        for chain in self.reopened:
            self.row_status[current[chain]] = OPEN

    def history(self, chain_id: str) -> list[Review]:
        return self.by_chain.get(chain_id, [])

    def status(self, chain_id: str) -> str:
        """The status the queue shows for ``chain_id`` (a current, gone or real-time chain)."""
        return OPEN if chain_id in self.reopened else status_of(self.history(chain_id))


def _cases(reviews: Sequence[Review]) -> list[list[Review]]:
    """Decisions grouped by the chain id they were made on, in journal order."""
    by_id: dict[str, list[Review]] = {}
    for review in sorted(reviews, key=lambda r: r.seq):
        by_id.setdefault(review.chain_id, []).append(review)
    return list(by_id.values())


def _follow(
    cases: list[list[Review]], hops: pd.DataFrame | None, current: Mapping[str, int]
) -> dict[int, str]:
    """Per case, the current chain holding at least half of the transfers of its latest
    decision: the most of them, then the same id, then the smaller id."""
    if not cases or hops is None or not len(hops):
        return {}
    tracked = pd.DataFrame(
        [(case, tx) for case, h in enumerate(cases) for tx in dict.fromkeys(h[-1].tx_ids)],
        columns=["case", "tx_id"],
    )
    if tracked.empty:
        return {}
    size = tracked.groupby("case").size().rename("size")
    shared = tracked.merge(hops[["chain_id", "tx_id"]].drop_duplicates(), on="tx_id")
    overlap = shared.groupby(["case", "chain_id"]).size().rename("overlap").reset_index()
    overlap = overlap.join(size, on="case")
    overlap = overlap[2 * overlap["overlap"] >= overlap["size"]]
    overlap = overlap[overlap["chain_id"].astype(str).isin(list(current))]
    named = np.array([cases[c][-1].chain_id for c in overlap["case"]], dtype=object)
    overlap = overlap.assign(other=named != overlap["chain_id"].to_numpy(object))
    best = overlap.sort_values(
        ["case", "overlap", "other", "chain_id"], ascending=[True, False, True, True]
    ).drop_duplicates("case")
    return {int(c): str(ch) for c, ch in zip(best["case"], best["chain_id"], strict=True)}


_HOP_COLUMNS: Final = ("tx_id", "from_account", "to_account", "amount", "ts")
"""A hop as a decision's snapshot keeps it (``[tx_id, from, to, amount, ts]``)."""


def _reopened(
    by_chain: Mapping[str, list[Review]], current: Mapping[str, int], hops: pd.DataFrame | None
) -> set[str]:
    """The current chains whose latest decision is a dismissal made without one of the
    transfers they hold now, as they hold it (a new hop, or a corrected one)."""
    dismissed = {
        chain: history[-1]
        for chain, history in by_chain.items()
        if chain in current and status_of(history) == DISMISSED
    }
    if not dismissed or hops is None or not len(hops):
        return set()
    # Hand-built hop tables may hold only chain_id and tx_id: compare what there is.
    kept = [i for i, c in enumerate(_HOP_COLUMNS) if c in hops.columns]
    columns = [_HOP_COLUMNS[i] for i in kept]
    mine = hops.loc[hops["chain_id"].isin(list(dismissed)), ["chain_id", *columns]]
    out: set[str] = set()
    for chain, held in mine.groupby("chain_id", sort=False):
        seen = {tuple(h[i] for i in kept) for h in dismissed[str(chain)].snapshot.get("hops", [])}
        now = zip(*(held[c].tolist() for c in columns), strict=True)
        if any(hop not in seen for hop in now):
            out.add(str(chain))
    return out
