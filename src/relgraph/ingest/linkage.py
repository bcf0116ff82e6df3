"""Identity resolution: probabilistic record linkage of customer records on Splink.

Splink (Fellegi–Sunter with unsupervised expectation–maximisation, term-frequency
adjustments and blocking, run on DuckDB) scores candidate pairs; relgraph adds the rules
a bank needs on top of its scores.

1. **Settings as data.** ``linkage_settings.json`` beside this module is a Splink settings
   dictionary: the blocking rules that generate candidate pairs, the comparisons (valid id
   number, name within and across scripts, birth date, sex, phone, e-mail, address), their
   levels as SQL, term-frequency adjustment on names, phones, e-mails and addresses, and
   shipped starting values of ``m`` and ``u`` (used as they are when a load has too few
   records to train on). The Spark backend runs the same file (see README, *Identity
   resolution*).
2. **Inputs prepared once per load.** Only valid id numbers (:mod:`relgraph.ingest.id_numbers`)
   reach Splink; the rest are null and link nothing. Names are NFKC-normalised and get a
   ``name_key``: tone-less pinyin for hanzi (``张伟`` → ``wei zhang``), lower-case Latin
   otherwise, tokens sorted (``ZHANG WEI`` and ``WEI ZHANG`` → ``wei zhang``), computed once
   per distinct name. Phones, e-mails and addresses shared by more than ``max_block``
   records (a bank hotline, a branch address) are no identifier and are nulled; no
   blocking rule pairs the records of a block over ``block_cap`` (:mod:`~.linkage_blocking`).
3. **Training without labels** (:mod:`relgraph.ingest.linkage_training`).
   ``probability_two_random_records_match`` from deterministic rules (same valid id;
   same name and birth date), ``u`` by random sampling, then ``m`` by EM once per
   blocking rule (name, then birth date). Two corrections to what Splink estimates: the
   chance of a match is recounted with the recall of the deterministic rules the trained
   ``m`` imply (not an assumed one), and ``u`` is freed of the true matches among the
   random pairs. Where valid id numbers exist they *check* the model: the share of pairs
   with two valid ids where the model agrees with them is reported (:class:`Training`).
   The trained model is saved in the data directory (``linkage-model-<settings
   hash>.json``) and reused by later loads; it is retrained on request (``relgraph load
   --retrain-linkage``) or when absent.
4. **Hard rules on the scores.** Same valid id number: one person. Two different valid
   id numbers: never one person by the model, nor two different numbers whose check
   characters hold when a record contradicts its own (``id_numbers.well_formed_numbers``).
   A pair whose names share nothing never
   merges (it may be a possible duplicate), and one whose names and birth dates both
   clearly differ is not even that, whatever else it shares (a parent's account on a
   child's phone). A shared phone or e-mail does not count towards a match between records
   whose names agree in one part at most and whose birth dates are not the same (likely
   relatives); such a pair may still be a possible duplicate. Otherwise a pair at or above
   ``threshold`` is a match; from ``review`` up to the threshold it is a *possible
   duplicate*, kept for review, not merged. Two records carrying one id number that one of
   them contradicts (its birth date or sex) are a possible duplicate whatever their score
   (:mod:`~.linkage_unblocked`), unless a hard rule or a reviewer stands against it.
5. **Clusters without chaining.** A cluster absorbs another only when every record of one
   is compatible with every record of the other (no hard rule or decision against them,
   and evidence that does not speak against one person: a score at least the prior
   chance of a match): pairs inside a tentative cluster that blocking did not generate are
   scored by Splink in a second pass, so A~B and B~C never merge A and C when A and C
   disagree.
6. **Stable ids.** A person with a valid id number is ``P`` + a keyed HMAC of it
   (:mod:`relgraph.ingest.person_ids`); one without keeps the id a previous load gave any
   of its records, or else takes ``P`` + the HMAC of its smallest customer_id.

**Seam for review decisions.** :func:`resolve` takes ``same`` and ``different``:
``frozenset`` of ``(customer_id, customer_id)`` pairs (either order) decided by a reviewer.
A SAME pair is a match whatever the model and the id numbers say (its evidence is the
single row ``decision / same``); a DIFFERENT pair is never in one cluster and never a
possible duplicate. Nothing else reads or writes decisions here.

Evidence (``match_evidence``) is the Splink waterfall of the record's strongest match
inside its person, as JSON: ``[{"comparison", "level", "weight"}, ...]`` with the prior
first (``comparison`` ``prior``) and match weights in bits (term-frequency adjustment
included).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from relgraph.config import ConfigError, EnvParams
from relgraph.ingest.decisions import unapplied_same, with_same_decisions
from relgraph.ingest.durable import write_text_durably
from relgraph.ingest.id_numbers import (
    as_day,
    id_number_problems,
    upgrade_legacy,
    valid_id_numbers,
    well_formed_numbers,
)
from relgraph.ingest.linkage_blocking import PREDICTION_RULES, cap_blocks
from relgraph.ingest.linkage_clusters import _clusters, _mark_different, _stable_ids
from relgraph.ingest.linkage_columns import (
    _FIRST_NUMBER,
    _FIRST_NUMBERS_CN,
    _LAST_NUMBER,
    _LAST_NUMBERS_CN,
    _address_numbers,
    _address_part,
    _address_slice,
    _latin,
    _nullable,
    _popular_to_null,
    name_columns,
    name_keys,
)
from relgraph.ingest.linkage_pairs import no_pairs, predict_pairs
from relgraph.ingest.linkage_training import (
    LinkerInput,
    Training,
    _train,
    _without_frequencies,
    settings,
    untrained_levels,
)
from relgraph.ingest.linkage_training import _linker as _linker
from relgraph.ingest.linkage_unblocked import (
    pair_keys,
    review_band,
    shared_id_pairs,
    unblocked_pairs,
)
from relgraph.ingest.person_ids import PersonIdKey

__all__ = [
    "LinkageParams",
    "Resolution",
    "Training",
    "as_arrow",
    "model_path",
    "name_keys",
    "resolve",
    "settings",
    "valid_id_numbers",
]

MODEL_PREFIX: Final = "linkage-model"
MIN_TRAINING_RECORDS: Final = 1000
"""Below this many records EM has too little to learn from: the shipped ``m``/``u`` serve."""
DECISION: Final = "decision"
NAME_PART_SIMILAR: Final = 1
"""The name level just above ELSE in the settings: one part of two Latin names alike."""
NAME_SOMEWHAT_SIMILAR: Final = 3
"""The name level above the two one-part levels: names somewhat alike as a whole."""
BIRTH_SAME: Final = 2
"""The birth-date level of one date (above one typo apart and ELSE)."""
CONTACTS: Final = ("phone", "email")
"""Comparisons whose agreement a family shares as often as a person does."""

log = logging.getLogger(__name__)

Pair = tuple[str, str]


@dataclass(frozen=True)
class LinkageParams(EnvParams):
    """Identity-resolution settings (environment ``RELGRAPH_IDENTITY_<FIELD>``)."""

    ENV_PREFIX = "IDENTITY"

    threshold: float = 0.99
    """Match probability at or above which two records are one person."""
    review: float = 0.5
    """Pairs from here up to the threshold are possible duplicates, kept for review."""
    max_block: int = 50
    """A phone, e-mail, address (or an id number a record contradicts) shared by more
    records than this identifies nobody."""
    block_cap: int = 10
    """No blocking rule pairs the records of a block larger than this (a key shared so
    widely identifies nobody either; :mod:`relgraph.ingest.linkage_blocking`)."""
    enabled: int = 1
    """0 falls back to v1: only a shared id number makes one person."""

    def check(self) -> None:
        super().check()
        if not 0 < self.review <= self.threshold < 1:
            raise ConfigError("IDENTITY thresholds need 0 < review ≤ threshold < 1")
        if self.enabled not in (0, 1):  # a switch: 5 or 2 meant something, but not v2
            raise ConfigError(f"enabled must be 0 or 1, not {self.enabled!r}")


@dataclass(frozen=True)
class Resolution:
    """Per record (input order): person id, match score and evidence; and the review band."""

    person_id: npt.NDArray[np.object_]
    match_score: npt.NDArray[np.float64]
    match_evidence: npt.NDArray[np.object_]
    possible: pd.DataFrame
    """customer_a, customer_b, score, evidence, reason: pairs in the review band, and why
    (``model.DUPLICATE_BY_SCORE`` or ``DUPLICATE_BY_SHARED_ID``)."""
    training: Training
    id_problems: pd.Series
    """Per record the reason its id number is no evidence (``id_numbers.PROBLEMS``) or None."""
    unapplied: list[dict[str, str]] = dataclasses.field(default_factory=list)
    """Reviewers' SAME decisions this load could not follow, with why (the load report)."""


