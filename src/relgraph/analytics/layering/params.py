"""Layering parameters, the typology and link codes, and array aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from relgraph.config import ConfigError, EnvParams
from relgraph.model import DETECTED_TYPOLOGIES

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_HOUR_MS: Final = 3_600_000
_DAY_MS: Final = 24 * _HOUR_MS
TYPOLOGIES: Final = DETECTED_TYPOLOGIES
"""Alert typologies, from the one enumeration in :mod:`relgraph.model`."""
LINKS: Final = ("", "same_account", "same_holder", "household", "network", "device")
"""Codes of ``linked_endpoints``, strongest first (index 0: not linked)."""


@dataclass(frozen=True)
class LayeringParams(EnvParams):
    """Layered-transaction thresholds (environment ``RELGRAPH_LAYERING_<FIELD>``).

    Examples
    --------
    >>> LayeringParams.from_env({"RELGRAPH_LAYERING_WINDOW_HOURS": "48"}).window_hours
    48.0
    """

    ENV_PREFIX = "LAYERING"

    window_hours: float = 72.0
    """A hop must leave the account at most this long after the money arrived."""
    min_pass_share: float = 0.8
    """A hop passes on at least this share of what arrived (skims allowed)."""
    max_pass_share: float = 1.0
    """…and at most this share: adding one's own money is not passing it on."""
    min_amount: float = 0.0
    """Transfers below this amount are never part of an alert. No floor by default: small
    amounts are judged against the account's history and the routine-flow rules instead."""
    min_hops: int = 3
    """A chain needs at least this many transfers."""
    max_hops: int = 8
    """Chains are followed for at most this many transfers (then marked truncated)."""
    min_spokes: int = 3
    """Scatter-gather: distinct middle accounts needed."""
    spoke_min_share: float = 0.5
    """Scatter-gather: each middle passes on at least this share of what it received from
    the source (a mule keeps its cut; a chain's hop passes on ``min_pass_share``)."""
    min_fan: int = 5
    """Fan bursts: transfers in one window and distinct counterparties needed."""
    reporting_threshold: float = 50_000.0
    """Large-transaction reporting threshold (CNY 50,000)."""
    structuring_band: float = 0.1
    """Amounts in the top ``structuring_band`` below the threshold count as structuring."""
    new_account_days: int = 90
    """An account opened this recently before an alert is a new account."""
    max_device_sharers: int = 10
    """A device with more users links nobody (a kiosk)."""
    score_threshold: float = 0.5
    """Alerts at or above this score are reported by default."""
    hop_weight: float = 0.15
    """``hops`` of a round trip or a block at its fewest hops or spokes (+0.05 per extra)."""
    pass_weight: float = 0.3
    """``hops`` of the patterns that pass money on by definition, at their fewest hops or
    spokes (+0.05 per extra, at most +0.2): a layering chain (every hop passed on at least
    ``min_pass_share`` of what had just arrived, within ``window_hours``) and a
    scatter-gather (every middle passed on at least ``spoke_min_share`` of what the source
    sent it, to the one end). Pass-through is what an unusual fan's ``pass_through``
    weighs (0.3). Their everyday kind (family relays, salaries paid on as rent) is
    regular or family money, lowered by ``routine``."""
    linked_weight: float = 0.5
    """Weight when the end is the origin account or holder; household 0.4, network/device 0.35."""
    max_paths: int = 5_000_000
    """Batch: chains followed at once; a larger frontier raises (lower max_hops or raise this)."""
    cycle_horizon_days: float = 30.0
    """Round trips: the money must come back at most this long after it left. Also the
    window of slow fans and of slow scatter-gathers' spokes, and the period of blocks and
    of established relationships (routine)."""
    cycle_max_hops: int = 8
    """Round trips: at most this many transfers (2 at least)."""
    cycle_min_share: float = 0.1
    """Round trips: every hop carries at least this share of the first transfer's amount,
    and at most its inverse times it (10 %–10×)."""
    cycle_max_branching: int = 4
    """Round trips: from each account a path follows at most this many departures (the
    earliest); more are cut and counted as truncated."""
    cycle_max_paths: int = 32
    """Round trips: paths followed from one starting transfer; more are cut and counted."""
    routine_min_repeats: int = 3
    """A routine flow: at least this many transfers between the same two accounts…"""
    routine_amount_tolerance: float = 0.1
    """…with amounts within this share of their median…"""
    routine_interval_tolerance: float = 0.35
    """…at intervals within this share of their median (weekly, monthly)…"""
    routine_weight: float = 0.8
    """A score is multiplied by ``1 − routine_weight × routine share`` of its transfers."""
    ordinary_weight: float = 0.8
    """A round trip's score is multiplied by ``1 − ordinary_weight × ordinary share`` of its
    transfers (payments ordinary for their payer; :mod:`.amounts`)."""
    block_max_degree: int = 30
    """Bipartite blocks and stacks: accounts with more distinct counterparties (shops,
    employers) are never a layer (:mod:`.blocks`)."""
    hub_partners: int = 50
    """Account risk: an account with more distinct counterparties (a payroll, a settlement
    account) takes no risk from another account's fan it pays into or is paid from
    (:mod:`.standing`)."""
    fan_excess_ratio: float = 2.0
    """Fans: counterparties per window up to this multiple of the account's usual are usual."""
    structuring_min_count: int = 3
    """Structuring: this many transfers in the band below the threshold from one account,
    each within ``cycle_horizon_days`` of the previous."""
    check_max_paths: int = 20_000
    """On-demand check: transfers visited before giving up (the answer says it is truncated)."""

    def check(self) -> None:
        super().check()
        if not 0 < self.min_pass_share <= self.max_pass_share:
            raise ConfigError("LAYERING needs 0 < min_pass_share ≤ max_pass_share")
        if not 2 <= self.min_hops <= self.max_hops:
            raise ConfigError("LAYERING needs 2 ≤ min_hops ≤ max_hops")
        if not 0 < self.spoke_min_share <= self.max_pass_share:
            raise ConfigError("LAYERING needs 0 < spoke_min_share ≤ max_pass_share")
        if self.window_hours <= 0 or self.min_spokes < 2 or self.min_fan < 2:
            raise ConfigError("LAYERING needs window_hours > 0, min_spokes ≥ 2 and min_fan ≥ 2")
        if not 2 <= self.cycle_max_hops <= 12 or self.cycle_horizon_days <= 0:
            raise ConfigError("LAYERING needs 2 ≤ cycle_max_hops ≤ 12 and cycle_horizon_days > 0")
        if self.hub_partners < 1:
            raise ConfigError("LAYERING needs hub_partners ≥ 1")
        if self.cycle_max_branching < 1 or self.cycle_max_paths < 1:
            raise ConfigError("LAYERING needs cycle_max_branching ≥ 1 and cycle_max_paths ≥ 1")
        if not (0 <= self.hop_weight <= 0.8 and 0 <= self.pass_weight <= 0.8):
            # +0.2 for extra hops keeps a weight within [0, 1].
            raise ConfigError("LAYERING needs hop_weight and pass_weight in [0, 0.8]")
        discounts = (self.routine_weight, self.ordinary_weight)
        if not all(0 <= w <= 1 for w in discounts) or self.routine_min_repeats < 2:
            raise ConfigError(
                "LAYERING needs routine_weight and ordinary_weight in [0, 1], "
                "routine_min_repeats ≥ 2"
            )
        if not 0 <= self.structuring_band < 1 or not 0 <= self.score_threshold <= 1:
            raise ConfigError(
                "LAYERING needs structuring_band in [0, 1), score_threshold in [0, 1]"
            )

    @property
    def horizon_ms(self) -> int:
        return round(self.cycle_horizon_days * _DAY_MS)

    @property
    def loosest_share(self) -> float:
        """The smallest share a hop link of any kind passes on (chains' or spokes'): the
        necessary conditions of a verdict test links at this share."""
        return min(self.min_pass_share, self.spoke_min_share)

    @property
    def fewest_fan(self) -> int:
        """The fewest transfers a hub's burst of any kind needs in a window (a fan's
        ``min_fan``, a gather-scatter side's ``min_spokes``): the necessary conditions of
        a verdict count at this."""
        return min(self.min_fan, self.min_spokes)

    @property
    def window_ms(self) -> int:
        return round(self.window_hours * _HOUR_MS)
