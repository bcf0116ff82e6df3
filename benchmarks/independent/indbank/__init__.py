"""An independent evaluation bank: a second synthetic bank written apart from relgraph.

Standalone on purpose (numpy, pandas, pyarrow only): nothing here imports relgraph, so the
bank's population, behaviour and planted truth owe nothing to relgraph's own generator or
definitions. See ``benchmarks/independent/README.md`` for every parameter and choice.
"""

from __future__ import annotations

GENERATOR_VERSION = "1"


def fingerprint() -> str:
    """SHA-256 over the generator's source (this package and generate.py), in path order.

    The value EVAL.md records to freeze the generator: any change to the code changes it;
    the README does not count.
    """
    import hashlib
    from pathlib import Path

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*here.glob("*.py"), here.parent / "generate.py"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
    return digest.hexdigest()
