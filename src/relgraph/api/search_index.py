"""The search index: every searchable key of the read model in sorted arrays.

Built once with the read model. Each kind of key is a :class:`KeyTable` — keys sorted, the
owner of each beside it — so an exact look-up or a prefix look-up is two binary searches
(``numpy.searchsorted``), whatever the bank's size.

Names are searched in part: a name is stored under every suffix of its hanzi (``张小明``
also as ``小明`` and ``明``) and, for hanzi, of its pinyin at syllable boundaries
(``zhangxiaoming``, ``xiaoming``, ``ming``, and the initials ``zxm``; every reading of the
surname's character, so 单 is ``dan`` and ``shan``); a Latin name under every suffix at a
word boundary, spaces removed (``li wei``: ``liwei``, ``wei``). A text then matches a name
when it is a prefix of one of these keys. Everything else matches exactly, after the
normalisation ingest applied to the stored value (:mod:`relgraph.normal_form`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, pinyin

from relgraph import normal_form
from relgraph.analytics.person_order import record_rank
from relgraph.api.slices import array, arrow_strings, python_strings

NAME: Final = "NAME"
PHONE: Final = "PHONE"
EMAIL: Final = "EMAIL"
ID_NUMBER: Final = "ID_NUMBER"
CUSTOMER_ID: Final = "CUSTOMER_ID"
ENTERPRISE_ID: Final = "ENTERPRISE_ID"
ACCOUNT_ID: Final = "ACCOUNT_ID"
HOUSEHOLD_ID: Final = "HOUSEHOLD_ID"
CREDIT_CODE: Final = "CREDIT_CODE"
KINDS: Final = (
    CUSTOMER_ID, ENTERPRISE_ID, ACCOUNT_ID, HOUSEHOLD_ID, ID_NUMBER, PHONE, EMAIL, CREDIT_CODE,
    NAME,
)  # fmt: skip
"""Every kind, in the order hits are listed: exact identifiers first, names last."""

MIN_LATIN_NAME = 2
"""A Latin (pinyin) name text shorter than this matches no name: one letter would match a
good part of the bank."""

_HAN: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_NAME: Final = re.compile(r"[\s'’·•・‧∙⋅\-.,()\[\]【】〔〕]+")
"""What a name is compared without: spaces, the middle dot of transcribed names in each
spelling systems use (买买提·艾力, 买买提•艾力, or none), hyphens, and the brackets around
a firm's registered region (腾讯科技（深圳）有限公司, after NFKC, or none)."""
_LEGAL_FORM: Final = re.compile("有限[责責]任")
"""有限责任公司 is the statute's name for what contracts and cards write 有限公司: a firm is
found under either, in either script (股份有限公司, a different form, is left as it is)."""
_LATIN_WORDS: Final = re.compile(r"[\s'’·\-.,]+")
"""Where a Latin name's words part (its keys are the suffixes at these boundaries)."""
_TOP: Final = "\U0010ffff"

I64 = npt.NDArray[np.int64]


class KeyTable:
    """Keys and their owners, sorted by key; a key may have several owners.

    ``rank`` (optional) orders the hits of a prefix search: 0 for a key that is a whole
    name, 1 for one that starts it, 2 for one inside it.
    """

    def __init__(
        self,
        keys: Sequence[Any] | npt.NDArray[Any],
        owners: Sequence[int] | npt.NDArray[np.integer[Any]],
        rank: Sequence[int] | None = None,
    ) -> None:
        # In Arrow, whose filter, grouping and sort let go of the interpreter lock, with the
        # keys made Arrow strings and back in slices: pandas' did each step in one call over
        # every key, holding it (a payment scored during a build waited).
        table = pa.table(
            {
                "key": arrow_strings(keys),
                "owner": np.asarray(owners, dtype=np.int64),
                "rank": np.zeros(len(keys), np.int8) if rank is None else np.asarray(rank, np.int8),
            }
        )
        table = table.filter(pc.and_(pc.is_valid(table["key"]), pc.not_equal(table["key"], "")))
        # One entry per (key, owner), with the best rank it got.
        best = table.group_by(["key", "owner"], use_threads=False).aggregate([("rank", "min")])
        # Sorted by code point (= UTF-8 byte order, what pyarrow sorts by), as searchsorted
        # compares Python strings.
        best = best.take(pc.sort_indices(best, [("key", "ascending"), ("owner", "ascending")]))
        self.keys: npt.NDArray[np.object_] = python_strings(best["key"])
        self.owners: I64 = best["owner"].to_numpy().astype(np.int64, copy=False)
        self.rank: npt.NDArray[np.int8] = best["rank_min"].to_numpy().astype(np.int8, copy=False)

    def __len__(self) -> int:
        return len(self.keys)

    def exact(self, key: str | None) -> I64:
        """The owners of ``key`` (none for None)."""
        if key is None or not len(self.keys):
            return np.zeros(0, np.int64)
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return self.owners[lo:hi]

    def prefix(self, text: str, owner_rank: I64 | None = None) -> tuple[I64, npt.NDArray[np.int8]]:
        """Owners of keys starting with ``text`` and their ranks (0: the key is ``text``
        and a whole name), best rank per owner, ordered by rank then owner (by
        ``owner_rank`` of the owner when given)."""
        if not text or not len(self.keys):
            return np.zeros(0, np.int64), np.zeros(0, np.int8)
        lo = int(np.searchsorted(self.keys, text, side="left"))
        hi = int(np.searchsorted(self.keys, text + _TOP, side="left"))
        owners, rank = self.owners[lo:hi], self.rank[lo:hi].copy()
        # A whole-name key that only starts with the text is a prefix hit, not an exact one.
        whole = rank == 0
        if whole.any():
            rank[whole & (self.keys[lo:hi] != text)] = 1
        order = np.lexsort((owners if owner_rank is None else owner_rank[owners], rank))
        owners, rank = owners[order], rank[order]
        _, first = np.unique(owners, return_index=True)
        first.sort()
        return owners[first], rank[first]


