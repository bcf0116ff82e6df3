"""The one place Cypher text enters relgraph: statements loaded by name from ``cypher/``.

The statements live in the repository's top-level ``cypher/`` folder and are installed as the
``relgraph.cypher`` package (pyproject.toml maps it there, for wheels and editable installs).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import LiteralString, cast

from relgraph.store.base import StoreError

CYPHER_PACKAGE = "relgraph.cypher"
# src/relgraph/store/cypher.py -> the checkout's cypher/ folder, when running from source.
_CHECKOUT_CYPHER = Path(__file__).resolve().parents[3] / "cypher"


@cache
def _statements() -> Traversable:
    """The folder of statements: the source checkout's ``cypher/`` when running from one.

    With ``PYTHONPATH=src`` over a shared environment, ``relgraph.cypher`` would resolve to
    whichever checkout that environment installed (or to nothing), not the one being run.
    An installed wheel has no such sibling folder and reads its package data.
    """
    if (_CHECKOUT_CYPHER / "__init__.py").is_file():
        return _CHECKOUT_CYPHER
    return resources.files(CYPHER_PACKAGE)


@cache
def query(name: str) -> LiteralString:
    """The statement in ``cypher/<name>.cypher``.

    Statement text only ever comes from these reviewed, linted files; values travel
    as ``$parameters``. The return type is ``LiteralString`` so that mypy rejects a
    query built any other way (an f-string or a concatenation) wherever it is run.

    Examples
    --------
    >>> query("state_read").startswith("MATCH (s:RelgraphState")
    True
    """
    if not name.replace("_", "").isalnum():
        raise StoreError(f"invalid Cypher statement name {name!r}")
    try:
        text = _statements().joinpath(f"{name}.cypher").read_text("utf-8")
    except FileNotFoundError:
        raise StoreError(f"no Cypher statement {name!r} in {CYPHER_PACKAGE}") from None
    # mypy reads LiteralString as str (PEP 675 is not implemented there), so the cast is
    # "redundant" to it; pyright enforces it, and tests/store/test_cypher_files.py checks
    # that no Cypher text is written anywhere in src/ outside cypher/.
    return cast(LiteralString, text.strip())  # type: ignore[redundant-cast]  # see above


def statement_names() -> list[str]:
    """Names of every statement shipped, sorted."""
    files = _statements().iterdir()
    return sorted(f.name.removesuffix(".cypher") for f in files if f.name.endswith(".cypher"))
