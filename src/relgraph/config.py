"""One settings object, read from RELGRAPH_* / NEO4J_* environment variables and overridden by flags."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final, Literal, Self, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NO_OFFSET: Final = timedelta(0)

StoreKind = Literal["embedded", "neo4j"]
EngineKind = Literal["local", "gds"]
DEFAULT_DATA_DIR = Path("relgraph-data")
_Num = TypeVar("_Num", int, float)


class ConfigError(ValueError):
    """A setting has a value relgraph cannot use; the message names the setting."""


@dataclass(frozen=True)
class Neo4jSettings:
    """Where the Neo4j store is and how relgraph talks to it."""

    uri: str = "neo4j://127.0.0.1:7687"
    username: str = "neo4j"
    password: str = field(default="", repr=False)
    database: str = "neo4j"
    batch_size: int = 5000
    """Rows per ``UNWIND $rows`` transaction: large enough to amortise the round trip,
    small enough that one transaction stays well inside a default heap."""
    writers: int = 2
    """Load transactions in flight at once: while the server writes one batch, the next is
    encoded and sent (and a server with cores to spare writes both)."""
    tx_timeout: float = 300.0
    """Seconds a single transaction may run before the server stops it."""
    max_retry_time: float = 30.0
    """Seconds the driver keeps retrying a transaction that failed transiently."""
    lock_wait: float = 3600.0
    """Seconds a load or an ``analyze`` waits for the store lock another run holds, then
    gives up (0: not at all; ``inf``: as long as it takes). An hour: several loads of the
    largest bank measured (12.4M rows in under 10 minutes), so an overlap of a nightly load
    and ``analyze`` resolves itself, while a run stuck behind a hung one still ends, and
    says who holds the lock, the same night."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Neo4jSettings:
        return cls(
            uri=env.get("NEO4J_URI", cls.uri),
            username=env.get("NEO4J_USERNAME", cls.username),
            password=env.get("NEO4J_PASSWORD", ""),
            database=env.get("NEO4J_DATABASE", cls.database),
            batch_size=env_number(env, "RELGRAPH_NEO4J_BATCH_SIZE", cls.batch_size, int, 1),
            writers=env_number(env, "RELGRAPH_NEO4J_WRITERS", cls.writers, int, 1),
            tx_timeout=env_number(env, "RELGRAPH_NEO4J_TX_TIMEOUT", cls.tx_timeout, float, 0.001),
            max_retry_time=env_number(
                env, "RELGRAPH_NEO4J_RETRY_TIME", cls.max_retry_time, float, 0
            ),
            lock_wait=env_number(
                env, "RELGRAPH_NEO4J_LOCK_WAIT", cls.lock_wait, float, 0, infinite=True
            ),
        )


NEO4J_SCHEMES: Final = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
"""The Bolt schemes of ``NEO4J_URI`` (the driver also takes ``http``, Neo4j's query API over
HTTP, which the lock relgraph's writers hold, a transaction kept open, cannot go through)."""


def check_neo4j_uri(uri: str) -> None:
    """Refuse a ``NEO4J_URI`` that relgraph cannot use, before anything connects.

    A user and password before ``@`` are refused without quoting them: the driver's own error
    repeated the whole address, password and all, and so did every message naming the store.
    """
    from urllib.parse import urlsplit

    if "@" in uri.split("://", 1)[-1].split("/", 1)[0]:
        raise ConfigError(
            "NEO4J_URI names a user and password (before '@'), which relgraph does not print "
            "or send: give the user in NEO4J_USERNAME, the password in NEO4J_PASSWORD, and "
            "NEO4J_URI as neo4j://HOST:7687"
        )
    scheme = urlsplit(uri).scheme if "://" in uri else ""
    if scheme in NEO4J_SCHEMES:
        return
    # Port 7474, Neo4j Browser's address, is the one an operator most often has at hand.
    what = "Neo4j Browser's HTTP address" if scheme in ("http", "https") else "no Bolt address"
    raise ConfigError(
        f"NEO4J_URI {uri!r} is {what}: relgraph speaks Bolt: give neo4j://HOST:7687 "
        "(bolt://HOST:7687 for one server without routing; neo4j+s:// or bolt+s:// with TLS)"
    )


