"""The synthetic bank: determinism, schema, referential integrity and the planted structures."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from relgraph import model
from relgraph.ingest import normalise
from relgraph.synth import generate
from relgraph.synth.frame import made_columns

CUSTOMERS = 5000
SEED = 11
DAY_S = 86_400


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(CUSTOMERS, SEED, out)
    return out


@pytest.fixture(scope="module")
def t(bank: Path) -> dict[str, pd.DataFrame]:
    """Every input and truth table as text ('' = missing)."""
    tables = {
        name.stem: pd.read_csv(name, dtype=str, keep_default_na=False)
        for name in [*bank.glob("*.csv"), *bank.glob("truth/*.csv")]
    }
    return tables


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.*"))}


# --- determinism and arguments ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path, fmt: str) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    counts = generate(1500, 3, a, fmt, dirty=0.02)
    assert generate(1500, 3, b, fmt, dirty=0.02) == counts
    generate(1500, 4, c, fmt, dirty=0.02)
    files_a, files_b, files_c = _files(a), _files(b), _files(c)
    assert len(files_a) == len(model.INPUT_TABLES) + 8
    assert files_a == files_b
    for name in files_a:
        if name != "truth/dirty.csv" or files_a[name] != b"":
            assert files_a[name] != files_c[name], name


@pytest.mark.parametrize(
    ("customers", "fmt", "dirty"),
    [(9, "csv", 0.0), (0, "csv", 0.0), (100, "json", 0.0), (100, "csv", 0.5), (100, "csv", -0.1)],
)
def test_bad_arguments_raise(tmp_path: Path, customers: int, fmt: str, dirty: float) -> None:
    with pytest.raises(ValueError, match=r"customers|format|dirty"):
        generate(customers, 1, tmp_path, fmt, dirty)


def test_progress_reports_stages(tmp_path: Path) -> None:
    stages: list[str] = []
    generate(200, 1, tmp_path, progress=stages.append)
    assert {"persons", "accounts", "transfers", "writing transfers"} <= set(stages)


# --- schema and formats -----------------------------------------------------------------


def test_columns_and_counts(bank: Path, t: dict[str, pd.DataFrame]) -> None:
    for table in model.INPUT_TABLES:
        assert tuple(t[table.name].columns) == made_columns(table)
        made_key = [k for k in table.key if k in made_columns(table)]  # no contract ids
        assert t[table.name].duplicated(made_key).sum() == 0, table.name
    assert len(t["customers"]) == CUSTOMERS


def test_parquet_has_the_csv_rows(tmp_path: Path) -> None:
    counts = generate(600, 5, tmp_path / "p", "parquet")
    generate(600, 5, tmp_path / "c", "csv")
    for table in model.INPUT_TABLES:
        pqt = pq.read_table(tmp_path / "p" / f"{table.name}.parquet")
        assert tuple(pqt.column_names) == made_columns(table)
        assert pqt.num_rows == counts[table.name]
        csv = pd.read_csv(tmp_path / "c" / f"{table.name}.csv", dtype=str, keep_default_na=False)
        first = table.column_names[0]
        assert pqt.column(first).to_pylist() == csv[first].tolist()
    money = pq.read_table(tmp_path / "p" / "transfers.parquet").schema.field("amount").type
    assert str(money) == "double"


def test_value_formats(t: dict[str, pd.DataFrame]) -> None:
    date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
    money = re.compile(r"^\d+\.\d{2}$")
    for table in model.INPUT_TABLES:
        frame = t[table.name]
        for col in table.columns:
            if col.name not in made_columns(table):
                continue
            values = frame[col.name][frame[col.name] != ""]
            if col.required:
                assert (frame[col.name] != "").all(), (table.name, col.name)
            if col.enum:
                assert set(values) <= set(col.enum), (table.name, col.name)
            if col.dtype == "date":
                assert values.str.match(date).all()
                pd.to_datetime(values, format="%Y-%m-%d")
            if col.dtype == "timestamp":
                assert values.str.match(stamp).all()
                pd.to_datetime(values, format="%Y-%m-%dT%H:%M:%S")
            if col.dtype == "bool":
                assert set(values) <= {"true", "false"}
            if col.dtype == "float" and col.name != "share":
                assert values.str.match(money).all(), (table.name, col.name)
    products = t["customers"]["products"].str.split(";").explode()
    assert set(products) <= set(model.PRODUCTS)
    assert set(t["transfers"]["currency"]) <= {"CNY", "USD", "HKD"}
    assert (t["transfers"]["currency"] == "CNY").mean() > 0.98


def test_ids_look_like_a_bank(t: dict[str, pd.DataFrame]) -> None:
    cust = t["customers"]
    prefix = {"core": "CB", "card": "CD", "loan": "LN", "wealth": "WM"}
    assert (cust["customer_id"].str[:2] == cust["source_system"].map(prefix)).all()
    assert cust["customer_id"].str.match(r"^(CB|CD|LN|WM)\d{8}$").all()
    assert t["enterprises"]["enterprise_id"].str.match(r"^E\d{7}$").all()
    assert t["accounts"]["account_id"].str.match(r"^A\d{9}$").all()
    assert t["transfers"]["tx_id"].str.match(r"^T\d{12}$").all()
    assert t["enterprises"]["credit_code"].str.match(r"^91\d{6}[0-9A-Z]{10}$").all()
    kiosks = t["device_links"]["device_id"].str.startswith("KIOSK-BR")
    assert (t["device_links"]["device_kind"][kiosks] == "kiosk").all()


def _check_char(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def test_resident_ids_carry_a_valid_check_digit(t: dict[str, pd.DataFrame]) -> None:
    cust = t["customers"]
    typo = set(t["record_noise"].query("field == 'id_number'")["customer_id"])
    ids = cust[cust["id_number"] != ""]
    norm = ids["id_number"].str.replace(r"[\s-]", "", regex=True).str.upper()
    valid = norm.map(lambda s: len(s) == 18 and _check_char(s[:17]) == s[17])
    in_typo = ids["customer_id"].isin(typo)
    assert valid[~in_typo].all()
    assert not valid[in_typo].any()
    born = ids["birth_date"].str.replace("-", "")
    assert ((norm.str[6:14] == born) | (born == "") | in_typo).all()


# --- referential integrity and truth --------------------------------------------------------


def _ids(t: dict[str, pd.DataFrame], table: str) -> set[str]:
    return set(t[table][model.TABLES[table].key[0]])


def test_foreign_keys_resolve_and_no_self_references(t: dict[str, pd.DataFrame]) -> None:
    party = {"customer": _ids(t, "customers"), "enterprise": _ids(t, "enterprises")}
    for table in model.INPUT_TABLES:
        frame = t[table.name]
        for fk in table.foreign_keys:
            if fk.kind_column is None:
                assert frame[fk.column].isin(_ids(t, fk.targets[""])).all(), (table.name, fk)
            else:
                for kind, ids in party.items():
                    rows = frame[frame[fk.kind_column] == kind]
                    assert rows[fk.column].isin(ids).all(), (table.name, fk.column, kind)
        if table.no_self_reference:
            a, b = table.no_self_reference
            assert (frame[a] != frame[b]).all()


def test_truth_ids_exist(t: dict[str, pd.DataFrame]) -> None:
    customers, enterprises = _ids(t, "customers"), _ids(t, "enterprises")
    for name in ("persons", "households"):
        assert sorted(t[name]["customer_id"]) == sorted(customers)
    assert t["groups"]["enterprise_id"].isin(enterprises).all()
    assert t["groups"]["controller_id"].isin(customers).all()
    assert t["groups"]["controller_id"].str.startswith("CB").all()
    assert t["guarantee_circles"]["member_id"].isin(customers | enterprises).all()
    assert t["influencers"]["customer_id"].isin(customers).all()
    assert t["laundering"]["tx_id"].isin(_ids(t, "transfers")).all()
    assert t["record_noise"]["customer_id"].isin(customers).all()
    assert len(t["dirty"]) == 0


# --- persons and their records ----------------------------------------------------------


def _person_of(t: dict[str, pd.DataFrame]) -> dict[str, str]:
    return dict(zip(t["persons"]["customer_id"], t["persons"]["person_key"], strict=True))


def test_share_of_persons_with_several_records(t: dict[str, pd.DataFrame]) -> None:
    per_person = t["persons"]["person_key"].value_counts()
    assert 0.15 <= (per_person >= 2).mean() <= 0.30
    assert per_person.max() <= 4
    cust = t["customers"].merge(t["persons"], on="customer_id")
    assert not cust.duplicated(["person_key", "source_system"]).any()


def _ingest_rule(rule: Callable[[list[str]], pa.Array]) -> Callable[[pd.Series], pd.Series]:
    """Ingest's own normalisation rule applied to a column (the synth must fool no one else)."""
    return lambda column: pd.Series(rule(column.tolist()).to_pylist(), index=column.index)


