"""``python -m relgraph.cli``: the same command as the ``relgraph`` console script."""

from relgraph.cli import app

app()
