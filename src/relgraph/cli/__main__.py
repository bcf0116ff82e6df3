"""``python -m relgraph.cli``: the same command as the ``relgraph`` console script."""

from relgraph.cli import app

# Guarded: the scoring pool's spawned workers import the main module again.
if __name__ == "__main__":
    app()
