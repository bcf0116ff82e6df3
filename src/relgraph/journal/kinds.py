"""The kinds of journal entry, one name each, shared by the writers and ``load``.

What each entry's ``data`` holds is defined by the feature that writes it (its module says);
the journal itself only keeps the lines durable and in order.
"""

from __future__ import annotations

from typing import Final

DUPLICATE_DECISION: Final = "duplicate_decision"
"""A reviewer's SAME / DIFFERENT decision on a possible duplicate (identity resolution)."""
CHAIN_REVIEW: Final = "chain_review"
"""An analyst's status and note on a risk chain (the alert queue)."""
TRANSFER: Final = "transfer"
"""A transfer sent to a running server (real-time scoring); merged into ``transfers``."""
ACCOUNT: Final = "account"
"""An account opened after the last load, sent to a running server; merged into ``accounts``."""

KINDS: Final = frozenset({DUPLICATE_DECISION, CHAIN_REVIEW, TRANSFER, ACCOUNT})
