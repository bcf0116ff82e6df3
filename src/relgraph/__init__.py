"""relgraph: customer-relationship graph analytics for banks."""

__version__ = "0.1.0"
