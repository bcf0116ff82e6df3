"""Blocks too big to identify anyone, taken out of the prediction blocking rules.

A prediction blocking rule (``linkage_settings.json``) pairs every two records that share
its key: ``l.name_last = r.name_last AND l.address_street = r.address_street`` pairs the
records of one surname on one street. A *block* is the records that share one value of
the key; it makes ``n·(n−1)/2`` pairs. Blocks of common keys grow with the bank, so their
pairs grow with its square: a hundred surnames cover most Chinese customers and every city
has a 人民路, and on the canonical export of a 1,000,000-customer bank the surname and
street rules alone made more candidate pairs than the 50 GB of spill space DuckDB had.

The idea of ``max_block`` for a shared phone, e-mail or address (a value that many
records share identifies nobody) applies to every rule's key, with its own cap
(``LinkageParams.block_cap``, 10): **a block of more than ``cap`` records identifies
nobody, and the rule pairs none of its records** (other rules still may: a block of 88
Wangs on one street still pairs each two of them that share a phone or a birth date). The
cap bounds every rule at fewer than ``cap / 2`` pairs per record, whatever the bank's size.

Only rules written as equalities joined by ``AND`` (``l.a = r.b AND l.c = r.d``) can be
capped — every shipped rule is. A rule over its cap is rewritten to compare one
precomputed key per record (``block_key_<i>``, or ``block_key_<i>_left`` and ``_right``
for a rule that crosses columns: an integer, null where the record's block is too big or
a column of its key is null), which DuckDB joins as it joined the columns.
Rules whose largest block is within the cap are kept as written. A rule of another shape
is kept as written and logged: it is not capped.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["PREDICTION_RULES", "Capped", "cap_blocks"]

log = logging.getLogger(__name__)

_EQUALITY: Final = re.compile(r"^\s*l\.(\w+)\s*=\s*r\.(\w+)\s*$")
KEY_PREFIX: Final = "block_key_"
PREDICTION_RULES: Final = "blocking_rules_to_generate_predictions"
"""The Splink settings entry holding the rules that generate candidate pairs."""

Codes = npt.NDArray[np.int64]


def _sides(rule: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The columns a rule joins on, left and right (``None`` for another shape).

    >>> _sides("l.name_first = r.name_last AND l.address_street = r.address_street")
    (('name_first', 'address_street'), ('name_last', 'address_street'))
    >>> _sides("levenshtein(l.name, r.name) < 2") is None
    True
    """
    left, right = [], []
    for part in re.split(r"\s+AND\s+", rule.strip(), flags=re.IGNORECASE):
        found = _EQUALITY.match(part)
        if found is None:
            return None
        left.append(found.group(1))
        right.append(found.group(2))
    return tuple(left), tuple(right)


