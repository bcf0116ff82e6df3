"""Person ids: a keyed HMAC-SHA256 of what defines a person, under a per-deployment secret.

Why keyed: a resident id number has little entropy (region, birth date, a three-digit
sequence, a check character). Someone who sees a person id beside a masked id number
and a birth date can hash the hundred or so candidate id numbers; with an unkeyed hash
one of them reproduces the id. Under an HMAC the id says nothing without the secret.

The secret is ``RELGRAPH_ID_SECRET`` when set, else the text of ``<data-dir>/id-secret``:
64 hex characters (32 random bytes) written on the first load with mode 0600. The HMAC
key is the secret text's UTF-8 bytes, so the file's content can be moved into the
variable (or the file copied) and every id stays the same.

A person id is ``P`` + the first 16 hex digits of ``HMAC-SHA256(key, message)`` where the
message is ``id:<normalised id number>`` or ``record:<customer_id>`` for a person without
one. It is computed in DuckDB, vectorised (RFC 2104):
``HMAC(K, m) = H((K0 ^ opad) || H((K0 ^ ipad) || m))``, ``K0`` the key zero-padded to the
64-byte block (hashed first when longer). The two padded keys are fixed per deployment,
so each id costs two SHA-256 calls in SQL. They reach DuckDB as session variables bound
as parameters, never as SQL text, so no error message can quote them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa

from relgraph.config import MIN_ID_SECRET_CHARS
from relgraph.ingest.errors import IngestError

SECRET_FILE: Final = "id-secret"  # noqa: S105 - a file name, not a secret
MAP_FILE_PREFIX: Final = "person-id-map"
META_KEY: Final = "person_id_key"
"""Store metadata: :attr:`PersonIdKey.check` of the key the stored ids were made with."""
ID_HEX_DIGITS: Final = 16
"""64 bits: collisions among a billion persons stay below one in thirty thousand."""

_BLOCK: Final = 64  # SHA-256 block size in bytes
_IPAD_VAR: Final = "relgraph_person_id_ipad"
_OPAD_VAR: Final = "relgraph_person_id_opad"
_CHECK_MESSAGE: Final = b"relgraph person-id key check"


@dataclass(frozen=True)
class PersonIdKey:
    """The key person ids are made with. Its ``repr`` shows nothing of it."""

    secret: bytes = field(repr=False)

    @classmethod
    def random(cls) -> PersonIdKey:
        """A throw-away key: ids consistent within one use only."""
        return cls(secrets.token_bytes(32))

    def _pads(self) -> tuple[bytes, bytes]:
        block = self.secret
        if len(block) > _BLOCK:
            block = hashlib.sha256(block).digest()
        block = block.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)

    @property
    def check(self) -> str:
        """A fingerprint of the key (an HMAC of a constant): tells keys apart, reveals nothing."""
        return hmac.new(self.secret, _CHECK_MESSAGE, hashlib.sha256).hexdigest()[:ID_HEX_DIGITS]

    def person_id(self, message: str) -> str:
        """One id in Python, the reference :func:`person_id_sql` is held to.

        Examples
        --------
        >>> PersonIdKey(b"k" * 32).person_id("id:11010519491231002X")
        'P33318b656ffde6ec'
        """
        digest = hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).hexdigest()
        return "P" + digest[:ID_HEX_DIGITS]

    def duplicate_id(self, customer_a: str, customer_b: str) -> str:
        """The id of a possible duplicate: ``D`` + 16 hex digits of the HMAC of its two
        customer ids, sorted (so either order names one pair).

        Keyed for the reason person ids are: customer ids follow guessable patterns, and a
        plain hash of two of them would let whoever holds a duplicate id confirm which
        records it names. The message (``pair:`` and the JSON list) can never equal a person
        id's (``id:``, ``record:``), so the two kinds of id never collide.

        Examples
        --------
        >>> key = PersonIdKey(b"k" * 32)
        >>> key.duplicate_id("CB2", "CB1") == key.duplicate_id("CB1", "CB2")
        True
        >>> key.duplicate_id("CB1", "CB2")[0]
        'D'
        """
        pair = json.dumps(sorted((customer_a, customer_b)), ensure_ascii=False)
        digest = hmac.new(self.secret, f"pair:{pair}".encode(), hashlib.sha256).hexdigest()
        return "D" + digest[:ID_HEX_DIGITS]

    def install(self, con: duckdb.DuckDBPyConnection) -> None:
        """Make :func:`person_id_sql` usable on ``con`` (session variables, bound as parameters)."""
        inner, outer = self._pads()
        con.execute(f"SET VARIABLE {_IPAD_VAR} = ?", [inner])
        con.execute(f"SET VARIABLE {_OPAD_VAR} = ?", [outer])


def hmac_id_sql(message: str) -> str:
    """SQL for ``'P'`` + 16 hex digits of the HMAC of the text expression ``message``.

    Needs :meth:`PersonIdKey.install` on the connection; fails loudly rather than
    giving null ids when it was not called.
    """
    inner = f"unhex(sha256(getvariable('{_IPAD_VAR}') || encode({message})))"
    return (
        f"CASE WHEN getvariable('{_OPAD_VAR}') IS NULL THEN error('person id key not installed') "
        f"ELSE 'P' || left(sha256(getvariable('{_OPAD_VAR}') || {inner}), {ID_HEX_DIGITS}) END"
    )


def person_id_sql(id_number_norm: str, customer_id: str) -> str:
    """SQL for a record's own person id: from its id number, else from its customer_id."""
    return hmac_id_sql(
        f"CASE WHEN {id_number_norm} IS NOT NULL THEN 'id:' || {id_number_norm} "
        f"ELSE 'record:' || {customer_id} END"
    )


