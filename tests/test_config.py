"""Settings from the environment, overridden by flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.config import ConfigError, Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("relgraph-data")
    assert settings.store == "embedded"


def test_environment_then_flags() -> None:
    settings = Settings.from_env({"RELGRAPH_DATA_DIR": "/srv/rg", "RELGRAPH_STORE": "neo4j"})
    assert settings.data_dir == Path("/srv/rg")
    assert settings.store == "neo4j"
    assert settings.with_overrides(data_dir=Path("x"), store=None).data_dir == Path("x")


def test_unknown_store_is_named() -> None:
    with pytest.raises(
        ConfigError, match="RELGRAPH_STORE must be 'embedded' or 'neo4j', not 'mysql'"
    ):
        Settings.from_env({"RELGRAPH_STORE": "mysql"})