def model_path(data_dir: Path) -> Path:
    """Where a model trained with the shipped settings is kept: a settings change is a new file."""
    text = json.dumps(settings(), sort_keys=True).encode("utf-8")
    return Path(data_dir) / f"{MODEL_PREFIX}-{hashlib.sha256(text).hexdigest()[:12]}.json"


def _prepare(records: pd.DataFrame, params: LinkageParams) -> tuple[pd.DataFrame, pd.Series]:
    """The table Splink links (one row per record, ``unique_id`` = position), and the
    id-number problems per record."""
    n = len(records)
    birth = records["birth_date"]
    gender = records["gender"].astype(object)
    problems = id_number_problems(records["id_number_norm"], birth, gender)
    idn = upgrade_legacy(records["id_number_norm"].astype(object))
    valid = records["id_number_norm"].notna().to_numpy(bool) & problems.isna().to_numpy(bool)
    day = as_day(birth) if len(birth) else birth
    birth_text = day.dt.strftime("%Y-%m-%d") if len(birth) else birth.astype(object)
    name = records["name_norm"].astype(object)
    names = name_columns(name)
    address = _popular_to_null(records["address_norm"].astype(object), params.max_block)
    numbers = _address_numbers(address)
    columns = {
        "id_number": idn.where(pd.Series(valid, index=idn.index), None),
        "name": name,
        "name_key": names["key"],
        "name_flat": names["flat"],
        "name_head": names["head"],
        "birth_date": birth_text,
        "birth_year": birth_text.str[:4],
        "gender": gender.where(gender.isin(["M", "F"]), None),
        "phone": _popular_to_null(records["phone_norm"], params.max_block),
        "email": _popular_to_null(records["email_norm"], params.max_block),
        "address": address,
        "address_head": _address_slice(address, 0, 6),
        "address_tail": _address_slice(address, -8, None),
        "name_latin": _latin(name),
        "name_first": names["first"],
        "name_last": names["last"],
        "address_street": _address_part(address, _FIRST_NUMBER, _FIRST_NUMBERS_CN),
        "address_end": _address_part(address, _LAST_NUMBER, _LAST_NUMBERS_CN),
        "address_numbers": numbers,
        "address_numbers_key": _popular_to_null(numbers, params.max_block),
    }
    frame = pd.DataFrame(
        {"unique_id": np.arange(n, dtype=np.int64)}
        | {column: _nullable(values) for column, values in columns.items()}
    )
    return frame, problems


