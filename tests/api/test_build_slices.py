"""What a build computes by array slices instead of a pandas loop per group (so a payment
scored meanwhile is not kept waiting) is what the loop computed: the same lists in the same
order, the same transfer-id hashes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from relgraph.api.readmodel import _members, _runs
from relgraph.api.search_index import KeyTable, name_table
from relgraph.api.slices import id_hashes, mapped


def _by_groupby(
    frame: pd.DataFrame, key: str, *columns: str
) -> dict[str, tuple[list[object], ...]]:
    """The pandas loop the build used before: groups in the order they first appear."""
    return {
        str(k): tuple(g[c].tolist() for c in columns) for k, g in frame.groupby(key, sort=False)
    }


def test_members_come_per_group_in_the_order_of_their_key() -> None:
    frame = pd.DataFrame(
        {
            "household_id": ["H2", "H1", "H2", "H1", None],
            "person_id": ["P9", "P3", "P1", "P7", "P5"],
        }
    )
    first_record = pd.Series({"P9": "C01", "P3": "C09", "P1": "C05", "P7": "C02", "P5": "C00"})
    assert _members(frame, "household_id", "person_id") == {"H1": ["P3", "P7"], "H2": ["P1", "P9"]}
    ordered = _members(frame, "household_id", "person_id", first_record)
    assert ordered == {"H1": ["P7", "P3"], "H2": ["P9", "P1"]}
    assert list(ordered) == ["H1", "H2"]


def test_runs_are_the_groupby_loops_lists_in_its_order() -> None:
    rng = np.random.default_rng(7)
    keys = rng.choice(["E1", "E10", "企业2", "Ｅ3", None], size=400).tolist()
    frame = pd.DataFrame(
        {
            "enterprise_id": pd.array(keys, dtype="str"),
            "holder_id": [f"P{i}" for i in rng.integers(0, 50, 400)],
            "share": rng.random(400).round(6),
            "rank": rng.integers(0, 3, 400),
        }
    ).sort_values(["enterprise_id", "share"], kind="stable")
    runs = _runs(frame["enterprise_id"], frame["holder_id"], frame["share"], frame["rank"])
    loop = _by_groupby(frame, "enterprise_id", "holder_id", "share", "rank")
    assert runs == loop
    assert list(runs) == list(loop) == ["E1", "E10", "企业2", "Ｅ3"]  # code point order
    assert sum(len(holders) for holders, _, _ in runs.values()) == sum(k is not None for k in keys)
    # Python scalars, as the loop's lists held: the API serialises them as they are.
    assert {type(v) for _, shares, ranks in runs.values() for v in (*shares, *ranks)} == {
        float,
        int,
    }


def test_runs_of_nothing_are_empty() -> None:
    empty = pd.Series([], dtype="str")
    assert _runs(empty, empty) == {}
    assert _runs(pd.Series([None, None], dtype="str"), pd.Series(["a", "b"])) == {}


def test_transfer_id_hashes_are_pandas_hashes_in_any_slicing() -> None:
    ids = np.array([f"TX{i:05d}" for i in range(10)] + ["转账０１", "T-1", ""], object)
    whole = pd.util.hash_array(ids)  # categorized, as the build hashed them before
    assert id_hashes(ids).tolist() == whole.tolist()
    for size in (1, 3, 12, 13, 100):
        assert id_hashes(ids, size=size).tolist() == whole.tolist()
    assert id_hashes(ids).dtype == np.uint64
    assert len(id_hashes(np.array([], object))) == 0


def test_a_key_table_keeps_each_key_and_owner_once_with_its_best_rank_in_code_point_order() -> None:
    keys = ["张伟", "zhangwei", None, "", "zhangwei", "Ｅ3", "张伟", "zw", "zhangwei"]
    owners = [2, 1, 3, 4, 1, 5, 0, 1, 0]
    table = KeyTable(keys, owners, [2, 2, 0, 0, 0, 1, 1, 1, 2])
    assert table.keys.tolist() == ["zhangwei", "zhangwei", "zw", "张伟", "张伟", "Ｅ3"]
    assert table.owners.tolist() == [0, 1, 1, 0, 2, 5]
    assert table.rank.tolist() == [2, 0, 1, 1, 2, 1]
    assert (table.keys.dtype, table.owners.dtype, table.rank.dtype) == (object, np.int64, np.int8)
    assert {type(k) for k in table.keys} == {str}
    assert table.exact("zhangwei").tolist() == [0, 1]
    assert table.exact("张伟").tolist() == [0, 2]
    unranked = KeyTable(["b", "a", "b"], [1, 1, 1])
    assert (unranked.keys.tolist(), unranked.rank.tolist()) == (["a", "b"], [0, 0])
    assert len(KeyTable([], [])) == len(KeyTable([None, ""], [1, 2])) == 0


def test_name_keys_are_made_per_name_and_joined_to_every_owner() -> None:
    names = pd.Series(
        ["张伟", "zhang wei", "张伟", None, ""], index=[7, 8, 9, 10, 11], dtype=object
    )
    table = name_table(names)
    assert table.exact("张伟").tolist() == [7, 9]
    assert table.exact("zhangwei").tolist() == [7, 8, 9]
    assert table.exact("wei").tolist() == [7, 8, 9]  # a suffix at a word or syllable boundary
    assert table.exact("zw").tolist() == [7, 9]  # initials of the hanzi's reading
    assert table.rank[table.keys == "wei"].tolist() == [2, 2, 2]


def test_a_map_in_slices_is_the_whole_map() -> None:
    first = pd.Series({f"P{i}": f"C{i:03d}" for i in range(0, 50, 2)})
    people = pd.Series([f"P{i}" for i in range(49, -1, -1)], index=range(100, 150))
    whole = people.map(first)
    for size in (1, 7, 50, 64):
        assert mapped(people, first, size=size).equals(whole)
