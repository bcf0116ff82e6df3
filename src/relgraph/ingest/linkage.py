"""Identity resolution v2: probabilistic record linkage of customer records (Fellegi–Sunter).

How a record finds its person:

1. **Blocking.** Candidate pairs share a blocking key — the normalised phone, the
   email, name + birth date, or name + address — in a block of at most
   ``max_block`` records (a bank hotline typed in by hundreds of customers blocks
   nothing). Candidates stay near-linear in the number of records.
2. **Comparison.** Each candidate pair gets a level per field: id number (same, one
   digit apart, different, missing), name (same, Jaro–Winkler ≥ 0.92, different),
   birth date, gender, email, address (same, different, missing) and phone (same,
   two digits transposed, different, missing).
3. **Weights.** Fellegi–Sunter match weights ``log2(m/u)`` per field level, learnt
   from the bank's own labels rather than by unsupervised EM: pairs that share an id
   number are matches (m), pairs with two different valid id numbers are non-matches
   (u), each updating a documented prior (``PRIOR_M``, ``PRIOR_U``) worth 100 pairs. An id number one digit apart weighs
   ``typo_weight`` (a single wrong digit always breaks the check digit of a resident
   id, so one of the two is a typo). The prior is the share of matches among labelled
   candidates. The score is the posterior match probability.
4. **Decision.** Same valid id number: the same person. Two different valid id numbers:
   never the same person. Otherwise a pair at or above ``threshold`` (0.99) is a
   match; between ``review`` (0.5) and the threshold it is a *possible duplicate* kept
   for review, not merged.
5. **Clusters with guards.** Matches are joined transitively, but a cluster only
   absorbs another when every record of one is compatible with every record of the
   other — a candidate scored at least ``review``, or the same id number — and no two
   carry different valid id numbers. So A~B and B~C do not merge A and C when A and C
   share nothing.
6. **Stable ids.** A person with an id number is ``P`` + a keyed HMAC of it (as in v1,
   :mod:`relgraph.ingest.person_ids`); one without keeps the id a previous load gave
   any of its records, or else takes ``P`` + the HMAC of its smallest customer_id. When
   two persons would get one id (a reviewer split records with one id number), the one
   with more records keeps it and the other takes the HMAC of its smallest customer_id.
7. **Reviewers' decisions** (:mod:`relgraph.ingest.decisions`) override the model both
   ways: a SAME pair is one person even with two different valid id numbers; a DIFFERENT
   pair is never in one person, directly or through other records (not even on a shared
   id number). Decided pairs leave the review band, and each record a decision touched
   says so in its evidence (``decision=same`` / ``decision=different``).

Resident id numbers (18 characters) are valid when their ISO 7064 MOD 11-2 check
character is right; other id formats cannot be checked and count as valid.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph.config import ConfigError, EnvParams
from relgraph.ingest.person_ids import PersonIdKey, hmac_id_sql

_ID_WEIGHTS: Final = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK: Final = np.frombuffer(b"10X98765432", dtype=np.uint8)


@dataclass(frozen=True)
class LinkageParams(EnvParams):
    """Identity-resolution settings (environment ``RELGRAPH_IDENTITY_<FIELD>``)."""

    ENV_PREFIX = "IDENTITY"

    threshold: float = 0.99
    """Match probability at or above which two records are one person."""
    review: float = 0.5
    """Pairs from here up to the threshold are possible duplicates, kept for review."""
    max_block: int = 50
    """Blocking keys shared by more records than this are not used."""
    typo_weight: float = 10.0
    """Weight (bits) of two id numbers one digit apart."""
    enabled: int = 1
    """0 falls back to v1: only a shared id number makes one person."""

    def check(self) -> None:
        super().check()
        if not 0 < self.review <= self.threshold < 1:
            raise ConfigError("IDENTITY thresholds need 0 < review ≤ threshold < 1")


FIELDS: Final = ("name", "birth_date", "gender", "phone", "email", "address")

PRIOR_M: Final[dict[str, dict[str, float]]] = {
    "name": {"same": 0.90, "similar": 0.07, "different": 0.03},
    "birth_date": {"same": 0.97, "different": 0.03},
    "gender": {"same": 0.98, "different": 0.02},
    "phone": {"same": 0.85, "transposed": 0.02, "different": 0.13},
    "email": {"same": 0.80, "different": 0.20},
    "address": {"same": 0.85, "different": 0.15},
}
"""Typical share of each level among true matches: the prior the labelled pairs update."""
PRIOR_U: Final[dict[str, dict[str, float]]] = {
    "name": {"same": 0.05, "similar": 0.02, "different": 0.93},
    "birth_date": {"same": 0.05, "different": 0.95},
    "gender": {"same": 0.50, "different": 0.50},
    "phone": {"same": 0.30, "transposed": 0.001, "different": 0.699},
    "email": {"same": 0.05, "different": 0.95},
    "address": {"same": 0.30, "different": 0.70},
}
"""Typical share of each level among blocked non-matches (they share a blocking key)."""
PRIOR_PAIRS: Final = 100.0
"""Weight of the priors, in pairs: a bank with thousands of labelled pairs overrides them,
a handful of records leans on them."""
PRIOR_MATCH_SHARE: Final = 0.1
"""Prior share of matches among candidate pairs."""


def valid_id_numbers(values: pd.Series) -> npt.NDArray[np.bool_]:
    """Whether each id number is valid.

    An 18-character resident id is valid when its check character is right; any other
    non-empty id cannot be checked and counts as valid.

    Examples
    --------
    >>> import pandas as pd
    >>> valid_id_numbers(pd.Series(["11010519491231002X", "11010519491231002Y", "E1234", None])).tolist()
    [True, False, True, False]
    """
    text = values.fillna("").astype(str)
    resident = (text.str.len() == 18) & text.str[:17].str.isdigit()
    ok = (text.str.len() > 0) & ~resident & (text.str.len() != 18)
    if resident.any():
        chosen = text[resident].to_numpy(dtype="U18")
        codes = chosen.view(np.uint32).reshape(-1, 18)
        digits = (codes[:, :17] - ord("0")).astype(np.int64)
        expected = _CHECK[(digits @ _ID_WEIGHTS) % 11]
        ok[resident] = codes[:, 17] == expected
    return ok.to_numpy(bool)


_COMPARE = """
SELECT p.a, p.b,
  CASE WHEN x.idn IS NULL OR y.idn IS NULL THEN 'missing'
       WHEN x.idn = y.idn THEN 'same'
       WHEN length(x.idn) = length(y.idn) AND hamming(x.idn, y.idn) = 1 THEN 'one_digit'
       ELSE 'different' END AS id_level,
  x.id_valid AND y.id_valid AND x.idn <> y.idn AS id_conflict,
  CASE WHEN x.name IS NULL OR y.name IS NULL THEN 'missing'
       WHEN x.name = y.name THEN 'same'
       WHEN jaro_winkler_similarity(x.name, y.name) >= 0.92 THEN 'similar'
       ELSE 'different' END AS name,
  CASE WHEN x.birth_date IS NULL OR y.birth_date IS NULL THEN 'missing'
       WHEN x.birth_date = y.birth_date THEN 'same' ELSE 'different' END AS birth_date,
  CASE WHEN x.gender IS NULL OR y.gender IS NULL OR x.gender = 'U' OR y.gender = 'U' THEN 'missing'
       WHEN x.gender = y.gender THEN 'same' ELSE 'different' END AS gender,
  CASE WHEN x.phone IS NULL OR y.phone IS NULL THEN 'missing'
       WHEN x.phone = y.phone THEN 'same'
       WHEN length(x.phone) = length(y.phone) AND damerau_levenshtein(x.phone, y.phone) = 1
            AND hamming(x.phone, y.phone) = 2 THEN 'transposed'
       ELSE 'different' END AS phone,
  CASE WHEN x.email IS NULL OR y.email IS NULL THEN 'missing'
       WHEN x.email = y.email THEN 'same' ELSE 'different' END AS email,
  CASE WHEN x.address IS NULL OR y.address IS NULL THEN 'missing'
       WHEN x.address = y.address THEN 'same' ELSE 'different' END AS address
