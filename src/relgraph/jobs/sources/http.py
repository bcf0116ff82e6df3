"""The scorer as a running server's ``POST /v1/transfers``: the ``apply`` of ``relgraph consume``
and the sender of ``relgraph stream``.

The server answers a batch only once its transfers are journalled (fsynced) and scored, which
is exactly when a source may commit. A transport error or a 502/503/504 is retried (the batch
is resent as it was; the server drops what it already holds as ``duplicate``). A batch over the
server's body limit (413) is sent again in halves; a single transfer still too large is
answered here as ``rejected`` with that reason, so it goes to the dead letters like any other
rejected record and the stream goes on. Any other refusal stops the sender, uncommitted, with
the server's reason.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx

from relgraph.jobs.sources import Apply, Record

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


class BatchPoster:
    """Posts batches to ``url``/v1/transfers with the ingest ``key`` through ``client``."""

    def __init__(
        self, url: str, key: str, client: httpx.Client, *, retries: int | None = 20
    ) -> None:
        """``retries``: resends of one request before giving up (None: until answered)."""
        self.url = url
        self.endpoint = url.rstrip("/") + "/v1/transfers"
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.client = client
        self.retries = retries
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
        attempt = -1
        while True:
            attempt += 1
            last = self.retries is not None and attempt >= self.retries
            try:
                response = self.client.post(self.endpoint, content=body, headers=self.headers)
            except httpx.TransportError as error:
                if last:
                    raise RuntimeError(
                        f"the server at {self.url} cannot be reached: {error}"
                    ) from None
                self.resent += 1
                time.sleep(RETRY_PAUSE)
                continue
            if response.status_code in RETRY_STATUS and not last:
                self.resent += 1
                time.sleep(retry_after(response.headers.get("Retry-After")))
                continue
            return response


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
