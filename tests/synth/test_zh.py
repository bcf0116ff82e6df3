"""The zh locale: a synthetic bank that looks like a Chinese bank's, and its bank-style export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml  # type: ignore[import-untyped]
from typer.testing import CliRunner

from relgraph import model
from relgraph.cli import app
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import bank_export, generate, vocab, zh, zh_vocab
from relgraph.synth.frame import made_columns

CUSTOMERS = 20_000
SEED = 3
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
REGIONS = {d[2] for d in vocab.DISTRICTS}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("zh")
    generate(CUSTOMERS, SEED, out, locale="zh")
    return out


@pytest.fixture(scope="module")
def t(bank: Path) -> dict[str, pd.DataFrame]:
    """Every input and truth table as text ('' = missing)."""
    return {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in [*bank.glob("*.csv"), *bank.glob("truth/*.csv")]
    }


@pytest.fixture(scope="module")
def records(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Customer rows with their person and household."""
    return (
        t["customers"]
        .merge(t["persons"], on="customer_id")
        .merge(t["households"], on="customer_id")
    )


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.*")):
        h.update(str(p.relative_to(folder)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_en_locale_writes_the_bank_of_before_byte_for_byte(tmp_path: Path) -> None:
    # Digests of the same calls on main before the zh locale existed (pyarrow of the lock file),
    # with the one planted bad date that became a valid date (20250315) swapped for a date
    # with a time part: checked by running main's generator with only that change.
    generate(400, 5, tmp_path / "csv", "csv", dirty=0.02, locale="en")
    generate(200, 5, tmp_path / "pq", "parquet", locale="en")
    assert _digest(tmp_path / "csv") == (
        "43672892c0dbc52a311c141d6dbb03477c0ba309f006a7fbf6046ea84d2011a5"
    )
    assert _digest(tmp_path / "pq") == (
        "4923f532bd4f735cb7835890239b2ca9283a81c4f73de0d63330a43f0b450581"
    )


def test_zh_is_deterministic_and_differs_from_en(tmp_path: Path) -> None:
    generate(300, 9, tmp_path / "a", locale="zh")
    generate(300, 9, tmp_path / "b", locale="zh")
    generate(300, 9, tmp_path / "en", locale="en")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    zh_names = pd.read_csv(tmp_path / "a" / "customers.csv", dtype=str)["name"]
    en_names = pd.read_csv(tmp_path / "en" / "customers.csv", dtype=str)["name"]
    assert zh_names.str.contains(r"[\u4e00-\u9fff]").mean() > 0.6
    assert not en_names.str.contains(r"[\u4e00-\u9fff]").any()


def test_unknown_locale_or_style_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="locale must be one of zh, en"):
        generate(100, 1, tmp_path, locale="fr")
    with pytest.raises(ValueError, match="needs --locale zh and --format csv"):
        generate(100, 1, tmp_path, locale="en", export_style="bank")
    with pytest.raises(ValueError, match="needs --locale zh and --format csv"):
        generate(100, 1, tmp_path, "parquet", locale="zh", export_style="bank")


def test_command_line_defaults_to_zh(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--customers", "200"])
    assert result.exit_code == 0, result.output
    # zh CSV defaults to the bank's export: one GB 18030 customer extract and its mapping.
    assert (tmp_path / "mapping.yaml").exists()
    assert not (tmp_path / "customers.csv").exists()
    names = pd.read_csv(tmp_path / "客户信息.csv", dtype=str, encoding="gb18030")["客户姓名"]
    assert names.str.contains(r"[\u4e00-\u9fff]").any()
    bad = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--locale", "fr"])
    assert bad.exit_code != 0


# --- identifiers --------------------------------------------------------------------------


def _check_char(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _plain_id(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).upper()


def test_id_numbers_encode_region_birth_date_and_sex(
    t: dict[str, pd.DataFrame], records: pd.DataFrame
) -> None:
    noise = t["record_noise"].query("field == 'id_number'")
    listed = noise.groupby("defect")["customer_id"].apply(set).to_dict()
    rows = records[records["id_number"] != ""].set_index("customer_id")
    ids = rows["id_number"].map(_plain_id)
    excel = ids.index.isin(listed["excel"])
    bad_check = ids.index.isin(listed["bad_check_char"])
    typo = ids.index.isin(listed.get("digit_typo", set()))
    assert ids[excel].str.fullmatch(r"\d(\.\d{1,5})?E\+1[78]").all()
    assert not ids[~excel].str.contains("E+", regex=False).any()

    whole = ids[~excel]
    check_ok = whole.map(lambda s: len(s) == 18 and _check_char(s[:17]) == s[17])
    assert check_ok[~(bad_check | typo)[~excel]].all()
    assert not check_ok[bad_check[~excel]].any()

    clean = whole[~(bad_check | typo)[~excel]]
    assert clean.str[:6].isin(REGIONS).all()
    born = rows.loc[clean.index, "birth_date"].str.replace("-", "")
    assert ((clean.str[6:14] == born) | (born == "")).all()
    sex = clean.str[16].astype(int) % 2
    assert (sex.map({1: "M", 0: "F"}) == rows.loc[clean.index, "gender"]).all()

    # The documented rates, over records that have an id number.
    assert 0.001 < excel.mean() < 0.006
    assert 0.002 < bad_check.mean() < 0.009


_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_credit_codes_carry_valid_check_characters(t: dict[str, pd.DataFrame]) -> None:
    codes = t["enterprises"]["credit_code"]
    assert codes.str.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}").all()
    for code in codes:
        total = sum(_USCC.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
        assert _USCC[(31 - total % 31) % 31] == code[17], code
        assert code[2:8] in REGIONS
    assert t["enterprises"]["name"].str.endswith("有限公司").mean() > 0.9


# --- names --------------------------------------------------------------------------------


def _hanzi_names(records: pd.DataFrame) -> pd.Series:
    """One hanzi name per person (their first non-card record), whitespace removed."""
    named = records[records["source_system"] != "card"].drop_duplicates("person_key")
    return named.set_index("person_key")["name"].str.replace(r"\s", "", regex=True)


def test_surname_frequencies_follow_the_published_shares(records: pd.DataFrame) -> None:
    names = _hanzi_names(records)
    weights = zh.surname_weights()
    observed = names.str[0].value_counts(normalize=True)
    for i, (surname, _, _) in enumerate(zh_vocab.SURNAMES[:5]):
        assert abs(observed.get(surname, 0.0) - weights[i]) < 0.015, surname
    assert set(observed.index) <= {s for s, _, _ in zh_vocab.SURNAMES}


def test_common_names_collide_between_different_persons(records: pd.DataFrame) -> None:
    names = _hanzi_names(records)
    counts = names.value_counts()
    assert counts.iloc[0] >= 4
    shared = counts[counts > 1].sum() / names.size
    assert 0.05 < shared < 0.5
    assert counts.get("张伟", 0) >= 1 or counts.get("王芳", 0) >= 1
    # Namesakes are different people: their id numbers differ.
    top = counts.index[0]
    people = records[records["person_key"].isin(names[names == top].index)]
    ids = people[people["id_number"] != ""].groupby("person_key")["id_number"].first()
    assert ids.map(_plain_id).nunique() == ids.size


def test_card_records_emboss_the_pinyin_of_the_persons_hanzi_name(
    records: pd.DataFrame,
) -> None:
    pinyin: dict[str, str] = {}
    tables = [[(s, p) for s, p, _ in zh_vocab.SURNAMES], zh_vocab.MALE_CHARS]
    for table in (*tables, zh_vocab.FEMALE_CHARS):
        for char, spelled in table:
            assert pinyin.setdefault(char, spelled) == spelled, char
    hanzi = _hanzi_names(records)
    card = records[records["source_system"] == "card"]
    card = card[card["person_key"].isin(hanzi.index)]
    assert len(card) > 100
    expected = hanzi.loc[card["person_key"]].map(
        lambda n: (pinyin[n[0]] + " " + "".join(pinyin[c] for c in n[1:])).upper()
    )
    assert (card["name"].to_numpy() == expected.to_numpy()).all()
    assert card["name"].str.fullmatch(r"[A-Z]+ [A-Z]+").all()


# --- phones, addresses, times ---------------------------------------------------------------


def test_phones_as_each_system_stores_them(
    t: dict[str, pd.DataFrame], records: pd.DataFrame
) -> None:
    hotline = set(t["record_noise"].query("defect == 'hotline'")["customer_id"])
    own = records[~records["customer_id"].isin(hotline)]
    card = own[own["source_system"] == "card"]["phone"]
    assert card.str.fullmatch(r"\+86 1\d\d \d{4} \d{4}").all()
    wide = own["phone"].str.contains("[０-９]")
    by_system = wide.groupby(own["source_system"]).mean()
    assert 0.3 < by_system["wealth"] < 0.5
    assert by_system.drop("wealth").max() == 0
    # Relatives' phones: a person's number on another member of the household.
    digits = own["phone"].map(lambda p: re.sub(r"\D", "", unicodedata.normalize("NFKC", p))[-11:])
    per_person = own.assign(d=digits).drop_duplicates(["person_key", "d"])
    shared = per_person.groupby(["household_key", "d"])["person_key"].nunique()
    assert (shared > 1).sum() > 50


def test_addresses_are_chinese_with_variants(t: dict[str, pd.DataFrame]) -> None:
    addr = t["customers"]["address"]
    addr = addr[addr != ""]
    districts = "|".join(d for _, _, d in zh_vocab.DISTRICTS)
    assert addr.str.contains(districts).all()
    assert addr.str.contains("号").all()
    assert addr.str.contains("[０-９]").mean() > 0.01
    assert addr.str.contains(r"[一二三四]段").any()
    assert addr.str.contains(r"[1-4]段").any()
    guangdong = addr[addr.str.contains("深圳|广州")]
    assert guangdong.str.startswith("广东省").mean() > 0.5
    assert guangdong.str.match("广东(深圳|广州)").any()  # 省 left out
    assert guangdong.str.match("(深圳|广州)").any()  # the province left out


def test_timestamps_are_naive_local_time(t: dict[str, pd.DataFrame]) -> None:
    ts = t["transfers"]["ts"]
    assert ts.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    assert ts.min() >= "2026-06-01T00:00:00"
    assert ts.max() < "2026-09-01T00:00:00"


def test_truth_covers_every_record(t: dict[str, pd.DataFrame]) -> None:
    ids = set(t["customers"]["customer_id"])
    assert set(t["persons"]["customer_id"]) == ids
    assert set(t["households"]["customer_id"]) == ids
    assert set(t["record_noise"]["customer_id"]) <= ids
    assert set(t["record_noise"].columns) == {"customer_id", "field", "defect"}
    assert set(t["record_noise"]["defect"]) <= set(
        ["digit_typo", "digits_transposed", "hotline", "bad_check_char", "excel"]
    )


# --- bank-style export ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("export")
    generate(3_000, 4, root / "plain", locale="zh")
    generate(3_000, 4, root / "bank", locale="zh", export_style="bank")
    return root / "plain", root / "bank"


def _read(path: Path, encoding: str) -> list[dict[str, str]]:
    text = path.read_bytes().decode(encoding)
    return list(csv.DictReader(io.StringIO(text)))


def _mapping(folder: Path) -> dict[str, object]:
    loaded = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_bank_files_are_named_and_encoded_as_the_mapping_says(
    exported: tuple[Path, Path],
) -> None:
    _, folder = exported
    mapping = _mapping(folder)
    assert set(mapping) == {"encoding", "timezone", "source_systems", "files"}
    assert mapping["timezone"] == "Asia/Shanghai"
    assert mapping["source_systems"] == list(model.SOURCE_SYSTEMS)
    files = mapping["files"]
    assert isinstance(files, dict)
    written = {p.name for p in folder.glob("*.csv")}
    assert set(files) <= written
    assert "客户信息.csv" in files
    assert "accounts.csv" not in written
    assert "transfers.csv" not in written
    card = (folder / "客户信息.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        card.decode("utf-8")
    assert "客户姓名" in card.decode("gb18030")
    for name, spec in files.items():
        assert set(spec) <= {
            "table",
            "encoding",
            "timezone",
            "columns",
            "constants",
            "values",
            "formats",
        }
        table = model.TABLES[spec["table"]]
        rows = _read(folder / name, spec["encoding"])
        header = list(rows[0])
        assert header == list(spec["columns"].values()), name
        covered = set(spec["columns"]) | set(spec.get("constants", {}))
        assert covered == set(made_columns(table)), name
        for column, codes in spec.get("values", {}).items():
            used = {r[spec["columns"][column]] for r in rows} - {""}
            assert used <= set(codes), (name, column, used - set(codes))


def _to_model(value: str, column: str, spec: dict[str, dict[str, object]]) -> str:
    """What read17's mapping does to one value: codes, formats, thousands separators."""
    codes = spec.get("values", {}).get(column)
    if isinstance(codes, dict) and value in codes:
        mapped = codes[value]
        return str(mapped).lower() if isinstance(mapped, bool) else str(mapped)
    fmt = spec.get("formats", {}).get(column)
    if fmt == "percent":
        return value
    if isinstance(fmt, str) and value:
        parsed = datetime.strptime(value, fmt)
        return parsed.isoformat() if "%H" in fmt else parsed.date().isoformat()
    return value.replace(",", "") if re.fullmatch(r"-?[\d,]+\.\d+", value) else value


def test_mapping_reads_the_bank_files_back_to_the_plain_bank(
    exported: tuple[Path, Path],
) -> None:
    plain, folder = exported
    files = _mapping(folder)["files"]
    assert isinstance(files, dict)
    for name, spec in files.items():
        table = spec["table"]
        rows = _read(folder / name, spec["encoding"])
        back = pd.DataFrame(
            {
                column: [_to_model(r[header], column, spec) for r in rows]
                for column, header in spec["columns"].items()
            }
        )
        for column, value in spec.get("constants", {}).items():
            back[column] = value
        original = pd.read_csv(plain / f"{table}.csv", dtype=str, keep_default_na=False)
        if "constants" in spec:
            rest = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
            assert len(rest) + len(back) == len(original)
            original = original[original["source_system"] == spec["constants"]["source_system"]]
        original = original.reset_index(drop=True)[back.columns.tolist()]
        if spec.get("formats", {}).get("share") == "percent":
            shares = back.pop("share").str.rstrip("%").astype(float) / 100
            assert (abs(shares - original.pop("share").astype(float)) < 1e-9).all()
        pd.testing.assert_frame_equal(back, original, check_names=False)


def test_bank_codes_and_formats(exported: tuple[Path, Path]) -> None:
    _, folder = exported
    card = _read(folder / "客户信息.csv", "gb18030")
    assert {r["性别"] for r in card} <= {"男", "女"}
    assert {r["是否同意营销"] for r in card} == {"是", "否"}
    assert all(re.fullmatch(r"\d{8}", r["出生日期"]) for r in card if r["出生日期"])
    spend = [r["近12月消费金额"] for r in card]
    assert any("," in s for s in spend)
    tx = _read(folder / "交易流水.csv", "utf-8")
    assert all(re.fullmatch(r"\d{8} \d{6}", r["交易时间"]) for r in tx)
    assert {r["币种"] for r in tx} >= {"人民币"}
    shares = [r["持股比例"] for r in _read(folder / "股东信息.csv", "utf-8")]
    assert all(re.fullmatch(r"\d{1,3}(\.\d{1,2})?%", s) for s in shares)
    family = (folder / "家庭关系.csv").read_bytes()
    assert family.startswith(b"\xef\xbb\xbf")
    assert "配偶" in family.decode("utf-8-sig")
    roles = {r["职务"] for r in _read(folder / "任职信息.csv", "utf-8")}
    assert "法定代表人" in roles
    assert {r["账户状态"] for r in _read(folder / "账户信息.csv", "utf-8")} <= {
        "正常",
        "久悬",
        "销户",
    }


def test_dirty_rows_of_a_split_table_are_listed_at_their_line(tmp_path: Path) -> None:
    generate(2_000, 6, tmp_path, locale="zh", export_style="bank", dirty=0.03)
    dirty = pd.read_csv(tmp_path / "truth" / "dirty.csv", dtype=str, keep_default_na=False)
    for table, file, encoding in (
        ("customers", "客户信息.csv", "gb18030"),
        ("transfers", "交易流水.csv", "utf-8"),
    ):
        lines = (tmp_path / file).read_text(encoding=encoding).splitlines()
        listed = dirty[dirty["table"] == table]
        assert len(listed) > 0
        for key, line in zip(listed["key"], listed["line"].astype(int), strict=True):
            assert lines[line - 1].startswith(f'"{key}"'), (table, key, line)


def test_plain_export_removes_a_previous_bank_export(tmp_path: Path) -> None:
    generate(300, 2, tmp_path, locale="zh", export_style="bank")
    assert (tmp_path / "mapping.yaml").exists()
    generate(300, 2, tmp_path, locale="zh")
    assert not (tmp_path / "mapping.yaml").exists()
    assert not list(tmp_path.glob("客户信息*.csv"))
    assert (tmp_path / "accounts.csv").exists()
    assert bank_export.spec_for("accounts") is not None


def test_the_default_zh_bank_loads_through_its_mapping_losing_only_planted_rows(
    tmp_path: Path,
) -> None:
    bank, data = tmp_path / "bank", tmp_path / "data"
    made = CliRunner().invoke(
        app, ["synth", "--out", str(bank), "--customers", "300", "--dirty", "0.02"]
    )
    assert made.exit_code == 0, made.output
    loaded = CliRunner().invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert loaded.exit_code == 0, loaded.output
    report = json.loads((data / "load-report.json").read_text(encoding="utf-8"))
    planted = pd.read_csv(bank / "truth" / "dirty.csv", dtype=str)
    quarantined = {t["table"]: t["quarantined"] for t in report["tables"]}
    assert quarantined == {table: int((planted["table"] == table).sum()) for table in quarantined}
    with EmbeddedStore(data, read_only=True) as store:
        customers = store.read_table("customers", ["name", "source_system"]).to_pandas()
    assert set(customers["source_system"]) == set(model.SOURCE_SYSTEMS)
    assert customers["name"].str.contains(r"[\u4e00-\u9fff]").mean() > 0.7
