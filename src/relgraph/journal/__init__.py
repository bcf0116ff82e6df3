"""Operational writes: the journal that ``serve`` (and ``relgraph decide``) append to and
``load`` merges. See :mod:`relgraph.journal.log` for the rules and :mod:`.kinds` for the
entry kinds."""

from relgraph.journal.kinds import ACCOUNT, CHAIN_REVIEW, DUPLICATE_DECISION, KINDS, TRANSFER
from relgraph.journal.log import (
    META_DIGEST,
    META_SEQ,
    Entry,
    Journal,
    JournalError,
    behind,
    behind_and_head,
    digest,
    head,
    journal_dir,
    read,
)

__all__ = [
    "ACCOUNT",
    "CHAIN_REVIEW",
    "DUPLICATE_DECISION",
    "KINDS",
    "META_DIGEST",
    "META_SEQ",
    "TRANSFER",
    "Entry",
    "Journal",
    "JournalError",
    "behind",
    "behind_and_head",
    "digest",
    "head",
    "journal_dir",
    "read",
]