class _Codes:
    """Integer codes of each column's values (−1 for null), one code space per group of
    columns compared with each other (``name_first`` with ``name_last`` in the rules that
    cross them), each factorised once however many rules use it."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._cache: dict[tuple[str, ...], dict[str, Codes]] = {}

    def of(self, column: str, space: tuple[str, ...]) -> Codes:
        key = tuple(sorted(set(space)))
        if key not in self._cache:
            values = [self.frame[c].to_numpy(object) for c in key]
            codes, _ = pd.factorize(np.concatenate(values), use_na_sentinel=True)
            n = len(self.frame)
            self._cache[key] = {
                c: codes[i * n : (i + 1) * n].astype(np.int64) for i, c in enumerate(key)
            }
        return self._cache[key][column]


def _combine(parts: list[Codes]) -> Codes:
    """One code per distinct tuple of codes (−1 where any part is −1); the tuples of two
    sides combined together get one code space."""
    out = np.zeros(len(parts[0]), np.int64)
    missing = np.zeros(len(parts[0]), bool)
    for part in parts:
        missing |= part < 0
        # Re-factorised after each step, so codes stay below the row count and the product
        # below cannot overflow.
        out, _ = pd.factorize(out * (int(part.max(initial=0)) + 1) + np.maximum(part, 0))
        out = out.astype(np.int64)
    out[missing] = -1
    return out


def _keys(
    codes: _Codes, left: tuple[str, ...], right: tuple[str, ...], cap: int
) -> tuple[Codes, Codes, int]:
    """Each record's block key as the left and as the right record of a pair (−1: none),
    and the largest block before the cap."""
    n = len(codes.frame)
    sides = [
        [codes.of(column, (a, b)) for column, a, b in zip(columns, left, right, strict=True)]
        for columns in (left, right)
    ]
    joint = _combine([np.concatenate([lc, rc]) for lc, rc in zip(*sides, strict=True)])
    lkey, rkey = joint[:n], joint[n:]
    # A block is the records that can take part in its pairs on either side; a record
    # on both sides (a symmetric rule) is one record.
    held = lkey >= 0
    sizes = np.bincount(lkey[held], minlength=int(joint.max(initial=-1)) + 1)
    if left != right:
        sizes = sizes + np.bincount(rkey[rkey >= 0], minlength=len(sizes))
    biggest = int(sizes.max(initial=0))
    if biggest <= cap:  # nothing to cap (a column of nulls has no block at all)
        return lkey, rkey, biggest
    over = sizes > cap
    lkey = np.where((lkey >= 0) & over[np.maximum(lkey, 0)], -1, lkey)
    rkey = np.where((rkey >= 0) & over[np.maximum(rkey, 0)], -1, rkey)
    return lkey, rkey, biggest


def _column(key: Codes, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(np.where(key >= 0, key, 0), dtype="Int64"), index=index).mask(key < 0)


class Capped(NamedTuple):
    """What :func:`cap_blocks` gives."""

    frame: pd.DataFrame
    """The records, with a key column per rule over the cap."""
    rules: list[Any]
    """The prediction rules, those over the cap rewritten to join on their key columns."""
    pairs: bool
    """Whether any rule may pair two records. False when no two records share any rule's
    key (every block holds one record): Splink's prediction would score nothing."""


def cap_blocks(frame: pd.DataFrame, rules: list[Any], cap: int) -> Capped:
    """``frame`` with a key column per rule over the cap, and the prediction blocking
    ``rules`` (Splink settings entries) with those rules rewritten to join on them.

    >>> frame = pd.DataFrame({"unique_id": range(5), "name": ["wang"] * 4 + ["li"],
    ...     "street": ["renmin lu"] * 5})
    >>> rules = [{"blocking_rule": "l.name = r.name AND l.street = r.street"},
    ...     {"blocking_rule": "l.street = r.street"}, {"blocking_rule": "l.name = r.name"}]
    >>> [r["blocking_rule"] for r in cap_blocks(frame, rules, 4).rules]
    ['l.name = r.name AND l.street = r.street', 'l.block_key_1 = r.block_key_1', 'l.name = r.name']
    >>> capped = cap_blocks(frame, rules, 3).frame
    >>> capped["block_key_0"].tolist()  # four Wangs on one street: over the cap
    [<NA>, <NA>, <NA>, <NA>, 1]
    >>> bool(capped["block_key_1"].isna().all())  # one street of five records: no pairs
    True
    >>> cap_blocks(frame.assign(street=["a", "b", "c", "d", "e"]), rules[1:2], 3).pairs
    False
    """
    out = list(rules)
    codes = _Codes(frame)
    added: dict[str, pd.Series] = {}
    pairs = False
    for i, rule in enumerate(rules):
        text = rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
        sides = _sides(text)
        if sides is None:
            log.warning("blocking rule not capped (not equalities joined by AND): %s", text)
            pairs = True  # not read here: it may pair anyone
            continue
        left, right = sides
        lkey, rkey, biggest = _keys(codes, left, right, cap)
        # A block of two may pair them (one record on both sides of a crossing rule does
        # not, but saying "may" costs only the prediction this saves).
        pairs |= biggest >= 2
        if biggest <= cap:
            continue
        name = f"{KEY_PREFIX}{i}"
        if left == right:
            added[name] = _column(lkey, frame.index)
            joined = f"l.{name} = r.{name}"
        else:
            # Not ``_l``/``_r``: Splink reads those endings as its own pair sides.
            added[f"{name}_left"] = _column(lkey, frame.index)
            added[f"{name}_right"] = _column(rkey, frame.index)
            joined = f"l.{name}_left = r.{name}_right"
        log.info(
            "blocking rule %s: blocks over %d records skipped (largest %d)",
            text,
            cap,
            biggest,
        )
        out[i] = {**rule, "blocking_rule": joined} if isinstance(rule, dict) else joined
    if not added:
        return Capped(frame, out, pairs)
    return Capped(frame.assign(**added), out, pairs)