def id_number_key(text: str) -> str | None:
    """The id number a search text is looked up as: the text stripped of whitespace at
    either end (``str.strip``, which also strips controls such as ``\\x1c`` and line
    separators), then ingest's id-number normalisation.

    The id-miss budget (:mod:`relgraph.api.id_misses`) decides with this same key, so a
    text it does not count is one the lookup cannot find by id number either.

    >>> id_number_key("\\u2028 110105197206103330\\x1c"), id_number_key(' ="11010519720610333x"')
    ('110105197206103330', '11010519720610333X')
    """
    return normal_form.id_number(text.strip())


def _distinct(owners: I64) -> I64:
    """``owners`` without repeats (an exact key has one owner or a few: skip the sort)."""
    return owners if len(owners) < 2 else np.unique(owners)


@dataclass(frozen=True)
class Hit:
    """One search result: what it matched on and what it names."""

    kind: str
    party: int = -1
    """A person index, or (number of persons + an enterprise index); -1 for none."""
    account: int = -1
    household: str | None = None


class Hits(Sequence[Hit]):
    """A search's hits: the few found by an identifier, then the names' owners as an array,
    made into :class:`Hit` only for the page asked for (a surname can match thousands)."""

    def __init__(self, exact: list[Hit], names: I64) -> None:
        self.exact, self.names = exact, names

    def __len__(self) -> int:
        return len(self.exact) + len(self.names)

    @overload
    def __getitem__(self, i: int) -> Hit: ...
    @overload
    def __getitem__(self, i: slice) -> list[Hit]: ...
    def __getitem__(self, i: int | slice) -> Hit | list[Hit]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        n = len(self.exact)
        return self.exact[i] if i < n else Hit(NAME, party=int(self.names[i - n]))


def _readings(chars: Iterable[str]) -> dict[str, list[str]]:
    """Each hanzi's pinyin readings without tones, the usual one first."""
    out: dict[str, list[str]] = {}
    for char in chars:
        found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
        readings = [r for r in (found[0] if found else []) if r.isascii() and r.isalpha()]
        out[char] = list(dict.fromkeys(r.lower() for r in readings)) or [char]
    return out


@functools.cache
def _to_simplified() -> Any:
    import opencc  # a C++ library and its tables: loaded once, when a name is first keyed

    return opencc.OpenCC("t2s")


def simplified_table(chars: Iterable[str]) -> dict[int, str]:
    """``str.translate`` table taking each traditional hanzi among ``chars`` to its simplified
    form (OpenCC's ``t2s``), one character for one.

    Character by character, not by phrase: a name is read a character at a time (乾隆's
    phrase keeps 乾, the character alone is 干), and both sides of a search are mapped alike.

    >>> "張偉".translate(simplified_table("張偉"))
    '张伟'
    """
    convert = _to_simplified().convert
    table: dict[int, str] = {}
    for char in chars:
        if _HAN.match(char):
            simple = convert(char)
            if len(simple) == 1 and simple != char:
                table[ord(char)] = simple
    return table


