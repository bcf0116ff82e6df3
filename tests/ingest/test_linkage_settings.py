"""The linkage settings pass Splink's own settings check.

Every load builds a Splink ``Linker`` with ``validate_settings=False``: the check only logs,
and it re-parsed every comparison's SQL on each build (0.29 s of a small load's 1.56 s). So
it runs here instead, over the records and models a load builds its linkers with.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytest

from relgraph.ingest.linkage import LinkageParams, _prepare, resolve
from relgraph.ingest.linkage_blocking import PREDICTION_RULES, cap_blocks
from relgraph.ingest.linkage_training import LinkerInput, _linker, _without_frequencies, settings

RECORDS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3"],
    "name_norm": ["li wei", "li wei", "王芳"],
    "id_number_norm": ["11010519491231002X", "11010519491231002X", None],
    "birth_date": [-631238400000, None, 0],
    "gender": ["F", None, "M"],
    "phone_norm": ["13800000000", "13900000000", None],
    "email_norm": [None, None, "wf@example.cn"],
    "address_norm": ["1 road", None, "2 road"],
})  # fmt: skip

CHECK = "SETTINGS VALIDATION"
"""How Splink's settings check starts the warning it logs when it finds a fault."""


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Splink's ``Linker`` with its settings check forced on; lists each build's flag."""
    import splink

    built: list[bool] = []
    real = splink.Linker

    def with_check(*args: Any, validate_settings: bool = True, **kwargs: Any) -> Any:
        built.append(validate_settings)
        return real(*args, validate_settings=True, **kwargs)

    monkeypatch.setattr(splink, "Linker", with_check)
    return built


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("splink")]


def test_a_load_builds_its_linker_without_splinks_settings_check(checked: list[bool]) -> None:
    resolve(RECORDS)
    assert checked
    assert not any(checked)


def test_the_shipped_settings_and_prediction_rules_pass_splinks_check(
    checked: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    frame, _ = _prepare(RECORDS, LinkageParams())
    frame, rules, _ = cap_blocks(frame, settings()[PREDICTION_RULES], LinkageParams().block_cap)
    caplog.set_level(logging.WARNING, logger="splink")
    for model in (settings(), _without_frequencies(settings())):
        _linker(LinkerInput(frame), {**model, PREDICTION_RULES: rules})
    resolve(RECORDS)  # the whole path, as a small load runs it
    assert len(checked) >= 3
    assert [m for m in _warnings(caplog) if CHECK in m] == []


def test_the_check_run_here_finds_a_comparison_on_a_missing_column(
    checked: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    # The control: a model naming a column the records lack is reported by the same check,
    # so the test above would see a fault in the shipped settings.
    frame, _ = _prepare(RECORDS, LinkageParams())
    model = _without_frequencies(settings())
    level = model["comparisons"][0]["comparison_levels"][-2]
    level["sql_condition"] = '"no_such_column_l" = "no_such_column_r"'
    caplog.set_level(logging.WARNING, logger="splink")
    _linker(LinkerInput(frame), model)
    assert any(CHECK in m for m in _warnings(caplog)), _warnings(caplog)
