"""API keys and roles: ``Authorization: Bearer <key>``, keys compared in constant time."""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from relgraph.api.audit_key import AuditKey
from relgraph.config import ConfigError


class Role(StrEnum):
    """What a key may see.

    ``analyst``: everything but raw id numbers; ``campaign``: no risk fields, personal
    data masked; ``risk``: everything, unmasked; ``admin``: as risk, plus operations that
    change data; ``ingest``: sends transfers and accounts (``/v1/transfers``,
    ``/v1/accounts``, ``recordTransfers``) and reads nothing else — a payment system's key.
    """

    ANALYST = "analyst"
    CAMPAIGN = "campaign"
    RISK = "risk"
    ADMIN = "admin"
    INGEST = "ingest"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the role and a key id safe to log (never the key)."""

    role: Role
    key_id: str

    @property
    def sees_risk(self) -> bool:
        return self.role not in (Role.CAMPAIGN, Role.INGEST)

    @property
    def may_ingest(self) -> bool:
        """Whether the key may send transfers and accounts (ingest and admin keys)."""
        return self.role in (Role.INGEST, Role.ADMIN)

    @property
    def sees_raw_ids(self) -> bool:
        return self.role in (Role.RISK, Role.ADMIN)


KEY_ID_PURPOSE = b"relgraph-api-key-id"


def key_id(key: str, secret: AuditKey) -> str:
    """A short name for a key, for logs, the audit trail and ``decidedBy``: its HMAC under
    the audit key, stable while that key is.

    Other roles read key ids (an analyst sees who decided a pair), and a plain hash of the
    key would let any of them test guesses of a weak key offline; without the audit key an
    id says nothing about the key it names. ``relgraph audit key-id`` prints a key's id.
    """
    return "k_" + secret.mac(KEY_ID_PURPOSE, key.encode())[:12]


SCRAPE = "metrics"
"""The role-like name of a key that may only read ``/metrics`` (a Prometheus scraper)."""

Grant = Role | Literal["metrics"]

MIN_KEY_LENGTH = 16


def parse_keys(text: str, source: str) -> dict[str, Grant]:
    """``role:key`` pairs separated by commas or new lines; a line starting ``#`` is a comment.

    Anything that would make a key other than the operator meant refuses to start, with
    the entry number and never the key: a ``#`` after the start of a line (once a trailing
    comment, it silently cut keys short), whitespace or non-ASCII inside a key, a key shorter
    than 16 characters, or one key under two roles (which role would it get?).
    """
    return {key: grant for key, (grant, _) in _parse(text, source).items()}


def _parse(text: str, source: str) -> dict[str, tuple[Grant, str]]:
    """``parse_keys``, keeping where each key was listed, for errors across sources."""
    keys: dict[str, tuple[Grant, str]] = {}
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        where = f"{source}, entry {number}"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "#" in line:
            raise ConfigError(
                f"{where}: '#' may only start a comment line and keys may not contain it: "
                "put comments on their own line"
            )
        role, sep, key = line.partition(":")
        role, key = role.strip().lower(), key.strip()
        if not sep or not key:
            raise ConfigError(f"{where}: expected 'role:key'")
        grant = _grant(role, where)
        if any(c.isspace() for c in key):
            raise ConfigError(f"{where}: keys may not contain whitespace")
        if not (key.isascii() and key.isprintable()):
            raise ConfigError(f"{where}: keys must be printable ASCII")
        if len(key) < MIN_KEY_LENGTH:
            raise ConfigError(f"{where}: keys must be at least {MIN_KEY_LENGTH} characters")
        _add(keys, key, grant, where)
    return keys


def _grant(role: str, where: str) -> Grant:
    if role == SCRAPE:
        return "metrics"
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join([*(r.value for r in Role), SCRAPE])
        raise ConfigError(f"{where}: unknown role {role!r} (one of {allowed})") from None


def _add(keys: dict[str, tuple[Grant, str]], key: str, grant: Grant, where: str) -> None:
    if key in keys and keys[key][0] != grant:
        first, first_where = keys[key]
        raise ConfigError(
            f"{where}: the key of {first_where} is listed again under another role "
            f"({first!s} and {grant!s}): give each role its own key"
        )
    keys[key] = (grant, where)


class KeyRing:
    """The configured keys. Lookups compare against every key, so timing tells nothing.

    ``scrape`` keys may read ``/metrics`` and nothing else; admin keys may read it too.
    Keys are named (``Principal.key_id``) only once the ring has the audit key
    (:meth:`named_with`, done by the service state): until then ``authenticate`` refuses.
    """

    def __init__(
        self, keys: Mapping[str, Role], scrape: Iterable[str] = (), *, names: AuditKey | None = None
    ) -> None:
        self._roles = dict(keys)
        self._scrape = [k.encode() for k in scrape]
        self._names = names
        self._keys = [
            (k.encode(), role, key_id(k, names) if names else "") for k, role in keys.items()
        ]

    def named_with(self, audit_key: AuditKey) -> KeyRing:
        """The same keys, named by their HMAC under ``audit_key`` (see :func:`key_id`)."""
        return KeyRing(self._roles, [k.decode() for k in self._scrape], names=audit_key)

    def __len__(self) -> int:
        """The number of keys that may query (scrape keys do not count)."""
        return len(self._keys)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyRing:
        env = os.environ if environ is None else environ
        keys: dict[str, tuple[Grant, str]] = {}
        if env.get("RELGRAPH_API_KEYS"):
            keys = _parse(env["RELGRAPH_API_KEYS"], "RELGRAPH_API_KEYS")
        if env.get("RELGRAPH_API_KEYS_FILE"):
            path = Path(env["RELGRAPH_API_KEYS_FILE"])
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"RELGRAPH_API_KEYS_FILE: cannot read {path}: {exc}") from exc
            for key, (grant, where) in _parse(text, str(path)).items():
                _add(keys, key, grant, where)
        roles = {k: g for k, (g, _) in keys.items() if isinstance(g, Role)}
        return cls(roles, [k for k, (g, _) in keys.items() if g == SCRAPE])

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The principal of a ``Bearer`` header, or None for a missing or unknown key."""
        if self._names is None:
            raise RuntimeError("the key ring has no audit key to name keys with: named_with")
        presented = _bearer(authorization)
        if presented is None:
            return None
        found: Principal | None = None
        for key, role, kid in self._keys:
            if hmac.compare_digest(presented, key) and found is None:
                found = Principal(role, kid)
        return found

    def may_scrape(self, authorization: str | None) -> bool | None:
        """Whether a ``Bearer`` key may read ``/metrics``: None for a missing or unknown key,
        False for a key of a role that may not (analyst, campaign, risk)."""
        presented = _bearer(authorization)
        if presented is None:
            return None
        scrape = False
        for key in self._scrape:
            scrape |= hmac.compare_digest(presented, key)
        if scrape:
            return True
        principal = self.authenticate(authorization)
        return None if principal is None else principal.role is Role.ADMIN


def _bearer(authorization: str | None) -> bytes | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip().encode()


def demo_key() -> str:
    """A fresh random key for ``relgraph demo`` when none is configured."""
    return "demo-" + secrets.token_urlsafe(24)
