"""Identity resolution and households against ``persons.csv`` and ``households.csv``.

Both are clusterings of customer rows: identity groups rows into persons
(``customers.person_id``), households group them through their person
(``person_households``). Scores are pairwise over every truth row; a row the store does
not hold is in no found cluster, so its pairs are missed.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from relgraph.validate.metrics import merged_clusters, pairwise, split_clusters
from relgraph.validate.section import Section

EXAMPLES: Final = 5
"""Worst split and merged clusters shown in the report."""
NOT_HELD: Final = "(not in store)"


def _clustering(
    section: Section, ids: pd.Series, truth: pd.Series, found: pd.Series, held: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill the pairwise figures of ``section``; return the split and merged clusters."""
    scores = pairwise(truth, found)
    split = split_clusters(truth, found)
    merged = merged_clusters(truth, found)
    n_missing, listed = section.unheld(ids, held)
    multi = int((truth.value_counts() >= 2).sum())
    section.figures.update(
        rows=len(ids),
        clusters=int(truth.nunique()),
        clusters_2plus=multi,
        precision=scores.precision,
        recall=scores.recall,
        f1=scores.f1,
        truth_pairs=scores.truth_pairs,
        found_pairs=scores.found_pairs,
        true_pairs_found=scores.both,
        split_clusters=len(split),
        split_share=len(split) / multi if multi else None,
        merged_clusters=len(merged),
        missing_ids=n_missing,
        missing_ids_listed=listed,
    )
    section.headline.update(
        {
            "pairwise precision": scores.precision,
            "pairwise recall": scores.recall,
            "pairwise F1": scores.f1,
            "split clusters": len(split),
            "merged clusters": len(merged),
            "truth ids not in the store": n_missing,
        }
    )
    if n_missing:
        section.tables.append(
            (
                f"Truth ids not in the store (first {len(listed)} of {n_missing}; counted as misses)",
                pd.DataFrame({"customer_id": listed}),
            )
        )
    return split, merged


def identity(
    persons: pd.DataFrame, customers: pd.DataFrame, duplicates: pd.DataFrame | None
) -> Section:
    """Identity resolution: customer rows grouped into persons.

    Parameters
    ----------
    persons
        ``persons.csv``: ``customer_id, person_key``.
    customers
        The stored ``customers`` table: ``customer_id, person_id, match_score, match_evidence``.
    duplicates
        The stored review band ``possible_duplicates`` (``customer_a, customer_b, score,
        evidence``), or None.
    """
    section = Section("identity", "Identity resolution (persons.csv)")
    by_id = customers.drop_duplicates("customer_id").set_index("customer_id")
    ids = persons["customer_id"]
    found = ids.map(by_id["person_id"])
    split, merged = _clustering(section, ids, persons["person_key"], found, pd.Index(by_id.index))
    rows = pd.DataFrame(
        {
            "person_key": persons["person_key"],
            "customer_id": ids,
            "found_person": found.fillna(NOT_HELD),
            "match_score": ids.map(by_id["match_score"]),
            "match_evidence": ids.map(by_id["match_evidence"]),
        }
    )
    worst_split = rows[rows["person_key"].isin(split["truth"].head(EXAMPLES))]
    section.tables.append(
        (
            "Worst split persons: one real person's rows under several found persons "
            "(with the evidence of each row's strongest match)",
            worst_split.sort_values(["person_key", "customer_id"]),
        )
    )
    if duplicates is not None and len(worst_split):
        members = set(worst_split["customer_id"])
        band = duplicates[
            duplicates["customer_a"].isin(members) & duplicates["customer_b"].isin(members)
        ]
        section.tables.append(
            ("Review-band pairs among those rows (scored, not merged)", band.reset_index(drop=True))
        )
    worst_merged = rows[rows["found_person"].isin(merged["found"].head(EXAMPLES))]
    section.tables.append(
        (
            "Worst merged persons: rows of different real persons under one found person "
            "(with the evidence that merged them)",
            worst_merged.sort_values(["found_person", "person_key"]),
        )
    )
    return section


def households(
    truth: pd.DataFrame,
    customers: pd.DataFrame,
    person_households: pd.DataFrame,
    ties: pd.DataFrame | None,
    evidence: pd.DataFrame | None,
) -> Section:
    """Households: customer rows grouped through their person's found household.

    Parameters
    ----------
    truth
        ``households.csv``: ``customer_id, household_key``.
    customers
        The stored ``customers`` table: ``customer_id, person_id``.
    person_households
        The stored ``person_households`` result: ``person_id, household_id``.
    ties, evidence
        The stored ``household_ties`` (why persons were put together) and
        ``network_evidence`` (every shared identifier between two persons), or None.
    """
    section = Section("households", "Households (households.csv)")
    by_id = customers.drop_duplicates("customer_id").set_index("customer_id")["person_id"]
    household_of = person_households.drop_duplicates("person_id").set_index("person_id")
    ids = truth["customer_id"]
    person = ids.map(by_id)
    found = person.map(household_of["household_id"])
    split, merged = _clustering(section, ids, truth["household_key"], found, pd.Index(by_id.index))
    sizes = person_households["household_id"].value_counts()
    section.figures["largest_found_household"] = int(sizes.max()) if len(sizes) else 0
    rows = pd.DataFrame(
        {
            "household_key": truth["household_key"],
            "customer_id": ids,
            "person_id": person.fillna(NOT_HELD),
            "found_household": found.fillna(NOT_HELD),
        }
    )
    worst_split = rows[rows["household_key"].isin(split["truth"].head(EXAMPLES))]
    section.tables.append(
        (
            "Worst split households: one planted household under several found ones",
            worst_split.sort_values(["household_key", "customer_id"]),
        )
    )
    members = set(worst_split["person_id"])
    if evidence is not None and members:
        links = evidence[evidence["person_a"].isin(members) & evidence["person_b"].isin(members)]
        # Only the links that failed: same planted household, different found ones.
        first = worst_split.drop_duplicates("person_id").set_index("person_id")
        same_key = links["person_a"].map(first["household_key"]) == links["person_b"].map(
            first["household_key"]
        )
        apart = links["person_a"].map(first["found_household"]) != links["person_b"].map(
            first["found_household"]
        )
        links = links[same_key & apart]
        section.tables.append(
            (
                "What linked those persons (network evidence; not enough for one household)",
                links[["person_a", "person_b", "kind", "weight"]].reset_index(drop=True),
            )
        )
    worst_merged = rows[rows["found_household"].isin(merged["found"].head(EXAMPLES))]
    section.tables.append(
        (
            "Worst merged households: persons of different planted households in one found one",
            worst_merged.sort_values(["found_household", "household_key"]),
        )
    )
    merged_persons = set(worst_merged["person_id"])
    if ties is not None and merged_persons:
        key_of = rows.drop_duplicates("person_id").set_index("person_id")["household_key"]
        why = ties[ties["person_a"].isin(merged_persons) & ties["person_b"].isin(merged_persons)]
        why = why[why["person_a"].map(key_of) != why["person_b"].map(key_of)]
        section.tables.append(
            ("The ties across planted households that joined them", why.reset_index(drop=True))
        )
    return section
