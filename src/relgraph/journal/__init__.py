"""Operational writes: the journal that ``serve`` (and ``relgraph decide``) append to and
``load`` merges. See :mod:`relgraph.journal.log` for the rules and :mod:`.kinds` for the
entry kinds."""

from relgraph.journal.kinds import ACCOUNT, CHAIN_REVIEW, DUPLICATE_DECISION, KINDS, TRANSFER
from relgraph.journal.log import Entry, Journal, JournalError, digest, journal_dir, read

__all__ = [
    "ACCOUNT",
    "CHAIN_REVIEW",
    "DUPLICATE_DECISION",
    "KINDS",
    "TRANSFER",
    "Entry",
    "Journal",
    "JournalError",
    "digest",
    "journal_dir",
    "read",
]
