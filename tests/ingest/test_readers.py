"""Reading what banks export: encodings, the mapping file, file discovery, headers, quarantine bytes."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relgraph.ingest import IngestError
from relgraph.ingest.load import META_SOURCE_SYSTEMS, load_directory
from relgraph.ingest.readers import ReadOptions, discover
from relgraph.store.embedded import EmbeddedStore

from .conftest import bank_tables, load, read_quarantine, write_bank


def _load(source: Path, data_dir: Path, **options: object):  # type: ignore[no-untyped-def]
    with EmbeddedStore(data_dir) as store:
        return load_directory(source, store, data_dir, options=ReadOptions(**options))  # type: ignore[arg-type]


def _csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


CUSTOMER_HEADER = ["customer_id", "source_system", "name", "id_number", "gender"]


def _customers(*rows: list[str]) -> list[list[str]]:
    return [CUSTOMER_HEADER, *rows]


def _bank(tmp_path: Path) -> Path:
    """The valid bank, minus its customers file (each test writes its own)."""
    source = write_bank(tmp_path / "bank", bank_tables())
    (source / "customers.csv").unlink()
    (source / "accounts.csv").write_text(
        "account_id,holder_id,holder_kind,product\nA1,E1,enterprise,deposit\n"
        "A2,E1,enterprise,deposit\nA3,E1,enterprise,loan\n",
        encoding="utf-8",
    )
    (source / "family.csv").unlink()
    return source


def _store_names(data_dir: Path) -> dict[str, str]:
    with EmbeddedStore(data_dir, read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "name"]).to_pylist()
    return {r["customer_id"]: r["name"] for r in rows}


# --- encodings ---------------------------------------------------------------------------


def test_a_gbk_file_read_as_utf8_stops_naming_line_byte_and_encoding(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    header = ",".join(CUSTOMER_HEADER) + "\n"
    first = "C1,core,"
    (source / "customers.csv").write_bytes((header + first + "张三,,M\n").encode("gb18030"))
    with pytest.raises(IngestError) as caught:
        load(source, tmp_path / "data")
    byte = len(header.encode()) + len(first.encode())
    message = str(caught.value)
    assert f"customers.csv line 2, byte {byte}: not valid utf-8" in message
    assert "--encoding gb18030" in message


def test_a_utf8_file_cut_mid_character_says_so_instead_of_suggesting_gb18030(
    tmp_path: Path,
) -> None:
    # gb18030 decodes the cut line; suggesting it only led to "is UTF-8 text" and back.
    source = _bank(tmp_path)
    text = _csv_bytes(_customers(["C1", "core", "张三", "", "M"])) + "C4,core,王".encode()
    (source / "customers.csv").write_bytes(text + "芳".encode()[:1])
    with pytest.raises(IngestError) as caught:
        load(source, tmp_path / "data")
    assert str(caught.value).endswith(
        f"customers.csv line 3, byte {len(text)}: not valid utf-8: the file ends in the middle "
        "of a character, as a file cut short does; export or copy it again"
    )


def test_a_gbk_header_stops_on_line_1(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes("客户号,来源系统,客户姓名\n".encode("gb18030"))
    with pytest.raises(IngestError, match=r"customers\.csv line 1, byte 0: .*gb18030"):
        load(source, tmp_path / "data")


def test_a_file_with_cr_only_line_endings_stops_saying_so(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    rows = [",".join(CUSTOMER_HEADER), "C1,core,Li Wei,,M"]
    (source / "customers.csv").write_bytes("\r".join(rows).encode() + b"\r")
    with pytest.raises(IngestError, match=r"customers\.csv: .*CR alone.*LF or CRLF"):
        load(source, tmp_path / "data")


def test_one_windows_line_in_a_unix_file_is_quarantined_as_itself(tmp_path: Path) -> None:
    # The CR of one CRLF line, before a field left empty, made DuckDB count a line more:
    # the next valid record was shown in quarantine (and loaded too), the bad bytes lost.
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes(
        _csv_bytes(_customers(["C1", "core", "Li Wei", "", "M"]))
    )
    (source / "transfers.csv").write_bytes(
        b"tx_id,from_account,to_account,amount,currency,ts\n"
        b"T1,A1,A2,1,CNY,\r\n"
        b"CNY,2026-06-01 10:15:00\n"
        b"T3,A1,A2,3,CNY,2026-06-01 10:17:00\n"
        b"T4,A1,A2,4,CNY,2026-06-01 10:18:00\n"
    )
    load(source, tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "transfers")
    assert [(r["source_line"], r["raw_line"]) for r in refused] == [
        ("2", "T1,A1,A2,1,CNY,"),
        ("3", "CNY,2026-06-01 10:15:00"),
    ]
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        loaded = store.read_table("transfers", ["tx_id"]).column("tx_id").to_pylist()
    assert sorted(loaded) == ["T3", "T4"]


def test_a_trailing_comma_on_every_line_is_a_nameless_extra_column(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    rows = [[*CUSTOMER_HEADER, ""], ["C1", "core", "Li Wei", "", "M", ""]]
    (source / "customers.csv").write_bytes(_csv_bytes(rows))
    report = load(source, tmp_path / "data")
    assert _store_names(tmp_path / "data") == {"C1": "Li Wei"}
    customers = next(t for t in report.tables if t.table == "customers")
    assert (customers.loaded, customers.quarantined) == (1, 0)
    assert customers.ignored_columns == ["unnamed_6"]


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "big5", "utf-8-sig"])
def test_encoding_option_reads_the_file(tmp_path: Path, encoding: str) -> None:
    source = _bank(tmp_path)
    rows = _customers(["C1", "core", "陳大文", "", "M"], ["C2", "card", "林小明", "", "F"])
    (source / "customers.csv").write_bytes(_csv_bytes(rows, encoding))
    report = _load(source, tmp_path / "data", encoding=encoding)
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "陳大文", "C2": "林小明"}


def test_a_file_labelled_gbk_reads_the_rare_hanzi_of_gb18030(tmp_path: Path) -> None:
    """Exports are labelled GBK but carry GB18030's four-byte characters in rare names."""
    source = _bank(tmp_path)
    rows = _customers(["C1", "core", "王䶮", "", "M"], ["C2", "card", "𠇔小明", "", "F"])
    (source / "customers.csv").write_bytes(_csv_bytes(rows, "gb18030"))
    with pytest.raises(UnicodeEncodeError):
        "王䶮".encode("gbk")
    report = _load(source, tmp_path / "data", encoding="gbk")
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "王䶮", "C2": "𠇔小明"}


