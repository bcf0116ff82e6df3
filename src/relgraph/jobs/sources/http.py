"""The scorer as a running server's ``POST /v1/transfers``: the ``apply`` of ``relgraph consume``
and the sender of ``relgraph stream``.

The server answers a batch only once its transfers are journalled (fsynced) and scored, which
is exactly when a source may commit. A transport error or a 502/503/504 is retried, each wait
told (the batch is resent as it was; the server drops what it already holds as
``duplicate``), up to a number of resends or a time without an answer. A batch over the
server's body limit (413) is sent again in halves; a single transfer still too large is
answered here as ``rejected`` with that reason, so it goes to the dead letters like any other
rejected record and the stream goes on. Any other refusal stops the sender, uncommitted, with
the server's reason.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from relgraph.jobs.sources import Apply, Record

log = logging.getLogger("relgraph.sources.http")

RETRY_STATUS = frozenset({502, 503, 504})
TOO_LARGE = 413
RETRY_PAUSE: Final = 0.5
"""Seconds before a resend when the server (or a proxy) names no time."""
MAX_RETRY_AFTER: Final = 30.0
"""The longest ``Retry-After`` honoured: a proxy's date an hour ahead (or a clock far off)
must not park the sender silently; it asks again after this and waits again if told to."""


def retry_after(
    value: str | None,
    *,
    default: float = RETRY_PAUSE,
    cap: float = MAX_RETRY_AFTER,
    now: datetime | None = None,
) -> float:
    """Seconds to wait for a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3; a gateway in front of the server sends dates during a deploy), at most ``cap``;
    a date past is 0, and a value of neither form (or none) is ``default``."""
    text = (value or "").strip()
    if not text:
        return default
    seconds: float
    try:
        # RFC 9110 says whole seconds; a fraction is taken as meant.
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return default
        if when.tzinfo is None:  # an HTTP-date is GMT, written or not
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
        seconds = max(seconds, 0.0)
    if not math.isfinite(seconds) or seconds < 0:
        return default
    return min(seconds, cap)


class RefusalError(RuntimeError):
    """The server refused a batch for good (not a 413, nor a status worth retrying)."""


class UnansweredError(RuntimeError):
    """No answer to a batch within the sender's retries or patience (the server gone)."""


MAX_PAUSE: Final = 5.0
"""The longest pause between resends after a transport error (doubling from 0.5 s)."""


def server_url(url: str) -> str:
    """``url`` when it names a server as ``http(s)://HOST[:PORT]``; a ValueError otherwise.

    Checked before the first send: ``127.0.0.1:8000`` without its scheme fails every request
    the same way, so retrying it for ``--patience`` seconds only hides the typo.

    >>> server_url("http://127.0.0.1:8000")
    'http://127.0.0.1:8000'
    >>> server_url("127.0.0.1:8000")
    Traceback (most recent call last):
    ...
    ValueError: --url must be the server's address with its scheme, such as http://127.0.0.1:8000, not '127.0.0.1:8000'
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not parsed.host
        or not 0 < (parsed.port or 80) < 65536
    ):
        raise ValueError(
            "--url must be the server's address with its scheme, such as "
            f"http://127.0.0.1:8000, not {url!r}"
        )
    return url


class BatchPoster:
    """Posts batches to ``url``/v1/transfers with the ingest ``key`` through ``client``."""

    def __init__(
        self,
        url: str,
        key: str,
        client: httpx.Client,
        *,
        retries: int | None = 20,
        patience: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        """``retries``: resends of one request before giving up (None: no count);
        ``patience``: seconds without an answer to one request before giving up (None: no
        limit); ``on_wait``: told each wait before a resend, in a sentence (default: the
        log), so that a server gone is never a silent hang."""
        self.url = url
        self.endpoint = url.rstrip("/") + "/v1/transfers"
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.client = client
        self.retries = retries
        self.patience = patience
        self.on_wait = on_wait or log.warning
        self.resent = 0
        """Requests sent again after a transport error or a 502/503/504."""

    def answer(self, batch: list[Record]) -> dict[str, Any]:
        """The server's answer to ``batch``, one result per record in order (halves merged)."""
        response = self._send(json.dumps(batch, ensure_ascii=False, default=str).encode("utf-8"))
        if response.status_code == TOO_LARGE:
            if len(batch) == 1:
                return _too_large(batch[0], response)
            # Halves until each fits: the records that fit are scored, and only a record
            # that is alone too large is rejected (never a whole partition blocked).
            half = len(batch) // 2
            return _merged(self.answer(batch[:half]), self.answer(batch[half:]))
        if response.status_code != 200:
            raise RefusalError(
                f"the server refused a batch (HTTP {response.status_code}): {response.text[:300]}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    def _send(self, body: bytes) -> httpx.Response:
        began = time.monotonic()
        attempt = 0
        while True:
            try:
                response = self.client.post(self.endpoint, content=body, headers=self.headers)
            except httpx.TransportError as error:
                problem = f"no answer from {self.url} ({type(error).__name__}: {error})"
                pause = min(RETRY_PAUSE * 2**attempt, MAX_PAUSE)
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
                problem = f"the server at {self.url} answered HTTP {response.status_code}"
                pause = retry_after(response.headers.get("Retry-After"))
            attempt += 1
            waited = time.monotonic() - began
            if (self.retries is not None and attempt > self.retries) or (
                self.patience is not None and waited + pause > self.patience
            ):
                raise UnansweredError(
                    f"{problem}; gave up after {waited:.0f} s and {attempt} attempt(s)"
                )
            self.resent += 1
            limit = "" if self.patience is None else f" of {self.patience:.0f}"
            self.on_wait(
                f"{problem}; sending again in {pause:.1f} s ({waited:.0f} s{limit} waited)"
            )
            time.sleep(pause)


def _too_large(record: Record, response: httpx.Response) -> dict[str, Any]:
    reason = (
        "the transfer alone is larger than the server takes in one request "
        f"(HTTP 413: {response.text[:200]})"
    )
    result = {"tx_id": record.get("tx_id"), "status": "rejected", "reasons": [reason]}
    return {"accepted": 0, "duplicate": 0, "rejected": 1, "results": [result]}


def _merged(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        key: int(first.get(key, 0)) + int(second.get(key, 0))
        for key in ("accepted", "duplicate", "rejected")
    }
    merged["results"] = [*first.get("results", []), *second.get("results", [])]
    return merged


def http_apply(
    url: str,
    key: str,
    *,
    timeout: float = 30.0,
    retries: int = 20,
    client: httpx.Client | None = None,
) -> Apply:
    """An ``apply`` posting each batch to ``url``/v1/transfers with the ingest ``key``
    (through ``client`` when given: an in-process app's test client, a proxy's)."""
    poster = BatchPoster(url, key, client or httpx.Client(timeout=timeout), retries=retries)
    return poster.answer
