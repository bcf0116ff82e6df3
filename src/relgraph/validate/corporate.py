"""Corporate groups, guarantee circles and referral influencers against their truth files.

The figures are the ones the benchmarks report (``benchmarks/bench_groups.py``):
the share of planted groups whose controller is found for every member, the share of
planted circles found whole, and the precision of the top 20 influencers.
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from relgraph.validate.metrics import clusters_found_whole, groups_all_correct
from relgraph.validate.section import Section

TOP_INFLUENCERS: Final = 20
EXAMPLES: Final = 5


def _person_of(customers: pd.DataFrame) -> pd.Series:
    return customers.drop_duplicates("customer_id").set_index("customer_id")["person_id"]


def groups(
    truth: pd.DataFrame,
    customers: pd.DataFrame,
    control: pd.DataFrame,
    corporate_groups: pd.DataFrame,
) -> Section:
    """A planted group counts when its controller is found for every member enterprise.

    ``truth``: ``groups.csv``; ``control``: stored ``enterprise_control``
    (``enterprise_id, group_id``); ``corporate_groups``: stored (``group_id, controller_id``).
    An enterprise the store does not hold has no found controller.
    """
    section = Section("groups", "Corporate groups (groups.csv)")
    group_of = control.drop_duplicates("enterprise_id").set_index("enterprise_id")["group_id"]
    controller_of = corporate_groups.drop_duplicates("group_id").set_index("group_id")[
        "controller_id"
    ]
    found = truth["enterprise_id"].map(group_of).map(controller_of)
    planted = truth["controller_id"].map(_person_of(customers))
    ok = found.notna() & (found == planted)
    share = groups_all_correct(truth["group_key"], ok)
    n_missing, listed = section.unheld(truth["enterprise_id"], pd.Index(control["enterprise_id"]))
    # A controller the store does not hold fails every member of its group: say so, as for
    # a member enterprise.
    n_controllers, controllers = section.unheld(
        truth["controller_id"], pd.Index(customers["customer_id"])
    )
    section.figures.update(
        groups=int(truth["group_key"].nunique()),
        members=len(truth),
        controller_found=share,
        missing_ids=n_missing,
        missing_ids_listed=listed,
        missing_controllers=n_controllers,
        missing_controllers_listed=controllers,
    )
    section.headline.update(
        {
            "groups with the controller found for every member": share,
            "ids not in the store": n_missing,
            "controllers not in the store": n_controllers,
        }
    )
    wrong = truth.assign(
        planted_person=planted.fillna("(not in store)"), found_controller=found.fillna("(none)")
    )[~ok]
    shown = wrong[wrong["group_key"].isin(wrong["group_key"].drop_duplicates().head(EXAMPLES))]
    section.tables.append(("Groups with a member whose controller was not found", shown))
    return section


def circles(
    truth: pd.DataFrame, customers: pd.DataFrame, enterprises: pd.Index, found: pd.DataFrame
) -> Section:
    """A planted circle is found whole when all its members are in one found circle.

    ``truth``: ``guarantee_circles.csv``; ``found``: stored ``guarantee_circles``
    (``circle_id, member_id``, members as person or enterprise ids).
    """
    section = Section("circles", "Guarantee circles (guarantee_circles.csv)")
    person_of = _person_of(customers)
    party = truth["member_id"].map(person_of)
    is_enterprise = truth["member_id"].isin(enterprises)
    party = party.where(party.notna(), truth["member_id"].where(is_enterprise))
    circle_of = found.drop_duplicates("member_id").set_index("member_id")["circle_id"]
    label = party.map(circle_of)
    share = clusters_found_whole(truth["circle_key"], label)
    n_missing, listed = section.unheld(
        truth["member_id"], pd.Index(person_of.index).union(enterprises)
    )
    section.figures.update(
        circles=int(truth["circle_key"].nunique()),
        found_whole=share,
        found_circles_total=int(found["circle_id"].nunique()),
        missing_ids=n_missing,
        missing_ids_listed=listed,
    )
    section.headline.update(
        {
            "planted circles found whole": share,
            "circles found in all": section.figures["found_circles_total"],
            "ids not in the store": n_missing,
        }
    )
    frame = truth.assign(party=party.fillna("(not in store)"), found_circle=label.fillna("(none)"))
    whole = frame.groupby("circle_key")["found_circle"].transform(
        lambda s: s.nunique() == 1 and "(none)" not in set(s)
    )
    broken = frame[~whole.astype(bool)]
    shown = broken[broken["circle_key"].isin(broken["circle_key"].drop_duplicates().head(EXAMPLES))]
    section.tables.append(("Planted circles not found whole", shown))
    return section


def influencers(truth: pd.DataFrame, customers: pd.DataFrame, influence: pd.DataFrame) -> Section:
    """Precision of our top 20 (by ``influence.rank``) against the planted top referrers."""
    section = Section("influencers", "Referral influencers (influencers.csv)")
    planted = set(truth["customer_id"].map(_person_of(customers)).dropna())
    top = influence.sort_values("rank", kind="stable").head(TOP_INFLUENCERS)
    hit = top["person_id"].isin(planted)
    precision = float(hit.mean()) if len(top) else None
    n_missing, listed = section.unheld(truth["customer_id"], pd.Index(customers["customer_id"]))
    section.figures.update(
        planted=len(truth),
        k=TOP_INFLUENCERS,
        top_precision=precision,
        missing_ids=n_missing,
        missing_ids_listed=listed,
    )
    section.headline.update(
        {f"top-{TOP_INFLUENCERS} precision": precision, "ids not in the store": n_missing}
    )
    section.tables.append(
        (
            f"Our top {TOP_INFLUENCERS} and whether each is a planted top referrer",
            top[["rank", "person_id", "cascade_size"]].assign(planted=hit.to_numpy()),
        )
    )
    return section