def env_number(
    env: Mapping[str, str],
    name: str,
    default: _Num,
    kind: type[_Num],
    minimum: float,
    *,
    infinite: bool = False,
) -> _Num:
    """The number in ``env[name]``, ``default`` when unset; a clear error when not a number
    of ``kind``, below ``minimum``, or ``inf`` where ``infinite`` does not allow it. The one
    parser of numeric settings (flags aside)."""
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        # Said as an operator says it: "a int" and "a float" were Python's type names.
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None
    if value != value:  # nan: float() takes it, and it compares as at least any minimum
        raise ConfigError(f"{name} must be a number, not {raw!r}")
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {raw!r}")
    if abs(value) == float("inf") and not infinite:
        # float() takes "inf", and a window or horizon of inf hours ends in an overflow
        # deep in the analytics rather than here; only a wait may be endless.
        raise ConfigError(f"{name} must be a finite number, not {raw!r}")
    return value


SOURCE_TZ_ENV: Final = "RELGRAPH_SOURCE_TZ"
"""The zone of timestamps written without an offset in the input files."""
DISPLAY_TZ_ENV: Final = "RELGRAPH_DISPLAY_TZ"
"""The zone the API shows timestamps in and reads offset-less filter values in."""
DEFAULT_TZ: Final = "Asia/Shanghai"
"""Chinese banks keep Beijing time (UTC+8, no daylight saving) in their exports."""


def env_zone(env: Mapping[str, str] | None, name: str, default: str = DEFAULT_TZ) -> ZoneInfo:
    """The IANA time zone named by ``env[name]`` (``default`` when unset or empty); a clear
    error naming the setting when the zone is unknown. The one parser of zone settings.

    >>> env_zone({"RELGRAPH_SOURCE_TZ": "UTC"}, "RELGRAPH_SOURCE_TZ").key
    'UTC'
    """
    environ = os.environ if env is None else env
    raw = environ.get(name, "").strip() or default
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name} must be an IANA time zone such as Asia/Shanghai or UTC, not {raw!r}"
        ) from None


def source_zone(env: Mapping[str, str] | None = None) -> ZoneInfo:
    """``RELGRAPH_SOURCE_TZ`` (default Asia/Shanghai): the zone of naive input timestamps."""
    return env_zone(env, SOURCE_TZ_ENV)


META_SOURCE_TZ: Final = "source_tz"
"""Store metadata: the zone the load read naive timestamps and the bank's days in
(``RELGRAPH_SOURCE_TZ`` as it ran). Loads of releases before 2026-12-05 wrote none."""


def data_zone(meta: Mapping[str, str], env: Mapping[str, str] | None = None) -> ZoneInfo:
    """The zone of a loaded store's own days (an account's opening day) and of the naive
    times sent to it: the one its load read the files in, so that ``analyze`` or ``serve``
    under another ``RELGRAPH_SOURCE_TZ`` reads them as the load did; ``RELGRAPH_SOURCE_TZ``
    for a store an older release loaded (it recorded none).

    >>> data_zone({META_SOURCE_TZ: "Asia/Shanghai"}, {"RELGRAPH_SOURCE_TZ": "UTC"}).key
    'Asia/Shanghai'
    >>> data_zone({}, {"RELGRAPH_SOURCE_TZ": "UTC"}).key
    'UTC'
    """
    stored = meta.get(META_SOURCE_TZ)
    if not stored:
        return source_zone(env)
    try:
        return ZoneInfo(stored)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"the store was loaded reading times in {stored!r}, a zone this machine's time zone "
            "database lacks: install the tzdata package, or load the files again"
        ) from None


