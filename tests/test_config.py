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


def test_neo4j_settings_from_environment() -> None:
    settings = Settings.from_env(
        {
            "RELGRAPH_STORE": "neo4j",
            "RELGRAPH_ANALYTICS_ENGINE": "gds",
            "NEO4J_URI": "neo4j://db.internal:7687",
            "NEO4J_USERNAME": "relgraph",
            "NEO4J_PASSWORD": "s3cret",
            "NEO4J_DATABASE": "bank",
            "RELGRAPH_NEO4J_BATCH_SIZE": "250",
            "RELGRAPH_NEO4J_WRITERS": "3",
        }
    )
    assert settings.engine == "gds"
    assert settings.neo4j.uri == "neo4j://db.internal:7687"
    assert (settings.neo4j.username, settings.neo4j.database) == ("relgraph", "bank")
    assert settings.neo4j.batch_size == 250
    assert settings.neo4j.writers == 3
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RELGRAPH_NEO4J_BATCH_SIZE": "many"}, "RELGRAPH_NEO4J_BATCH_SIZE must be a whole number"),
        ({"RELGRAPH_NEO4J_BATCH_SIZE": "0"}, "RELGRAPH_NEO4J_BATCH_SIZE must be at least 1"),
        ({"RELGRAPH_NEO4J_WRITERS": "0"}, "RELGRAPH_NEO4J_WRITERS must be at least 1"),
        (
            {"RELGRAPH_ANALYTICS_ENGINE": "spark"},
            "RELGRAPH_ANALYTICS_ENGINE must be 'local' or 'gds'",
        ),
        ({"RELGRAPH_ANALYTICS_ENGINE": "gds"}, "set RELGRAPH_STORE=neo4j too"),
        ({"RELGRAPH_NEO4J_LOCK_WAIT": "1h"}, "RELGRAPH_NEO4J_LOCK_WAIT must be a number, not '1h'"),
        ({"RELGRAPH_NEO4J_LOCK_WAIT": "-1"}, "RELGRAPH_NEO4J_LOCK_WAIT must be at least 0"),
        ({"RELGRAPH_NEO4J_LOCK_WAIT": "nan"}, "RELGRAPH_NEO4J_LOCK_WAIT must be a number"),
        ({"RELGRAPH_NEO4J_TX_TIMEOUT": "nan"}, "RELGRAPH_NEO4J_TX_TIMEOUT must be a number"),
        # Only the lock wait may be endless; a transaction may not run forever.
        ({"RELGRAPH_NEO4J_TX_TIMEOUT": "inf"}, "RELGRAPH_NEO4J_TX_TIMEOUT must be a finite number"),
        ({"RELGRAPH_SEARCH_RATE": "inf"}, "RELGRAPH_SEARCH_RATE must be a whole number"),
        ({"RELGRAPH_SEARCH_RATE": "1.5"}, "RELGRAPH_SEARCH_RATE must be a whole number, not '1.5'"),
    ],
)
def test_bad_neo4j_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "RELGRAPH_LAYERING_WINDOW_HOURS",
            "-5",
            "RELGRAPH_LAYERING_WINDOW_HOURS must not be negative, not -5.0",
        ),
        (
            "RELGRAPH_LAYERING_MIN_HOPS",
            "10",
            "LAYERING needs 2 ≤ RELGRAPH_LAYERING_MIN_HOPS ≤ RELGRAPH_LAYERING_MAX_HOPS",
        ),
        (
            "RELGRAPH_NETWORK_STRONG_LINK",
            "1.5",
            "RELGRAPH_NETWORK_STRONG_LINK must be in (0, 1], not 1.5",
        ),
        ("RELGRAPH_HOUSEHOLD_MAX_SIZE", "0", "RELGRAPH_HOUSEHOLD_MAX_SIZE must be ≥ 2, not 0"),
        (
            "RELGRAPH_GROUP_MAJORITY",
            "0.2",
            "GROUP thresholds need 0 < RELGRAPH_GROUP_SIGNIFICANT ≤ RELGRAPH_GROUP_MAJORITY ≤ 1",
        ),
    ],
)
def test_a_threshold_out_of_range_names_its_variable(
    variable: str, value: str, message: str
) -> None:
    # The operator set RELGRAPH_LAYERING_WINDOW_HOURS; "window_hours must not be negative"
    # named a field of the code, and which of five prefixes it belongs to was a guess.
    from relgraph.analytics.layering.params import LayeringParams
    from relgraph.analytics.params import GroupParams, HouseholdParams, NetworkParams
    from relgraph.config import EnvParams

    kinds: list[type[EnvParams]] = [LayeringParams, NetworkParams, HouseholdParams, GroupParams]
    (kind,) = [k for k in kinds if variable.startswith(f"RELGRAPH_{k.ENV_PREFIX}_")]
    with pytest.raises(ConfigError) as raised:
        kind.from_env({variable: value})
    assert str(raised.value) == message


