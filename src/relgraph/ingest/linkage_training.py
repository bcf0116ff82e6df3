"""Training the linkage model of :mod:`relgraph.ingest.linkage` without labels: the shipped
settings, the Splink linker over the prepared records, and the fixes relgraph applies to
what Splink estimates (the chance that two random records match, and ``u`` freed of the
matches random sampling draws)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from relgraph.ingest.linkage_columns import _tf_columns, person_frequencies

SETTINGS_FILE: Final = "linkage_settings.json"
U_PAIRS: Final = 3e5
"""Random pairs ``u`` is estimated from (Splink stops early once every level is seen)."""
EM_PAIRS: Final = 3e5
"""Blocked pairs each EM pass samples: enough for a dozen parameters, bounded in time."""
ASSUMED_RECALL: Final = 0.7
"""What Splink is first told the deterministic rules find of all matches (replaced, once
the ``m`` are known, by what the model says they find: :func:`_chance`)."""
DETERMINISTIC: Final = (
    {"id_number": ("id_number", ("same valid id number",))},
    {
        "name_key": ("name", ("same name", "same name in pinyin")),
        "birth_date": ("birth_date", ("same birth date",)),
    },
)
"""The deterministic rules the chance of a match is counted with: per rule, per column it
joins on, the comparison and the levels in which that column is equal."""

log = logging.getLogger(__name__)
# Splink's own handler printed each comparison level EM never met ("WARNING: Level same
# numbers, other words on comparison address not observed in dataset, unable to train m
# value") among a load's progress lines, six lines at a time, with nothing to do about it:
# such a level keeps its shipped m, and the load report names it (``untrained_levels``).
# With a handler of its own, Splink adds none; a configured root logger still gets them.
logging.getLogger("splink").addHandler(logging.NullHandler())


TRAINING_THREADS: Final = 1
"""DuckDB threads while training: EM and u sum floats over pairs, and on several threads in
whichever order the threads finished, so two trainings on one bank differed in their last
digits (and so did every match score). Prediction adds no floats across rows: all threads."""
LINKER_MEMORY = "3GB"
"""DuckDB's memory for Splink's tables and joins; beyond it DuckDB spills to disk."""


@dataclass(frozen=True)
class Training:
    """How the model a load used came to be (the load report shows it)."""

    method: str
    """``em`` (trained on this load), ``stored`` (a model an earlier load trained) or
    ``shipped`` (too few records to train: the settings' starting values)."""
    seconds: float
    id_checked_pairs: int
    """Scored pairs where both records have a valid id number: the check on the model."""
    id_agreement: float | None
    """Share of those pairs where the model (match or not) agrees with the id numbers."""
    model_file: str | None
    untrained: tuple[str, ...] = ()
    """A trained model's levels that kept their shipped ``m`` (:func:`untrained_levels`)."""


def untrained_levels(model: dict[str, Any]) -> tuple[str, ...]:
    """``comparison: level`` of each level of ``model`` whose ``m`` is the shipped one.

    EM trains a level's ``m`` only from pairs that fall in it; a bank whose records never
    show that case (no two addresses with the same numbers and other words) leaves the
    shipped value, as it should, and the report says which levels stand on it.

    >>> untrained_levels(settings())[:2]
    ('id_number: same valid id number', 'id_number: different valid id numbers')
    """

    def levels(of: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for comparison in of["comparisons"]:
            for level in comparison["comparison_levels"]:
                if not level.get("is_null_level"):
                    yield f"{comparison['output_column_name']}: {level['label_for_charts']}", level

    shipped = {name: level.get("m_probability") for name, level in levels(settings())}
    return tuple(
        name
        for name, level in levels(model)
        if name in shipped and level.get("m_probability") == shipped[name]
    )


def settings() -> dict[str, Any]:
    """The shipped Splink settings dictionary (a fresh copy)."""
    text = resources.files("relgraph.ingest").joinpath(SETTINGS_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class LinkerInput:
    """The records as Splink reads them — an Arrow table and the per-person term
    frequencies — converted once and shared by training and scoring (at a million records
    each conversion is seconds)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._table: pa.Table | None = None
        self._frequencies: dict[str, pa.Table] = {}

    def table(self) -> pa.Table:
        if self._table is None:
            self._table = pa.Table.from_pandas(self.frame, preserve_index=False)
        return self._table

    def frequencies(self, column: str) -> pa.Table:
        if column not in self._frequencies:
            lookup = person_frequencies(self.frame, column)
            self._frequencies[column] = pa.Table.from_pandas(lookup, preserve_index=False)
        return self._frequencies[column]


def in_key_order(frame: pd.DataFrame, by_key: npt.NDArray[np.intp]) -> LinkerInput:
    """``frame``'s records in ``by_key`` order (their customer ids') and numbered so.

    Splink's random sampling (``u``) and EM's pair sample pick rows by position: trained on
    the rows as the file listed them, one bank exported in another order got other weights,
    so other match scores and evidence, and a pair near the threshold could merge or not.
    """
    ordered = frame.iloc[by_key].reset_index(drop=True)
    return LinkerInput(ordered.assign(unique_id=np.arange(len(ordered), dtype=np.int64)))


def _linker(
    records: pd.DataFrame | LinkerInput, model: dict[str, Any], threads: int | None = None
) -> Any:
    import duckdb
    from splink import DuckDBAPI, Linker

    source = records if isinstance(records, LinkerInput) else LinkerInput(records)
    # Scoring a million records' 6.5M candidate pairs took 12.6 GB in DuckDB under its
    # default limit (80% of RAM), beside the load's own frames: bounded, it spills instead.
    config: dict[str, str | bool | int | float | list[str]] = {"memory_limit": LINKER_MEMORY}
    if threads is not None:
        config["threads"] = threads
    db = DuckDBAPI(duckdb.connect(config=config))
    table = db.register(source.table(), dataset_display_name="records")
    # Splink's settings check only logs, and re-parsed every comparison's SQL on each build:
    # 0.29 s of a small load's 1.56 s. Our settings are code (and the models trained from
    # them), checked once by the tests instead (test_linkage_settings.py).
    linker = Linker(table, model, log_level=logging.WARNING, validate_settings=False)
    for column in _tf_columns(model):
        linker.table_management.register_term_frequency_lookup(
            db.register(source.frequencies(column)), column
        )
    return linker


def _train(records: LinkerInput, by_key: npt.NDArray[np.intp]) -> dict[str, Any]:
    """A model trained on ``records`` without labels (see :mod:`relgraph.ingest.linkage`),
    read in ``by_key`` order (their customer ids')."""
    from splink import block_on

    source = in_key_order(records.frame, by_key)
    frame = source.frame
    start = settings()
    joined = any(_joins_a_pair(frame, list(rule)) for rule in DETERMINISTIC)
    if not joined:
        # No two records share an id number, or a name and a birth date: Splink's estimate
        # would be 0 and every score log(0). As if one pair of the file matched.
        n = len(frame)
        start["probability_two_random_records_match"] = 2.0 / max(n * (n - 1), 2)
    linker = _linker(source, start, threads=TRAINING_THREADS)
    training = linker.training
    if joined:
        rules = [block_on(*rule) for rule in DETERMINISTIC]
        training.estimate_probability_two_random_records_match(rules, recall=ASSUMED_RECALL)
    clock = time.perf_counter()
    training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
    log.info("u by random sampling: %.1f s", time.perf_counter() - clock)
    for column in ("name_key", "birth_date"):  # m of each other
        # A rule that joins no pair fails in Splink and leaves the comparison it blocks on
        # out of the model (a bank export without birth dates then failed to load).
        if not _joins_a_pair(frame, [column]):
            log.warning("EM on %s skipped: no two records share one", column)
            continue
        rule = block_on(column)
        clock = time.perf_counter()
        try:
            training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=EM_PAIRS, record_sample_proportion=1.0
            )
            log.info("EM on %s: %.1f s", rule, time.perf_counter() - clock)
        except Exception as exc:
            log.warning("EM on %s skipped: %s", rule, exc)
    observed = {
        (comparison.output_column_name, level.label_for_charts)
        for comparison in linker._settings_obj.comparisons
        for level in comparison.comparison_levels
        if not level.is_null_level and level._has_estimated_u_values
    }
    model: dict[str, Any] = linker.misc.save_model_to_json()
    model["probability_two_random_records_match"] = _chance(model, frame)
    return _u_without_matches(model, observed)


def _joins_a_pair(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Whether two records agree on every one of ``columns``, all held."""
    if any(column not in frame for column in columns):
        return False
    return bool(frame[columns].dropna().duplicated().any())


def _chance(model: dict[str, Any], frame: pd.DataFrame) -> float:
    """The chance that two random records match, with the recall of the deterministic
    rules the trained model implies instead of the assumed one.

    Splink counts the pairs the rules of :data:`DETERMINISTIC` join and divides by an
    assumed recall (:data:`ASSUMED_RECALL`). Once EM has learnt ``m``, the model says what
    share of matching pairs each rule finds: both records hold the columns it joins on
    (the share of records holding each, squared) and fall in the levels where those
    columns are equal (their ``m``, summed). On a bank with id numbers the rules find
    most matches (more than assumed); on a file without them, where a duplicate often has a
    typo in its name or birth date, half (on FEBRL4 the assumed 0.7 put the chance a third
    too low, and with it every match score). Rules are taken as independent.
    """
    assumed = float(model["probability_two_random_records_match"])
    m = {
        (comparison["output_column_name"], level.get("label_for_charts")): level.get(
            "m_probability"
        )
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
    }
    missed = 1.0
    for rule in DETERMINISTIC:
        found = 1.0
        for column, (comparison, labels) in rule.items():
            held = float(frame[column].notna().mean()) if len(frame) else 0.0
            agree = sum(float(m.get((comparison, label)) or 0.0) for label in labels)
            found *= held * held * min(agree, 1.0)
        missed *= 1.0 - found
    recall = 1.0 - missed
    if recall <= 0.05:  # the model knows too little to say: keep Splink's estimate
        return assumed
    return min(assumed * ASSUMED_RECALL / recall, 0.5)


def _u_without_matches(model: dict[str, Any], observed: set[tuple[str, str]]) -> dict[str, Any]:
    """``model`` with each ``u`` freed of the true matches random sampling drew.

    Splink takes ``u`` (how often a *non*-matching pair falls in a level) from random
    pairs, as if none of them matched; a share ``λ`` of them do, and they fall in the
    agreeing levels with probability ``m``. The observed rate is ``λ·m + (1−λ)·u``, so
    ``u = (observed − λ·m) / (1 − λ)``. On a bank of 100,000 records ``λ`` is about
    1e-5 and nothing changes; on a file of a few thousand records with many duplicates
    (``λ`` 1e-4–1e-3) the matches are most of what is observed in the agreeing levels,
    and the uncorrected ``u`` made agreement on a full name or an address count several
    bits too little. Only levels random sampling ``observed`` (comparison, label) are
    corrected (the others keep the shipped value); none drops below one pair in the
    sample unless it was already there (rarer than that was not measured); the commonest
    level of each comparison (its disagreement) takes what the others gave up, so the
    ``u`` of a comparison still sum to one.
    """
    chance = float(model["probability_two_random_records_match"])
    floor = 1.0 / U_PAIRS
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = [
            level
            for level in comparison["comparison_levels"]
            if not level.get("is_null_level")
            and (name, level.get("label_for_charts")) in observed
            and isinstance(level.get("m_probability"), float | int)
            and isinstance(level.get("u_probability"), float | int)
        ]
        if len(levels) < 2:
            continue
        commonest = max(levels, key=lambda level: float(level["u_probability"]))
        before = sum(float(level["u_probability"]) for level in levels)
        for level in levels:
            if level is commonest:
                continue
            m, u = float(level["m_probability"]), float(level["u_probability"])
            level["u_probability"] = max((u - chance * m) / (1.0 - chance), min(u, floor))
        rest = sum(float(level["u_probability"]) for level in levels if level is not commonest)
        commonest["u_probability"] = before - rest
    return model


def _without_frequencies(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` without term-frequency adjustment: a handful of records says nothing about
    how common a name is (two of four records named 张伟 would make it the commonest name)."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            level.pop("tf_adjustment_column", None)
            level.pop("tf_adjustment_weight", None)
    return model
