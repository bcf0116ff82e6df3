"""Dwellings: the addresses that name one flat, however each source system wrote it.

Loading normalises an address (``ingest.normalise.address_sql``: divisions in full, 号楼
as 栋, …) but cannot make every system's form of one flat the same text. A card system
keeps a short form, ``南山区幸福路1号锦绣华庭18-1-2704`` (``南山区`` alone names two
districts of China, so its city cannot be filled in); a loan system drops the unit,
``…锦绣华庭18栋2704室``; core banking writes
``广东省深圳市南山区幸福路1号锦绣华庭18栋1单元2704室``. Co-residence compared the texts,
so a family whose records came from different systems shared no address.

Definition (what the tests hold the code to):

* An address ending in three numbers joined by dashes right after a hanzi name
  (``锦绣华庭18-1-2704``) is written building–unit–room: ``18栋1单元2704室``.
* Address *a* is a **shorter form** of address *b* when *a* is *b* without its unit
  (``1单元``), without the administrative levels in front of some level of *b* (the text up
  to and including one of the first four 省, 市, 区, 县, 州, 盟 or 旗 before *b*'s first
  digit), or both.
* An address's **dwelling** is the one address in the bank of which it is a shorter form
  and that has no shorter form of its own above it (a *full* form) — when there is exactly
  one. With none, or with two (``18栋1单元2704室`` and ``18栋2单元2704室`` both fit
  ``18栋2704室``: the unit cannot be told), the address is its own dwelling: a text is
  never put in one flat with a place it may not be.

Latin addresses (no dashes between three numbers, no units, no divisions in hanzi) are
each their own dwelling.

>>> import pyarrow as pa
>>> texts = pa.array([
...     "广东省深圳市南山区幸福路1号锦绣华庭18栋1单元2704室",
...     "南山区幸福路1号锦绣华庭18-1-2704",
...     "广东省深圳市南山区幸福路1号锦绣华庭18栋2704室",
...     "广东省深圳市南山区幸福路1号锦绣华庭18栋2单元2802室",
...     "8 stanley street",
... ])
>>> dwellings(texts).tolist()
[0, 0, 0, 3, 4]
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.graph.types import IndexArray

DASHED: Final = r"(\p{Han})([0-9]+)-([0-9]+)-([0-9]+)$"
"""Building–unit–room written with dashes at the end of a Chinese address (after a name)."""
UNIT: Final = r"[0-9]+单元"
LEVEL_ENDS: Final = frozenset("省市区县州盟旗")
"""Characters ending a division's name: a shorter form may start after one of them."""


def spelled(texts: pa.Array) -> pa.Array:
    """``texts`` with a dashed building–unit–room spelled out (definition above).

    >>> spelled(pa.array(["锦绣华庭18-1-2704", "幸福路1-3号", "flat 3-4-5", None])).to_pylist()
    ['锦绣华庭18栋1单元2704室', '幸福路1-3号', 'flat 3-4-5', None]
    """
    return pc.replace_substring_regex(texts.cast(pa.string()), DASHED, r"\1\2栋\3单元\4室")


MAX_CUTS: Final = 4
"""Divisions a shorter form may leave out, at most: province, city, district and one more
(a 街道 or 镇). An export's address of a thousand 区 is a thousand cuts otherwise."""


def _cuts(head: str) -> list[int]:
    """Where a shorter form of an address with this head (its text before the first digit)
    may start: after each of the first :data:`MAX_CUTS` characters ending a division's name,
    leaving some of the head.

    >>> _cuts("广东省深圳市南山区幸福路"), _cuts("区" * 1000)
    ([3, 6, 9], [1, 2, 3, 4])
    """
    return [i + 1 for i, ch in enumerate(head[:-1]) if ch in LEVEL_ENDS][:MAX_CUTS]


