"""Shareholdings as a bank writes them: 持股比例 in percent, with or without its sign."""

from __future__ import annotations

from pathlib import Path

from relgraph.store.embedded import EmbeddedStore

from .conftest import bank_tables, load, read_quarantine, write_bank

# C1..C3 hold E1..E4: (holder, enterprise, share as written).
PERCENTS = [
    ("C1", "E1", "35.5"), ("C2", "E1", "35.5%"), ("C3", "E1", "０.５"),
    ("C1", "E2", "100"), ("C2", "E2", "abc"), ("C1", "E3", "1"), ("C2", "E3", "60"),
    ("C3", "E3", "0.5"), ("C3", "E4", "-3"),
]  # fmt: skip


def _bank(folder: Path) -> Path:
    tables = bank_tables()
    tables["enterprises"] = [{"enterprise_id": f"E{i}", "name": f"企业{i}"} for i in range(1, 5)]
    tables["accounts"] = [a for a in tables["accounts"] if a["holder_kind"] == "customer"]
    tables["transfers"] = []
    tables["shareholdings"] = [
        {"holder_id": h, "enterprise_id": e, "holder_kind": "customer", "share": s}
        for h, e, s in PERCENTS
    ]
    return write_bank(folder, tables)


def _shares(data: Path) -> dict[tuple[str, str], float]:
    with EmbeddedStore(data, read_only=True) as store:
        rows = store.read_table("shareholdings").to_pylist()
    return {(r["holder_id"], r["enterprise_id"]): round(r["share"], 9) for r in rows}


def test_a_column_in_percent_numbers_is_read_as_percent(tmp_path: Path) -> None:
    # 持股比例(%): 35.5 is 35.5%. Under `percent` it was out_of_range, and 1 (1%) and 0.5
    # (0.5%) loaded as 100% and 50%: the 1% holder of E3 became its controller.
    source = _bank(tmp_path / "bank")
    (source / "mapping.yaml").write_text(
        "files:\n  shareholdings.csv:\n    table: shareholdings\n"
        "    formats: {share: percent_number}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    load(source, data)
    assert _shares(data) == {
        ("C1", "E1"): 0.355, ("C2", "E1"): 0.355, ("C3", "E1"): 0.005, ("C1", "E2"): 1.0,
        ("C1", "E3"): 0.01, ("C2", "E3"): 0.6, ("C3", "E3"): 0.005,
    }  # fmt: skip
    refused = [(r["source_line"], r["reason"]) for r in read_quarantine(data, "shareholdings")]
    assert refused == [
        ("6", "bad_number: share 'abc' is not a number"),
        ("10", "out_of_range: share -0.03 must be > 0 and ≤ 1"),  # -3%
    ]


def test_shares_that_look_like_percents_are_noted(tmp_path: Path) -> None:
    # Without the format, 35.5, 100 and 60 are refused as out_of_range, which a reader sees;
    # what nobody saw is that the rows that loaded (1 and 0.5, 0.5% and 1% if the column is
    # in percent) then hold 100% and 50%: the report says so and how to map the column.
    data = tmp_path / "data"
    report = load(_bank(tmp_path / "bank"), data)
    stakes = next(t for t in report.tables if t.table == "shareholdings")
    assert (stakes.loaded, stakes.quarantined) == (3, 6)
    assert _shares(data) == {("C3", "E1"): 0.5, ("C1", "E3"): 1.0, ("C3", "E3"): 0.5}
    (note,) = [n for n in stakes.notes if "percent" in n]
    assert note == (
        "3 shares above 1 and at most 100 refused as out_of_range: the column looks like "
        "percentages written without their sign (35 for 35%); if it is, the 3 loaded shares "
        "of at most 1 are read as fractions of the whole (0.5 for 0.5% as 50%): map the "
        "file's format as `formats: {share: percent_number}` and load again"
    )
