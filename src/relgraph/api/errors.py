"""Errors a client is meant to read; every other exception is masked as "Unexpected error."."""

from __future__ import annotations


class ClientError(Exception):
    """A request the API refuses, with a message that tells the client why."""


class NotFoundError(ClientError):
    """An id that names nothing."""


class PermissionDeniedError(ClientError):
    """A field the caller's role may not see (never a quiet null)."""

    def __init__(self, field: str, role: str) -> None:
        super().__init__(f"Permission denied: role '{role}' may not read {field}.")


class LimitError(ClientError):
    """A request above one of the API's limits."""
