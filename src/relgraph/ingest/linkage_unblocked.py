"""Pairs identity resolution scores that no blocking rule generated.

* **Inside tentative clusters** (:func:`missing_pairs`): clusters grow without chaining,
  so every pair of a tentative cluster of three or more is scored (A~B and B~C never merge
  A and C when A and C disagree).
* **One id number that a record contradicts** (:func:`shared_id_pairs`). A resident id whose check character is right but whose birth date or sex disagrees with
its own record's is no evidence (:mod:`relgraph.ingest.id_numbers`) and never links: it
  may be the person's own id beside a wrong birth date (a lunar birthday, a typo), or a
  relative's id typed onto the wrong record, and merging on it would merge strangers. Two
  records that carry the same such text are still something a reviewer should see, so
  identity resolution scores the pair without the id (as it scores every pair) and offers
  it as a possible duplicate for that reason, whatever the score says — unless a hard rule
  or a reviewer's DIFFERENT stands against it (the score is then 0).

  A number shared by more records than ``max_block`` is treated like a popular phone: no
  identifier (a clerk's own id typed into every form), and no pairs are offered.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph.ingest.id_numbers import upgrade_legacy
from relgraph.model import DUPLICATE_BY_SCORE, DUPLICATE_BY_SHARED_ID

CONTRADICTED: Final = frozenset({"birth_date_mismatch", "sex_mismatch"})
"""``id_numbers.PROBLEMS`` of a well-formed id number that its own record contradicts."""

MAX_CLUSTER: Final = 200
"""Tentative clusters larger than this get no complete scoring (a pair count's square)."""


def shared_id_pairs(id_number: pd.Series, problems: pd.Series, max_block: int) -> pd.DataFrame:
    """Positions ``i_l < i_r`` of records that carry one id number text where at
    least one of the two contradicts it.

    Parameters
    ----------
    id_number : Series
        Per record the normalised id number (a legacy 15-digit id is compared in its
        18-character form), or null.
    problems : Series
        Per record why its id number is no evidence (``id_numbers.PROBLEMS``), or null.
    max_block : int
        Numbers carried by more records than this pair nothing.

    Examples
    --------
    >>> ids = pd.Series(["11010519491231002X", "11010519491231002X", "E1234567", None])
    >>> why = pd.Series([None, "birth_date_mismatch", None, None])
    >>> shared_id_pairs(ids, why, 50).to_dict("list")
    {'i_l': [0], 'i_r': [1]}
    """
    why = problems.reset_index(drop=True)
    empty = pd.DataFrame({"i_l": np.empty(0, np.int64), "i_r": np.empty(0, np.int64)})
    if not why.isin(CONTRADICTED).any():
        return empty
    text = upgrade_legacy(id_number.reset_index(drop=True).astype(object))
    usable = text.notna() & (why.isna() | why.isin(CONTRADICTED))
    contradicted = why.isin(CONTRADICTED) & usable
    codes, _ = pd.factorize(text.where(usable))
    named = codes >= 0
    sizes = np.bincount(codes[named])
    hits = np.bincount(codes[contradicted.to_numpy(bool)], minlength=len(sizes))
    wanted = (hits > 0) & (sizes >= 2) & (sizes <= max_block)
    members = np.flatnonzero(named & wanted[np.maximum(codes, 0)])
    if len(members) == 0:
        return empty
    grouped = pd.DataFrame(
        {"code": codes[members], "i": members, "c": contradicted.to_numpy(bool)[members]}
    )
    cross = grouped.merge(grouped, on="code", suffixes=("_l", "_r"))
    # Two records whose id both agree with are one person by the hard rule already.
    keep = (cross["i_l"] < cross["i_r"]) & (cross["c_l"] | cross["c_r"])
    return cross.loc[keep, ["i_l", "i_r"]].reset_index(drop=True)


def pair_keys(
    left: npt.NDArray[np.int64], right: npt.NDArray[np.int64], n: int
) -> npt.NDArray[np.int64]:
    """One integer per unordered pair of positions below ``n`` (for membership tests)."""
    low, high = np.minimum(left, right), np.maximum(left, right)
    return low.astype(np.int64) * np.int64(n) + high.astype(np.int64)


def missing_pairs(n: int, pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Pairs inside tentative clusters (of three or more) that were not scored: the
    positions ``i_l < i_r``."""
    a = pairs["unique_id_l"].to_numpy(np.int64)
    b = pairs["unique_id_r"].to_numpy(np.int64)
    p = pairs["match_probability"].to_numpy(np.float64)
    hit = p >= threshold
    graph = sp.coo_array((np.ones(int(hit.sum())), (a[hit], b[hit])), shape=(n, n)).tocsr()
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label, minlength=n)
    members = np.flatnonzero((sizes[label] > 2) & (sizes[label] <= MAX_CLUSTER))
    if len(members) == 0:
        return pd.DataFrame({"i_l": np.empty(0, np.int64), "i_r": np.empty(0, np.int64)})
    grouped = pd.DataFrame({"label": label[members], "i": members})
    cross = grouped.merge(grouped, on="label", suffixes=("_l", "_r"))
    return cross.loc[cross["i_l"] < cross["i_r"], ["i_l", "i_r"]]


def unblocked_pairs(
    n: int, pairs: pd.DataFrame, threshold: float, shared: pd.DataFrame
) -> pd.DataFrame:
    """What Splink is asked to score in its second pass (``register_blocked_pairs_for_predict``'s
    columns): :func:`missing_pairs` and the ``shared`` id-number pairs (``i_l < i_r``) that
    were not scored already, each once."""
    wanted = missing_pairs(n, pairs, threshold)
    if len(shared):
        wanted = pd.concat([wanted, shared], ignore_index=True).drop_duplicates()
    if wanted.empty:
        return pd.DataFrame({"match_key": [], "join_key_l": [], "join_key_r": []})
    # A hash join, not a sort of every scored pair's key: 3 s against 9 s at 6.5 M pairs.
    seen = pd.DataFrame({"i_l": pairs["unique_id_l"], "i_r": pairs["unique_id_r"], "seen": True})
    wanted = wanted.merge(seen, on=["i_l", "i_r"], how="left")
    wanted = wanted[wanted["seen"].isna()]
    return pd.DataFrame(
        {
            "match_key": "99",
            "join_key_l": wanted["i_l"].to_numpy(np.int64),
            "join_key_r": wanted["i_r"].to_numpy(np.int64),
        }
    )


def review_band(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    banded: npt.NDArray[np.bool_],
    offered: npt.NDArray[np.bool_],
    p: npt.NDArray[np.float64],
    label: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
    """Which scored pairs are possible duplicates, and why (``possible_duplicates.reason``).

    ``banded``: the score is in the review band; ``offered``: the pair carries one id number
    a record contradicts (and no hard rule or decision stands against it). Both only between
    records in different clusters, which ``label`` gives. Of the pairs offered only for
    their id number, one per pair of clusters is kept (the highest score), and none where
    the two clusters are in the band already: a record that carries the id number of a
    person with three records is one question, not three.
    """
    apart = label[a] != label[b]
    review = (banded | offered) & apart
    only = np.flatnonzero(review & ~banded)
    if len(only):
        n = int(label.max()) + 1
        asked = np.flatnonzero(review & banded)
        key = pair_keys(label[a[only]], label[b[only]], n)
        order = np.lexsort((only, -p[only], key))
        key, ranked = key[order], only[order]
        repeat = np.r_[False, key[1:] == key[:-1]]
        # A pair of clusters already asked about for its score is not asked again.
        repeat |= np.isin(key, pair_keys(label[a[asked]], label[b[asked]], n))
        review[ranked[repeat]] = False
    reason = np.where(banded, DUPLICATE_BY_SCORE, DUPLICATE_BY_SHARED_ID).astype(object)
    return review, reason
