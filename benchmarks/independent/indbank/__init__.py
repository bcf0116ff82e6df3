"""An independent evaluation bank: a second synthetic bank written apart from relgraph.

Standalone on purpose (numpy, pandas, pyarrow only): nothing here imports relgraph, so the
bank's population, behaviour and planted truth owe nothing to relgraph's own generator or
definitions. See ``benchmarks/independent/README.md`` for every parameter and choice.
"""

from __future__ import annotations

GENERATOR_VERSION = "1"
