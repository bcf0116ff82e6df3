"""``RELGRAPH_SCORING_PROCESSES``: a sensible default, and a bad value refused with what to
set instead (the server would otherwise start with a setting nobody meant)."""

from __future__ import annotations

import os

import pytest

from relgraph.api.scoring_pool import DEFAULT_MAX, ENV, scoring_processes
from relgraph.config import ConfigError


def test_the_default_leaves_one_core_to_the_server_and_stops_at_four() -> None:
    assert DEFAULT_MAX == 4
    expected = max(0, min((os.cpu_count() or 1) - 1, DEFAULT_MAX))
    assert scoring_processes({}) == expected
    assert scoring_processes({ENV: "  "}) == expected


@pytest.mark.parametrize("value", ["two", "-1", "17", "1.5"])
def test_a_bad_value_is_refused_naming_the_setting_and_the_range(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"{ENV} must be a whole number from 0 to 16"):
        scoring_processes({ENV: value})
