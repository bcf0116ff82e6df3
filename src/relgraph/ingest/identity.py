"""Identity resolution v1: customer records sharing a normalised id number are one person.

Records without an id number stay persons of their own until identity resolution v2
links them. A person id is a keyed hash of what defines the person (the id number, or
the record's customer_id; see :mod:`relgraph.ingest.person_ids`), so it is the same on
every reload of the same data under the same secret and does not move when records are
added or removed elsewhere.

The ``persons`` table holds one row per person: descriptive fields from the record of
the most authoritative source system (core, then wealth, loan, card; customer_id breaks
ties), amounts summed over the records, the union of products held, the worst risk
rating, and marketing consent only when no record refuses it.
"""

from __future__ import annotations

from typing import Final

import duckdb
import pyarrow as pa

from relgraph import model
from relgraph.canonical import canonical_schema
from relgraph.ingest.sql import ident, literal

SOURCE_PRIORITY: Final = ("core", "wealth", "loan", "card")
"""Which system's record describes a person, best first (core banking is the golden source)."""
_RISK_ORDER: Final = ("low", "medium", "high")


def persons(con: duckdb.DuckDBPyConnection, customers: str) -> pa.Table:
    """The ``persons`` table from the loaded canonical customers in DuckDB table ``customers``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection holding ``customers`` (canonical columns, ``person_id`` filled).
    customers : str
        Name of that table.

    Returns
    -------
    pyarrow.Table
        One row per person, ordered by ``person_id``, with ``canonical_schema("persons")``.
    """
    priority = " ".join(f"WHEN {literal(s)} THEN {i}" for i, s in enumerate(SOURCE_PRIORITY))
    risk_rank = " ".join(f"WHEN {literal(r)} THEN {i}" for i, r in enumerate(_RISK_ORDER))
    risk_name = " ".join(f"WHEN {i} THEN {literal(r)}" for i, r in enumerate(_RISK_ORDER))
    order = "ORDER BY _priority, customer_id"

    def best(column: str) -> str:
        return f"first({ident(column)} {order}) FILTER (WHERE {ident(column)} IS NOT NULL)"

    sep = literal(model.PRODUCT_LIST_SEPARATOR)
    table = con.sql(
        f"""
        WITH c AS (
            SELECT *, CASE source_system {priority} ELSE {len(SOURCE_PRIORITY)} END AS _priority
            FROM {customers}
        )
        SELECT person_id,
               first(name {order}) AS name,
               {best("birth_date")} AS birth_date,
               {best("gender")} AS gender,
               count(*) AS n_records,
               {best("segment")} AS segment,
               CASE max(CASE risk_rating {risk_rank} END) {risk_name} END AS risk_rating,
               sum(aum) AS aum,
               sum(deposits) AS deposits,
               sum(loans) AS loans,
               sum(card_spend_12m) AS card_spend_12m,
               NULLIF(array_to_string(list_sort(list_distinct(flatten(
                   list(string_split(products, {sep})) FILTER (WHERE products IS NOT NULL)
               ))), {sep}), '') AS products,
               bool_and(consent_marketing) AS consent_marketing
        FROM c GROUP BY person_id ORDER BY person_id
        """  # noqa: S608 - table name internal, values from the model
    ).to_arrow_table()
    return table.cast(canonical_schema(model.PERSONS_TABLE))