def load_key(
    data_dir: Path,
    configured: str | None,
    *,
    dry_run: bool = False,
    stored: str | None = None,
    new_secret: bool = False,
) -> PersonIdKey:
    """The deployment's key: ``configured`` (``RELGRAPH_ID_SECRET``), else the secret file.

    The file is created (32 random bytes as hex, mode 0600) when absent; in a ``dry_run``
    a throw-away key is used instead, so a dry run before the first load does not create
    the file (its ids are not kept). ``stored``: the :attr:`PersonIdKey.check` the store's
    person ids were made with (:data:`META_KEY`); another key, or no file to read it from,
    is refused unless ``new_secret`` (every person id would change).

    Raises
    ------
    IngestError
        When the file is readable by other users or does not hold a secret, or the key is
        not ``stored``'s. Messages name the file, never its content.
    """
    path = Path(data_dir) / SECRET_FILE
    where = "RELGRAPH_ID_SECRET" if configured is not None else str(path)
    if configured is None and not path.exists() and stored is not None and not new_secret:
        raise IngestError(_not_stored(f"{path} is missing"))
    if configured is not None:
        key = PersonIdKey(configured.encode("utf-8"))
    elif not path.exists() and dry_run:
        return PersonIdKey.random()
    else:
        if not path.exists():
            _create_secret(path)
        key = PersonIdKey(_read_secret(path).encode("utf-8"))
    if stored is not None and key.check != stored and not new_secret:
        raise IngestError(_not_stored(f"{where} is not that secret"))
    return key


def _not_stored(what: str) -> str:
    return (
        f"the store's person ids were made with an id secret and {what}: loading would give "
        "every person a new id (household and network ids with them, and campaign lists, "
        "cases and audit lines would name old ones). Restore `id-secret` from the data "
        "directory's backup (mode 0600) or set RELGRAPH_ID_SECRET as the server's loads had "
        "it; if the secret is lost for good, `relgraph load --new-id-secret` gives every "
        "person a new id and writes the old -> new map"
    )


def _create_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        # link, not rename: when another load created the file meanwhile, theirs stays.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    _fsync_dir(path.parent)


def _read_secret(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        raise IngestError(
            f"{path} (the key person ids are made with) can be read by other users: "
            f"run `chmod 600 {path}` and load again."
        )
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    if len(text) < MIN_ID_SECRET_CHARS:
        raise IngestError(
            f"{path} does not hold a person-id secret (at least {MIN_ID_SECRET_CHARS} "
            "characters): restore it from your backup, or delete it to give every person "
            "a new id."
        )
    return text


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage_id_map(data_dir: Path, old: pa.Table, new: pa.Table, stamp: str) -> Path | None:
    """Write the old → new person id map beside its final place; return the staged file.

    ``old`` and ``new`` hold ``customer_id`` and ``person_id`` before and after the load:
    each distinct (old, new) pair of a customer record in both whose person id changed is
    one row — every record under a new secret; otherwise a person whose record gained an
    id number, or persons merged or split by identity resolution or a reviewer. Returns
    None when no id changed. :func:`publish_id_map` moves it in after the store commits.
    """
    con = duckdb.connect(":memory:")
    try:
        con.register("old_ids", old.select(["customer_id", "person_id"]))
        con.register("new_ids", new.select(["customer_id", "person_id"]))
        pairs = con.execute(
            "SELECT DISTINCT o.person_id, n.person_id FROM old_ids o "
            "JOIN new_ids n USING (customer_id) WHERE o.person_id <> n.person_id ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    if not pairs:
        return None
    staged = Path(data_dir) / f".{MAP_FILE_PREFIX}-{stamp}.{os.getpid()}.tmp"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["old_person_id", "new_person_id"])
            writer.writerows(pairs)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A full disk: the load stops, and half a map of old ids (as sensitive as the id
        # numbers) is not left behind where nothing would ever remove it.
        staged.unlink(missing_ok=True)
        raise
    return staged


def publish_id_map(staged: Path, stamp: str) -> Path:
    """Rename a staged map to ``person-id-map-<stamp>.csv`` (``-2``, ``-3``… if taken)."""
    folder = staged.parent
    target = folder / f"{MAP_FILE_PREFIX}-{stamp}.csv"
    n = 1
    while True:
        try:
            os.link(staged, target)  # never replaces an earlier map an admin still needs
            break
        except FileExistsError:
            n += 1
            target = folder / f"{MAP_FILE_PREFIX}-{stamp}-{n}.csv"
    staged.unlink()
    _fsync_dir(folder)
    return target
