"""Person ids are a keyed HMAC: they do not give the id number away, and stay put under one key.

The attack plays a campaign user who sees, for a page of persons, the person id, the
birth date and the masked id number (first and last four characters), and hashes every
id number those allow.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.config import ConfigError, Settings
from relgraph.ingest import IngestError, load_directory
from relgraph.ingest.person_ids import (
    META_KEY,
    SECRET_FILE,
    PersonIdKey,
    hmac_id_sql,
    person_id_sql,
)
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

from .conftest import bank_tables, load, write_bank
from .test_linkage import resident_id

SECRET_A = "a-deployment-secret-0123456789abcdef"
SECRET_B = "another-secret-0123456789abcdefghijk"
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _ids(data: Path) -> dict[str, str]:
    """customer_id -> person_id in the store."""
    with EmbeddedStore(data, read_only=True) as store:
        table = store.read_table("customers", ["customer_id", "person_id"]).to_pydict()
    return dict(zip(table["customer_id"], table["person_id"], strict=True))


@pytest.fixture(scope="module")
def synth_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "bank"
    generate(400, 11, folder, "csv")
    return folder


# -- the HMAC in SQL is the HMAC -------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [b"k" * 32, os.urandom(32), os.urandom(64), os.urandom(100), "秘密".encode() * 20],
    ids=["text", "32-bytes", "one-block", "longer-than-a-block", "utf-8"],
)
def test_sql_person_ids_equal_python_hmac_sha256(secret: bytes) -> None:
    key = PersonIdKey(secret)
    messages = ["id:11010519491231002X", "record:C1", "record:客户-7", "id:", "x" * 200]
    con = duckdb.connect()
    key.install(con)
    got = con.execute(
        f"SELECT {hmac_id_sql('m')} FROM unnest(?) t(m)",
        [messages],
    ).fetchall()
    want = ["P" + hmac.new(secret, m.encode(), hashlib.sha256).hexdigest()[:16] for m in messages]
    assert [row[0] for row in got] == want
    assert [key.person_id(m) for m in messages] == want


def test_record_ids_without_an_id_number_are_keyed_too() -> None:
    key = PersonIdKey(b"k" * 32)
    con = duckdb.connect()
    key.install(con)
    rows = con.execute(
        f"SELECT {person_id_sql('idn', 'cid')} FROM (VALUES ('X1', NULL), (NULL, 'C9')) t(idn, cid)"
    ).fetchall()
    assert [r[0] for r in rows] == [key.person_id("id:X1"), key.person_id("record:C9")]
    assert rows[1][0] != "P" + hashlib.md5(b"record:C9").hexdigest()[:16]


def test_sql_without_the_key_fails_instead_of_giving_null_ids() -> None:
    con = duckdb.connect()
    with pytest.raises(duckdb.Error, match="person id key not installed"):
        con.execute(f"SELECT {hmac_id_sql(repr('id:1'))}").fetchall()


def test_the_key_is_not_in_its_repr() -> None:
    secret = b"very-secret-key-material-0123456789"
    assert secret.decode() not in repr(PersonIdKey(secret))
    assert secret.hex() not in repr(PersonIdKey(secret))


# -- the attack -----------------------------------------------------------------------------


def _check_char(first17: str) -> str:
    return "10X98765432"[
        sum(int(c) * w for c, w in zip(first17, _GB11643_WEIGHTS, strict=True)) % 11
    ]


def _candidates(first4: str, birth: str, last4: str) -> list[str]:
    """Every id number with these visible parts: the two hidden region digits vary (GB 11643:
    region 6 + birth date 8 + sequence 3 + check; the last four are sequence + check)."""
    return [f"{first4}{d:02d}{birth}{last4}" for d in range(100)]


def _unkeyed(candidate: str) -> set[str]:
    out = set()
    for message in (candidate, "id:" + candidate):
        for digest in (hashlib.md5, hashlib.sha256, hashlib.sha1):
            out.add("P" + digest(message.encode()).hexdigest()[:16])
    return out


def _campaign_page(data: Path, size: int = 60) -> list[tuple[str, str, str, str]]:
    """(person id, birth date YYYYMMDD, first four, last four) of a page of persons with a
    resident id number, plus the truth the attacker does not have, for the sanity check."""
    with EmbeddedStore(data, read_only=True) as store:
        persons = store.read_frame("persons", ["person_id", "birth_date"])
        customers = store.read_frame("customers", ["person_id", "id_number_norm"])
    idn = customers.dropna().drop_duplicates("person_id").set_index("person_id")["id_number_norm"]
    page = []
    for pid, born in persons.sort_values("person_id").itertuples(index=False):
        number = idn.get(pid)
        if number is None or len(number) != 18 or born is None or born != born:
            continue
        birth = datetime.fromtimestamp(int(born) / 1000, UTC).strftime("%Y%m%d")
        if number[6:14] != birth:
            continue
        page.append((pid, birth, number[:4], number[-4:]))
    return page[:size]


def test_attack_masked_id_and_birth_date_do_not_reproduce_person_ids(
    tmp_path: Path, synth_bank: Path
) -> None:
    data = tmp_path / "data"
    load(synth_bank, data)
    page = _campaign_page(data)
    assert len(page) >= 50, "the synthetic bank should give a full page of persons"
    real = PersonIdKey((data / SECRET_FILE).read_text().strip().encode())
    wrong = [PersonIdKey(b""), PersonIdKey(b"relgraph"), PersonIdKey(os.urandom(32))]
    for pid, birth, first4, last4 in page:
        candidates = _candidates(first4, birth, last4)
        # The attacker's search space holds the truth, and the check character narrows it.
        assert sum(c[17] == _check_char(c[:17]) for c in candidates) <= 12
        guessed = set().union(*(_unkeyed(c) for c in candidates))
        guessed |= {k.person_id("id:" + c) for k in wrong for c in candidates}
        guessed |= {k.person_id(c) for k in wrong for c in candidates}
        assert pid not in guessed
        # With the deployment's secret exactly one candidate gives the id: the search was
        # right, only the key is missing.
        assert sum(real.person_id("id:" + c) == pid for c in candidates) == 1


# -- stability, a new secret, the upgrade ------------------------------------------------------


def test_ids_are_stable_across_loads_with_the_same_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELGRAPH_ID_SECRET", SECRET_A)
    tables = bank_tables()
    load(write_bank(tmp_path / "a", tables), tmp_path / "one")
    load(write_bank(tmp_path / "a", tables), tmp_path / "two")  # another deployment
    assert _ids(tmp_path / "one") == _ids(tmp_path / "two")
    assert not (tmp_path / "one" / SECRET_FILE).exists()  # the variable is the secret
    key = PersonIdKey(SECRET_A.encode())
    # The fixture's id number has a wrong check character: no evidence, so no id from it.
    assert _ids(tmp_path / "one")["C1"] == key.person_id("record:C1")
    assert _ids(tmp_path / "one")["C3"] == key.person_id("record:C3")


def test_ids_are_stable_across_loads_with_the_secret_file(tmp_path: Path) -> None:
    tables = bank_tables()
    data = tmp_path / "data"
    load(write_bank(tmp_path / "a", tables), data)
    before = _ids(data)
    tables["customers"][0]["segment"] = "private"  # a changed input, not an unchanged reload
    report = load(write_bank(tmp_path / "b", tables), data)
    assert not report.unchanged
    assert report.person_id_map is None
    assert _ids(data) == before
    assert not list(data.glob("person-id-map*"))


def test_the_secret_file_is_made_once_with_mode_0600(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    load(bank_dir, data)
    path = data / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(bytes.fromhex(text)) == 32
    load(bank_dir, data)
    assert path.read_text().strip() == text
    assert [p.name for p in data.iterdir() if "secret" in p.name] == [SECRET_FILE]


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / SECRET_FILE).write_text("x" * 64)
    (data / SECRET_FILE).chmod(0o644)
    with pytest.raises(IngestError, match=r"can be read by other users: run `chmod 600 "):
        load(bank_dir, data)
    with EmbeddedStore(data, read_only=True) as store:
        assert not store.has_table("customers")


def test_a_short_secret_variable_is_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigError, match="at least 32 characters") as caught:
        Settings.from_env({"RELGRAPH_ID_SECRET": "hunter2-hunter2"})
    assert "hunter2" not in str(caught.value)
    assert Settings.from_env({"RELGRAPH_ID_SECRET": " "}).id_secret is None
    assert SECRET_A not in repr(Settings.from_env({"RELGRAPH_ID_SECRET": SECRET_A}))


def _read_map(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["old_person_id", "new_person_id"]
    return [(a, b) for a, b in rows[1:]]


def test_a_new_secret_changes_every_id_and_writes_the_map(
    tmp_path: Path, bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("RELGRAPH_ID_SECRET", SECRET_A)
    load(bank_dir, data)
    old = _ids(data)
    monkeypatch.setenv("RELGRAPH_ID_SECRET", SECRET_B)
    # Before, this load went through with exit 0 and every person id changed (a shell or a
    # cron job without the server's RELGRAPH_ID_SECRET): now it is refused, ids kept.
    with pytest.raises(IngestError, match=r"is not that secret.*--new-id-secret"):
        load(bank_dir, data)
    assert _ids(data) == old
    with EmbeddedStore(data) as store:  # the same files: the new key alone forces the reload
        report = load_directory(bank_dir, store, data, new_id_secret=True)
    assert not report.unchanged
    new = _ids(data)
    assert all(new[c] != old[c] for c in old)
    assert report.person_id_map is not None
    path = Path(report.person_id_map)
    assert path.parent == data
    assert path.name.startswith("person-id-map-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(_read_map(path)) == sorted({(old[c], new[c]) for c in old})
    # The person without an id number keeps its new id from now on.
    tables = bank_tables()
    tables["customers"].append({"customer_id": "C9", "source_system": "core", "name": "Zhou"})
    again = load(write_bank(tmp_path / "more", tables), data)
    assert again.person_id_map is None
    assert {c: _ids(data)[c] for c in new} == new


def test_a_record_that_gains_an_id_number_gets_a_new_id_and_the_map_says_so(
    tmp_path: Path,
) -> None:
    # Wang Fang had no id number; the next export gives one (hers: born 1980-01-31, female).
    # Her person id becomes the id number's, and a campaign list holding the old one must
    # be able to follow it: the load maps the one id that changed, and only that one.
    tables = bank_tables()
    data = tmp_path / "data"
    load(write_bank(tmp_path / "a", tables), data)
    before = _ids(data)
    tables["customers"][2]["id_number"] = resident_id("44030419800131002")
    report = load(write_bank(tmp_path / "b", tables), data)
    after = _ids(data)
    assert after["C3"] != before["C3"]
    assert {c: after[c] for c in ("C1", "C2")} == {c: before[c] for c in ("C1", "C2")}
    assert report.person_id_map is not None
    assert report.person_ids_changed == 1
    path = Path(report.person_id_map)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _read_map(path) == [(before["C3"], after["C3"])]
    # A later load that changes no id writes no map.
    tables["customers"][0]["segment"] = "private"
    assert load(write_bank(tmp_path / "c", tables), data).person_id_map is None
    assert len(list(data.glob("person-id-map*"))) == 1


def test_the_first_load_after_the_upgrade_maps_the_md5_ids(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    load(bank_dir, data)
    # Make the store look like one written before keyed ids: MD5 person ids, no key check.
    with EmbeddedStore(data) as store:
        tables = {name: store.read_table(name) for name in store.table_names()}
        customers = tables["customers"].to_pandas()
        md5 = [
            "P" + hashlib.md5(("id:" + i if i else "record:" + c).encode()).hexdigest()[:16]
            for i, c in zip(customers["id_number_norm"].fillna(""), customers["customer_id"], strict=True)
        ]  # fmt: skip
        tables["customers"] = tables["customers"].set_column(
            tables["customers"].schema.get_field_index("person_id"), "person_id", pa.array(md5)
        )
        meta = {k: v for k, v in store.meta().items() if k != META_KEY} | {"fingerprint": "old"}
        store.replace_tables(tables, meta)
    old = _ids(data)
    report = load(bank_dir, data)
    new = _ids(data)
    key = PersonIdKey((data / SECRET_FILE).read_text().strip().encode())
    # The fixture's id number has a wrong check character: no evidence, so no id from it.
    assert new["C1"] == key.person_id("record:C1") != old["C1"]
    assert new["C3"] == key.person_id("record:C3")  # not the MD5 id carried over
    assert report.person_id_map is not None
    assert sorted(_read_map(Path(report.person_id_map))) == sorted({(old[c], new[c]) for c in old})
    assert "person-id-map" in Path(data / "load-report.json").read_text()


# -- the secret is never shown --------------------------------------------------------------


def _files_holding(folder: Path, needle: bytes) -> list[str]:
    return [
        p.name
        for p in folder.rglob("*")
        if p.is_file() and p.name != SECRET_FILE and needle in p.read_bytes()
    ]


@pytest.mark.parametrize("from_env", [True, False], ids=["variable", "file"])
def test_the_secret_is_never_printed_logged_or_stored(
    tmp_path: Path, bank_dir: Path, from_env: bool, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    env = {"RELGRAPH_ID_SECRET": SECRET_A} if from_env else {"RELGRAPH_ID_SECRET": ""}
    runner = CliRunner()
    with caplog.at_level(logging.DEBUG):
        first = runner.invoke(app, ["load", str(bank_dir), "--data-dir", str(data)], env=env)
        assert first.exit_code == 0, first.output
        env2 = {"RELGRAPH_ID_SECRET": SECRET_B}  # a new key: the map is announced
        args = ["load", str(bank_dir), "--data-dir", str(data)]
        refused = runner.invoke(app, args, env=env2)
        assert refused.exit_code == 2, refused.output
        second = runner.invoke(app, [*args, "--new-id-secret"], env=env2)
        assert second.exit_code == 0, second.output
    assert "person-id-map-" in "".join(second.output.split())  # rich wraps long paths
    secret = SECRET_A if from_env else (data / SECRET_FILE).read_text().strip()
    for needle in (secret, SECRET_B):
        for shown in (first.output, refused.output, second.output, caplog.text):
            assert needle not in shown
        assert _files_holding(data, needle.encode()) == []
    key = PersonIdKey(secret.encode())
    pads = key._pads()
    assert all(_files_holding(data, pad) == [] for pad in pads)


def test_a_data_directory_moved_without_its_secret_file_is_refused_not_re_keyed(
    tmp_path: Path, bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the load made a new random id-secret and gave all 5 persons new ids, exit 0.
    monkeypatch.delenv("RELGRAPH_ID_SECRET", raising=False)
    data = tmp_path / "data"
    load(bank_dir, data)
    old = _ids(data)
    (data / SECRET_FILE).rename(tmp_path / "kept-secret")
    with pytest.raises(IngestError, match=r"id-secret is missing.*Restore `id-secret`"):
        load(bank_dir, data)
    assert not (data / SECRET_FILE).exists()  # no new secret made behind the operator's back
    assert _ids(data) == old
    (tmp_path / "kept-secret").rename(data / SECRET_FILE)  # restored: loads as before
    assert load(bank_dir, data).unchanged


def test_load_directory_takes_the_secret_as_an_argument(tmp_path: Path, bank_dir: Path) -> None:
    with EmbeddedStore(tmp_path / "data") as store:
        load_directory(bank_dir, store, tmp_path / "data", id_secret=SECRET_A)
    assert _ids(tmp_path / "data")["C3"] == PersonIdKey(SECRET_A.encode()).person_id("record:C3")


def test_v1_gives_strangers_sharing_a_placeholder_id_number_their_own_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Identity resolution v1 makes a person of a shared id number; Li Wei and Wang Fang,
    # whose export wrote 无 (or Excel's notation) for theirs, share none.
    monkeypatch.setenv("RELGRAPH_ID_SECRET", SECRET_A)
    monkeypatch.setenv("RELGRAPH_IDENTITY_ENABLED", "0")
    key = PersonIdKey(SECRET_A.encode())
    for junk in ("无", "1.10105E+17", "000000000000000000"):
        tables = bank_tables()
        tables["customers"][0]["id_number"] = junk
        tables["customers"][2]["id_number"] = junk
        load(write_bank(tmp_path / junk, tables), tmp_path / f"data-{junk}")
        ids = _ids(tmp_path / f"data-{junk}")
        assert ids["C1"] == key.person_id("record:C1")
        assert ids["C3"] == key.person_id("record:C3")
    # A real id number still makes one person of v1's records, check character or not.
    load(write_bank(tmp_path / "real", bank_tables()), tmp_path / "data-real")
    ids = _ids(tmp_path / "data-real")
    assert ids["C1"] == ids["C2"] == key.person_id("id:11010519720610333X")