@pytest.mark.parametrize("value", ["prod", "Production", "staging"])
def test_an_unknown_environment_is_refused(value: str) -> None:
    # "prod" ran as development: GraphiQL, introspection and a generated audit key.
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"RELGRAPH_ENV": value})
    assert str(raised.value) == (
        f"RELGRAPH_ENV must be 'production' or 'development' (the default), not {value!r}"
    )


def test_the_environment_is_development_unless_production() -> None:
    assert not Settings.from_env({}).production
    assert not Settings.from_env({"RELGRAPH_ENV": ""}).production
    assert not Settings.from_env({"RELGRAPH_ENV": "development"}).production
    assert Settings.from_env({"RELGRAPH_ENV": "production"}).production


def test_a_misspelt_threshold_variable_is_refused_naming_the_one_meant() -> None:
    # It was ignored: the scan ran with a 72-hour window while the operator had set 5.
    from relgraph.analytics.layering.params import LayeringParams
    from relgraph.ingest.linkage import LinkageParams

    with pytest.raises(ConfigError) as raised:
        LayeringParams.from_env({"RELGRAPH_LAYERING_WINDOW_HOURZ": "5"})
    assert str(raised.value) == (
        "RELGRAPH_LAYERING_WINDOW_HOURZ is not a setting: "
        "did you mean RELGRAPH_LAYERING_WINDOW_HOURS?"
    )
    with pytest.raises(ConfigError) as raised:
        LinkageParams.from_env({"RELGRAPH_IDENTITY_ZZZ": "1"})
    assert str(raised.value) == (
        "RELGRAPH_IDENTITY_ZZZ is not a setting; the RELGRAPH_IDENTITY_* settings are "
        "RELGRAPH_IDENTITY_THRESHOLD, RELGRAPH_IDENTITY_REVIEW, RELGRAPH_IDENTITY_MAX_BLOCK, "
        "RELGRAPH_IDENTITY_BLOCK_CAP, RELGRAPH_IDENTITY_ENABLED"
    )


def test_a_prefix_shared_with_other_settings_is_not_policed() -> None:
    # RELGRAPH_MAX_BODY_BYTES is the API's, beside RELGRAPH_MAX_QUARANTINE_SHARE.
    from relgraph.ingest.refusal import QuarantineLimit

    limit = QuarantineLimit.from_env({"RELGRAPH_MAX_BODY_BYTES": "2000000"})
    assert limit.quarantine_share == 0.05


def test_the_store_lock_wait_is_an_hour_unless_set() -> None:
    assert Settings.from_env({}).neo4j.lock_wait == 3600
    # 0: give up at once when another run holds the lock; inf: wait as long as it takes.
    assert Settings.from_env({"RELGRAPH_NEO4J_LOCK_WAIT": "0"}).neo4j.lock_wait == 0
    assert Settings.from_env({"RELGRAPH_NEO4J_LOCK_WAIT": "inf"}).neo4j.lock_wait == float("inf")
    assert Settings.from_env({"RELGRAPH_NEO4J_LOCK_WAIT": "90"}).neo4j.lock_wait == 90


def test_time_zone_settings_are_checked_at_start() -> None:
    from relgraph.config import display_zone, source_zone

    assert source_zone({}).key == display_zone({}).key == "Asia/Shanghai"
    assert display_zone({"RELGRAPH_DISPLAY_TZ": "Europe/Berlin"}).key == "Europe/Berlin"
    for name in ("RELGRAPH_SOURCE_TZ", "RELGRAPH_DISPLAY_TZ"):
        with pytest.raises(ConfigError, match=f"{name} must be an IANA time zone"):
            Settings.from_env({name: "Beijing"})
