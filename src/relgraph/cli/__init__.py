"""The ``relgraph`` command line, one module per group of commands.

- :mod:`~relgraph.cli.common`: the typer app, consoles, settings, errors, store and progress
- :mod:`~relgraph.cli.data`: ``synth``, ``load``, ``stats``
- :mod:`~relgraph.cli.analysis`: ``analyze``, ``validate``
- :mod:`~relgraph.cli.audience`: ``audience`` (the campaign export)
- :mod:`~relgraph.cli.serving`: ``serve``, ``demo``, ``export-schema``
- :mod:`~relgraph.cli.audit`: ``audit verify``
- :mod:`~relgraph.cli.decide`: ``decide`` (duplicate-review decisions)
- :mod:`~relgraph.cli.consume`: ``consume`` (transfers from a Kafka topic, scored on a server)

The commands and their helpers import what they need (analytics, the API, the stores) inside
the function, not at module level: ``relgraph --help`` and every command then start without
loading the whole library.
"""

from __future__ import annotations

from relgraph.cli.common import app

# Importing the command modules registers their commands on the app, in the order `--help`
# lists them: the order of the work (synthesise, load, analyse, export, serve), not sorted.
# isort: off
from relgraph.cli import data
from relgraph.cli import analysis
from relgraph.cli import audience
from relgraph.cli import serving
from relgraph.cli import audit
from relgraph.cli import decide
from relgraph.cli import consume

# isort: on

__all__ = ["analysis", "app", "audience", "audit", "consume", "data", "decide", "serving"]
