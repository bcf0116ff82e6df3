"""Findings on a loaded table as a whole (``TableReport.notes``): rows kept, worth a look.

Unlike a quarantine reason, a note names something no single row is wrong about: transfers
in another currency (``validate.currency_notes``), or an enterprise whose holders' shares add
up to more than the whole of it — one of its rows is wrong, but nothing says which, so every
row is kept and the report names the enterprise and the sum for a person to check. A wealth
account below 0 is noted rather than refused: the account and its holder are real, only
the amount is wrong, and refusing it would drop the person's product and ties too. One
valid credit code on several enterprises is one firm loaded twice, which nothing decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

import duckdb

from relgraph import model
from relgraph.ingest import normalise
from relgraph.ingest.mapping import PERCENT_NUMBER
from relgraph.ingest.readers import RawTable
from relgraph.ingest.validate import REASONS, checked_view, currency_notes

SHARE_TOLERANCE: Final = 1e-6
"""How far above 1 holders' shares may sum before it is a finding: shares written as 0.3333,
0.3333 and 0.3334 (or 1/3 each in binary floats) are a whole, not more."""
NAMED: Final = 20
"""Enterprises a note names at most (the largest sums first); it counts them all."""


def table_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with the notes its checked rows call for."""
    raw = stake_notes(con, currency_notes(con, raw))
    return credit_code_notes(con, wealth_notes(con, percent_notes(con, raw)))


def wealth_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with a note when loaded wealth accounts have a balance below 0.

    A fund or wealth product cannot be owed, so the export is wrong somewhere; the row
    still loads (the account and its holder are real) and its balance counts 0 in value
    (``relgraph.analytics.value``), so the report names the accounts for a person to check.
    """
    if raw.file.table != model.ACCOUNTS.name:
        return raw
    below = _named(
        con,
        f"SELECT account_id, balance, count(*) OVER () AS n "  # noqa: S608 - internal names
        f"FROM {checked_view(raw.file.table)} WHERE len({REASONS}) = 0 "
        f"AND product = 'wealth' AND balance < 0 ORDER BY balance, account_id",
        lambda account, balance: f"{account} {balance:,.2f}",
    )
    return _noted(raw, below, lambda n, named: (
        f"{n:,} wealth account{'' if n == 1 else 's'} with a balance below 0{named}; "
        "a wealth product cannot be owed, so each counts 0 in AUM: all loaded, check them"
    ))  # fmt: skip


def stake_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with a note when the loaded shareholdings of an enterprise sum above 100%.

    Only rows that load count (a refused row holds no stake in the store). The check is one
    grouped query, whatever the number of rows.
    """
    if raw.file.table != model.SHAREHOLDINGS.name:
        return raw
    over = _named(
        con,
        f"SELECT enterprise_id, sum(share) AS total, count(*) OVER () AS n "  # noqa: S608 - internal names
        f"FROM {checked_view(raw.file.table)} WHERE len({REASONS}) = 0 "
        f"GROUP BY enterprise_id HAVING sum(share) > 1 + {SHARE_TOLERANCE} "
        f"ORDER BY total DESC, enterprise_id",
        lambda enterprise, total: f"{enterprise} {100 * total:.6g}%",
    )
    return _noted(raw, over, lambda n, named: (
        f"{n:,} enterprise{'' if n == 1 else 's'} whose holders' shares sum above 100%{named}; "
        "no ownership can, so some row is wrong, but not which: all loaded, check them"
    ))  # fmt: skip


def credit_code_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with a note when one firm's code is on several loaded enterprises.

    A valid unified social credit code (its GB 32100 check character holds) names one
    registered firm, and so does the organisation code inside it (characters 9-17, the
    firm's number before 2015, which an older system still keeps): two enterprise ids
    carrying one of them are one firm exported twice (a core and a credit system each with
    its own customer number, the name written 有限公司 once and 有限责任公司 once). Which row
    is right is not known, so both load, and a corporate group counts each id: its members
    and value count the firm twice. A code failing its check character (or ``无``) says
    nothing about which firm it names, so it is no finding.
    """
    if raw.file.table != model.ENTERPRISES.name:
        return raw
    code = "credit_code_norm"
    firm = (
        f"CASE WHEN {normalise.credit_code_valid_sql(code)} THEN substr({code}, 9, 9) "
        f"WHEN regexp_full_match({code}, '[0-9A-Z]{{8}}[0-9X]') THEN {code} END"
    )
    shared = _named(
        con,
        f"SELECT array_to_string(list_sort(list_distinct(list({code}))), ' / ') AS codes, "  # noqa: S608 - internal names
        f"string_agg(enterprise_id, ', ' ORDER BY enterprise_id) AS ids, "
        f"count(*) OVER () AS n FROM {checked_view(raw.file.table)} "
        f"WHERE len({REASONS}) = 0 AND ({firm}) IS NOT NULL "
        f"GROUP BY {firm} HAVING count(*) > 1 ORDER BY count(*) DESC, codes",
        lambda codes, ids: f"{codes} ({ids})",
    )
    return _noted(raw, shared, lambda n, named: (
        f"{n:,} firm{'' if n == 1 else 's'} under several enterprise ids by the unified "
        f"social credit code or the organisation code inside it{named}; a corporate group "
        "counts such a firm once per id in its members and value: all loaded, check them"
    ))  # fmt: skip


def percent_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with a note when refused shares look like percentages without their sign.

    A ``持股比例`` column of 35.5, 60 and 1 is in percent: the first two are refused as
    out_of_range, which a reader sees, but 1 (1%) loads as the whole of the enterprise and
    makes its holder the controller. Which loaded row is a percentage cannot be told, so
    the note says how many rows are in doubt and which format reads the column right.
    """
    if raw.file.table != model.SHAREHOLDINGS.name:
        return raw
    spec = raw.file.spec
    if spec is not None and spec.formats.get("share") == PERCENT_NUMBER:
        return raw
    over, loaded = con.execute(
        f"SELECT count(*) FILTER (WHERE share > 1 AND share <= 100), "  # noqa: S608 - internal names
        f"count(*) FILTER (WHERE len({REASONS}) = 0) FROM {checked_view(raw.file.table)}"
    ).fetchone() or (0, 0)
    if not over:
        return raw
    note = (
        f"{over:,} share{'' if over == 1 else 's'} above 1 and at most 100 refused as "
        "out_of_range: the column looks like percentages written without their sign (35 for "
        f"35%); if it is, the {loaded:,} loaded share{'' if loaded == 1 else 's'} of at most 1 "
        "are read as fractions of the whole (0.5 for 0.5% as 50%): map the file's format as "
        f"`formats: {{share: {PERCENT_NUMBER}}}` and load again"
    )
    return replace(raw, notes=(*raw.notes, note))


def _named(
    con: duckdb.DuckDBPyConnection, query: str, name: Callable[[Any, Any], str]
) -> tuple[int, str] | None:
    """How many rows ``query`` finds (its last column counts them all) and the first
    ``NAMED`` of them as ``": a, b"`` (said when more were found); None when none are."""
    rows = con.execute(f"{query} LIMIT {NAMED}").fetchall()
    if not rows:
        return None
    n = int(rows[0][-1])
    more = f" (the first {NAMED} named)" if n > NAMED else ""
    return n, f"{more}: " + ", ".join(name(key, value) for key, value, _ in rows)


def _noted(
    raw: RawTable, found: tuple[int, str] | None, say: Callable[[int, str], str]
) -> RawTable:
    """``raw`` with the note ``say(count, named)`` when :func:`_named` found rows."""
    return raw if found is None else replace(raw, notes=(*raw.notes, say(*found)))
