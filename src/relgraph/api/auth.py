"""API keys and roles: ``Authorization: Bearer <key>``, keys compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from relgraph.config import ConfigError


class Role(StrEnum):
    """What a key may see.

    ``analyst``: everything but raw id numbers; ``campaign``: no risk fields, personal
    data masked; ``risk``: everything, unmasked; ``admin``: as risk, plus operations that
    change data.
    """

    ANALYST = "analyst"
    CAMPAIGN = "campaign"
    RISK = "risk"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the role and a key id safe to log (never the key)."""

    role: Role
    key_id: str

    @property
    def sees_risk(self) -> bool:
        return self.role is not Role.CAMPAIGN

    @property
    def sees_raw_ids(self) -> bool:
        return self.role in (Role.RISK, Role.ADMIN)


def key_id(key: str) -> str:
    """A short, stable, non-reversible name for a key, for logs and the audit trail."""
    return "k_" + hashlib.sha256(key.encode()).hexdigest()[:12]


def parse_keys(text: str, source: str) -> dict[str, Role]:
    """``role:key`` pairs separated by commas or new lines; ``#`` starts a comment."""
    keys: dict[str, Role] = {}
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        role, sep, key = line.partition(":")
        if not sep or not key.strip():
            raise ConfigError(f"{source}, entry {number}: expected 'role:key'")
        try:
            keys[key.strip()] = Role(role.strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in Role)
            raise ConfigError(
                f"{source}, entry {number}: unknown role {role.strip()!r} (one of {allowed})"
            ) from None
        if len(key.strip()) < 16:
            raise ConfigError(f"{source}, entry {number}: keys must be at least 16 characters")
    return keys


class KeyRing:
    """The configured keys. Lookups compare against every key, so timing tells nothing."""

    def __init__(self, keys: Mapping[str, Role]) -> None:
        self._keys = [(k.encode(), role, key_id(k)) for k, role in keys.items()]

    def __len__(self) -> int:
        return len(self._keys)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyRing:
        env = os.environ if environ is None else environ
        keys: dict[str, Role] = {}
        if env.get("RELGRAPH_API_KEYS"):
            keys |= parse_keys(env["RELGRAPH_API_KEYS"], "RELGRAPH_API_KEYS")
        if env.get("RELGRAPH_API_KEYS_FILE"):
            path = Path(env["RELGRAPH_API_KEYS_FILE"])
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                raise ConfigError(f"RELGRAPH_API_KEYS_FILE: cannot read {path}: {exc}") from exc
            keys |= parse_keys(text, str(path))
        return cls(keys)

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of a ``Bearer`` header, or None for a missing or unknown key."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        presented = token.strip().encode()
        found: Principal | None = None
        for key, role, kid in self._keys:
            if hmac.compare_digest(presented, key) and found is None:
                found = Principal(role, kid)
        return found


def demo_key() -> str:
    """A fresh random key for ``relgraph demo`` when none is configured."""
    return "demo-" + secrets.token_urlsafe(24)
