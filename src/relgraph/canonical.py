"""Arrow schemas of the canonical tables ingest writes, and the version of that layout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pyarrow as pa

from relgraph import model

LAYOUT_VERSION: Final = "4"
"""Bumped whenever the canonical tables change for the same input (columns, types,
normalisation rules, identity rules); part of the input fingerprint, so a new
version reloads unchanged files instead of reporting them unchanged.

3: source time zone for naive timestamps, NFKC and Chinese address rules,
``phone_ext``, ``quality_flags`` and ``credit_code_norm``.
4: ``possible_duplicates.duplicate_id``; reviewers' SAME / DIFFERENT decisions applied."""

RULES_VERSION: Final = "15"
"""Bumped when the rules read the same files differently, so that a store loaded under older
rules is loaded again. 2: the mapping's zone reads every naive timestamp. 3: compact formats
read full-width values only; GBK as GB18030; booleans in 是/否 and full width; Parquet midnight
dates; the first of several phones, 400 numbers after +86; 男/女. 5: v1's ids skip an id number
naming no document (无). 6: NFKC keeps ā composed. 7: party kinds in stake and guarantee keys.
8: persons' amounts by precedence. 9: accounts' currency. 10: loans < 0. 11: ¥ and 元 amounts.
12: a quarantined customer record's marketing refusal stands for the customer. 13: a transfer
after the day after the load date is out_of_range. 14: booleans in 拒绝, 允许/不允许, 已授权/未授权.
15: that day ends at midnight in RELGRAPH_SOURCE_TZ (it ended at UTC midnight, 08:00 Beijing
time, the day after); an opening date journalled as an instant in epoch ms is its day there,
not UTC's."""
META_RULES: Final = "rules_version"
"""Store metadata: the layout and rules version the load read its files under
(:data:`LOADED_UNDER`). Loads of releases before 2026-12-05 wrote none."""
LOADED_UNDER: Final = f"{LAYOUT_VERSION}.{RULES_VERSION}"


def other_rules(meta: Mapping[str, str]) -> str | None:
    """What a command reading a store should say when its load read the files under other
    rules than this release's (a store an earlier release loaded), or None.

    Its tables, and the results ``analyze`` made of them, are what that release read: the
    fixes to the rules since (amounts, keys, currencies) are not in what it serves until the
    files are loaded again.

    >>> other_rules({META_RULES: LOADED_UNDER}) is None
    True
    >>> other_rules({"layout_version": "4"}).startswith("the store was loaded by an earlier")
    True
    """
    stored = meta.get(META_RULES)
    if stored == LOADED_UNDER:
        return None
    which = "by an earlier relgraph release" if stored is None else f"under ingest rules {stored}"
    return (
        f"the store was loaded {which}, and this release reads files under rules "
        f"{LOADED_UNDER}: what it serves and analyses is what that load read — run `relgraph "
        "load DIR` on the same files (the journal's transfers and decisions are merged again), "
        "then `relgraph analyze`"
    )


ARROW_TYPES: Final[dict[model.Dtype, pa.DataType]] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.int64(),
    "timestamp": pa.int64(),
}
"""Stored type of each logical type; dates and timestamps are epoch milliseconds (UTC)."""

_PERSON_TYPES: Final[dict[str, pa.DataType]] = {
    "person_id": pa.string(),
    "name": pa.string(),
    "birth_date": pa.int64(),
    "gender": pa.string(),
    "n_records": pa.int64(),
    "segment": pa.string(),
    "risk_rating": pa.string(),
    "aum": pa.float64(),
    "deposits": pa.float64(),
    "loans": pa.float64(),
    "card_spend_12m": pa.float64(),
    "products": pa.string(),
    "consent_marketing": pa.bool_(),
}

CANONICAL_TABLES: Final[tuple[str, ...]] = (
    *(t.name for t in model.INPUT_TABLES),
    model.PERSONS_TABLE,
    model.POSSIBLE_DUPLICATES_TABLE,
)
"""Every table a load writes (absent optional inputs are written empty)."""


def canonical_schema(name: str) -> pa.Schema:
    """Arrow schema of canonical table ``name``.

    Parameters
    ----------
    name : str
        An input table of :mod:`relgraph.model` or ``model.PERSONS_TABLE``.

    Returns
    -------
    pyarrow.Schema
        The model's columns typed by ``ARROW_TYPES``, then the derived string
        columns (customers: ``model.CUSTOMER_DERIVED_COLUMNS``, enterprises:
        ``model.ENTERPRISE_DERIVED_COLUMNS``); for persons ``model.PERSON_COLUMNS``.
    """
    if name == model.PERSONS_TABLE:
        return pa.schema([(c, _PERSON_TYPES[c]) for c in model.PERSON_COLUMNS])
    if name == model.POSSIBLE_DUPLICATES_TABLE:
        types = (pa.string(), pa.string(), pa.float64(), pa.string(), pa.string(), pa.string())
        return pa.schema(list(zip(model.POSSIBLE_DUPLICATE_COLUMNS, types, strict=True)))
    table = model.TABLES[name]
    fields = [(c.name, ARROW_TYPES[c.dtype]) for c in table.columns]
    if name == model.CUSTOMERS.name:
        fields += [
            (c, pa.float64() if c == "match_score" else pa.string())
            for c in model.CUSTOMER_DERIVED_COLUMNS
        ]
    elif name == model.ENTERPRISES.name:
        fields += [(c, pa.string()) for c in model.ENTERPRISE_DERIVED_COLUMNS]
    return pa.schema(fields)