def other_zone(meta: Mapping[str, str], env: Mapping[str, str] | None = None) -> str | None:
    """What a command reading a store should say when ``RELGRAPH_SOURCE_TZ`` names another
    zone than the one the store's load read its files in (:func:`data_zone`), or None.

    >>> other_zone({META_SOURCE_TZ: "Asia/Shanghai"}, {"RELGRAPH_SOURCE_TZ": "UTC"})[:30]
    'RELGRAPH_SOURCE_TZ is UTC, but'
    >>> other_zone({}, {"RELGRAPH_SOURCE_TZ": "UTC"}) is None
    True
    """
    stored, here = meta.get(META_SOURCE_TZ), source_zone(env).key
    if not stored or stored == here:
        return None
    return (
        f"{SOURCE_TZ_ENV} is {here}, but the store was loaded reading times in {stored}: its "
        f"days (accounts' opening days) and the times sent to it are read in {stored}, the "
        f"store's zone; load the files again under {here} to read them there"
    )


def zone_moves(meta: Mapping[str, str], env: Mapping[str, str] | None = None) -> str | None:
    """What a load should say when it reads the files' naive times in another zone than the
    store's last load did (a machine or job without the old ``RELGRAPH_SOURCE_TZ``), or None.

    >>> zone_moves({META_SOURCE_TZ: "Asia/Shanghai"}, {"RELGRAPH_SOURCE_TZ": "UTC"})[:44]
    'this load reads times without an offset in U'
    >>> zone_moves({META_SOURCE_TZ: "UTC"}, {"RELGRAPH_SOURCE_TZ": "UTC"}) is None
    True
    """
    stored, here = meta.get(META_SOURCE_TZ), source_zone(env)
    if not stored or stored == here.key:
        return None
    now = datetime.now(here)
    hours = (now.utcoffset() or _NO_OFFSET) - (
        now.astimezone(ZoneInfo(stored)).utcoffset() or _NO_OFFSET
    )
    return (
        f"this load reads times without an offset in {here.key} ({SOURCE_TZ_ENV}), the store's "
        f"last load read them in {stored}: every such time in the files moves by "
        f"{abs(hours.total_seconds()) / 3600:g} h today (times sent to the server keep "
        f"theirs); if that is not meant, set {SOURCE_TZ_ENV}={stored} and load again"
    )


def display_zone(env: Mapping[str, str] | None = None) -> ZoneInfo:
    """``RELGRAPH_DISPLAY_TZ`` (default Asia/Shanghai): the zone the API shows and reads."""
    return env_zone(env, DISPLAY_TZ_ENV)