NORMALISERS = {
    "name": _ingest_rule(normalise.name),
    "id_number": _ingest_rule(normalise.id_number),
    "phone": _ingest_rule(normalise.phone),
    "email": _ingest_rule(normalise.email),
    "address": _ingest_rule(normalise.address),
}


def test_variants_of_one_person_normalise_equal(t: dict[str, pd.DataFrame]) -> None:
    cust = t["customers"].merge(t["persons"], on="customer_id")
    noise = t["record_noise"]
    multi = cust[cust.duplicated("person_key", keep=False)]
    for field, norm in NORMALISERS.items():
        noisy = set(noise[noise["field"] == field]["customer_id"])
        rows = multi[(multi[field] != "") & ~multi["customer_id"].isin(noisy)]
        normed = norm(rows[field])
        assert (normed.groupby(rows["person_key"]).nunique() == 1).all(), field
        # The raw spellings really do vary.
        assert (rows[field].groupby(rows["person_key"]).nunique() > 1).mean() > 0.1, field
        if field in ("id_number", "phone"):
            assert normed.str.match(r"^\d{17}[\dX]$|^1\d{10}$").all()
    # The deliberate typos: about 2% of duplicate records, and they really differ.
    duplicates = len(cust) - cust["person_key"].nunique()
    typos = noise[noise["defect"] != "hotline"]
    assert 0.01 * duplicates <= len(typos) <= 0.035 * duplicates
    for field in ("id_number", "phone"):
        ids = typos[typos["field"] == field]["customer_id"]
        bad = cust[cust["customer_id"].isin(ids)]
        good = multi[~multi["customer_id"].isin(noise["customer_id"]) & (multi[field] != "")]
        ref = NORMALISERS[field](good.groupby("person_key")[field].first())
        compared = bad[bad["person_key"].isin(ref.index) & (bad[field] != "")]
        assert len(compared) > 0
        assert (NORMALISERS[field](compared[field]) != compared["person_key"].map(ref)).all()
    card = t["customers"][t["customers"]["source_system"] == "card"]
    assert 0.25 < (card["id_number"] == "").mean() < 0.55


