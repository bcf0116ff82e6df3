"""``validate``: compare what ``analyze`` stored with a truth folder. Reads stored results only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.analytics.settings import AnalysisSettings
from relgraph.model import POSSIBLE_DUPLICATES_TABLE
from relgraph.store.base import Store
from relgraph.validate.about import about
from relgraph.validate.aml import aml
from relgraph.validate.corporate import circles, groups, influencers
from relgraph.validate.identity import households, identity
from relgraph.validate.section import Section
from relgraph.validate.truth import FILES, Truth

SECTION_FILES: Final[dict[str, tuple[str, ...]]] = {
    "identity": ("persons",),
    "households": ("households",),
    "groups": ("groups",),
    "circles": ("guarantee_circles",),
    "influencers": ("influencers",),
    "aml": ("laundering", "suspicious_accounts"),
}
"""The truth files each section reads."""


class ValidationError(RuntimeError):
    """The store cannot be validated (nothing loaded or analysed); the message says what to do."""


@dataclass
class Validation:
    """Every section measured, and what the measurement ran on."""

    about: dict[str, Any]
    sections: list[Section] = field(default_factory=list)

    def metrics(self) -> dict[str, Any]:
        """The machine-readable figures: ``about`` and one entry per section."""
        out: dict[str, Any] = {"about": self.about}
        for section in self.sections:
            out[section.name] = section.figures
        return out


def _result(store: Store, name: str) -> pd.DataFrame:
    frame = store.results_frame(name)
    if frame is None:
        raise ValidationError(
            f"the store has no {name} results: run `relgraph analyze` again with this version"
        )
    return frame


def _optional(store: Store, name: str) -> pd.DataFrame | None:
    return store.results_frame(name)


def validate(store: Store, truth: Truth) -> Validation:
    """Compare the stored results of ``store`` with ``truth``; one section per truth file family.

    Raises
    ------
    ValidationError
        The store holds no data, or ``analyze`` has not run on it.
    """
    if not store.has_table("customers"):
        raise ValidationError("the store holds no data: run `relgraph load DIR` first")
    settings_frame = store.results_frame(SETTINGS_TABLE)
    if settings_frame is None or len(settings_frame) == 0:
        raise ValidationError(
            "the store holds no analysis results (or predates stored settings): "
            "run `relgraph analyze` first"
        )
    settings = AnalysisSettings.from_frame(settings_frame)
    result = Validation(about(store, settings_frame, truth.folder, truth.present))
    result.about["truth_ignored"] = list(truth.ignored)
    result.about["truth_rows"] = {
        name: {"rows": truth.rows.get(name), "duplicates": truth.duplicates.get(name, 0)}
        for name in truth.present
    }
    needs_customers = any(
        getattr(truth, n) is not None
        for n in ("persons", "households", "groups", "guarantee_circles", "influencers")
    )
    customers = (
        store.read_frame("customers", ["customer_id", "person_id", "match_score", "match_evidence"])
        if needs_customers
        else pd.DataFrame()
    )
    if truth.persons is not None:
        duplicates = (
            store.read_frame(POSSIBLE_DUPLICATES_TABLE)
            if store.has_table(POSSIBLE_DUPLICATES_TABLE)
            else None
        )
        result.sections.append(identity(truth.persons, customers, duplicates))
    if truth.households is not None:
        result.sections.append(
            households(
                truth.households,
                customers,
                _result(store, "person_households"),
                _optional(store, "household_ties"),
                _optional(store, "network_evidence"),
            )
        )
    if truth.groups is not None:
        result.sections.append(
            groups(
                truth.groups,
                customers,
                _result(store, "enterprise_control"),
                _result(store, "corporate_groups"),
            )
        )
    if truth.guarantee_circles is not None:
        enterprises = (
            pd.Index(store.read_frame("enterprises", ["enterprise_id"])["enterprise_id"])
            if store.has_table("enterprises")
            else pd.Index([])
        )
        result.sections.append(
            circles(
                truth.guarantee_circles, customers, enterprises, _result(store, "guarantee_circles")
            )
        )
    if truth.influencers is not None:
        result.sections.append(
            influencers(truth.influencers, customers, _result(store, "influence"))
        )
    if truth.laundering is not None or truth.suspicious_accounts is not None:
        result.sections.append(
            aml(
                truth.laundering,
                truth.suspicious_accounts,
                settings.layering.score_threshold,
                store.read_frame("transfers", ["tx_id", "from_account", "to_account", "ts"]),
                store.read_frame("accounts", ["account_id"])["account_id"],
                _result(store, "risk_chains"),
                _result(store, "risk_chain_hops"),
                _result(store, "account_risk"),
                horizon_days=settings.layering.cycle_horizon_days,
            )
        )
    for section in result.sections:
        for name in SECTION_FILES[section.name]:
            repeated = truth.duplicates.get(name, 0)
            if repeated:
                section.notes.append(
                    f"{name}.csv: {repeated:,} of its {truth.rows[name]:,} rows repeat an "
                    "earlier row and were counted once."
                )
    return result


__all__ = ["FILES", "Validation", "ValidationError", "validate"]
