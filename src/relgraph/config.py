"""One settings object, read from RELGRAPH_* / NEO4J_* environment variables and overridden by flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

StoreKind = Literal["embedded", "neo4j"]
DEFAULT_DATA_DIR = Path("relgraph-data")


class ConfigError(ValueError):
    """A setting has a value relgraph cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Everything relgraph can be configured with, and its default."""

    data_dir: Path = DEFAULT_DATA_DIR
    store: StoreKind = "embedded"
    env: str = "development"

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with the non-``None`` values of ``changes`` applied (flags beat env)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        store = env.get("RELGRAPH_STORE", "embedded")
        if store not in ("embedded", "neo4j"):
            raise ConfigError(f"RELGRAPH_STORE must be 'embedded' or 'neo4j', not {store!r}")
        return cls(
            data_dir=Path(env.get("RELGRAPH_DATA_DIR", str(DEFAULT_DATA_DIR))),
            store=store,  # type: ignore[arg-type]
            env=env.get("RELGRAPH_ENV", "development"),
        )