def test_each_record_carries_its_own_systems_figures(t: dict[str, pd.DataFrame]) -> None:
    cust = t["customers"]
    own = {"core": "deposits", "card": "card_spend_12m", "loan": "loans", "wealth": "aum"}
    for system, column in own.items():
        rows = cust[cust["source_system"] == system]
        assert (rows[column] != "").all()
        for other in set(own.values()) - {column}:
            assert (rows[other] == "").all()
    assert 0.75 <= (cust["consent_marketing"] == "true").mean() <= 0.85
    assert (cust["risk_rating"] == "low").mean() > 0.75


# --- households, devices, family -------------------------------------------------------


def test_households(t: dict[str, pd.DataFrame]) -> None:
    hh = t["households"].merge(t["persons"], on="customer_id")
    persons_per_household = hh.groupby("household_key")["person_key"].nunique()
    assert persons_per_household.between(1, 6).all()
    assert persons_per_household.max() == 6
    assert hh.groupby("person_key")["household_key"].nunique().eq(1).all()
    # Family ties are declared only inside households, and only for part of them.
    fam = t["family"]
    hh_of = dict(zip(hh["customer_id"], hh["household_key"], strict=True))
    assert (fam["customer_id"].map(hh_of) == fam["relative_id"].map(hh_of)).all()
    multi = persons_per_household[persons_per_household > 1].index
    declared = set(fam["customer_id"].map(hh_of))
    assert 0.45 <= len(declared & set(multi)) / len(multi) <= 0.75
    # Flatmates: unrelated households at one address.
    cust = t["customers"].merge(hh, on="customer_id")
    cust = cust[cust["address"] != ""]
    cust["addr"] = NORMALISERS["address"](cust["address"])
    per_address = cust.groupby("addr")["household_key"].nunique()
    assert (per_address > 1).sum() > 10
    assert per_address.max() <= 4


