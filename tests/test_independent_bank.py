"""The independent evaluation bank (benchmarks/independent): standalone, deterministic, loadable,
and its truth files name rows that exist."""

from __future__ import annotations

import ast
import csv
import hashlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from relgraph.ingest import load_directory
from relgraph.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
BANK_DIR = ROOT / "benchmarks" / "independent"
sys.path.insert(0, str(BANK_DIR))

from indbank import fingerprint, idcards  # noqa: E402
from indbank.bank import generate  # noqa: E402
from indbank.typologies import TYPOLOGIES  # noqa: E402

CUSTOMERS = 2000


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("independent") / "bank"
    generate(CUSTOMERS, 7, out)
    return out


def test_same_seed_same_bytes_other_seed_differs(bank: Path, tmp_path: Path) -> None:
    generate(CUSTOMERS, 7, tmp_path / "again")
    generate(CUSTOMERS, 8, tmp_path / "other")
    assert _digest(tmp_path / "again") == _digest(bank)
    other = _digest(tmp_path / "other")
    assert other.keys() == _digest(bank).keys()
    assert other["transfers.csv"] != _digest(bank)["transfers.csv"]


def test_exact_customer_rows_and_relgraph_loads_it(bank: Path, tmp_path: Path) -> None:
    assert len(_rows(bank / "customers.csv")) == CUSTOMERS
    with EmbeddedStore(tmp_path) as store:
        report = load_directory(bank, store, tmp_path)
    rows_in = sum(t.rows_in for t in report.tables)
    quarantined = sum(t.quarantined for t in report.tables)
    assert rows_in > CUSTOMERS
    assert quarantined / rows_in < 0.02


def test_truth_ids_exist_in_the_inputs(bank: Path) -> None:
    customers = {r["customer_id"] for r in _rows(bank / "customers.csv")}
    enterprises = {r["enterprise_id"] for r in _rows(bank / "enterprises.csv")}
    transfers = {r["tx_id"] for r in _rows(bank / "transfers.csv")}
    truth = bank / "truth"
    persons = _rows(truth / "persons.csv")
    assert {r["customer_id"] for r in persons} == customers
    assert {r["customer_id"] for r in _rows(truth / "households.csv")} == customers
    groups = _rows(truth / "groups.csv")
    assert groups
    assert {r["enterprise_id"] for r in groups} <= enterprises
    assert {r["controller_id"] for r in groups} <= customers
    circles = _rows(truth / "guarantee_circles.csv")
    assert circles
    assert {r["member_id"] for r in circles} <= customers | enterprises
    influencers = _rows(truth / "influencers.csv")
    assert len(influencers) >= 10
    assert {r["customer_id"] for r in influencers} <= customers
    laundering = _rows(truth / "laundering.csv")
    assert {r["tx_id"] for r in laundering} <= transfers
    # Identity noise is real: some persons have several rows, some rows have defects.
    per_person = defaultdict(int)
    for r in persons:
        per_person[r["person_key"]] += 1
    assert max(per_person.values()) >= 2
    defects = {r["defect"] for r in _rows(truth / "record_noise.csv")}
    assert {"excel_float", "bad_check", "homophone_typo", "old_number"} <= defects


def test_every_typology_is_planted_with_several_transfers(bank: Path) -> None:
    by_typology: dict[str, set[str]] = defaultdict(set)
    sizes: dict[str, int] = defaultdict(int)
    for r in _rows(bank / "truth" / "laundering.csv"):
        by_typology[r["typology"]].add(r["pattern_key"])
        sizes[r["pattern_key"]] += 1
    assert set(by_typology) == set(TYPOLOGIES)
    assert min(sizes.values()) >= 2


def test_planted_circles_are_the_only_guarantee_cycles(bank: Path) -> None:
    edges = [(r["guarantor_id"], r["borrower_id"]) for r in _rows(bank / "guarantees.csv")]
    # Peel nodes without in- or out-edges until none is left: what remains lies on cycles.
    alive = {n for e in edges for n in e}
    while True:
        live = [(a, b) for a, b in edges if a in alive and b in alive]
        has_out = {a for a, _ in live}
        has_in = {b for _, b in live}
        keep = alive & has_out & has_in
        if keep == alive:
            break
        alive = keep
    on_cycles = {r["member_id"] for r in _rows(bank / "truth" / "guarantee_circles.csv")}
    # Tails may leave a member for an outside firm, so peeling keeps exactly the members.
    assert alive == on_cycles


def test_influencer_downstream_counts_the_referral_cascade(bank: Path) -> None:
    children: dict[str, list[str]] = defaultdict(list)
    for r in _rows(bank / "referrals.csv"):
        children[r["referrer_id"]].append(r["referred_id"])

    def below(node: str) -> int:
        stack, seen = list(children[node]), 0
        while stack:
            seen += 1
            stack.extend(children[stack.pop()])
        return seen

    influencers = _rows(bank / "truth" / "influencers.csv")
    assert [int(r["rank"]) for r in influencers] == list(range(1, len(influencers) + 1))
    for r in influencers:
        assert below(r["customer_id"]) == int(r["downstream"])


def test_id_numbers_carry_the_gb11643_check_character() -> None:
    import numpy as np

    # The example id of GB 11643-1999 itself.
    assert idcards.check_chars(np.array([11010519491231002]))[0] == "X"
    assert idcards.excel_mangled(np.array(["110105194912310021"], dtype=object))[0] == (
        "1.10105E+17"
    )


def test_nothing_in_the_generator_imports_relgraph() -> None:
    offenders = []
    for path in sorted(BANK_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "relgraph"]
    assert offenders == []


def test_cli_writes_the_bank_and_refuses_a_tiny_one(tmp_path: Path) -> None:
    script = str(BANK_DIR / "generate.py")
    done = subprocess.run(
        [sys.executable, script, "--customers", "1000", "--seed", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "transfers.csv").exists()
    assert (tmp_path / "truth" / "laundering.csv").exists()
    refused = subprocess.run(
        [sys.executable, script, "--customers", "5", "--out", str(tmp_path / "no")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
    assert "--customers must be at least 1000" in refused.stderr
    assert not (tmp_path / "no").exists()
    shown = subprocess.run(
        [sys.executable, script, "--print-hash"], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == fingerprint()
