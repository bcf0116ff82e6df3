"""The settings one ``analyze`` run used, stored beside its results.

The API serves what ``analyze`` stored and answers on-demand questions (layering
checks, linked accounts) with the same settings, so a served answer never contradicts
the stored one. This module holds the settings' one shape and its stored form: a
one-row table ``analysis_settings`` with one JSON column per analytic, the engine and
the versions that produced the results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from relgraph.analytics.layering import LayeringParams
from relgraph.analytics.params import GroupParams, HouseholdParams, InfluenceParams, NetworkParams

TABLE = "analysis_settings"
"""The result table that holds the settings of the run that wrote the other results."""

_SECTIONS: dict[str, type[Any]] = {
    "networks": NetworkParams,
    "households": HouseholdParams,
    "groups": GroupParams,
    "influence": InfluenceParams,
    "layering": LayeringParams,
}


def _versions() -> str:
    found: dict[str, str] = {}
    for package in ("relgraph", "numpy", "scipy", "igraph", "duckdb", "pandas"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return json.dumps(found, sort_keys=True)


@dataclass(frozen=True)
class AnalysisSettings:
    """Every threshold of one analysis run, and where its graph algorithms ran.

    >>> s = AnalysisSettings(networks=NetworkParams(strong_link=0.7))
    >>> AnalysisSettings.from_frame(s.to_frame()).networks.strong_link
    0.7
    """

    networks: NetworkParams = field(default_factory=NetworkParams)
    households: HouseholdParams = field(default_factory=HouseholdParams)
    groups: GroupParams = field(default_factory=GroupParams)
    influence: InfluenceParams = field(default_factory=InfluenceParams)
    layering: LayeringParams = field(default_factory=LayeringParams)
    engine: str = "local"
    stored: bool = True
    """False when the store predates stored settings (the defaults stand in, and say so)."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, engine: str = "local"
    ) -> AnalysisSettings:
        """Every section from ``RELGRAPH_<SECTION>_<FIELD>``; the first bad value raises."""
        return cls(
            **{name: kind.from_env(environ) for name, kind in _SECTIONS.items()}, engine=engine
        )

    def to_frame(self) -> pd.DataFrame:
        """The one-row ``analysis_settings`` table."""
        row: dict[str, object] = {
            name: json.dumps(asdict(getattr(self, name)), sort_keys=True) for name in _SECTIONS
        }
        row["engine"] = self.engine
        row["versions"] = _versions()
        row["analysed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return pd.DataFrame([row])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None) -> AnalysisSettings:
        """The settings a stored run used; defaults (``stored=False``) for an older store."""
        if frame is None or len(frame) == 0:
            return cls(stored=False)
        row = frame.iloc[0]
        sections: dict[str, Any] = {}
        for name, kind in _SECTIONS.items():
            known = {f.name for f in fields(kind)}
            values = json.loads(str(row[name])) if name in frame.columns else {}
            # A field a newer version dropped is ignored; a field it added keeps its default.
            sections[name] = kind(**{k: v for k, v in values.items() if k in known})
        return cls(**sections, engine=str(row.get("engine", "local")))