def test_public_devices_and_shared_family_devices(t: dict[str, pd.DataFrame]) -> None:
    links = t["device_links"].merge(t["persons"], on="customer_id")
    users = links.groupby("device_id")["person_key"].nunique()
    kinds = links.groupby("device_id")["device_kind"].first()
    assert users[kinds == "kiosk"].max() >= 100
    assert users[links.groupby("device_id")["device_id"].first().str.startswith("PC-")].max() >= 20
    tablets = users[kinds == "tablet"]
    assert len(tablets) > 0
    assert (tablets >= 2).all()
    own = links[kinds.reindex(links["device_id"]).to_numpy() == "mobile"]
    assert own.groupby("person_key")["device_id"].nunique().max() <= 2
    assert (links["last_seen"] >= links["first_seen"]).all()
    hotline = t["customers"]["phone"].isin(["95588", "400-820-8888"])
    assert hotline.sum() >= 5


# --- enterprises -----------------------------------------------------------------------------


def test_enterprises_and_ownership(t: dict[str, pd.DataFrame]) -> None:
    ent = t["enterprises"]
    assert CUSTOMERS // 25 <= len(ent) <= CUSTOMERS // 15
    sh = t["shareholdings"].assign(share=lambda d: d["share"].astype(float))
    assert sh.groupby("enterprise_id")["share"].sum().max() <= 1.0 + 1e-9
    corp = sh[sh["holder_kind"] == "enterprise"]
    graph = nx.DiGraph(list(zip(corp["holder_id"], corp["enterprise_id"], strict=True)))
    cycles = list(nx.simple_cycles(graph))
    assert any(len(c) == 3 for c in cycles)
    assert any(len(c) == 2 for c in cycles)
    groups = t["groups"]
    assert groups["group_key"].nunique() >= 3
    # Multi-level: some member is held by a member that is itself held by a member.
    member_of = dict(zip(groups["enterprise_id"], groups["group_key"], strict=True))
    inside = corp[corp["holder_id"].map(member_of) == corp["enterprise_id"].map(member_of)]
    held = set(inside["enterprise_id"])
    assert any(h in held for h in inside["holder_id"])
    # Under the design's rule the controller is the ultimate controller of every member:
    # integrated ownership ((I - W)^-1 - I over all paths) > 50%, else the largest at >= 25%.
    nodes = sorted(set(sh["holder_id"]) | set(sh["enterprise_id"]))
    index = {n: i for i, n in enumerate(nodes)}
    w = np.zeros((len(nodes), len(nodes)))
    w[sh["holder_id"].map(index), sh["enterprise_id"].map(index)] = sh["share"]
    integrated = np.linalg.inv(np.eye(len(nodes)) - w) - np.eye(len(nodes))
    is_person = np.array([not n.startswith("E") for n in nodes])
    for member, controller in zip(groups["enterprise_id"], groups["controller_id"], strict=True):
        stakes = np.where(is_person, integrated[:, index[member]], 0.0)
        own = stakes[index[controller]]
        assert own > 0.5 or (own >= 0.25 and own == stakes.max()), member
    pos = t["positions"]
    assert set(pos["role"]) == set(model.ROLES)
    assert (
        pos.groupby("enterprise_id")["role"].apply(lambda r: (r == "legal_rep").sum()) <= 1
    ).all()


def test_guarantee_circles_are_the_only_cycles(t: dict[str, pd.DataFrame]) -> None:
    g = t["guarantees"]
    graph = nx.DiGraph(list(zip(g["guarantor_id"], g["borrower_id"], strict=True)))
    circles = t["guarantee_circles"]
    assert circles["circle_key"].nunique() >= 2
    planted = set()
    for _, members in circles.groupby("circle_key", sort=False):
        ids = list(members["member_id"])
        assert 2 <= len(ids) <= 5
        for a, b in zip(ids, ids[1:] + ids[:1], strict=True):
            assert graph.has_edge(a, b)
        planted.add(frozenset(ids))
    found = {frozenset(c) for c in nx.simple_cycles(graph)}
    assert found == planted
    assert len(g) > 10 * len(circles)


# --- referrals --------------------------------------------------------------------------------


