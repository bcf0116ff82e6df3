"""The planted ground truth, written as CSV files to ``<out>/truth/``.

Every file has a header row. Ids are those of the input tables.

``persons.csv`` — ``customer_id, person_key``
    Every customer row and the real person it belongs to (``P00000001``). Identity
    resolution should group customer rows exactly as ``person_key`` does.
``households.csv`` — ``customer_id, household_key``
    Every customer row and its household (``H00000001``); a person living alone is a
    household of one. Flatmates sharing an address are separate households.
``groups.csv`` — ``enterprise_id, group_key, controller_id``
    Members of the planted corporate groups (``G00001``) and the group's controlling
    person (their core-banking customer_id): the majority holder, or the largest holder
    with at least 25%, of the group's top holding company.
``guarantee_circles.csv`` — ``circle_key, member_id``
    Parties (customer_id or enterprise_id) of each planted guarantee circle (``GC0001``):
    each member guarantees the next and the last guarantees the first. These are the only
    cycles in ``guarantees``.
``influencers.csv`` — ``customer_id, rank, downstream``
    Top referrers (1% of persons, between 10 and 100) ranked by ``downstream``, the number
    of customers in their planted referral cascade below them (rank 1 = largest).
``laundering.csv`` — ``pattern_key, typology, tx_id``
    Transfers of each planted pattern (``L000001``); ``typology`` is one of
    ``model.PLANTED_TYPOLOGIES``: ``layering_chain``, ``cycle``, ``scatter_gather``,
    ``fan_in``, ``fan_out``.
``record_noise.csv`` — ``customer_id, field, defect``
    Customer rows whose identity fields were deliberately corrupted, so they do not
    normalise to the person's other rows: ``id_number``/``digit_typo`` (one digit of the
    first 17 changed), ``phone``/``digits_transposed`` (two adjacent digits swapped),
    ``phone``/``hotline`` (a bank hotline instead of the customer's number); in the zh
    locale also ``id_number``/``bad_check_char`` (a wrong check character) and
    ``id_number``/``excel`` (the number as Excel shows it, ``1.10105E+17``). Missing
    values (e.g. no id number on card records) are not listed.
``dirty.csv`` — ``table, key, line, defect``
    Malformed rows added by ``--dirty``: the table, the row's key columns joined by ``|``,
    its line in the CSV file (the header is line 1; for Parquet, row index + 2), and the
    defect: ``bad_date``, ``negative_number``, ``non_numeric``, ``unknown_foreign_key``,
    ``duplicate_key`` (a copy of an earlier row's key), ``missing_required``, ``bad_enum``,
    ``self_reference``. Empty (header only) without ``--dirty``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from relgraph.synth.dirty import DEFECTS, DirtyRows
from relgraph.synth.ids import IntArray, pick, prefixed
from relgraph.synth.laundering import TYPOLOGIES, Planted
from relgraph.synth.records import Records
from relgraph.synth.writer import write_truth


def persons(records: Records) -> Any:
    """customer_id → person_key for every customer row."""
    return pa.table(
        {
            "customer_id": records.customer_id,
            "person_key": prefixed("P", records.person + 1, 8),
        }
    )


def households(records: Records, household: IntArray) -> Any:
    """customer_id → household_key for every customer row."""
    return pa.table(
        {
            "customer_id": records.customer_id,
            "household_key": prefixed("H", household[records.person] + 1, 8),
        }
    )


def laundering(planted: Planted, planted_tx: Any) -> Any:
    """Planted transfers by pattern, in time order within a pattern."""
    table = pa.table(
        {
            "pattern_key": prefixed("L", planted.pattern + 1, 6),
            "typology": pick(TYPOLOGIES, planted.typology[planted.pattern]),
            "tx_id": planted_tx,
        }
    )
    return table.sort_by([("pattern_key", "ascending"), ("tx_id", "ascending")])


def dirty(rows: dict[str, DirtyRows]) -> Any:
    """One line per dirty row of every table."""
    names, keys, lines, defects = [], [], [], []
    for name, d in rows.items():
        names.append(pa.array([name] * d.after.size, type=pa.string()))
        keys.append(d.key)
        lines.append(pa.array(d.lines()))
        defects.append(pick(DEFECTS, d.defect))
    if not names:
        return pa.table(
            {
                "table": pa.array([], pa.string()),
                "key": pa.array([], pa.string()),
                "line": pa.array([], pa.int64()),
                "defect": pa.array([], pa.string()),
            }
        )
    return pa.table(
        {
            "table": pa.concat_arrays(names),
            "key": pa.concat_arrays([pc.cast(k, pa.string()) for k in keys]),
            "line": pa.concat_arrays(lines),
            "defect": pa.concat_arrays(defects),
        }
    )


def write(folder: Path, tables: dict[str, Any]) -> None:
    """Write each truth table to ``folder/<name>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write_truth(table, folder / f"{name}.csv")
