"""The Cypher statements, one per ``.cypher`` file, shipped as the ``relgraph.cypher`` package."""
