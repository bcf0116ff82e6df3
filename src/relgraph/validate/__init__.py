"""Model validation against truth files: `relgraph validate`.

Imports run one way: validate reads the store, the model, the config and the stored
analysis settings; nothing but the CLI imports validate.
"""