def test_referral_cascades(t: dict[str, pd.DataFrame]) -> None:
    person = _person_of(t)
    ref = t["referrals"]
    parent = dict(zip(ref["referred_id"].map(person), ref["referrer_id"].map(person), strict=True))
    assert len(parent) == len(ref)  # everyone is referred at most once
    when = dict(zip(ref["referred_id"].map(person), ref["referred_at"], strict=True))
    for child, par in parent.items():
        if par in when:
            assert when[par] < when[child]
    graph = nx.DiGraph(list(parent.items()))
    assert nx.is_directed_acyclic_graph(graph)
    downstream = {
        p: len(nx.ancestors(graph, p)) for p in set(parent.values())
    }  # edges point child -> parent
    sizes = np.array(sorted(downstream.values()))
    assert sizes[-1] >= 5 * np.median(sizes)
    inf = t["influencers"]
    assert inf["rank"].astype(int).tolist() == list(range(1, len(inf) + 1))
    assert 10 <= len(inf) <= 100
    assert int(inf["downstream"].iloc[0]) == sizes[-1]
    assert (inf["customer_id"].map(person).map(downstream) == inf["downstream"].astype(int)).all()


# --- accounts and transfers --------------------------------------------------------------


def test_accounts(t: dict[str, pd.DataFrame]) -> None:
    acc = t["accounts"]
    per_row = (acc["holder_kind"] == "customer").sum() / CUSTOMERS
    assert 1.5 <= per_row <= 2.0
    assert (acc["holder_kind"] == "enterprise").any()
    cust = t["customers"].set_index("customer_id")
    held = acc[acc["holder_kind"] == "customer"]
    system_product = {"core": "deposit", "card": "card", "loan": "loan", "wealth": "wealth"}
    assert (
        held["holder_id"].map(cust["source_system"]).map(system_product) == held["product"]
    ).all()


def test_transfers_volume_and_span(t: dict[str, pd.DataFrame]) -> None:
    tr = t["transfers"]
    assert len(tr) >= 5 * CUSTOMERS
    ts = pd.to_datetime(tr["ts"])
    assert (ts.max() - ts.min()).days >= 90
    assert ts.is_monotonic_increasing
    assert tr["tx_id"].is_monotonic_increasing


def test_transfers_only_touch_open_accounts(t: dict[str, pd.DataFrame]) -> None:
    acc = t["accounts"].set_index("account_id")
    tr = t["transfers"]
    day = tr["ts"].str[:10]
    for side in ("from_account", "to_account"):
        assert (acc["opened_at"].reindex(tr[side]).to_numpy() <= day.to_numpy()).all()
        assert (acc["status"].reindex(tr[side]) != "closed").all()