FROM pairs p JOIN rec x ON x.i = p.a JOIN rec y ON y.i = p.b
"""

_BLOCKS: Final = (
    "phone",
    "email",
    "name || '|' || CAST(birth_date AS VARCHAR)",
    "name || '|' || address",
)


@dataclass(frozen=True)
class Resolution:
    """Per record (input order): person id, match score and evidence; and the review band."""

    person_id: npt.NDArray[np.object_]
    match_score: npt.NDArray[np.float64]
    match_evidence: npt.NDArray[np.object_]
    possible: pd.DataFrame
    """customer_a, customer_b, score, evidence: pairs in the review band."""
    weights: dict[str, dict[str, float]]


def resolve(
    records: pd.DataFrame,
    params: LinkageParams | None = None,
    previous: pd.Series | None = None,
    key: PersonIdKey | None = None,
    *,
    same: frozenset[tuple[str, str]] = frozenset(),
    different: frozenset[tuple[str, str]] = frozenset(),
) -> Resolution:
    """Resolve customer records into persons.

    Parameters
    ----------
    records : DataFrame
        ``customer_id`` and the normalised ``name_norm``, ``id_number_norm``,
        ``phone_norm``, ``email_norm``, ``address_norm`` with ``birth_date`` and
        ``gender``, one row per record.
    params : LinkageParams, optional
    previous : Series, optional
        customer_id → person_id from the last load, so persons without an id number
        keep their id when records are added. Only ids made with ``key``.
    key : PersonIdKey, optional
        The deployment's person-id key; a throw-away one when omitted (ids then agree
        within this call only).
    same, different : frozenset of (customer_id, customer_id), sorted
        Reviewers' decisions (:func:`relgraph.ingest.decisions.decided_pairs`): pairs to
        merge whatever the model says, and pairs never to put in one person. Pairs
        naming a record not in ``records`` are ignored.

    Returns
    -------
    Resolution

    Examples
    --------
    Two records with one id number are one person, whatever else differs:

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name_norm": ["li wei"] * 3,
    ...     "id_number_norm": ["11010519491231002X", "11010519491231002X", None],
    ...     "birth_date": [0, None, 0], "gender": ["M", None, "F"],
    ...     "phone_norm": ["13800000000", "13900000000", None],
    ...     "email_norm": [None, None, None], "address_norm": ["1 road", None, "2 road"]})
    >>> r = resolve(rows)
    >>> r.person_id[0] == r.person_id[1] != r.person_id[2], float(r.match_score[0])
    (True, 1.0)
    """
    params = params or LinkageParams()
    n = len(records)
    idn = records["id_number_norm"]
    valid = valid_id_numbers(idn)
    rec = pd.DataFrame(
        {
            "i": np.arange(n, dtype=np.int64),
            "idn": idn.astype(object).where(idn.notna(), None),
            "id_valid": valid,
            "name": records["name_norm"].astype(object),
            "birth_date": records["birth_date"].astype("Int64"),
            "gender": records["gender"].astype(object),
            "phone": records["phone_norm"].astype(object),
            "email": records["email_norm"].astype(object),
            "address": records["address_norm"].astype(object),
        }
    )
    con = duckdb.connect(":memory:")
    try:
        con.register("rec_frame", rec)
        con.execute("CREATE TEMP TABLE rec AS SELECT * FROM rec_frame")
        blocks = " UNION ".join(
            f"SELECT a.i AS a, b.i AS b FROM (SELECT i, {key} AS k FROM rec WHERE {key} IS NOT NULL "  # noqa: S608 - keys are constants
            f"AND {key} IN (SELECT {key} FROM rec GROUP BY 1 HAVING count(*) BETWEEN 2 AND {int(params.max_block)})) a "
            f"JOIN (SELECT i, {key} AS k FROM rec WHERE {key} IS NOT NULL) b ON a.k = b.k AND a.i < b.i"
            for key in _BLOCKS
        )
        # Records sharing an id number are pairs too (they are matches by rule).
        blocks += " UNION SELECT a.i, b.i FROM rec a JOIN rec b ON a.idn = b.idn AND a.i < b.i"
        con.execute(f"CREATE TEMP TABLE pairs AS {blocks}")
        pairs = con.sql(_COMPARE).df()
    finally:
        con.close()
    weights, prior = _learn(pairs)
    score = np.full(len(pairs), prior)
    for field in FIELDS:
        score += pairs[field].map(weights[field]).to_numpy(np.float64)
    score += np.where(pairs["id_level"] == "one_digit", params.typo_weight, 0.0)
    probability = 1.0 / (1.0 + np.exp2(-score))
    same_id = (pairs["id_level"] == "same").to_numpy()
    conflict = pairs["id_conflict"].fillna(False).to_numpy(bool)
    probability = np.where(same_id, 1.0, np.where(conflict, 0.0, probability))
    a, b = pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64)
    match = probability >= params.threshold if params.enabled else same_id
    evidence = _evidence_text(pairs)
    cid = records["customer_id"].to_numpy(object)
    # -- reviewers' decisions (ingest/decisions.py): the one place they enter -----------------
    decided = _decide(cid, a, b, probability, match, evidence, same, different)
    a, b, probability, match, evidence = (
        decided.a,
        decided.b,
        decided.probability,
        decided.match,
        decided.evidence,
    )
    # ------------------------------------------------------------------------------------------
    label = _clusters(
        n, a, b, probability, match, params.review, idn.to_numpy(object), valid,
        forced=decided.same_rows, forbidden=decided.forbidden,
    )  # fmt: skip

    # Each record's strongest match inside its cluster is its evidence (a decision first).
    inside = np.flatnonzero(match & (label[a] == label[b]))
    side = np.concatenate([a[inside], b[inside]])
    rows = np.concatenate([inside, inside])
    order = np.lexsort((~decided.same_rows[rows], -probability[rows], side))
    side, rows = side[order], rows[order]
    first = np.r_[True, side[1:] != side[:-1]] if len(side) else np.empty(0, bool)
    best_p = np.full(n, np.nan)
    best_ev = np.full(n, None, dtype=object)
    best_p[side[first]] = probability[rows[first]]
    best_ev[side[first]] = evidence[rows[first]]
    for record in decided.split_records:  # kept apart by a reviewer: the evidence says so
        best_ev[record] = "decision=different" + (f";{best_ev[record]}" if best_ev[record] else "")

    person = _stable_ids(
        records["customer_id"].to_numpy(object),
        label,
        idn.to_numpy(object),
        valid,
        previous,
        key or PersonIdKey.random(),
    )
    review = (probability >= params.review) & ~match & (label[a] != label[b])
    review &= ~decided.decided_rows  # a decided pair is reviewed: never shown again
    possible = pd.DataFrame(
        {
            "customer_a": cid[a[review]],
            "customer_b": cid[b[review]],
            "score": probability[review],
            "evidence": evidence[review],
        }
    ).sort_values(
        ["score", "customer_a", "customer_b"], ascending=[False, True, True], ignore_index=True
    )
    return Resolution(person, best_p, best_ev, possible, weights)


@dataclass(frozen=True)
class _Decided:
    """The candidate pairs with reviewers' decisions applied (see :func:`_decide`)."""

    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    probability: npt.NDArray[np.float64]
    match: npt.NDArray[np.bool_]
    evidence: npt.NDArray[np.object_]
    same_rows: npt.NDArray[np.bool_]
    """Rows a SAME decision forces together."""
    decided_rows: npt.NDArray[np.bool_]
    """Rows decided either way (they leave the review band)."""
    forbidden: frozenset[tuple[int, int]]
    """DIFFERENT pairs as record indices, low first."""
    split_records: tuple[int, ...]
    """Records in a DIFFERENT pair: their evidence says a reviewer kept them apart."""