def test_the_mapping_file_sets_the_encoding_per_file(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    rows = _customers(["C1", "core", "张三", "", "M"])
    (source / "customers.csv").write_bytes(_csv_bytes(rows, "gb18030"))
    (source / "enterprises.csv").write_bytes(
        _csv_bytes([["enterprise_id", "name"], ["E1", "華夏貿易有限公司"]], "big5")
    )
    (source / "mapping.yaml").write_text(
        "encoding: gb18030\nfiles:\n  enterprises.csv:\n    table: enterprises\n"
        "    encoding: big5\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "张三"}
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        assert store.read_table("enterprises", ["name"]).column(0).to_pylist() == [
            "華夏貿易有限公司"
        ]


def test_a_compact_date_format_reads_only_values_of_its_full_width(tmp_path: Path) -> None:
    """``%Y%m%d`` splits digits by position: ``1949123`` is 1949-12-03 or 1949-01-23, so it
    is quarantined rather than loaded as either; separated formats stay lenient."""
    source = _bank(tmp_path)
    header = [*CUSTOMER_HEADER, "birth_date"]
    rows = [
        header,
        ["C1", "core", "张三", "", "M", "19491203"],
        ["C2", "core", "李四", "", "F", "1949123"],
        ["C3", "core", "王五", "", "M", "2024011"],
    ]
    (source / "customers.csv").write_bytes(_csv_bytes(rows))
    (source / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n    formats: {birth_date: '%Y%m%d'}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 2
    refused = read_quarantine(tmp_path / "data", "customers")
    assert sorted(r["customer_id"] for r in refused) == ["C2", "C3"]
    assert all("birth_date" in r["reason"] for r in refused), refused
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        born = store.read_table("customers", ["customer_id", "birth_date"]).to_pylist()
    assert [r["customer_id"] for r in born] == ["C1"]


# --- the mapping file --------------------------------------------------------------------

BAD_MAPPINGS = [
    ("colour: blue\n", "colour: unknown key"),
    ("files:\n  x.csv:\n    table: customers\n    colour: blue\n", "files.x.csv.colour: unknown key"),
    ("files:\n  客户信息.csv:\n    table: customers\n    values:\n      gender: 男\n",
     "files.客户信息.csv.values.gender: expected a mapping"),
    ("files:\n  x.csv:\n    table: clients\n", "files.x.csv.table: 'clients' is not a table"),
    ("files:\n  x.csv:\n    columns: {name: 姓名}\n", "files.x.csv.table: the model table"),
    ("files:\n  x.csv:\n    table: customers\n    columns: {nom: 姓名}\n",
     "files.x.csv.columns.nom: not a column of customers"),
    ("files:\n  x.csv:\n    table: customers\n    columns: [name]\n",
     "files.x.csv.columns: expected a mapping"),
    ("encoding: latin-1\n", "encoding: 'latin-1' is not one of"),
    ("timezone: Mars/Olympus\n", "timezone: 'Mars/Olympus' is not a time zone"),
    ("source_systems: core\n", "source_systems: expected a non-empty list"),
    ("source_systems: [core, core]\n", "source_systems: core listed more than once"),
    ("files:\n  x.csv:\n    table: customers\n    formats: {name: '%Y'}\n",
     "files.x.csv.formats.name: formats apply to date, timestamp and number columns only"),
    ("files:\n  x.csv:\n    table: shareholdings\n    formats: {share: '%'}\n",
     "files.x.csv.formats.share: a number column takes 'percent', 'percent_number' or a unit "
     "of yuan (千元, 万元, 百万元, 亿元), not '%'"),
    ("files:\n  x.csv:\n    table: customers\n    formats: {birth_date: YYYYMMDD}\n",
     "files.x.csv.formats.birth_date: expected a strptime format"),
    ("files:\n  x.csv: {table: customers}\n  y.csv: {table: customers}\n",
     "customers are mapped from more than one file"),
    ("- a list\n", "(top level): expected a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("files:\n  x.csv:\n    table: customers\n  : [\n",
         "line 4, column 3: expected <block end>, but found ':'"),
        ("files:\n\tx.csv: {table: customers}\n",
         "line 2, column 1: found character '\\t' that cannot start any token"),
    ],
)  # fmt: skip
def test_a_mapping_file_that_is_no_yaml_is_named_on_one_line(
    tmp_path: Path, bank_dir: Path, text: str, expected: str
) -> None:
    # PyYAML's message ran over six lines of "in <unicode string>" and carets.
    (bank_dir / "mapping.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load(bank_dir, tmp_path / "data")
    message = str(caught.value)
    assert message == f"mapping file {bank_dir / 'mapping.yaml'} is not valid YAML: {expected}"
    assert "\n" not in message


@pytest.mark.parametrize(("text", "expected"), BAD_MAPPINGS)
def test_a_bad_mapping_file_stops_naming_the_key_path(
    tmp_path: Path, bank_dir: Path, text: str, expected: str
) -> None:
    (bank_dir / "mapping.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load(bank_dir, tmp_path / "data")
    assert expected in str(caught.value)
    assert not (tmp_path / "data" / "store.duckdb").exists()


def test_a_mapping_naming_a_missing_column_stops(tmp_path: Path, bank_dir: Path) -> None:
    (bank_dir / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n    columns: {name: 客户姓名}\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match=r"maps column.*name \(客户姓名\).*does not have"):
        load(bank_dir, tmp_path / "data")


def test_an_explicit_mapping_outside_the_folder_is_used(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    (source / "客户.csv").write_bytes(
        _csv_bytes([["客户号", "系统", "姓名"], ["C1", "核心", "张三"]])
    )
    mapping = tmp_path / "bank-mapping.yaml"
    mapping.write_text(
        "files:\n  客户.csv:\n    table: customers\n"
        "    columns: {customer_id: 客户号, source_system: 系统, name: 姓名}\n"
        "    values: {source_system: {核心: core}}\n",
        encoding="utf-8",
    )
    report = _load(source, tmp_path / "data", mapping=mapping)
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "张三"}


def test_constants_timezones_and_percent_are_applied(tmp_path: Path, bank_dir: Path) -> None:
    (bank_dir / "shareholdings.csv").write_text(
        "holder_id,enterprise_id,share\nC1,E1,60%\nC3,E1,0.25\nC2,E1,abc%\nC2,E1,１５％\n",
        encoding="utf-8",
    )
    (bank_dir / "mapping.yaml").write_text(
        "timezone: Asia/Shanghai\nfiles:\n"
        "  shareholdings.csv:\n    table: shareholdings\n"
        "    constants: {holder_kind: customer}\n    formats: {share: percent}\n"
        "  transfers.csv:\n    table: transfers\n",
        encoding="utf-8",
    )
    report = load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        holdings = store.read_table("shareholdings").to_pylist()
        transfers = {r["tx_id"]: r["ts"] for r in store.read_table("transfers").to_pylist()}
    assert {(r["holder_id"], r["holder_kind"], r["share"]) for r in holdings} == {
        ("C1", "customer", 0.6),
        ("C3", "customer", 0.25),
        ("C2", "customer", 0.15),  # full width
    }
    refused = read_quarantine(tmp_path / "data", "shareholdings")
    assert [r["share"] for r in refused] == ["abc%"]  # left as it was, refused as usual
    assert next(t for t in report.tables if t.table == "shareholdings").quarantined == 1
    # A naive time is Beijing time (the mapping's zone); one with an offset says its own.
    assert transfers["T1"] == 1780272000000  # 2026-06-01T08:00:00+08:00 = 00:00Z
    assert transfers["T2"] == 1780277400000  # 2026-06-01T09:30:00+08:00 as written


def test_amounts_in_a_unit_of_yuan_are_read_in_yuan(tmp_path: Path, bank_dir: Path) -> None:
    # 注册资本(万元), 存款余额(万元): without the unit the capital of E1 loaded as 500 yuan.
    (bank_dir / "enterprises.csv").write_text(
        "enterprise_id,name,registered_capital,deposits\n"
        'E1,甲公司,500,"1,200.5"\nE2,乙公司,１２００．５万元,3万\nE3,丙公司,abc,\n',
        encoding="utf-8",
    )
    (bank_dir / "mapping.yaml").write_text(
        "files:\n  enterprises.csv:\n    table: enterprises\n"
        "    formats: {registered_capital: 万元, deposits: 万元}\n",
        encoding="utf-8",
    )
    load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("enterprises").to_pylist()
    got = {r["enterprise_id"]: (r["registered_capital"], r["deposits"]) for r in rows}
    assert got["E1"] == (5_000_000.0, 12_005_000.0)
    assert got["E2"] == (12_005_000.0, 30_000.0)  # full width, the unit written after
    assert "E3" not in got
    refused = read_quarantine(tmp_path / "data", "enterprises")
    assert [(r["registered_capital"], r["reason"]) for r in refused] == [
        ("abc", "bad_number: registered_capital 'abc' is not a number")
    ]


NAIVE_FORMS = [
    "2026-06-01 10:15:00",
    "20260601 101500",
    "2026年6月1日 10:15",
    "2026/06/01 10:15:00",
]


@pytest.fixture(scope="module")
def naive_forms_in_utc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """The valid bank with one more transfer per NAIVE_FORMS (``N<i>``, its time written
    in that form) and a mapping putting transfers.csv in UTC, loaded once (a load each
    cost ~2 s; the zone is applied value by value): the stored ts by transfer id."""
    root = tmp_path_factory.mktemp("naive-forms")
    tables = bank_tables()
    first = tables["transfers"][0]
    tables["transfers"] += [{**first, "tx_id": f"N{i}", "ts": w} for i, w in enumerate(NAIVE_FORMS)]
    bank = write_bank(root / "bank", tables)
    (bank / "mapping.yaml").write_text(
        "timezone: UTC\nfiles:\n  transfers.csv:\n    table: transfers\n", encoding="utf-8"
    )
    load(bank, root / "data")
    with EmbeddedStore(root / "data", read_only=True) as store:
        return {r["tx_id"]: r["ts"] for r in store.read_table("transfers").to_pylist()}


@pytest.mark.parametrize("written", NAIVE_FORMS)
def test_the_mapping_zone_reads_every_naive_form(
    naive_forms_in_utc: dict[str, int], written: str
) -> None:
    # Only ISO forms used to get the mapping's zone; the rest were read in
    # RELGRAPH_SOURCE_TZ (Beijing), eight hours off for an export in UTC.
    tx = f"N{NAIVE_FORMS.index(written)}"
    assert naive_forms_in_utc[tx] == 1780308900000  # 2026-06-01T10:15:00Z


def test_a_changed_mapping_file_is_a_new_load(tmp_path: Path, bank_dir: Path) -> None:
    mapping = bank_dir / "mapping.yaml"
    mapping.write_text("source_systems: [core, card, loan, wealth]\n", encoding="utf-8")
    load(bank_dir, tmp_path / "data")
    assert load(bank_dir, tmp_path / "data").unchanged
    mapping.write_text("source_systems: [card, core, loan, wealth]\n", encoding="utf-8")
    assert not load(bank_dir, tmp_path / "data").unchanged


# --- the bank's source systems -------------------------------------------------------------


def _two_records(tmp_path: Path) -> Path:
    source = _bank(tmp_path)
    id_number = "110105198503150019"
    (source / "customers.csv").write_bytes(
        _csv_bytes(
            _customers(
                ["K1", "core", "张伟", id_number, "M"],
                ["K2", "ecif", "张 伟", id_number, "M"],
                ["K3", "card", "ZHANG WEI", id_number, ""],
            )
        )
    )
    return source


def test_a_system_outside_the_models_four_is_refused_without_a_mapping(tmp_path: Path) -> None:
    source = _two_records(tmp_path)
    load(source, tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "customers")
    assert [r["customer_id"] for r in refused] == ["K2"]
    assert "bad_enum: source_system 'ecif'" in refused[0]["reason"]


def test_the_banks_systems_replace_the_models_with_their_precedence(tmp_path: Path) -> None:
    source = _two_records(tmp_path)
    (source / "mapping.yaml").write_text("source_systems: [ecif, card]\n", encoding="utf-8")
    report = load(source, tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "customers")
    # core is no system of this bank now; ecif ranks first, so the person is named from it.
    assert [r["customer_id"] for r in refused] == ["K1"]
    assert "is not one of ecif, card" in refused[0]["reason"]
    assert report.persons == 1
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        persons = store.read_table("persons", ["name", "n_records"]).to_pylist()
        systems = json.loads(store.meta()[META_SOURCE_SYSTEMS])
    assert persons == [{"name": "张 伟", "n_records": 2}]
    assert systems == ["ecif", "card"]


def test_precedence_follows_the_banks_order(tmp_path: Path) -> None:
    source = _two_records(tmp_path)
    (source / "mapping.yaml").write_text("source_systems: [card, ecif, core]\n", encoding="utf-8")
    load(source, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        persons = store.read_table("persons", ["name", "n_records"]).to_pylist()
    assert persons == [{"name": "ZHANG WEI", "n_records": 3}]


def test_without_a_mapping_core_names_the_person(tmp_path: Path, bank_dir: Path) -> None:
    load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        names = store.read_table("persons", ["name"]).column(0).to_pylist()
        systems = json.loads(store.meta()[META_SOURCE_SYSTEMS])
    assert "Li  Wei" in names  # C1 (core) over C2 (card, LI WEI)
    assert systems == ["core", "wealth", "loan", "card"]


# --- file discovery ----------------------------------------------------------------------


def _family_text() -> str:
    return "customer_id,relative_id,relation\nC1,C3,spouse\n"


UNKNOWN_ENTRIES = ["Family.CSV", "family.csv.gz", "family.csv/", "notes.txt", "family.csv|"]


def _plant(source: Path, entry: str) -> str:
    """Put ``entry`` in ``source`` (``/``: a folder, ``|``: a FIFO); its name."""
    (source / "family.csv").unlink(missing_ok=True)
    if entry.endswith("/"):
        (source / entry[:-1]).mkdir()
        return entry[:-1]
    if entry.endswith("|"):
        os.mkfifo(source / entry[:-1])
        return entry[:-1]
    (source / entry).write_text(_family_text(), encoding="utf-8")
    return entry


def _discover_in_thread(source: Path, options: ReadOptions) -> object:
    """``discover`` with a deadline: opening a FIFO would block forever."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(discover(source, options))
        except IngestError as exc:
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "discovery blocked (opened a FIFO?)"
    return result[0]


@pytest.mark.parametrize("entry", UNKNOWN_ENTRIES)
def test_an_entry_that_is_no_table_stops_the_load(bank_dir: Path, entry: str) -> None:
    name = _plant(bank_dir, entry)
    outcome = _discover_in_thread(bank_dir, ReadOptions())
    assert isinstance(outcome, IngestError)
    assert repr(name) in str(outcome)
    assert "--ignore-unknown-files" in str(outcome)


def test_a_case_variant_file_name_says_which_name_was_meant(bank_dir: Path) -> None:
    _plant(bank_dir, "Family.CSV")
    with pytest.raises(IngestError, match=r"did you mean family\.csv"):
        discover(bank_dir)


@pytest.mark.parametrize("entry", UNKNOWN_ENTRIES)
def test_ignore_unknown_files_lists_what_was_skipped(
    tmp_path: Path, bank_dir: Path, entry: str
) -> None:
    name = _plant(bank_dir, entry)
    outcome = _discover_in_thread(bank_dir, ReadOptions(ignore_unknown_files=True))
    assert not isinstance(outcome, IngestError)
    if not entry.endswith("|"):  # a FIFO would block a real load's fingerprint read: skip it
        report = _load(bank_dir, tmp_path / "data", ignore_unknown_files=True)
        assert report.ignored_files == [name]
        assert "family" not in {t.table for t in report.tables if t.file}


def test_truth_the_mapping_file_and_dotfiles_are_always_ignored(
    tmp_path: Path, bank_dir: Path
) -> None:
    (bank_dir / "truth").mkdir()
    (bank_dir / "truth" / "households.csv").write_text("x\n", encoding="utf-8")
    (bank_dir / ".DS_Store").write_bytes(b"\0\1")
    (bank_dir / "mapping.yaml").write_text("source_systems: [core, card]\n", encoding="utf-8")
    mapping = bank_dir / "bank-mapping.yml"
    mapping.write_text("source_systems: [core, card]\n", encoding="utf-8")
    report = _load(bank_dir, tmp_path / "data", mapping=mapping)
    assert report.ignored_files == []
    assert report.quarantined == 0


# --- headers -----------------------------------------------------------------------------


def test_a_header_matching_a_model_column_only_by_case_stops(
    tmp_path: Path, bank_dir: Path
) -> None:
    path = bank_dir / "customers.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("deposits", "Deposits", 1))
    with pytest.raises(IngestError, match="column 'Deposits' matches the model column 'deposits'"):
        load(bank_dir, tmp_path / "data")


def test_a_case_variant_header_loads_when_mapped(tmp_path: Path, bank_dir: Path) -> None:
    path = bank_dir / "customers.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("deposits", "Deposits", 1))
    (bank_dir / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n    columns: {deposits: Deposits}\n",
        encoding="utf-8",
    )
    load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "deposits"]).to_pylist()
    assert {r["customer_id"]: r["deposits"] for r in rows}["C1"] == 200.0


# --- quarantine keeps the original bytes and the physical line ---------------------------


def _many_customers(n: int) -> list[list[str]]:
    return [[f"C{i}", "core", f"Person {i}", "", "M"] for i in range(1, n + 1)]


def test_a_line_not_valid_utf8_is_quarantined_as_base64(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    bad = b"C999,core,Bad \xff\xfe name,,M"
    (source / "customers.csv").write_bytes(
        _csv_bytes(_customers(*_many_customers(150))) + bad + b"\n"
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 1
    [row] = read_quarantine(tmp_path / "data", "customers")
    assert row["raw_line_encoding"] == "base64"
    assert base64.b64decode(row["raw_line"]) == bad
    assert row["source_line"] == "152"


def test_a_refused_row_of_a_gbk_file_keeps_its_gbk_bytes(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    rows = _customers(["C1", "core", "张三", "", "M"], ["C2", "mainframe", "李四", "", "F"])
    (source / "customers.csv").write_bytes(_csv_bytes(rows, "gb18030"))
    _load(source, tmp_path / "data", encoding="gb18030")
    [row] = read_quarantine(tmp_path / "data", "customers")
    assert row["name"] == "李四"
    assert row["raw_line_encoding"] == "base64"
    assert base64.b64decode(row["raw_line"]) == "C2,mainframe,李四,,F".encode("gb18030")


def test_bad_bytes_in_a_gb18030_file_keep_every_quarantined_line_whole(tmp_path: Path) -> None:
    # A stray 0xFF after a closing quote broke DuckDB's quoting of its UTF-8 copy, the
    # records no longer lined up and every quarantined row lost its raw_line.
    source = _bank(tmp_path)
    rows = _customers(*_many_customers(300), ["C2", "mainframe", "李四", "", "F"])
    good = _csv_bytes(rows, "gb18030")
    broken = '"C998","core","王五"'.encode("gb18030") + b"\xff,,M\n"
    (source / "customers.csv").write_bytes(good + b"C999,core,\xff\xfe,,M\n" + broken)
    _load(source, tmp_path / "data", encoding="gb18030")
    refused = {r["source_line"]: r for r in read_quarantine(tmp_path / "data", "customers")}
    assert set(refused) == {"302", "303", "304"}
    assert base64.b64decode(refused["302"]["raw_line"]) == "C2,mainframe,李四,,F".encode("gb18030")
    assert base64.b64decode(refused["304"]["raw_line"]) == broken.rstrip(b"\n")
    assert refused["303"]["reason"] == (
        "malformed_line: INVALID ENCODING: byte 10 of the line is not valid gb18030"
    )
    assert refused["304"]["reason"].startswith("malformed_line: INVALID ENCODING: byte 20 ")


def test_a_20000_character_line_is_kept_whole(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    long_name = "长" * 20_000
    refused = ["C2", "mainframe", long_name, "", "M"]
    malformed = ["C3", "core", long_name, "", "M", "extra"]
    (source / "customers.csv").write_bytes(
        _csv_bytes(_customers(["C1", "core", "张三", "", "M"], refused, malformed))
    )
    load(source, tmp_path / "data")
    rows = read_quarantine(tmp_path / "data", "customers")
    assert [r["source_line"] for r in rows] == ["3", "4"]
    assert [r["raw_line_encoding"] for r in rows] == ["utf-8", "utf-8"]
    assert rows[0]["raw_line"] == ",".join(refused)
    assert rows[1]["raw_line"] == ",".join(malformed)
    assert rows[1]["reason"].startswith("malformed_line: ")


def test_source_line_is_the_physical_line_after_quoted_newlines_and_blank_lines(
    tmp_path: Path,
) -> None:
    source = _bank(tmp_path)
    text = (
        "customer_id,source_system,name,id_number,gender\r\n"  # line 1
        'C1,core,"Zhang\r\nSan",,M\r\n'  # lines 2-3: a quoted newline
        "\r\n"  # line 4: blank
        "C2,mainframe,Li Si,,F\r\n"  # line 5: refused
        'C3,core,"a ""quoted""\r\n\r\nname",,M\r\n'  # lines 6-8
        "C4,core,Wang,,M,extra\r\n"  # line 9: malformed
        "C5,core,Zhao,,X\r\n"  # line 10: refused
    )
    (source / "customers.csv").write_bytes(text.encode())
    report = load(source, tmp_path / "data")
    assert report.quarantined == 3
    rows = read_quarantine(tmp_path / "data", "customers")
    assert [r["source_line"] for r in rows] == ["5", "9", "10"]
    assert [r["raw_line"] for r in rows] == [
        "C2,mainframe,Li Si,,F",
        "C4,core,Wang,,M,extra",
        "C5,core,Zhao,,X",
    ]
    assert _store_names(tmp_path / "data") == {"C1": "Zhang\r\nSan", "C3": 'a "quoted"\r\n\r\nname'}


def test_a_literal_quote_inside_a_value_does_not_shift_lines(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    text = (
        "customer_id,source_system,name,id_number,gender\n"
        'C1,core,The "Boss,,M\n'  # a quote inside an unquoted value is a literal
        "C2,core,Li,,M\n"
        "C3,mainframe,Wu,,M\n"  # line 4
    )
    (source / "customers.csv").write_bytes(text.encode())
    load(source, tmp_path / "data")
    [row] = read_quarantine(tmp_path / "data", "customers")
    assert (row["source_line"], row["raw_line"]) == ("4", "C3,mainframe,Wu,,M")


# --- the command line --------------------------------------------------------------------


def test_load_flags_encoding_mapping_and_ignore_unknown_files(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from relgraph.cli import app

    runner = CliRunner()
    source = _bank(tmp_path)
    (source / "客户.csv").write_bytes(
        _csv_bytes([["客户号", "系统", "姓名"], ["C1", "核心", "张三"]], "gb18030")
    )
    (source / "family.csv.gz").write_bytes(b"\x1f\x8b")
    mapping = tmp_path / "bank.yaml"
    mapping.write_text(
        "files:\n  客户.csv:\n    table: customers\n"
        "    columns: {customer_id: 客户号, source_system: 系统, name: 姓名}\n"
        "    values: {source_system: {核心: core}}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    base = ["load", str(source), "--data-dir", str(data), "--mapping", str(mapping)]
    stopped = runner.invoke(app, [*base, "--encoding", "gb18030"])
    assert stopped.exit_code == 2
    assert "'family.csv.gz'" in stopped.output
    wrong = runner.invoke(app, [*base, "--ignore-unknown-files"])
    assert wrong.exit_code == 2
    assert "--encoding gb18030" in " ".join(wrong.output.split())
    loaded = runner.invoke(app, [*base, "--encoding", "gb18030", "--ignore-unknown-files"])
    assert loaded.exit_code == 0, loaded.output
    assert "family.csv.gz" in loaded.output
    assert _store_names(data) == {"C1": "张三"}
    assert json.loads((data / "load-report.json").read_text())["ignored_files"] == ["family.csv.gz"]


def test_a_utf8_file_given_as_gb18030_stops_instead_of_garbling_names(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes(
        _csv_bytes(_customers(["C1", "core", "张三", "", "M"]), "utf-8")
    )
    with pytest.raises(IngestError, match="given as gb18030 but is UTF-8 text"):
        _load(source, tmp_path / "data", encoding="gb18030")


def test_a_parquet_file_is_mapped_like_a_csv_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = _bank(tmp_path)
    pq.write_table(
        pa.table({"客户号": ["C1", "C2"], "系统": ["核心", "ECIF"], "姓名": ["张三", "李四"]}),
        source / "客户.parquet",
    )
    (source / "mapping.yaml").write_text(
        "source_systems: [ecif, core]\nfiles:\n  客户.parquet:\n    table: customers\n"
        "    columns: {customer_id: 客户号, source_system: 系统, name: 姓名}\n"
        "    values: {source_system: {核心: core, ECIF: ecif}}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "张三", "C2": "李四"}


def test_a_mapping_file_that_does_not_exist_stops(tmp_path: Path, bank_dir: Path) -> None:
    with pytest.raises(IngestError, match=r"mapping file .*nowhere\.yaml does not exist"):
        _load(bank_dir, tmp_path / "data", mapping=tmp_path / "nowhere.yaml")


def test_parquet_dates_written_as_midnight_timestamps_load_as_dates(tmp_path: Path) -> None:
    """pandas writes a date column as timestamps at midnight; a real time stays refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = _bank(tmp_path)
    (source / "customers.csv").unlink(missing_ok=True)
    born = [datetime(1980, 5, 6), datetime(1975, 1, 2, 10, 30), None]
    pq.write_table(
        pa.table(
            {
                "customer_id": ["C1", "C2", "C3"],
                "source_system": ["core", "core", "core"],
                "name": ["张三", "李四", "王五"],
                "birth_date": pa.array(born, pa.timestamp("ns")),
            }
        ),
        source / "customers.parquet",
    )
    report = load(source, tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "customers")
    assert [(r["customer_id"], r["reason"]) for r in refused] == [
        ("C2", "bad_date: birth_date '1975-01-02 10:30:00' has a time part; a date is YYYY-MM-DD")
    ]
    assert report.quarantined == 1
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "birth_date"]).to_pylist()
    day = int(datetime(1980, 5, 6, tzinfo=UTC).timestamp() * 1000)
    assert {r["customer_id"]: r["birth_date"] for r in rows} == {"C1": day, "C3": None}


def test_parquet_zoned_midnights_are_dates_and_whole_float_ids_are_ids(tmp_path: Path) -> None:
    """A date at midnight Beijing time is that day (not 16:00 the day before, refused); a
    float64 id column (pandas, after one missing value) names 1001, not 1001.0."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = _bank(tmp_path)
    (source / "customers.csv").unlink(missing_ok=True)
    zone = "Asia/Shanghai"
    born = [datetime(1985, 3, 14, 16), datetime(1975, 1, 2, 2, 30)]  # UTC instants
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([1001.0, 1002.0]),
                "source_system": ["core", "core"],
                "name": ["张三", "李四"],
                "birth_date": pa.array(born, pa.timestamp("us", tz=zone)),
            }
        ),
        source / "customers.parquet",
    )
    load(source, tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "customers")
    assert [(r["customer_id"], r["reason"]) for r in refused] == [
        ("1002", "bad_date: birth_date '1975-01-02 10:30:00' has a time part; "
         "a date is YYYY-MM-DD")
    ]  # fmt: skip
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "birth_date"]).to_pylist()
    day = int(datetime(1985, 3, 15, tzinfo=UTC).timestamp() * 1000)
    assert rows == [{"customer_id": "1001", "birth_date": day}]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_file_mixing_crlf_and_lf_lines_loads(tmp_path: Path, encoding: str) -> None:
    """Two systems' extracts concatenated: one wrote CRLF, the other LF. Each row loads or
    is quarantined with its own bytes, as in a file of one line ending."""
    source = _bank(tmp_path)
    text = (
        "customer_id,source_system,name,id_number,gender,aum\r\n"
        "C1,core,张三,,M,100\r\n"
        'C2,core,"李\r\n四",,F,200\r\n'
        "C3,card,王五,,M,abc\n"
        "C4,card,赵六,,F,300\n"
    )
    (source / "customers.csv").write_bytes(text.encode(encoding))
    report = _load(source, tmp_path / "data", encoding=encoding)
    assert _store_names(tmp_path / "data") == {"C1": "张三", "C2": "李\n四", "C4": "赵六"}
    assert report.quarantined == 1
    (refused,) = read_quarantine(tmp_path / "data", "customers")
    raw = refused["raw_line"]
    if refused["raw_line_encoding"] == "base64":  # the GBK bytes, as they were
        raw = base64.b64decode(raw).decode(encoding)
    assert (refused["customer_id"], raw) == ("C3", "C3,card,王五,,M,abc")
    assert not list((tmp_path / "data").rglob(".transcoded-*")), "the copies are removed"


def test_mapping_codes_with_leading_zeros_are_the_codes_written(tmp_path: Path) -> None:
    # YAML 1.1 reads 010 as octal 8 and 01 as 1: the codes would never match the export's.
    source = _bank(tmp_path)
    rows = [[*CUSTOMER_HEADER, "segment"], ["C1", "01", "张三", "", "M", "010"],
            ["C2", "02", "李四", "", "F", "no"]]  # fmt: skip
    (source / "customers.csv").write_bytes(_csv_bytes(rows))
    (source / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n    values:\n"
        "      source_system: {01: core, 02: card}\n"
        "      segment: {010: mass, no: affluent}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 0
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows_read = store.read_table("customers", ["customer_id", "source_system", "segment"])
    assert sorted(rows_read.to_pylist(), key=lambda r: r["customer_id"]) == [
        {"customer_id": "C1", "source_system": "core", "segment": "mass"},
        {"customer_id": "C2", "source_system": "card", "segment": "affluent"},
    ]


def test_a_utf8_line_appended_to_a_gb18030_file_is_read_as_utf8_and_noted(
    tmp_path: Path,
) -> None:
    # GB18030 decodes the UTF-8 bytes of 王芳 without an error, as 鐜嬭姵.
    source = _bank(tmp_path)
    rows = [_customers(["C1", "core", "张三", "", "M"]), [["C2", "card", "谢伟", "", "M"]]]
    utf8_line = "K9,card,王芳,,F\n".encode()
    (source / "customers.csv").write_bytes(
        _csv_bytes(rows[0], "gb18030") + utf8_line + _csv_bytes(rows[1], "gb18030")
    )
    report = _load(source, tmp_path / "data", encoding="gb18030")
    assert _store_names(tmp_path / "data") == {"C1": "张三", "K9": "王芳", "C2": "谢伟"}
    customers = next(t for t in report.tables if t.table == "customers")
    assert customers.notes == [
        "line(s) 3 are UTF-8 text in a gb18030 file (appended from another system?) and were "
        "read as UTF-8"
    ]


def test_a_file_without_a_last_line_break_is_noted(tmp_path: Path) -> None:
    # Cut mid-value, 12345.67 would load as 12 without any other sign.
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes(b"customer_id,source_system,name\nC1,core,A\nC2,core,B")
    report = load(source, tmp_path / "data")
    customers = next(t for t in report.tables if t.table == "customers")
    assert customers.notes == [
        "the file does not end with a line break: its last line (line 3) may have been cut "
        "short; compare it with the source"
    ]
    (source / "customers.csv").write_bytes(b"customer_id,source_system,name\nC1,core,A\n")
    report = load(source, tmp_path / "data2")
    assert next(t for t in report.tables if t.table == "customers").notes == []


def test_product_lists_split_on_what_exports_write_and_map_code_by_code(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    rows = [[*CUSTOMER_HEADER, "products"], ["C1", "core", "张三", "", "M", "存款;信用卡"],
            ["C2", "core", "李四", "", "F", "deposit；card"], ["C3", "core", "王五", "", "M", "理财、 存款"],
            ["C4", "core", "赵六", "", "M", "信用卡;房贷"]]  # fmt: skip
    (source / "customers.csv").write_bytes(_csv_bytes(rows))
    (source / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n    values:\n"
        "      products: {存款: deposit, 信用卡: card, 理财: wealth}\n",
        encoding="utf-8",
    )
    load(source, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        stored = store.read_table("customers", ["customer_id", "products"]).to_pylist()
    assert {r["customer_id"]: r["products"] for r in stored} == {
        "C1": "card;deposit", "C2": "card;deposit", "C3": "deposit;wealth"
    }  # fmt: skip
    [refused] = read_quarantine(tmp_path / "data", "customers")
    assert refused["reason"] == (
        "bad_enum: products 'card;房贷' holds a code outside deposit, card, loan, wealth"
    )


@pytest.mark.parametrize(
    ("written", "sep"),
    [("'|'", "|"), ("tab", "\t"), ('"\\x01"', "\x01"), ("'|@|'", "|@|"), ("'||'", "||")],
)
def test_the_mapping_file_sets_the_delimiter(tmp_path: Path, written: str, sep: str) -> None:
    source = _bank(tmp_path)
    lines = [
        CUSTOMER_HEADER,
        ["C1", "core", "张三", "", "M"],
        ["C2", "core", f'"李{sep}四"', "", "F"],
    ]
    (source / "customers.csv").write_bytes(
        "".join(sep.join(line) + "\n" for line in lines).encode("gb18030")
    )
    (source / "mapping.yaml").write_text(
        f"files:\n  customers.csv:\n    table: customers\n    encoding: gb18030\n"
        f"    delimiter: {written}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 0
    assert _store_names(tmp_path / "data") == {"C1": "张三", "C2": f"李{sep}四"}


def test_a_file_in_another_delimiter_stops_saying_which_and_how_to_set_it(
    tmp_path: Path,
) -> None:
    source = _bank(tmp_path)
    lines = [CUSTOMER_HEADER, ["C1", "core", "张三", "", "M"]]
    (source / "customers.csv").write_text("".join("|".join(x) + "\n" for x in lines), "utf-8")
    with pytest.raises(IngestError) as caught:
        load(source, tmp_path / "data")
    assert str(caught.value) == (
        "customers.csv: the header reads as one column ('customer_id|source_system|name|"
        "id_number|gender'): the values look separated by '|', not ','; set delimiter: '|' "
        "for this file (or for every file) in the mapping file"
    )


@pytest.mark.parametrize("bad", ["'|||||'", "'\"'", "x", "'，'", "'a|'"])
def test_a_bad_delimiter_is_named(tmp_path: Path, bad: str) -> None:
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes(_csv_bytes(_customers(["C1", "core", "A", "", "M"])))
    (source / "mapping.yaml").write_text(f"delimiter: {bad}\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"mapping file mapping\.yaml: delimiter: expected one"):
        load(source, tmp_path / "data")


def test_a_mapped_column_leaves_the_files_own_column_of_that_name_unloaded(
    tmp_path: Path,
) -> None:
    # The export has both the old `name` (pinyin) and 中文名; the mapping picks 中文名.
    source = _bank(tmp_path)
    rows = [["customer_id", "source_system", "name", "中文名", "phone", "old_phone"],
            ["C1", "core", "ZHANG SAN", "张三", "13800138000", "13900139000"]]  # fmt: skip
    (source / "customers.csv").write_bytes(_csv_bytes(rows))
    (source / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n"
        "    columns: {name: 中文名, phone: old_phone}\n    constants: {source_system: card}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert _store_names(tmp_path / "data") == {"C1": "张三"}
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        row = store.read_table("customers", ["phone", "source_system"]).to_pylist()[0]
    assert row == {"phone": "13900139000", "source_system": "card"}
    customers = next(t for t in report.tables if t.table == "customers")
    assert customers.ignored_columns == [
        "source_system (not mapped)", "name (not mapped)", "phone (not mapped)"
    ]  # fmt: skip


@pytest.mark.parametrize("zone", ["timezone: Asia/Shanghai\n", ""])
def test_a_format_with_its_own_offset_keeps_the_instant(
    tmp_path: Path, bank_dir: Path, zone: str
) -> None:
    # %z: the value says where it is; the mapping's zone (for naive values) must not move it.
    (bank_dir / "transfers.csv").write_text(
        "tx_id,from_account,to_account,amount,currency,ts\n"
        "T1,A1,A2,1,CNY,06/01/2024 10:15:00 +0800\nT2,A1,A2,1,CNY,06/01/2024 10:15:00 +0000\n",
        encoding="utf-8",
    )
    (bank_dir / "mapping.yaml").write_text(
        f"{zone}files:\n  transfers.csv:\n    table: transfers\n"
        '    formats: {ts: "%d/%m/%Y %H:%M:%S %z"}\n',
        encoding="utf-8",
    )
    load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        stored = {r["tx_id"]: r["ts"] for r in store.read_table("transfers").to_pylist()}
    assert stored == {"T1": 1704507300000, "T2": 1704536100000}  # 02:15Z and 10:15Z


def _transfers_with_memos(memos: dict[int, str], n: int = 200) -> str:
    lines = ["tx_id,from_account,to_account,amount,currency,ts,摘要"]
    for i in range(1, n + 1):
        lines.append(
            f"T{i:04d},A1,A2,{i}.00,CNY,2024-01-06 10:{i % 60:02d}:00,{memos.get(i, '工资')}"
        )
    return "\n".join(lines) + "\n"


def test_a_quote_that_never_closes_stops_the_load_naming_its_line(
    tmp_path: Path, bank_dir: Path
) -> None:
    # The memo of row 150 was cut by its field width; the 50 rows after it were one
    # malformed record, 1 of 150 quarantined (under every limit), the rest lost.
    (bank_dir / "transfers.csv").write_text(_transfers_with_memos({150: '"春节红包'}), "utf-8")
    with pytest.raises(IngestError) as caught:
        load(bank_dir, tmp_path / "data")
    assert str(caught.value) == (
        "transfers.csv line 151: a quote opens a value and never closes, so the 50 lines after "
        'it would be read as part of one record; a quote inside a value must be doubled (""), '
        "or the export cut a quoted value short; fix that line and load again"
    )


def test_a_quote_closing_far_below_stops_and_a_quoted_line_break_loads(
    tmp_path: Path, bank_dir: Path
) -> None:
    far = _transfers_with_memos({20: '"红包', 120: '工资"'})
    (bank_dir / "transfers.csv").write_text(far, "utf-8")
    with pytest.raises(
        IngestError,
        match=r"transfers\.csv line 21: a quoted value runs over 101 lines \(to line 121\)",
    ):
        load(bank_dir, tmp_path / "data")
    near = _transfers_with_memos({20: '"春节\n红包"'})
    (bank_dir / "transfers.csv").write_text(near, "utf-8")
    report = load(bank_dir, tmp_path / "data")
    assert next(t for t in report.tables if t.table == "transfers").loaded == 200


def test_a_database_exports_null_markers_are_no_value_in_every_column(tmp_path: Path) -> None:
    # Hive, Sqoop, DataX and MySQL write \N; most database tools NULL: the customer loads.
    source = _bank(tmp_path)
    (source / "customers.csv").write_text(
        "customer_id,source_system,name,birth_date,aum,gender,consent_marketing\n"
        "C1,core,张三,\\N,\\N,\\N,\\N\nC2,core,李四,NULL,null,NULL,NULL\nC3,core,\\N,,,,\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("customers").to_pylist()
    assert [(r["customer_id"], r["birth_date"], r["aum"], r["gender"]) for r in rows] == [
        ("C1", None, None, None), ("C2", None, None, None)
    ]  # fmt: skip
    [refused] = read_quarantine(tmp_path / "data", "customers")
    assert refused["reason"] == "missing_required: name is empty"  # \N is no name
    assert refused["raw_line"] == "C3,core,\\N,,,,"
    assert next(t for t in report.tables if t.table == "customers").quarantined == 1


def test_the_mapping_file_names_a_files_own_null_values_and_maps_codes_to_none(
    tmp_path: Path,
) -> None:
    source = _bank(tmp_path)
    (source / "customers.csv").write_text(
        "customer_id,source_system,name,birth_date,segment\n"
        "C1,core,张三,-,未分层\nC2,core,李四,无,mass\n",
        encoding="utf-8",
    )
    (source / "mapping.yaml").write_text(
        "null_values: ['-']\nfiles:\n  customers.csv:\n    table: customers\n"
        "    null_values: ['无']\n    values: {segment: {未分层: null}}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert report.quarantined == 0
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "birth_date", "segment"])
    assert rows.to_pylist() == [
        {"customer_id": "C1", "birth_date": None, "segment": None},
        {"customer_id": "C2", "birth_date": None, "segment": "mass"},
    ]


def test_a_multi_character_separator_is_suggested_whole(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    lines = [CUSTOMER_HEADER, ["C1", "core", "张三", "", "M"]]
    (source / "customers.csv").write_text("".join("|@|".join(x) + "\n" for x in lines), "utf-8")
    with pytest.raises(IngestError, match=r"separated by '\|@\|', not ','; set delimiter: '\|@\|'"):
        load(source, tmp_path / "data")


def test_a_utf16_file_says_to_save_it_as_utf8(tmp_path: Path) -> None:
    source = _bank(tmp_path)
    text = "\t".join(CUSTOMER_HEADER) + "\nC1\tcore\t张三\t\tM\n"
    (source / "customers.csv").write_bytes(text.encode("utf-16"))  # with its BOM, as Excel
    with pytest.raises(IngestError) as caught:
        load(source, tmp_path / "data")
    assert str(caught.value) == (
        'customers.csv is UTF-16 (Excel\'s "Unicode text"), which relgraph does not read: save '
        'it as "CSV UTF-8" or convert it (iconv -f UTF-16 -t UTF-8), then load again'
    )


@pytest.mark.parametrize(
    "start",
    [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"],
    ids=["xlsx", "xls"],
)
def test_a_workbook_renamed_csv_says_to_save_it_as_csv(tmp_path: Path, start: bytes) -> None:
    # Without this, the first bytes would fail as UTF-8 with advice to try GB18030.
    source = _bank(tmp_path)
    (source / "customers.csv").write_bytes(start + bytes(range(256)))
    with pytest.raises(IngestError) as caught:
        load(source, tmp_path / "data")
    assert str(caught.value) == (
        'customers.csv is an Excel workbook, not a CSV file: open it and save it as "CSV UTF-8 '
        '(comma delimited)"'
    )
