"""``python -m relgraph``: the same CLI as the ``relgraph`` command (``relgraph --help``)."""

from relgraph.cli import app

# Guarded: the scoring pool's spawned workers import the main module again.
if __name__ == "__main__":
    app(prog_name="relgraph")
