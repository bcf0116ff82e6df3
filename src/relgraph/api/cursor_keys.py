"""The token a graph's cursors carry, and the key they are made with.

A cursor must be refused by a server serving another graph (its offsets would skip or
repeat entries there) and taken by every server serving the same one: a restart, a
refresh that changed nothing, or the second server behind a load balancer. So both come
from what the graph is built of — the load's fingerprint (the input files, the mapping,
the rules and the journal), every result table ``analyze`` stored —
keyed with the server's secret (the audit key, which every server of a deployment holds):
the token says nothing of the data, and no one without the key can make another graph's
token or a cursor this graph takes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

import numpy as np
import pandas as pd

CURSOR_KEY_PURPOSE = b"relgraph-cursors"
"""What the server's cursor key is derived from its audit key for."""
GRAPH_PURPOSE = b"relgraph-cursor-graph\0"
TOKEN_PURPOSE = b"relgraph-cursor-token\0"


def graph_digest(meta: Mapping[str, str], results: Mapping[str, pd.DataFrame | None]) -> bytes:
    """A digest of what a read model serves: equal for two builds of the same stored graph
    (whichever process read it), different when a load or an analyze changed anything."""
    digest = hashlib.blake2b(digest_size=32)
    for key, value in sorted(meta.items()):
        digest.update(f"meta\0{key}\0{value}\0".encode())
    for name, frame in sorted(results.items()):
        digest.update(f"table\0{name}\0".encode())
        if frame is None:
            continue
        digest.update(f"{len(frame)}\0{list(frame.columns)!r}\0".encode())
        for column in frame.columns:
            digest.update(_column_hash(frame[column]).tobytes())
    return digest.digest()


def _column_hash(column: pd.Series) -> np.ndarray:
    """pandas' hash of each value (fixed key: the same in every process)."""
    try:
        return np.asarray(pd.util.hash_pandas_object(column, index=False))
    except TypeError:
        # Values pandas cannot hash (lists of members): their text, which is as exact.
        return np.asarray(pd.util.hash_pandas_object(column.map(repr), index=False))


def graph_cursor_key(secret: bytes, digest: bytes) -> tuple[bytes, str]:
    """The graph's cursor key (secret) and token (in every cursor) under ``secret``."""
    key = hmac.digest(secret, GRAPH_PURPOSE + digest, "sha256")
    return key, hmac.digest(key, TOKEN_PURPOSE, "sha256")[:6].hex()