def _laundering(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    tx = t["transfers"].set_index("tx_id")
    lt = t["laundering"].join(tx, on="tx_id")
    lt["amount"] = lt["amount"].astype(float)
    lt["ts"] = pd.to_datetime(lt["ts"])
    return lt.sort_values(["pattern_key", "ts"])


def test_laundering_patterns(t: dict[str, pd.DataFrame]) -> None:
    lt = _laundering(t)
    kinds = lt.groupby("pattern_key")["typology"].first().value_counts()
    assert set(kinds.index) == {"layering_chain", "cycle", "scatter_gather", "fan_in", "fan_out"}
    assert kinds.min() >= 2
    accounts = t["accounts"].set_index("account_id")
    opened = pd.to_datetime(accounts["opened_at"])
    recent = 0
    for key, p in lt.groupby("pattern_key"):
        typology = p["typology"].iloc[0]
        span = p["ts"].max() - p["ts"].min()
        assert span <= pd.Timedelta(hours=72), key
        start = p["ts"].min()
        involved = set(p["from_account"]) | set(p["to_account"])
        recent += sum(start - opened[a] <= pd.Timedelta(days=60) for a in involved)
        if typology in ("layering_chain", "cycle"):
            assert 3 <= len(p) <= 6
            assert (
                p["to_account"].iloc[:-1].to_numpy() == p["from_account"].iloc[1:].to_numpy()
            ).all()
            assert p["ts"].is_monotonic_increasing
            ratio = p["amount"].iloc[1:].to_numpy() / p["amount"].iloc[:-1].to_numpy()
            assert ((ratio >= 0.8) & (ratio <= 1.0)).all(), key
            assert p["amount"].iloc[0] >= 5000
        if typology == "cycle":
            holder = accounts["holder_id"]
            person = _person_of(t)
            hh = dict(
                zip(t["households"]["customer_id"], t["households"]["household_key"], strict=True)
            )
            origin, end = p["from_account"].iloc[0], p["to_account"].iloc[-1]
            assert (
                hh[holder[origin]] == hh[holder[end]]
                or person[holder[origin]] == person[holder[end]]
            )
        if typology in ("fan_in", "fan_out"):
            assert len(p) >= 5
            assert (p["amount"] < 50_000).all()
            hub = p["to_account"] if typology == "fan_in" else p["from_account"]
            assert hub.nunique() == 1
        if typology == "scatter_gather":
            assert p["from_account"].iloc[0] == p["from_account"].iloc[: len(p) // 2].iloc[0]
            assert p["to_account"].value_counts().iloc[0] >= 3
    assert recent > 0


# --- dirty rows ----------------------------------------------------------------------------


def test_dirty_rows_are_listed_and_clean_rows_unchanged(tmp_path: Path) -> None:
    clean_dir, dirty_dir = tmp_path / "clean", tmp_path / "dirty"
    clean_counts = generate(2000, 9, clean_dir)
    dirty_counts = generate(2000, 9, dirty_dir, dirty=0.05)
    listed = pd.read_csv(dirty_dir / "truth" / "dirty.csv", dtype=str, keep_default_na=False)
    assert set(listed["defect"]) >= {
        "bad_date",
        "negative_number",
        "non_numeric",
        "unknown_foreign_key",
        "duplicate_key",
        "missing_required",
        "bad_enum",
        "self_reference",
    }
    for table in model.INPUT_TABLES:
        name = table.name
        extra = dirty_counts[name] - clean_counts[name]
        mine = listed[listed["table"] == name]
        assert len(mine) == extra
        assert abs(extra - 0.05 * clean_counts[name]) <= 0.02 * clean_counts[name] + 3, name
        lines = (dirty_dir / f"{name}.csv").read_text().splitlines()
        clean_lines = (clean_dir / f"{name}.csv").read_text().splitlines()
        bad = set(mine["line"].astype(int))
        kept = [line for i, line in enumerate(lines, start=1) if i not in bad]
        assert kept == clean_lines, name
        rows = pd.read_csv(dirty_dir / f"{name}.csv", dtype=str, keep_default_na=False)
        keys = rows[[k for k in table.key if k in rows.columns]].agg("|".join, axis=1)
        at_line = keys.iloc[mine["line"].astype(int) - 2].tolist()
        assert at_line == mine["key"].tolist(), name
        dup = mine[mine["defect"] == "duplicate_key"]
        first_seen = keys.drop_duplicates(keep="first")
        for key, line in zip(dup["key"], dup["line"].astype(int), strict=True):
            assert first_seen[first_seen == key].index[0] + 2 < line
        fresh = mine[mine["defect"] != "duplicate_key"]
        assert not fresh["key"].isin(keys[~keys.index.isin(mine["line"].astype(int) - 2)]).any()


def test_dirty_parquet_rows_are_listed(tmp_path: Path) -> None:
    generate(1500, 9, tmp_path / "clean", "parquet")
    generate(1500, 9, tmp_path / "dirty", "parquet", dirty=0.05)
    listed = pd.read_csv(tmp_path / "dirty" / "truth" / "dirty.csv", dtype=str)
    assert "non_numeric" not in set(listed["defect"])  # typed Parquet columns cannot hold it
    for table in model.INPUT_TABLES:
        dirty_rows = pq.read_table(tmp_path / "dirty" / f"{table.name}.parquet")
        clean_rows = pq.read_table(tmp_path / "clean" / f"{table.name}.parquet")
        assert dirty_rows.schema == clean_rows.schema
        bad = listed[listed["table"] == table.name]["line"].astype(int) - 2
        keep = np.setdiff1d(np.arange(dirty_rows.num_rows), bad.to_numpy())
        assert dirty_rows.take(keep).equals(clean_rows), table.name


def test_record_sums_match_accounts(t: dict[str, pd.DataFrame]) -> None:
    acc = t["accounts"]
    dep = acc[acc["product"] == "deposit"].assign(balance=lambda d: d["balance"].astype(float))
    sums = dep.groupby("holder_id")["balance"].sum()
    core = t["customers"][t["customers"]["source_system"] == "core"].set_index("customer_id")
    got = core["deposits"].astype(float)
    want = sums.reindex(core.index).fillna(0.0)
    assert np.allclose(got, want, atol=0.011)


def test_households_group_persons_not_records(t: dict[str, pd.DataFrame]) -> None:
    merged = t["persons"].merge(t["households"], on="customer_id")
    per = defaultdict(set)
    for p, h in zip(merged["person_key"], merged["household_key"], strict=True):
        per[p].add(h)
    assert all(len(h) == 1 for h in per.values())