def _decide(
    cid: npt.NDArray[np.object_],
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    match: npt.NDArray[np.bool_],
    evidence: npt.NDArray[np.object_],
    same: frozenset[tuple[str, str]],
    different: frozenset[tuple[str, str]],
) -> _Decided:
    """Apply SAME and DIFFERENT decisions to the candidate pairs (``a < b``, record indices).

    A SAME pair the blocking did not propose is added as a row. SAME rows get probability
    1 and evidence ``decision=same`` (then what the model saw); DIFFERENT rows probability
    0 and ``decision=different``, whatever the id numbers say.
    """
    none = np.zeros(len(a), dtype=bool)
    if not same and not different:
        return _Decided(a, b, probability, match, evidence, none, none, frozenset(), ())
    n = len(cid)
    index = {c: i for i, c in enumerate(cid.tolist())}

    def indexed(pairs: frozenset[tuple[str, str]]) -> set[tuple[int, int]]:
        found = {(index.get(x), index.get(y)) for x, y in pairs}
        return {
            (min(i, j), max(i, j)) for i, j in found if i is not None and j is not None and i != j
        }

    same_ix, different_ix = indexed(same), indexed(different)
    same_ix -= different_ix  # a pair is decided one way: the reader keeps the latest
    if not same_ix and not different_ix:
        return _Decided(a, b, probability, match, evidence, none, none, frozenset(), ())
    codes = a * n + b
    same_codes = np.array(sorted(i * n + j for i, j in same_ix), dtype=np.int64)
    different_codes = np.array(sorted(i * n + j for i, j in different_ix), dtype=np.int64)
    extra = np.setdiff1d(same_codes, codes)  # SAME pairs no blocking key proposed
    a = np.concatenate([a, extra // n])
    b = np.concatenate([b, extra % n])
    codes = np.concatenate([codes, extra])
    probability = np.concatenate([probability, np.zeros(len(extra))])
    match = np.concatenate([match, np.zeros(len(extra), dtype=bool)])
    evidence = np.concatenate([evidence, np.full(len(extra), "", dtype=object)])
    same_rows = np.isin(codes, same_codes)
    different_rows = np.isin(codes, different_codes)
    for rows, verdict, p, joined in (
        (same_rows, "same", 1.0, True),
        (different_rows, "different", 0.0, False),
    ):
        probability[rows] = p
        match[rows] = joined
        evidence[rows] = [f"decision={verdict}" + (f";{e}" if e else "") for e in evidence[rows]]
    split = sorted({r for pair in different_ix for r in pair})
    return _Decided(
        a, b, probability, match, evidence, same_rows, same_rows | different_rows,
        frozenset(different_ix), tuple(split),
    )  # fmt: skip


def _learn(pairs: pd.DataFrame) -> tuple[dict[str, dict[str, float]], float]:
    """Match weights per field level from labelled pairs and priors, and the prior log-odds.

    ``m`` and ``u`` of each level are the labelled counts plus ``PRIOR_PAIRS`` pairs
    spread as ``PRIOR_M`` / ``PRIOR_U`` say (a Dirichlet prior).
    """
    matches = pairs[pairs["id_level"] == "same"]
    non = pairs[pairs["id_conflict"].fillna(False).astype(bool)]
    weights: dict[str, dict[str, float]] = {}
    for field in FIELDS:
        levels = pd.Index(list(PRIOR_M[field]))
        m = matches[field].value_counts().reindex(levels, fill_value=0) + PRIOR_PAIRS * pd.Series(
            PRIOR_M[field]
        ).reindex(levels)
        u = non[field].value_counts().reindex(levels, fill_value=0) + PRIOR_PAIRS * pd.Series(
            PRIOR_U[field]
        ).reindex(levels)
        w = pd.Series(np.log2((m / m.sum()) / (u / u.sum())), index=levels)
        weights[field] = {str(k): float(v) for k, v in w.items()}
        weights[field]["missing"] = 0.0  # a missing value says nothing either way
    prior_matches = len(matches) + PRIOR_PAIRS * PRIOR_MATCH_SHARE
    prior_non = len(non) + PRIOR_PAIRS * (1 - PRIOR_MATCH_SHARE)
    return weights, float(np.log2(prior_matches / prior_non))


def _evidence_text(pairs: pd.DataFrame) -> npt.NDArray[np.object_]:
    """Per pair, the fields that agreed: ``id_number=same;name=same;phone=transposed``."""

    parts: list[pa.Array] = []
    for field, column in (("id_number", "id_level"), *((f, f) for f in FIELDS)):
        level = pa.array(pairs[column].astype(str).to_numpy(object), pa.string())
        agree = pc.is_in(level, value_set=pa.array(["same", "similar", "one_digit", "transposed"]))
        parts.append(pc.if_else(agree, pc.binary_join_element_wise(field, level, "="), ""))
    joined = pc.binary_join_element_wise(*parts, ";")
    cleaned = pc.utf8_trim(pc.replace_substring_regex(joined, ";{2,}", ";"), ";")
    return np.asarray(cleaned.to_numpy(zero_copy_only=False), dtype=object)


def _clusters(
    n: int,
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
    match: npt.NDArray[np.bool_],
    review: float,
    idn: npt.NDArray[np.object_],
    valid: npt.NDArray[np.bool_],
    *,
    forced: npt.NDArray[np.bool_] | None = None,
    forbidden: frozenset[tuple[int, int]] = frozenset(),
) -> npt.NDArray[np.int64]:
    """Transitive closure of the matches, with the complete-linkage guard for bigger clusters.

    ``forced`` rows (reviewers' SAME pairs, also in ``match``) join first and skip the
    guard's id-number and compatibility checks; no join ever puts both records of a
    ``forbidden`` pair (index pairs, low first: DIFFERENT decisions) in one cluster.
    """
    if forced is None:
        forced = np.zeros(len(a), dtype=bool)
    graph = sp.coo_array((np.ones(int(match.sum())), (a[match], b[match])), shape=(n, n)).tocsr()
    _, components = connected_components(graph, directed=False)
    label: npt.NDArray[np.int64] = components.astype(np.int64)
    sizes = np.bincount(label, minlength=n)
    # Pairs of two records are compatible by construction; only bigger clusters are checked.
    big = np.flatnonzero(sizes > 2)
    if len(big) == 0:
        return label
    ok_rows = np.flatnonzero((p >= review) & (sizes[label[a]] > 2))
    compatible = set(zip(a[ok_rows].tolist(), b[ok_rows].tolist(), strict=True))
    members_of: dict[int, list[int]] = {}
    for record in np.flatnonzero(np.isin(label, big)).tolist():
        members_of.setdefault(int(label[record]), []).append(record)
    next_label = n
    edge_rows = np.flatnonzero(match & (sizes[label[a]] > 2))
    edge_rows = edge_rows[np.lexsort((-p[edge_rows], ~forced[edge_rows]))]  # decisions first
    cluster = {r: r for members in members_of.values() for r in members}
    groups = {r: [r] for r in cluster}
    for row in edge_rows.tolist():
        x, y = cluster[int(a[row])], cluster[int(b[row])]
        if x == y:
            continue
        left, right = groups[x], groups[y]
        if forbidden and any((min(s, t), max(s, t)) in forbidden for s in left for t in right):
            continue  # a reviewer said two of these records are different persons
        if not forced[row]:
            # One valid id number per side, or a shared one: a side merged by a SAME
            # decision may hold two, and still takes a record of either.
            lids = {idn[r] for r in left if valid[r]}
            rids = {idn[r] for r in right if valid[r]}
            ok = (not lids or not rids or bool(lids & rids)) and all(
                (min(s, t), max(s, t)) in compatible for s in left for t in right
            )
            if not ok:
                continue
        groups[x] = left + right
        for r in right:
            cluster[r] = x
        del groups[y]
    for root, members in groups.items():
        label[members] = next_label + root
    return label


def _stable_ids(
    customer_id: npt.NDArray[np.object_],
    label: npt.NDArray[np.int64],
    idn: npt.NDArray[np.object_],
    valid: npt.NDArray[np.bool_],
    previous: pd.Series | None,
    key: PersonIdKey,
) -> npt.NDArray[np.object_]:
    frame = pd.DataFrame({"label": label, "cid": customer_id, "idn": idn, "valid": valid})
    frame["old"] = frame["cid"].map(previous) if previous is not None else None
    frame["old"] = frame["old"].astype(object).where(frame["old"].notna(), None)
    con = duckdb.connect(":memory:")
    try:
        key.install(con)
        con.register("frame", frame)
        # One row per cluster: its (valid first, then smallest) id number, the id most of
        # its records had before, and its smallest customer_id — then the person id.
        ids = con.sql(
            f"""
            WITH c AS (
                SELECT label,
                       arg_min(idn, (NOT valid, idn)) FILTER (WHERE idn IS NOT NULL) AS idn,
                       mode(old) FILTER (WHERE old IS NOT NULL) AS old,
                       min(cid) AS cid, count(*) AS size
                FROM frame GROUP BY label
            )
            SELECT label, idn IS NOT NULL AS by_id, size, cid,
                   CASE WHEN idn IS NOT NULL THEN {hmac_id_sql("'id:' || idn")}
                        WHEN old IS NOT NULL THEN old
                        ELSE {hmac_id_sql("'record:' || cid")} END AS person_id
            FROM c
            """  # noqa: S608 - the SQL is constant; the key is bound as variables
        ).df()
    finally:
        con.close()
    ids = _one_person_per_id(ids, key)
    return frame["label"].map(ids.set_index("label")["person_id"]).to_numpy(object)


def _one_person_per_id(ids: pd.DataFrame, key: PersonIdKey) -> pd.DataFrame:
    """``ids`` with every person id given to one cluster only.

    Two clusters ask for one id when records that had one person were split (by a
    reviewer's DIFFERENT, or by the model changing its mind), so both carry its id number
    or its previous id. The cluster keyed by an id number, then the larger, then the one
    with the smaller customer_id keeps it; the others take the HMAC of their smallest
    customer_id (``#2``, ``#3``… appended in the unlikely case that one is taken too).
    """
    if not ids["person_id"].duplicated().any():  # the usual case: no sort needed
        return ids
    ids = ids.sort_values(["by_id", "size", "cid"], ascending=[False, False, True])
    clash = ids["person_id"].duplicated(keep="first").to_numpy()
    taken = set(ids["person_id"][~clash])
    column = list(ids.columns).index("person_id")
    for position in np.flatnonzero(clash).tolist():
        cid, n = str(ids["cid"].iloc[position]), 1
        candidate = key.person_id(f"record:{cid}")
        while candidate in taken:
            n += 1
            candidate = key.person_id(f"record:{cid}#{n}")
        taken.add(candidate)
        ids.iat[position, column] = candidate
    return ids


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