def moment_ms(text: str, zone: tzinfo) -> int:
    """Epoch ms of an ISO-8601 date or timestamp; one without an offset is in ``zone``
    (a date is its midnight there).

    Raises
    ------
    ValueError
        When ``text`` is not an ISO-8601 date or timestamp.

    >>> moment_ms("2024-01-06T10:00:00", ZoneInfo("Asia/Shanghai"))
    1704506400000
    >>> moment_ms("2024-01-06T02:00:00Z", ZoneInfo("Asia/Shanghai"))
    1704506400000
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp() * 1000)


def format_moment(ms: int, zone: tzinfo) -> str:
    """Epoch ms as ISO-8601 in ``zone`` with its offset, to the second.

    >>> format_moment(1704507300000, ZoneInfo("Asia/Shanghai"))
    '2024-01-06T10:15:00+08:00'
    """
    return datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="seconds")


class EnvParams:
    """``from_env`` for a frozen dataclass of ints and floats: ``RELGRAPH_<PREFIX>_<FIELD>``.

    Analytics and ingest thresholds subclass it, so every numeric setting is parsed here.
    """

    ENV_PREFIX = ""
    OWNS_PREFIX = True
    """Every ``RELGRAPH_<PREFIX>_*`` variable is one of these settings, so any other is a
    misspelt one; False where other settings share the prefix."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        if cls.OWNS_PREFIX:
            cls._refuse_unknown(env)
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]  # subclasses are dataclasses
            name = f"RELGRAPH_{cls.ENV_PREFIX}_{f.name.upper()}"
            if name in env:
                kind: type[int] | type[float] = int if f.type in (int, "int") else float
                values[f.name] = env_number(env, name, kind(0), kind, float("-inf"))
        params = cls(**values)
        try:
            params.check()
        except ConfigError as exc:
            raise ConfigError(cls.named_by_variable(str(exc))) from None
        return params

    @classmethod
    def _refuse_unknown(cls, env: Mapping[str, str]) -> None:
        """Stop on a ``RELGRAPH_<PREFIX>_*`` variable that sets nothing: a misspelt
        threshold (``…_WINDOW_HOURZ``) was ignored, and the run used the default."""
        prefix = f"RELGRAPH_{cls.ENV_PREFIX}_"
        known = [prefix + f.name.upper() for f in fields(cls)]  # type: ignore[arg-type]  # subclasses are dataclasses
        for name in sorted(env):
            if name.startswith(prefix) and name not in known:
                # The suffixes alone: the shared prefix would make any two names look alike.
                suffixes = [k[len(prefix) :] for k in known]
                close = difflib.get_close_matches(name[len(prefix) :], suffixes, n=1)
                if close:
                    meant = prefix + close[0]
                    raise ConfigError(f"{name} is not a setting: did you mean {meant}?")
                raise ConfigError(
                    f"{name} is not a setting; the {prefix}* settings are {', '.join(known)}"
                )

    @classmethod
    def named_by_variable(cls, message: str) -> str:
        """``message`` with each field name written as the variable that sets it: what the
        operator set is ``RELGRAPH_LAYERING_WINDOW_HOURS``, not ``window_hours``.

        >>> class P(EnvParams):
        ...     ENV_PREFIX = "LAYERING"
        >>> from dataclasses import make_dataclass
        >>> Q = make_dataclass("Q", [("min_hops", int), ("max_hops", int)], bases=(P,))
        >>> Q.named_by_variable("LAYERING needs 2 ≤ min_hops ≤ max_hops")
        'LAYERING needs 2 ≤ RELGRAPH_LAYERING_MIN_HOPS ≤ RELGRAPH_LAYERING_MAX_HOPS'
        """
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]  # subclasses are dataclasses
        if not names:
            return message
        # Whole words only, longest first: hop_weight is not inside pass_hop_weight.
        alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
        return re.sub(
            rf"\b({alternatives})\b",
            lambda match: f"RELGRAPH_{cls.ENV_PREFIX}_{match.group(1).upper()}",
            message,
        )

    def check(self) -> None:
        """Refuse negative values; subclasses add their own bounds."""
        for f in fields(self):  # type: ignore[arg-type]  # subclasses are dataclasses
            value = getattr(self, f.name)
            if value < 0:
                raise ConfigError(f"{f.name} must not be negative, not {value!r}")