def _model(
    source: LinkerInput, data_dir: Path | None, retrain: bool, by_key: npt.NDArray[np.intp]
) -> tuple[dict[str, Any], str, str | None]:
    """(model, how it was obtained, file): stored, trained (in ``by_key`` order) or shipped."""
    path = None if data_dir is None else model_path(data_dir)
    if path is not None and path.exists() and not retrain:
        stored: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return stored, "stored", str(path)
    if len(source.frame) < MIN_TRAINING_RECORDS:
        return _without_frequencies(settings()), "shipped", None
    model = _train(source, by_key)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A full disk stops the load, and no half model stays.
        model_text = json.dumps(model, indent=1, ensure_ascii=False)
        write_text_durably(path, model_text, path.with_suffix(".tmp"))
    return model, "em", None if path is None else str(path)


def _levels(model: dict[str, Any]) -> list[tuple[str, dict[int, str]]]:
    """Per comparison its output name and gamma value → level label (null level -1)."""
    out = []
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        scored = [lv for lv in levels if not lv.get("is_null_level")]
        labels = {-1: "missing"}
        for position, level in enumerate(scored):
            labels[len(scored) - 1 - position] = str(level["label_for_charts"])
        out.append((str(comparison["output_column_name"]), labels))
    return out


def resolve(
    records: pd.DataFrame,
    params: LinkageParams | None = None,
    previous: pd.Series | None = None,
    key: PersonIdKey | None = None,
    *,
    data_dir: Path | None = None,
    retrain: bool = False,
    same: frozenset[Pair] = frozenset(),
    different: frozenset[Pair] = frozenset(),
) -> Resolution:
    """Resolve customer records into persons.

    Parameters
    ----------
    records : DataFrame
        ``customer_id`` and the normalised ``name_norm``, ``id_number_norm``,
        ``phone_norm``, ``email_norm``, ``address_norm`` with ``birth_date`` (epoch ms)
        and ``gender``, one row per record.
    params : LinkageParams, optional
    previous : Series, optional
        customer_id → person_id from the last load, so persons without an id number
        keep their id when records are added. Only ids made with ``key``.
    key : PersonIdKey, optional
        The deployment's person-id key; a throw-away one when omitted.
    data_dir : Path, optional
        Where the trained model is kept and looked for; none: train (or use the shipped
        values) and keep nothing.
    retrain : bool
        Train even when a stored model exists (and replace it).
    same, different : frozenset of (customer_id, customer_id)
        Reviewers' decisions (see the module docstring).

    Examples
    --------
    Two records with one id number are one person, whatever else differs:

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name_norm": ["li wei"] * 3,
    ...     "id_number_norm": ["11010519491231002X", "11010519491231002X", None],
    ...     "birth_date": [-631238400000, None, 0], "gender": ["F", None, "M"],
    ...     "phone_norm": ["13800000000", "13900000000", None],
    ...     "email_norm": [None, None, None], "address_norm": ["1 road", None, "2 road"]})
    >>> r = resolve(rows)
    >>> r.person_id[0] == r.person_id[1] != r.person_id[2], float(r.match_score[0])
    (True, 1.0)
    """
    params = params or LinkageParams()
    started = time.perf_counter()
    n = len(records)
    frame, problems = _prepare(records, params)
    valid_numbers = frame["id_number"]  # upgraded; before the caps null a crowded one
    # The stored model keeps its rules as written; prediction joins on the capped keys.
    frame, rules, any_pair = cap_blocks(frame, settings()[PREDICTION_RULES], params.block_cap)
    cid = records["customer_id"].astype(str).to_numpy(object)
    position = {c: i for i, c in enumerate(cid.tolist())}
    source = LinkerInput(frame)
    by_key = np.argsort(cid, kind="stable")
    rank = np.argsort(by_key)  # each record's place in customer-id order
    model, method, model_file = _model(source, data_dir, retrain, by_key)
    scoring = {**model, PREDICTION_RULES: rules}
    linker = _linker(source, scoring) if any_pair else None
    pairs = predict_pairs(linker) if linker is not None else no_pairs(model)
    pairs = with_same_decisions(pairs, position, same)
    # Complete linkage: score every pair inside a tentative cluster blocking did not generate.
    # Pairs carrying one id number that a record contradicts are scored too: they are
    # offered for review whatever the score (linkage_unblocked).
    shared = shared_id_pairs(records["id_number_norm"], problems, params.max_block)
    extra = unblocked_pairs(n, pairs, params.threshold, shared)
    if len(extra):
        if linker is None:  # blocking paired nobody; these pairs still need their scores
            linker = _linker(source, scoring)
        linker.table_management.register_blocked_pairs_for_predict(
            linker._db_api.register(pa.Table.from_pandas(extra, preserve_index=False))
        )
        # No reviewer decided these (SAME pairs are rows already, so never missing): without
        # the column, concat leaves NaN, which reads as True, and every pair the guard scored
        # became a SAME decision that merged strangers (A~B, B~C, A and C disagreeing).
        more = predict_pairs(linker).assign(decided=False)
        pairs = pd.concat([pairs, more], ignore_index=True)
    a = pairs["unique_id_l"].to_numpy(np.int64)
    b = pairs["unique_id_r"].to_numpy(np.int64)
    chance = float(model["probability_two_random_records_match"])
    p, match, compatible = _decide(pairs, params, cid, different, a, b, chance)
    # Two different numbers whose check characters hold are two people, whatever else the
    # records share (see ``well_formed_numbers``); a reviewer's SAME still decides.
    number, well_formed = well_formed_numbers(records["id_number_norm"], problems, valid_numbers)
    two_numbers = (
        well_formed[a]
        & well_formed[b]
        & (number[a] != number[b])
        & ~pairs["decided"].to_numpy(bool)
    )
    p = np.where(two_numbers, 0.0, p)
    match &= ~two_numbers
    compatible &= ~two_numbers
    label = _clusters(n, a, b, p, match, compatible)

    inside = np.flatnonzero(match & (label[a] == label[b]))
    side = np.concatenate([a[inside], b[inside]])
    other = np.concatenate([b[inside], a[inside]])
    rows = np.concatenate([inside, inside])
    # Ties by the other record's customer id: pairs arrive in no fixed order (_clusters),
    # and positions follow the file's row order.
    order = np.lexsort((rank[other], -p[rows], side))
    side, rows = side[order], rows[order]
    first = np.r_[True, side[1:] != side[:-1]] if len(side) else np.empty(0, bool)
    best_p = np.full(n, np.nan)
    best_ev = np.full(n, None, dtype=object)
    offered = np.zeros(len(p), bool)
    if len(shared):
        offered = np.isin(pair_keys(a, b, n), pair_keys(*_ends(shared), n)) & (p > 0)
    review, reason = review_band(
        a, b, (p >= params.review) & ~match & compatible, offered & ~match, p, label
    )
    # The waterfall is written only for pairs someone reads: each record's best match and
    # the review band (a JSON text per scored pair would cost more than the scoring).
    shown = np.union1d(rows[first], np.flatnonzero(review))
    evidence = np.full(len(pairs), None, dtype=object)
    evidence[shown] = _evidence(
        pairs.iloc[shown], _levels(model), float(np.log2(chance / (1 - chance)))
    )
    best_p[side[first]] = p[rows[first]]
    best_ev[side[first]] = evidence[rows[first]]
    _mark_different(best_ev, position, different)

    valid = frame["id_number"].notna().to_numpy(bool)
    person = _stable_ids(
        cid,
        label,
        frame["id_number"].to_numpy(object),
        valid,
        previous,
        key or PersonIdKey.random(),
    )
    ends = np.sort([cid[a[review]], cid[b[review]]], axis=0)  # not in the file's row order
    possible = pd.DataFrame(
        {
            "customer_a": ends[0],
            "customer_b": ends[1],
            "score": p[review],
            "evidence": evidence[review],
            "reason": reason[review],
        }
    ).sort_values(
        ["score", "customer_a", "customer_b"], ascending=[False, True, True], ignore_index=True
    )
    checked = (pairs["gamma_id_number"] >= 0).to_numpy(bool) if "gamma_id_number" in pairs else None
    agreement = None
    n_checked = 0
    if checked is not None and checked.any():
        same_id = (pairs["gamma_id_number"] == 1).to_numpy(bool)[checked]
        model_says = (pairs["match_probability"].to_numpy(np.float64) >= params.threshold)[checked]
        n_checked = int(checked.sum())
        agreement = float(np.mean(same_id == model_says))
    untrained = () if method == "shipped" else untrained_levels(model)
    training = Training(
        method, time.perf_counter() - started, n_checked, agreement, model_file, untrained
    )
    unapplied = unapplied_same(pairs, label, cid, position, same)
    return Resolution(person, best_p, best_ev, possible, training, problems, unapplied)


