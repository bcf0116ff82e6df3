"""The ``persons`` table: one row per person that identity resolution found.

Each person's row takes its descriptive fields from the record of the most authoritative
source system (core, then wealth, loan, card; customer_id breaks ties), unites the products
held, keeps the worst risk rating, and gives marketing consent only when no record refuses
it. Its amounts are the record summaries as the value definition
(:mod:`relgraph.analytics.value`) reads them, never summed across systems: the core and the
wealth system reporting one customer's 100,000 of AUM is 100,000, not 200,000. ``aum``,
``deposits`` and ``loans`` are each the first system's figure by precedence (``aum`` falls
back to ``deposits``), ``card_spend_12m`` the card system's first: the value of a person
without account data. A person with accounts is valued from them by ``analyze``
(``party_values``), which the load does not compute. Which records are one person is
decided before this, by a shared valid id number and by record linkage
(:mod:`relgraph.ingest.linkage`); person ids are keyed hashes
(:mod:`relgraph.ingest.person_ids`), stable across reloads under the same secret.
"""

from __future__ import annotations

from typing import Final

import duckdb
import pyarrow as pa

from relgraph import model
from relgraph.canonical import canonical_schema
from relgraph.ingest.sql import ident, literal

SOURCE_PRIORITY: Final = model.SOURCE_PRECEDENCE
"""Which system's record describes a person, best first (core banking is the golden source).
A bank's mapping file replaces it with the bank's own list (see :func:`source_priority`)."""
_RISK_ORDER: Final = ("low", "medium", "high")


def source_priority(systems: tuple[str, ...] | None) -> tuple[str, ...]:
    """The precedence of a load: the bank's systems as its mapping file lists them, else ours."""
    return tuple(systems) if systems else SOURCE_PRIORITY


def persons(
    con: duckdb.DuckDBPyConnection,
    customers: str,
    priority: tuple[str, ...] = SOURCE_PRIORITY,
) -> pa.Table:
    """The ``persons`` table from the loaded canonical customers in DuckDB table ``customers``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection holding ``customers`` (canonical columns, ``person_id`` filled).
    customers : str
        Name of that table.
    priority : tuple of str
        Source systems, best first: whose record gives a person's name and descriptive
        fields (a system not listed comes last).

    Returns
    -------
    pyarrow.Table
        One row per person, ordered by ``person_id``, with ``canonical_schema("persons")``.
    """
    ranks = " ".join(f"WHEN {literal(s)} THEN {i}" for i, s in enumerate(priority))
    risk_rank = " ".join(f"WHEN {literal(r)} THEN {i}" for i, r in enumerate(_RISK_ORDER))
    risk_name = " ".join(f"WHEN {i} THEN {literal(r)}" for i, r in enumerate(_RISK_ORDER))
    order = "ORDER BY _priority, customer_id"

    def best(column: str, by: str = order) -> str:
        return f"first({ident(column)} {by}) FILTER (WHERE {ident(column)} IS NOT NULL)"

    # Card spend is the card system's own figure first (it runs the cards), as in value.py.
    card_first = "ORDER BY CASE WHEN source_system = 'card' THEN -1 ELSE _priority END, customer_id"

    sep = literal(model.PRODUCT_LIST_SEPARATOR)
    table = con.sql(
        f"""
        WITH c AS (
            SELECT *, CASE source_system {ranks} ELSE {len(priority)} END AS _priority
            FROM {customers}
        )
        SELECT person_id,
               first(name {order}) AS name,
               {best("birth_date")} AS birth_date,
               {best("gender")} AS gender,
               count(*) AS n_records,
               {best("segment")} AS segment,
               CASE max(CASE risk_rating {risk_rank} END) {risk_name} END AS risk_rating,
               coalesce({best("aum")}, {best("deposits")}) AS aum,
               {best("deposits")} AS deposits,
               {best("loans")} AS loans,
               {best("card_spend_12m", card_first)} AS card_spend_12m,
               NULLIF(array_to_string(list_sort(list_distinct(flatten(
                   list(string_split(products, {sep})) FILTER (WHERE products IS NOT NULL)
               ))), {sep}), '') AS products,
               bool_and(consent_marketing) AS consent_marketing
        FROM c GROUP BY person_id ORDER BY person_id
        """  # noqa: S608 - table name internal, values from the model
    ).to_arrow_table()
    return table.cast(canonical_schema(model.PERSONS_TABLE))