def shorter_forms(texts: pa.Array) -> tuple[IndexArray, pa.Array]:
    """Every shorter form of each address (definition above), as (address, form) rows.

    >>> rows, forms = shorter_forms(pa.array(["深圳市南山区X路1号2栋3单元4室"]))
    >>> sorted(forms.to_pylist())  # doctest: +NORMALIZE_WHITESPACE
    ['X路1号2栋3单元4室', 'X路1号2栋4室', '南山区X路1号2栋3单元4室', '南山区X路1号2栋4室',
     '深圳市南山区X路1号2栋4室']
    """
    if len(texts) == 0:
        return np.zeros(0, np.int64), pa.array([], pa.string())
    split = pc.extract_regex(texts, r"^(?P<head>[^0-9]*)(?P<tail>.*)$")
    heads, tails = pc.struct_field(split, "head"), pc.struct_field(split, "tail")
    without_unit = pc.replace_substring_regex(tails, UNIT, "")
    has_unit = np.asarray(pc.fill_null(pc.not_equal(without_unit, tails), False), bool)
    # Cut positions per distinct head: a city has far fewer streets than addresses.
    encoded = pc.dictionary_encode(heads)
    distinct = encoded.dictionary.to_pylist()
    per_head = [_cuts(h or "") for h in distinct]
    head_code = np.asarray(pc.fill_null(encoded.indices, -1), np.int64)
    n_cuts = np.array([len(c) for c in per_head], np.int64)
    suffixes = pa.array(
        [h[c:] for h, cuts in zip(distinct, per_head, strict=True) for c in cuts],
        pa.string(),
    )  # fmt: skip
    first_cut = np.cumsum(n_cuts) - n_cuts
    count = np.where(head_code >= 0, n_cuts[np.maximum(head_code, 0)], 0)
    # Rows (address, cut): the head from the cut on, with the unit and without it.
    row = np.repeat(np.arange(len(texts)), count)
    k = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    at = pa.array(row)
    cut_heads = pc.take(suffixes, pa.array(first_cut[head_code[row]] + k))
    cut_full = pc.binary_join_element_wise(cut_heads, pc.take(tails, at), "")
    unit_rows = has_unit[row]
    cut_bare = pc.filter(
        pc.binary_join_element_wise(cut_heads, pc.take(without_unit, at), ""),
        pa.array(unit_rows),
    )
    bare = pa.array(np.flatnonzero(has_unit))
    bare_full = pc.binary_join_element_wise(pc.take(heads, bare), pc.take(without_unit, bare), "")
    rows = np.concatenate([row, np.flatnonzero(has_unit), row[unit_rows]]).astype(np.int64)
    forms = pa.concat_arrays([cut_full, bare_full, cut_bare])
    return rows, forms


def dwellings(texts: pa.Array) -> IndexArray:
    """Per address (normalised text, distinct), the index of its dwelling's address.

    See the module docstring for the definition."""
    n = len(texts)
    full = spelled(texts)
    # Two texts that spell out alike are one address: the first of them stands for both.
    same = np.asarray(pc.dictionary_encode(full).indices.fill_null(-1), np.int64)
    first = np.full(int(same.max(initial=-1)) + 1, n, np.int64)
    np.minimum.at(first, same[same >= 0], np.flatnonzero(same >= 0))
    rep = np.where(same >= 0, first[np.maximum(same, 0)], np.arange(n))
    longer, forms = shorter_forms(full)
    # A form that is an address of the bank: that address is a shorter form of ``longer``.
    hit = np.asarray(pc.fill_null(pc.index_in(forms, value_set=full), -1), np.int64)
    found = hit >= 0
    short, long_ = rep[hit[found]], rep[longer[found]]
    keep = short != long_
    short, long_ = short[keep], long_[keep]
    # Full forms have no longer form of their own; each shorter address takes its one full
    # form, if it has exactly one.
    has_longer = np.zeros(n, bool)
    has_longer[short] = True
    to_full = ~has_longer[long_]
    short, long_ = short[to_full], long_[to_full]
    pairs = np.unique(short * n + long_)
    short, long_ = pairs // n, pairs % n
    fits = np.bincount(short, minlength=n)
    out = rep.copy()
    one = fits[short] == 1
    out[short[one]] = long_[one]
    return out[rep]
