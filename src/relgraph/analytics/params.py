"""Thresholds of the analytics, with their defaults and the environment variables that set them."""

from __future__ import annotations

from dataclasses import dataclass

from relgraph.config import ConfigError, EnvParams


@dataclass(frozen=True)
class NetworkParams(EnvParams):
    """Hidden-network thresholds (environment ``RELGRAPH_NETWORK_<FIELD>``)."""

    ENV_PREFIX = "NETWORK"

    strong_link: float = 0.5
    """A link at or above this strength joins two persons' networks."""
    max_network_size: int = 50
    """Networks above this many persons are split into communities (Leiden)."""
    max_device_sharers: int = 10
    """A device used by more persons is public (kiosk, office PC): suppressed, not evidence."""
    max_phone_sharers: int = 10
    max_email_sharers: int = 10
    max_address_sharers: int = 12
    max_id_document_sharers: int = 10
    max_enterprise_sharers: int = 20
    """An enterprise with more officers and person shareholders links none of them."""
    device_weight: float = 1.0
    """Evidence of one identifier shared by two persons; d sharers give weight / log2(d)."""
    phone_weight: float = 1.0
    email_weight: float = 1.0
    address_weight: float = 0.4
    """Low on purpose: flatmates share an address and nothing else."""
    id_document_weight: float = 1.0
    enterprise_weight: float = 0.6
    family_weight: float = 1.0
    transfer_weight: float = 0.6
    """Weight of ``transfer_full_count`` or more transfers between two persons."""
    transfer_full_count: int = 3
    max_transfer_evidence: int = 20
    """Transfers listed as evidence per link (the count is always complete)."""
    max_transfer_partners: int = 50
    """A party paying or paid by more distinct parties (merchant, employer, a landlord's
    rents) is a hub: its transfers are no evidence of a link between persons (networks)
    and linked-account searches do not pass through them."""
    seed: int = 42
    """Seed of the community split, so re-runs give the same networks."""

    def check(self) -> None:
        super().check()
        if not 0 < self.strong_link <= 1:
            raise ConfigError(f"strong_link must be in (0, 1], not {self.strong_link!r}")
        if self.max_network_size < 2 or self.transfer_full_count < 1:
            raise ConfigError("max_network_size must be ≥ 2 and transfer_full_count ≥ 1")


@dataclass(frozen=True)
class HouseholdParams(EnvParams):
    """Household thresholds (environment ``RELGRAPH_HOUSEHOLD_<FIELD>``)."""

    ENV_PREFIX = "HOUSEHOLD"

    max_size: int = 10
    """Above this many persons a household is cut back to its co-residence evidence."""
    max_address_sharers: int = 12
    """An address with more residents (a dormitory, a company address) is no evidence."""
    max_device_sharers: int = 10
    """A device or phone with more users is public and proves no co-residence."""
    max_phone_sharers: int = 10
    adult_age: int = 18
    """The head is the adult with the largest AUM; a person without a birth date counts as adult."""
    join_sole_other_resident: int = 1
    """1: the one other resident of a family home joins it (see ``households``); 0: off."""

    def check(self) -> None:
        super().check()
        if self.max_size < 2:
            raise ConfigError(f"max_size must be ≥ 2, not {self.max_size!r}")
        if self.join_sole_other_resident not in (0, 1):
            raise ConfigError(
                f"join_sole_other_resident must be 0 or 1, not {self.join_sole_other_resident!r}"
            )


@dataclass(frozen=True)
class GroupParams(EnvParams):
    """Corporate-group thresholds (environment ``RELGRAPH_GROUP_<FIELD>``)."""

    ENV_PREFIX = "GROUP"

    majority: float = 0.5
    """An integrated share above this controls the enterprise."""
    significant: float = 0.25
    """Without a majority, the largest holder at or above this controls it."""

    def check(self) -> None:
        super().check()
        if not 0 < self.significant <= self.majority <= 1:
            raise ConfigError("GROUP thresholds need 0 < significant ≤ majority ≤ 1")


@dataclass(frozen=True)
class InfluenceParams(EnvParams):
    """Referral-influence settings (environment ``RELGRAPH_INFLUENCE_<FIELD>``)."""

    ENV_PREFIX = "INFLUENCE"

    damping: float = 0.85
    """PageRank damping on the referral graph."""
    tolerance: float = 1e-10
    max_iterations: int = 200
