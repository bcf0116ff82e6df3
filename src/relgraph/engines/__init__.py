"""Where the graph algorithms run, behind one protocol (:mod:`relgraph.engines.base`):
in this process (:mod:`relgraph.engines.local`, the default) or inside Neo4j Graph Data
Science (:mod:`relgraph.engines.gds`, over the store's query runner).

Engines adapt the analytics; analytics import only the protocol.
"""