def _hanzi_keys(names: pd.Series) -> tuple[list[str], list[int], list[int]]:
    """Keys of hanzi names (one per row of ``names``, index = owner): every suffix of the
    hanzi in simplified characters, every suffix of the pinyin at a syllable boundary, the
    initials. The pinyin is the written characters' own (李乾 is qian, not 干's gan)."""
    keys: list[str] = []
    owners: list[int] = []
    ranks: list[int] = []
    # Python loops, not pandas' string methods: those run over every name in one call and
    # keep the interpreter lock all the while (a payment scored during a build waits).
    compact = [_LEGAL_FORM.sub("有限", _NOT_NAME.sub("", name)) for name in names.tolist()]
    chars = set("".join(dict.fromkeys(compact)))
    readings = _readings(chars)
    table = simplified_table(chars)
    simple = [name.translate(table) for name in compact]
    for owner, name, hanzi in zip(names.index.tolist(), compact, simple, strict=True):
        for i in range(len(hanzi)):
            keys.append(hanzi[i:])
            owners.append(owner)
            ranks.append(0 if i == 0 else 2)
        syllables = [readings.get(c, [c.lower()]) for c in name]
        if not syllables:
            continue
        rest = [s[0] for s in syllables[1:]]
        for surname in syllables[0]:
            word = [surname, *rest]
            for i in range(len(word)):
                keys.append("".join(word[i:]))
                owners.append(owner)
                ranks.append(0 if i == 0 else 2)
            keys.append("".join(w[0] for w in word))
            owners.append(owner)
            ranks.append(1)  # initials: never an exact name
    return keys, owners, ranks


def _latin_keys(names: pd.Series) -> tuple[list[str], list[int], list[int]]:
    """Keys of Latin names: every suffix at a word boundary, without spaces."""
    keys: list[str] = []
    owners: list[int] = []
    ranks: list[int] = []
    # Tone marks go, as from a typed query: ``Zhāng Wěi`` on a record is found as zhangwei.
    for owner, name in zip(names.index.tolist(), names.tolist(), strict=True):
        parts = [p for p in _LATIN_WORDS.split(normal_form.toneless(name)) if p]
        for i in range(len(parts)):
            keys.append("".join(parts[i:]))
            owners.append(owner)
            ranks.append(0 if i == 0 else 2)
    return keys, owners, ranks


def name_table(names: pd.Series) -> KeyTable:
    """The name keys of normalised ``names`` (index: the owner of each).

    Keys are made once per distinct name (many people share one), then joined to every
    owner of that name.
    """
    names = names.dropna().astype(str)
    names = names[names != ""]
    codes, uniques = pd.factorize(names)
    distinct = pd.Series(uniques, dtype=object)
    han = np.array([_HAN.search(name) is not None for name in distinct.tolist()], bool)
    keys, of, ranks = _hanzi_keys(distinct[han])
    more = _latin_keys(distinct[~han])
    # Arrays made in slices, and object keys: a DataFrame of the lists typed each in one
    # call, and made the keys Arrow strings (pandas' default) to be made Python ones again.
    made = pd.DataFrame(
        {
            "name": array(of + more[1], np.int64),
            "key": array(keys + more[0], object),
            "rank": array(ranks + more[2], np.int64),
        }
    )
    owned = pd.DataFrame({"owner": names.index.to_numpy(np.int64), "name": codes})
    joined = owned.merge(made, on="name")
    return KeyTable(
        joined["key"].to_numpy(object), joined["owner"].to_numpy(np.int64), joined["rank"].tolist()
    )


def name_query(text: str) -> str:
    """A typed name as the keys hold names: NFKC, lower-case, no spaces or separators, no
    tone marks (``Lǚ`` is ``lv``, as 吕 reads)."""
    compact = _LEGAL_FORM.sub("有限", _NOT_NAME.sub("", unicodedata.normalize("NFKC", text)))
    return normal_form.toneless(compact.translate(simplified_table(compact)).lower())


def _normalised_names(values: Sequence[Any]) -> pd.Series:
    """Names as ingest's ``name_norm`` (NFKC, lower-cased, spaces collapsed)."""
    return pd.Series(
        [None if v is None else normal_form.name(str(v)) for v in values], dtype=object
    )


