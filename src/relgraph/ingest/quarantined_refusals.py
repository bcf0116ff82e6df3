"""Marketing refusals on quarantined customer records: the refusal outlives the row.

A customer record quarantined for any reason (a birth date ``1985-02-30``, an unknown
segment, a second row of one key…) is not loaded, but what it says about marketing can
still be read, and a customer who said 否 must not be contacted (PIPL) whatever else is
wrong with the row. Dropped with the row, the refusal was lost: another loaded record of
the same customer saying 是 made the person marketable.

The refusal is read as a loaded row's consent is: the typed pass
(:func:`relgraph.ingest.validate.type_rows`) types every row, quarantined or not, with the
one boolean rule and the mapping file's ``values``; a cell read as false refuses, an empty
or unreadable one says nothing. It stands for every person with a loaded record that is
unambiguously the same customer:

- the same record key, ``source_system`` and ``customer_id`` (the row that won a
  ``duplicate_key``, or a good row of the key after a bad one);
- the same valid id number (``id_number_valid``: a resident id whose check character is
  right, a 15-digit one read as its 18-character form, or another document's number —
  what identity resolution itself takes as one person), normalised as the loader does.

Never by an id number that fails its check, nor by a phone, e-mail or name: families share
those, and a refusal must not silence a relative. Such a person's ``consent_marketing`` in
``persons`` is false, so every reader of consent — contact lists (``NO_CONSENT``),
``Person.consentMarketing``, audience exports — agrees without a rule of its own. A refusal
that reaches nobody is still reported, by file line, for the data team to fix the row.
"""

from __future__ import annotations

from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.ingest.id_numbers import upgrade_legacy
from relgraph.ingest.readers import LINE, ROW
from relgraph.ingest.report import QuarantinedRefusals
from relgraph.ingest.sql import count, literal
from relgraph.ingest.udf import ID_NUMBER_VALID
from relgraph.ingest.validate import REASONS, checked_view

_REFUSALS: Final = "_quarantined_refusals"
_IDS: Final = "_quarantined_refusal_ids"
_HITS: Final = "_quarantined_refusal_hits"
_LEGACY_FORM: Final = "[0-9]{6}19[0-9]{9}[0-9X]"
"""An 18-character resident id of a birth in the 1900s: a loaded record may carry its
15-digit form (its digits without ``19`` and the check character)."""


def keep(con: duckdb.DuckDBPyConnection, table: model.Table) -> None:
    """Set aside the refusals among ``table``'s quarantined rows (customers only), before its
    checked rows are dropped: ``_row``, line, record key and valid id number of each."""
    if table is not model.CUSTOMERS:
        return
    # The filter comes first, so the id check (a Python function) sees refusals only.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_REFUSALS} AS SELECT {ROW}, {LINE}, source_system, "  # noqa: S608 - internal names
        f"customer_id, CASE WHEN {ID_NUMBER_VALID}(id_number_norm) THEN id_number_norm END "
        f"AS id_number FROM {checked_view(table.name)} "
        f"WHERE len({REASONS}) > 0 AND consent_marketing = false"
    )


def apply(
    con: duckdb.DuckDBPyConnection, customers: str, persons: pa.Table
) -> tuple[pa.Table, QuarantinedRefusals]:
    """``persons`` with ``consent_marketing`` false for each person a refusal set aside by
    :func:`keep` stands for, and what the report says of them.

    ``customers``: the DuckDB name of the loaded canonical customers, ``person_id`` filled.
    """
    ids = con.sql(f"SELECT {ROW}, id_number FROM {_REFUSALS} WHERE id_number IS NOT NULL").df()  # noqa: S608 - internal names
    # As identity resolution reads them: 110105491231002 is 11010519491231002X.
    ids["id_number"] = upgrade_legacy(ids["id_number"])
    schema = pa.schema([(ROW, pa.int64()), ("id_number", pa.string())])
    con.register(_IDS, pa.Table.from_pandas(ids, schema, preserve_index=False))
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_HITS} AS "  # noqa: S608 - internal names
            f"WITH forms AS (SELECT {ROW}, id_number AS form FROM {_IDS} UNION ALL "
            f"SELECT {ROW}, substr(id_number, 1, 6) || substr(id_number, 9, 9) FROM {_IDS} "
            f"WHERE regexp_full_match(id_number, {literal(_LEGACY_FORM)})) "
            f"SELECT r.{ROW}, c.person_id FROM {_REFUSALS} r JOIN {customers} c "
            "ON c.source_system = r.source_system AND c.customer_id = r.customer_id "
            f"UNION SELECT f.{ROW}, c.person_id FROM forms f "
            f"JOIN {customers} c ON c.id_number_norm = f.form"
        )
    finally:
        con.unregister(_IDS)
    records = count(con, f"SELECT count(*) FROM {_REFUSALS}")  # noqa: S608 - internal names
    unmatched = con.sql(
        f"SELECT {LINE} FROM {_REFUSALS} WHERE {ROW} NOT IN (SELECT {ROW} FROM {_HITS}) "  # noqa: S608 - internal names
        f"ORDER BY {LINE}"
    ).to_arrow_table()
    matched = con.sql(f"SELECT DISTINCT person_id FROM {_HITS}").to_arrow_table()  # noqa: S608 - internal names
    con.execute(f"DROP TABLE {_HITS}")
    con.execute(f"DROP TABLE {_REFUSALS}")
    people = matched.column(0).combine_chunks() if matched.num_rows else pa.array([], pa.string())
    refused = pc.is_in(persons.column("person_id"), value_set=people)
    consent = persons.column("consent_marketing")
    kept_off = pc.sum(pc.and_(refused, pc.fill_null(consent, False))).as_py()
    position = persons.schema.get_field_index("consent_marketing")
    withheld = persons.set_column(
        position, "consent_marketing", pc.if_else(refused, pa.scalar(False), consent)
    )
    return withheld, QuarantinedRefusals(
        records=records,
        persons=int(pc.sum(refused).as_py() or 0),
        kept_off=int(kept_off or 0),
        unmatched=unmatched.num_rows,
        unmatched_lines=unmatched.column(0).to_pylist(),
    )
