"""Request ids: what ties a request's audit line to the server's log lines."""

from __future__ import annotations

import itertools
import secrets
from typing import Final

_REQUEST_PREFIX: Final = secrets.token_hex(4)
"""Names this process in its request ids: two servers' logs do not share ids."""
_request_numbers = itertools.count(1)

SCOPE_KEY: Final = "relgraph.request_id"
"""Where a request's id is kept in its ASGI scope."""


def next_request_id() -> str:
    """16 hex characters, unique within the process: its prefix and a count.

    Not ``uuid4``: that reads the kernel's random source on every request, a system call
    that lets go of the interpreter lock on the event loop, which a busy worker then takes,
    and the loop waits for its turn back. A request id correlates logs; it is no secret.
    """
    return f"{_REQUEST_PREFIX}{next(_request_numbers) & 0xFFFFFFFF:08x}"
