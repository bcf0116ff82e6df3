"""The scorer as a running server's ``POST /v1/transfers``: the ``apply`` of ``relgraph consume``.

The server answers a batch only once its transfers are journalled (fsynced) and scored, which
is exactly when a source may commit. A transport error or a 502/503/504 is retried (the batch
is resent as it was; the server drops what it already holds as ``duplicate``); any other
refusal stops the consumer, uncommitted, with the server's reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from relgraph.jobs.sources import Apply, Record

RETRY_STATUS = frozenset({502, 503, 504})


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
    endpoint = url.rstrip("/") + "/v1/transfers"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    client = client or httpx.Client(timeout=timeout)

    def apply(batch: list[Record]) -> Mapping[str, Any]:
        body = json.dumps(batch, ensure_ascii=False, default=str).encode("utf-8")
        for attempt in range(retries + 1):
            try:
                response = client.post(endpoint, content=body, headers=headers)
            except httpx.TransportError as error:
                if attempt == retries:
                    raise RuntimeError(f"the server at {url} cannot be reached: {error}") from None
                time.sleep(0.5)
                continue
            if response.status_code in RETRY_STATUS and attempt < retries:
                time.sleep(float(response.headers.get("Retry-After", "0.5")))
                continue
            if response.status_code != 200:
                raise RuntimeError(
                    f"the server refused a batch (HTTP {response.status_code}): "
                    f"{response.text[:300]}"
                )
            answer: Mapping[str, Any] = response.json()
            return answer
        raise AssertionError("unreachable")

    return apply