class SearchIndex:
    """What ``search`` looks up, built from the read model's columns."""

    def __init__(self, model: Any) -> None:
        persons = len(model.person_ids)
        self.persons = persons
        # Hits of one rank in the bank's order of parties (a person's first customer id, an
        # enterprise's id), not in person-index order, which follows the store's id secret.
        self.party_rank: I64 = np.r_[
            record_rank(model.projection, persons),
            persons + np.arange(len(model.enterprise_ids)),
        ]
        record_person = model.record_person
        records = model.record

        def by_record(column: str) -> KeyTable:
            values = records.get(column) or [None] * len(record_person)
            return KeyTable(values, record_person)

        self.phone = by_record("phone_norm")
        self.email = by_record("email_norm")
        self.id_number = by_record("id_number_norm")
        record_names = pd.Series(
            records.get("name_norm") or _normalised_names(records["name"]).tolist(),
            index=record_person,
            dtype=object,
        )
        enterprise_names = _normalised_names(model.enterprise.get("name") or [])
        enterprise_names.index = enterprise_names.index + persons
        self.names = name_table(pd.concat([record_names, enterprise_names]))
        codes = model.enterprise.get("credit_code_norm") or [None] * len(model.enterprise_ids)
        self.credit_code = KeyTable(codes, np.arange(len(codes)) + persons)
        # An analyst may hold a firm's organisation code (on a contract before 2015) where
        # the bank keeps its unified code, or the other way round: each finds the firm.
        self.organisation_code = KeyTable(
            [normal_form.organisation_code(c) if c else None for c in codes],
            np.arange(len(codes)) + persons,
        )
        self.customer_ids = KeyTable(
            list(model.record_ids) + list(model.person_ids),
            np.concatenate([record_person, np.arange(persons)]),
        )
        self.enterprise_ids = KeyTable(
            list(model.enterprise_ids), np.arange(len(model.enterprise_ids)) + persons
        )
        self.account_ids = KeyTable(list(model.account_ids), np.arange(len(model.account_ids)))
        households = sorted(model.results.household_members)
        self.household_ids = KeyTable(households, np.arange(len(households)))
        self._account_person = model.account_person
        self._account_enterprise = model.account_enterprise

    def holder(self, account: int) -> int:
        """The party index holding ``account`` (-1 when neither a person nor an enterprise)."""
        person = int(self._account_person[account])
        if person >= 0:
            return person
        enterprise = int(self._account_enterprise[account])
        return -1 if enterprise < 0 else self.persons + enterprise

    def find(self, text: str, kinds: Sequence[str]) -> Hits:
        """Hits for ``text`` among ``kinds``, in :data:`KINDS` order then by rank; a party
        found by several kinds is listed once, under the first."""
        raw = text.strip()
        exact: list[Hit] = []
        seen: set[tuple[int, int, str | None]] = set()
        names = np.zeros(0, np.int64)
        wanted = set(kinds)
        for kind in KINDS:
            if kind not in wanted:
                continue
            if kind == ACCOUNT_ID:
                found = [
                    Hit(kind, party=self.holder(a), account=a)
                    for a in self.account_ids.exact(raw).tolist()
                ]
            elif kind == HOUSEHOLD_ID:
                found = [Hit(kind, household=raw)] if len(self.household_ids.exact(raw)) else []
            elif kind == NAME:
                names = self._parties(kind, raw)
                continue
            else:
                found = [Hit(kind, party=p) for p in self._parties(kind, raw).tolist()]
            for hit in found:
                key = (hit.party, hit.account, hit.household)
                if key not in seen:
                    seen.add(key)
                    exact.append(hit)
        if exact and len(names):
            # A party an identifier found is not listed again under its name.
            names = names[~np.isin(names, [h.party for h in exact if h.account < 0])]
        return Hits(exact, names)

    def _credit_code(self, code: str | None) -> I64:
        """Enterprises whose code is ``code``, or whose unified code holds the organisation
        code ``code``, or whose code is the organisation code in the unified ``code``."""
        if code is None:
            return np.zeros(0, np.int64)
        found = [self.credit_code.exact(code)]
        if len(code) == normal_form.ORGANISATION_CODE_LENGTH:
            found.append(self.organisation_code.exact(code))
        inside = normal_form.organisation_code(code)
        if inside is not None:
            found.append(self.credit_code.exact(inside))
        return _distinct(np.concatenate(found))

    def _parties(self, kind: str, raw: str) -> I64:
        found = self._found(kind, raw)
        if kind == NAME or len(found) < 2:  # names come ordered by rank, then party rank
            return found
        return found[np.argsort(self.party_rank[found], kind="stable")]

    def _found(self, kind: str, raw: str) -> I64:
        if kind == CUSTOMER_ID:
            return _distinct(self.customer_ids.exact(raw))
        if kind == ENTERPRISE_ID:
            return _distinct(self.enterprise_ids.exact(raw))
        if kind == PHONE:
            return _distinct(self.phone.exact(normal_form.phone(raw)))
        if kind == EMAIL:
            return _distinct(self.email.exact(normal_form.email(raw)))
        if kind == ID_NUMBER:
            return _distinct(self.id_number.exact(id_number_key(raw)))
        if kind == CREDIT_CODE:
            return self._credit_code(normal_form.credit_code(raw))
        query = name_query(raw)
        if not _HAN.search(query) and len(query) < MIN_LATIN_NAME:
            return np.zeros(0, np.int64)
        owners, _ = self.names.prefix(query, self.party_rank)
        return owners
