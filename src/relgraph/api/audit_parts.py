"""Continuation lines: the ids a read named, and the texts it tried, when more than one
line's worth.

A line lists at most ``max_ids`` ids in ``max_bytes``; a read past that (a page of 100
households with their members, a batch of transfers, an audience export) keeps their count
and SHA-256 on its line, and the ids themselves follow it in continuation lines committed
with it: the trail must say who read customer X, and a digest alone cannot be searched.
So do the HMACs of the texts a request searched or tried past the ten a line keeps of a
list (a batch of accounts for 30 id numbers as holders): ``relgraph audit tried`` must
find each. Each part repeats who read and the request, so a line found by an id says who.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

import numpy as np

PARTS: Final = "\0parts"
"""Where a queued record carries its continuation lines until the log writes them (a key no
field of a line can have: the log's own fields and the caller's are names)."""
LISTED: Final = ("ids", "tried_hmac", "searched_hmac")
"""Lists the trail names whole: what was read, and the texts searched or tried."""
WHO: Final = ("time", "key_id", "role", "operation", "request_id")
"""What each continuation line repeats of its line."""


def distinct_sorted(values: Iterable[Any]) -> list[str]:
    """The distinct values as text, sorted. A list that already is is returned as it is: a
    line's ids are sorted once (a million take seconds to sort, a moment to check), not
    again for each of their count, digest and continuation lines."""
    if isinstance(values, list) and _ascending(values):
        return values
    return sorted({str(v) for v in values})


def _ascending(values: list[Any]) -> bool:
    # map over operator.lt runs in C: a tenth of a second for a million ids.
    return set(map(type, values)) <= {str} and all(map(operator.lt, values, values[1:]))


_ESCAPED: Final = re.compile(r'["\\\x00-\x1f]')
"""What JSON (``ensure_ascii=False``) writes as more than its UTF-8 bytes."""


def id_chunks(ids: Iterable[str], max_ids: int, max_bytes: int) -> list[list[str]]:
    """The sorted, distinct ids in runs of at most ``max_ids`` and ``max_bytes`` (as JSON).

    An id over ``max_bytes`` is no id the bank holds (a client's text sent as one): it is
    kept as ``sha256:`` and its digest, so no line outgrows its bound.
    """
    values = distinct_sorted(ids)
    sizes = [len(v.encode()) for v in values]
    if values and (max(sizes) > max_bytes // 2 or _ESCAPED.search("".join(values))):
        return _chunks_one_by_one(values, max_ids, max_bytes)
    # Each id takes its bytes, two quotes and a comma (the list's brackets are the 2 its
    # first comma does not take): cut where the running total passes the line's bound.
    ends = np.cumsum(np.asarray(sizes, dtype=np.int64) + 3)
    chunks: list[list[str]] = []
    start = 0
    while start < len(values):
        before = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, before + max_bytes - 2, side="right"))
        stop = max(start + 1, min(stop, start + max_ids))
        chunks.append(values[start:stop])
        start = stop
    return chunks


def _chunks_one_by_one(values: list[str], max_ids: int, max_bytes: int) -> list[list[str]]:
    """:func:`id_chunks` for ids that JSON escapes or that are too long to list."""
    chunks: list[list[str]] = []
    run: list[str] = []
    size = 2
    for value in values:
        if len(value.encode()) > max_bytes // 2:
            value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        grows = len(json.dumps(value, ensure_ascii=False).encode()) + 1
        if run and (len(run) == max_ids or size + grows > max_bytes):
            chunks.append(run)
            run, size = [], 2
        run.append(value)
        size += grows
    if run:
        chunks.append(run)
    return chunks


def with_parts(
    record: dict[str, Any], entry: dict[str, Any], bounds: tuple[int, int, int]
) -> dict[str, Any]:
    """``record`` (``entry`` bounded) with what it could not list moved to continuation
    lines: ``ids`` it summarised, and any HMAC list over ``max_items`` (which the line now
    counts as ``<name>_count``). ``bounds``: the line's ``max_items``, and the ``max_ids``
    and ``max_bytes`` of a continuation line.

    The parts ride under :data:`PARTS` until the log numbers them and sets ``continues``
    to the line's ``seq``: one per chunk of each list, under the list's own name, so a
    search of the log for an id or an HMAC finds the continuation line as it finds a line.
    """
    max_items, max_ids, max_bytes = bounds
    lists: dict[str, list[list[str]]] = {}
    record = dict(record)
    for name in LISTED:
        values = entry.get(name)
        if values is None:
            continue
        # Ids were summarised (too many, or crowded out by the calls); any other list is
        # cut at max_items on the line.
        spill = "ids" not in record if name == "ids" else len(values) > max_items
        if not spill:
            continue
        lists[name] = id_chunks(values, max_ids, max_bytes)
        if name != "ids":
            record.pop(name, None)
            record[name + "_count"] = len(set(values))
    if not lists:
        return record
    who = {name: record[name] for name in WHO if name in record}
    chunks = [(name, chunk) for name, runs in lists.items() for chunk in runs]
    parts = [
        {**who, "part": i, "parts": len(chunks), name: chunk}
        for i, (name, chunk) in enumerate(chunks, start=1)
    ]
    return record | {"ids_parts": len(parts), PARTS: parts}


def expanded(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each queued record, then its continuation lines, each told its line's ``seq`` (which
    the caller sets on the record before taking the next one)."""
    for record in records:
        parts = record.pop(PARTS, ())
        yield record
        for part in parts:
            yield part | {"continues": record["seq"]}