@dataclass(frozen=True)
class AuditSettings:
    """Where the audit trail's key and anchor come from (see ``relgraph.api.audit``)."""

    key: str = field(default="", repr=False)
    """``RELGRAPH_AUDIT_KEY``: the HMAC key itself (never logged)."""
    key_file: Path | None = None
    """``RELGRAPH_AUDIT_KEY_FILE``: a file holding the key, outside the data directory."""
    anchor: Path | None = None
    """``RELGRAPH_AUDIT_ANCHOR``: the anchor file [default beside the log]."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuditSettings:
        key, key_file = env.get("RELGRAPH_AUDIT_KEY", ""), env.get("RELGRAPH_AUDIT_KEY_FILE")
        if key and key_file:
            raise ConfigError("set RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE, not both")
        anchor = env.get("RELGRAPH_AUDIT_ANCHOR")
        return cls(
            key=key,
            key_file=Path(key_file) if key_file else None,
            anchor=Path(anchor) if anchor else None,
        )


@dataclass(frozen=True)
class Settings:
    """Everything relgraph can be configured with, and its default."""

    data_dir: Path = DEFAULT_DATA_DIR
    store: StoreKind = "embedded"
    env: str = "development"
    engine: EngineKind = "local"
    neo4j: Neo4jSettings = field(default_factory=Neo4jSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    id_secret: str | None = field(default=None, repr=False)
    """``RELGRAPH_ID_SECRET``: the key person ids are made with; ``None`` means the
    ``id-secret`` file in the data directory (created on the first load)."""
    search_rate: int = 60
    """``RELGRAPH_SEARCH_RATE``: searches one API key may make a minute (``search``)."""
    id_misses: int = 20
    """``RELGRAPH_ID_MISSES``: well-formed id numbers one analyst key may search for in a day
    without finding anyone, before its id-number searches pause (``relgraph.api.id_misses``)."""
    store_lock_wait: float = 3600.0
    """``RELGRAPH_STORE_LOCK_WAIT``: seconds a command waits for the embedded store while
    another process holds it (a load or ``analyze`` writing, ``serve`` building its graph),
    then gives up (0: at once; ``inf``: as long as it takes). An hour, as Neo4j's lock wait:
    a nightly ``analyze`` that overlaps a load, or meets a refresh, runs after it."""

    @property
    def production(self) -> bool:
        return self.env == "production"

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with the non-``None`` values of ``changes`` applied (flags beat env)."""
        kept = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **kept)  # type: ignore[arg-type]  # flags are typed by typer, not here

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        store = env.get("RELGRAPH_STORE", "embedded")
        if store not in ("embedded", "neo4j"):
            raise ConfigError(f"RELGRAPH_STORE must be 'embedded' or 'neo4j', not {store!r}")
        engine = env.get("RELGRAPH_ANALYTICS_ENGINE", "local")
        if engine not in ("local", "gds"):
            raise ConfigError(f"RELGRAPH_ANALYTICS_ENGINE must be 'local' or 'gds', not {engine!r}")
        if engine == "gds" and store != "neo4j":
            raise ConfigError(
                "RELGRAPH_ANALYTICS_ENGINE=gds runs inside Neo4j: set RELGRAPH_STORE=neo4j too"
            )
        environment = env.get("RELGRAPH_ENV", "").strip() or "development"
        if environment not in ("development", "production"):
            # Anything but "production" served GraphiQL, introspection and a generated
            # audit key: RELGRAPH_ENV=prod looked like production and was not.
            raise ConfigError(
                f"RELGRAPH_ENV must be 'production' or 'development' (the default), "
                f"not {environment!r}"
            )
        # Read where they are used (ingest, API); checked here so that a misspelt zone
        # stops every command at start, not a load or a request midway.
        source_zone(env)
        display_zone(env)
        neo4j = Neo4jSettings.from_env(env)
        if store == "neo4j":
            check_neo4j_uri(neo4j.uri)
        return cls(
            data_dir=Path(env.get("RELGRAPH_DATA_DIR", str(DEFAULT_DATA_DIR))),
            store=cast(StoreKind, store),  # checked against the choices above
            env=environment,
            engine=cast(EngineKind, engine),
            neo4j=neo4j,
            audit=AuditSettings.from_env(env),
            id_secret=id_secret_from_env(env),
            search_rate=env_number(env, "RELGRAPH_SEARCH_RATE", cls.search_rate, int, 1),
            id_misses=env_number(env, "RELGRAPH_ID_MISSES", cls.id_misses, int, 1),
            store_lock_wait=env_number(
                env, "RELGRAPH_STORE_LOCK_WAIT", cls.store_lock_wait, float, 0, infinite=True
            ),
        )


MIN_ID_SECRET_CHARS = 32
"""A shorter ``RELGRAPH_ID_SECRET`` could be guessed, and guessing it re-identifies persons."""


def id_secret_from_env(env: Mapping[str, str]) -> str | None:
    """``RELGRAPH_ID_SECRET`` (surrounding whitespace dropped), or None when unset or empty.

    The error never quotes the value: it is a secret.
    """
    secret = env.get("RELGRAPH_ID_SECRET", "").strip()
    if not secret:
        return None
    if len(secret) < MIN_ID_SECRET_CHARS:
        raise ConfigError(
            f"RELGRAPH_ID_SECRET must be at least {MIN_ID_SECRET_CHARS} characters "
            "(e.g. the output of `openssl rand -hex 32`)"
        )
    return secret