def _ends(frame: pd.DataFrame) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    return frame["i_l"].to_numpy(np.int64), frame["i_r"].to_numpy(np.int64)


def _decide(
    pairs: pd.DataFrame,
    params: LinkageParams,
    cid: npt.NDArray[np.object_],
    different: frozenset[Pair],
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    chance: float = 0.0,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per pair: score after the hard rules, whether it is a match, whether compatible.

    Compatible: a reviewer said SAME, or no hard rule and no DIFFERENT decision stands
    against the pair and its evidence does not speak against one person (the score is at
    least the prior ``chance``: a Bayes factor of one or more). A cluster grows only
    through pairs that are compatible with every record of it; two records of one person
    that share little directly (one with a replaced given name, one with a rewritten
    birth date) are compatible, two strangers that disagree are not.
    """
    p = pairs["match_probability"].to_numpy(np.float64).copy()
    gamma_id = pairs["gamma_id_number"].fillna(-1).to_numpy(np.int64)
    # Levels count down from the strongest; the last (0) is the ELSE level of each comparison.
    gamma_name = pairs["gamma_name"].fillna(-1).to_numpy(np.int64)
    gamma_birth = pairs["gamma_birth_date"].fillna(-1).to_numpy(np.int64)
    name_else = gamma_name == 0
    # Level 1: only a part of two Latin names alike (``prideaux`` / ``prieaux``), the rest
    # different — a typo plus a replaced given name, or two relatives' names.
    name_part = gamma_name == NAME_PART_SIMILAR
    birth_else = gamma_birth == 0
    decided = pairs["decided"].to_numpy(bool)
    p = np.where(gamma_id == 1, 1.0, p)
    conflict = (gamma_id == 0) | ((name_else | name_part) & birth_else)
    p = np.where(conflict, 0.0, p)
    blocked = np.zeros(len(p), bool)
    if different:
        keys = {(min(x, y), max(x, y)) for x, y in different}
        left, right = cid[a].tolist(), cid[b].tolist()
        blocked = np.fromiter(
            ((min(x, y), max(x, y)) in keys for x, y in zip(left, right, strict=True)),
            bool,
            len(p),
        )
    p = np.where(decided, 1.0, np.where(blocked, 0.0, p))
    # Names that share nothing (not even one part) are two people to the model, however
    # much else they share (spouses on one phone and address); a reviewer may still decide.
    # Names alike in one part only merge when the birth dates agree too (same, or one typo
    # apart): without that, spouses on one address and phone would pass.
    weak_name = name_else | (name_part & (gamma_birth < 1))
    # Between likely relatives a shared phone or e-mail does not count towards a match;
    # the pair keeps its score and may still be a possible duplicate for a reviewer.
    plain = (gamma_id != 1) & ~decided & (p > 0)
    p_match = np.where(
        plain, np.minimum(p, _without_shared_contacts(pairs, p, gamma_name, gamma_birth)), p
    )
    match = (p_match >= params.threshold) & ~blocked & (~weak_name | (gamma_id == 1) | decided)
    compatible = ((p >= chance) & (p > 0) | decided) & ~blocked
    return p, match, compatible


def _without_shared_contacts(
    pairs: pd.DataFrame,
    p: npt.NDArray[np.float64],
    gamma_name: npt.NDArray[np.int64],
    gamma_birth: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """``p`` with a shared phone or e-mail counting for nothing between likely relatives
    (the score a match is decided on).

    A parent's account is registered on a child's mobile, an elderly parent gives the
    child's number, a family shares one e-mail: between records whose names agree in one
    part at most (a surname, or names only somewhat alike) and whose birth dates are not
    the same (different or unknown), a shared contact is what relatives share, and the
    model, which takes it as independent of the shared surname and address, would count
    it twice over. Its match weight is taken out of the score the match is decided on; the
    pair's own score and waterfall still show it.
    """
    if "match_weight" not in pairs:
        return p
    relatives = (gamma_name >= 0) & (gamma_name <= NAME_SOMEWHAT_SIMILAR)
    relatives &= gamma_birth != BIRTH_SAME
    if not relatives.any():
        return p
    weight = pairs["match_weight"].fillna(0.0).to_numpy(np.float64).copy()
    for name in CONTACTS:
        if f"gamma_{name}" not in pairs:
            continue
        agree = relatives & (pairs[f"gamma_{name}"].fillna(-1).to_numpy(np.int64) >= 1)
        contact = pairs[f"mw_{name}"].fillna(0.0).to_numpy(np.float64)
        if f"mw_tf_adj_{name}" in pairs:
            contact = contact + pairs[f"mw_tf_adj_{name}"].fillna(0.0).to_numpy(np.float64)
        weight -= np.where(agree, np.maximum(contact, 0.0), 0.0)
    rescored = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60.0, 60.0)))
    scored = pairs["match_weight"].notna().to_numpy(bool)
    return np.where(relatives & scored, rescored, p)


def _evidence(
    pairs: pd.DataFrame, levels: list[tuple[str, dict[int, str]]], prior: float
) -> npt.NDArray[np.object_]:
    """Per pair the waterfall as JSON: prior, then each comparison's level and weight."""
    columns = []
    for name, labels in levels:
        gamma = pairs[f"gamma_{name}"].fillna(-1).to_numpy(np.int64)
        weight = pairs[f"mw_{name}"].fillna(0.0).to_numpy(np.float64)
        if f"mw_tf_adj_{name}" in pairs:
            weight = weight + pairs[f"mw_tf_adj_{name}"].fillna(0.0).to_numpy(np.float64)
        columns.append((name, labels, gamma, np.round(weight, 3)))
    decided = pairs["decided"].to_numpy(bool)
    scored = pairs["match_weight"].notna().to_numpy(bool)
    # Pairs with one outcome on every comparison share one waterfall: written once each
    # (a few thousand texts for the half million pairs a million records show).
    keys = pd.DataFrame({"decided": decided, "scored": scored})
    for name, _, gamma, weight in columns:
        keys[f"g_{name}"], keys[f"w_{name}"] = gamma, weight
    group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy(np.int64)
    _, first = np.unique(group, return_index=True)
    head = {"comparison": "prior", "level": "prior", "weight": round(prior, 3)}
    decision = {"comparison": DECISION, "level": "same", "weight": None}
    texts = np.empty(len(first), dtype=object)
    for at, row in enumerate(first.tolist()):
        items: list[dict[str, Any]] = [decision] if decided[row] else []
        if scored[row]:
            items.append(head)
            for name, labels, gamma, weight in columns:
                level = int(gamma[row])
                if level < 0:  # missing on either side: no weight, no evidence
                    continue
                items.append(
                    {
                        "comparison": name,
                        "level": labels.get(level, str(level)),
                        "weight": float(weight[row]),
                    }
                )
        texts[at] = json.dumps(items, ensure_ascii=False)
    return texts[group]


def resolution_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(LinkageParams))


def as_arrow(resolution: Resolution) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array(resolution.person_id, pa.string()),
            "match_score": pa.array(resolution.match_score, pa.float64(), from_pandas=True),
            "match_evidence": pa.array(resolution.match_evidence, pa.string()),
        }
    )
