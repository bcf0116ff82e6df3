"""The schema: input tables, canonical columns, node and edge kinds — the single source of truth.

Everything that validates, stores, projects or queries data reads its column
names, types, enumerations, keys and foreign keys from here, so a change to the
data model is a change to this file only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

Dtype = Literal["str", "int", "float", "bool", "date", "timestamp"]
"""Logical column types.

``date`` (``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYYMMDD``, ``YYYY年M月D日``) and
``timestamp`` (such a date, then ``HH:MM[:SS[.fff]]`` or ``HHMMSS`` after ``T`` or a
space, optionally an offset ``Z``/``+08:00``; naive ones are in ``RELGRAPH_SOURCE_TZ``)
are stored as epoch milliseconds (int64, UTC; a date is its UTC midnight), portable
across DuckDB and Neo4j. ``int`` and ``float`` accept thousands separators
(``1,234,567.89``); ``int`` refuses fractions and exponents. ``bool``: ``ingest.validate``'s
words (true/false, yes/no, 是/否, 同意/拒绝…; any case, full-width too)."""


@dataclass(frozen=True)
class Column:
    """One input column and the rule a value must satisfy to load."""

    name: str
    dtype: Dtype = "str"
    required: bool = False
    enum: tuple[str, ...] | None = None
    min: float | None = None
    """Inclusive lower bound for numbers."""
    min_exclusive: bool = False
    """When true, ``min`` is exclusive (``value > min``)."""
    max: float | None = None
    """Inclusive upper bound for numbers."""
    not_after_load_date: bool = False
    """A date after the load's day, or a time after the day after it, is ``out_of_range``."""
    aliases: tuple[tuple[str, str], ...] = ()
    """(written, enum value) pairs also accepted for an enumeration (``男`` for ``M``)."""


@dataclass(frozen=True)
class ForeignKey:
    """``column`` must name a loaded row of ``targets[kind]``.

    When ``kind_column`` is set the target table is chosen per row by the value
    of that column (a holder may be a customer or an enterprise); otherwise
    ``targets`` has the single key ``""``.
    """

    column: str
    targets: dict[str, str]
    kind_column: str | None = None


@dataclass(frozen=True)
class Table:
    """One input table: its columns, its key and the keys it refers to."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    required: bool = True
    """A required table must be in the input directory; an optional one loads as empty."""
    no_self_reference: tuple[str, str] | None = None
    """Two columns that must differ (a person is not their own relative)."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def id_columns(self) -> tuple[str, ...]:
        """The columns holding ids: the key, the foreign keys and any ``*_id``."""
        named = set(self.key) | {fk.column for fk in self.foreign_keys}
        return tuple(c.name for c in self.columns if c.name in named or c.name.endswith("_id"))


SOURCE_SYSTEMS: Final = ("core", "card", "loan", "wealth")
SOURCE_PRECEDENCE: Final = ("core", "wealth", "loan", "card")
"""Which system's record describes a person, best first (core banking is the golden source);
a bank's mapping file may give its own list."""
GENDERS: Final = ("M", "F", "U")
GENDER_ALIASES: Final = (
    ("男", "M"), ("男性", "M"), ("女", "F"), ("女性", "F"), ("未知", "U"),
    ("male", "M"), ("female", "F"), ("unknown", "U"),
)  # fmt: skip
"""How Chinese exports (and spelt-out English ones) write the sexes (GB/T 2261.1 names)."""
SEGMENTS: Final = ("mass", "affluent", "private", "business")
RISK_RATINGS: Final = ("low", "medium", "high")
PARTY_KINDS: Final = ("customer", "enterprise")
PRODUCTS: Final = ("deposit", "card", "loan", "wealth")
ACCOUNT_STATUSES: Final = ("active", "dormant", "closed")
DEVICE_KINDS: Final = ("mobile", "desktop", "tablet", "kiosk")
RELATIONS: Final = ("spouse", "parent", "child", "sibling", "other")
MAX_AMOUNT: Final = 1e13  # 10 trillion yuan, fen-exact in a float; a card number read as one is not
MAX_ID_CHARS: Final = 64  # bank keys are 10–32 characters; a longer id is some other column's text
REPORTING_CURRENCY: Final = "CNY"
"""The currency of every amount setting (the reporting threshold, ``min_amount``): a transfer
in another is loaded and shown as sent, but no definition compares its amount with them
(the graph holds no exchange rates)."""
ROLES: Final = ("legal_rep", "director", "executive")
CONTACT_CHANNELS: Final = ("email", "sms", "phone", "mail", "branch", "app")
PRODUCT_LIST_SEPARATOR: Final = ";"
"""``customers.products`` lists product codes from ``PRODUCTS`` joined by this."""
PRODUCT_LIST_SPLIT: Final = "[;；,，、|]"
"""What an input's product list may be joined by (RE2): ``;`` and what exports write
instead (full-width ``；``, ``，``, ``、``, ``,`` and ``|``); stored joined by ``;``."""

TYPOLOGIES: Final = (
    "layering_chain",
    "cycle",
    "scatter_gather",
    "fan_in",
    "fan_out",
    "gather_scatter",
    "bipartite",
    "stack",
    "structuring",
)
"""Money-laundering typologies: the one list for synth, the detectors, truth files and the API.

``layering_chain``: money passed on through three or more accounts within days;
``cycle``: a round trip: money leaving an account and coming back, within the cycle
horizon (30 days), to it, another account of its holder, or a member of its household or
hidden network, through at least one party outside the household (2–8 hops, no timing
or amount-passing requirement between hops);
``scatter_gather``: split over several middle accounts and re-joined in one;
``fan_in`` / ``fan_out``: many distinct counterparties into (out of) one account in a
short window, judged against the account's own history (a mule: new, passing it on);
``gather_scatter``: a fan-in followed by a fan-out at the same account;
``bipartite``: a set of accounts paying another set, many to many;
``stack``: layers of bipartite hops, one after the other;
``structuring``: repeated transfers just below the reporting threshold from one account.
"""
PLANTED_TYPOLOGIES: Final = TYPOLOGIES[:5]
"""The typologies the synthetic bank plants, in the order its patterns cycle through them."""
DETECTED_TYPOLOGIES: Final = TYPOLOGIES
"""The typologies the detectors report as an alert's ``typology``: every one."""

_PARTY = {"customer": "customers", "enterprise": "enterprises"}

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", required=True),
        Column("source_system", required=True, enum=SOURCE_SYSTEMS),
        Column("name", required=True),
        Column("id_number"),
        Column("birth_date", "date", not_after_load_date=True),
        Column("gender", enum=GENDERS, aliases=GENDER_ALIASES),
        Column("phone"),
        Column("email"),
        Column("address"),
        Column("segment", enum=SEGMENTS),
        Column("risk_rating", enum=RISK_RATINGS),
        Column("aum", "float", min=0, max=MAX_AMOUNT),
        Column("deposits", "float", min=0, max=MAX_AMOUNT),
        Column("loans", "float", min=0, max=MAX_AMOUNT),
        Column("card_spend_12m", "float", min=0, max=MAX_AMOUNT),
        Column("products"),
        Column("consent_marketing", "bool"),
    ),
    key=("customer_id",),
)

ENTERPRISES = Table(
    "enterprises",
    (
        Column("enterprise_id", required=True),
        Column("name", required=True),
        Column("credit_code"),
        Column("industry"),
        Column("registered_capital", "float", min=0, max=MAX_AMOUNT),
        Column("deposits", "float", min=0, max=MAX_AMOUNT),
        Column("loans", "float", min=0, max=MAX_AMOUNT),
        Column("credit_limit", "float", min=0, max=MAX_AMOUNT),
        Column("address"),
        Column("phone"),
        Column("risk_rating", enum=RISK_RATINGS),
    ),
    key=("enterprise_id",),
)

ACCOUNTS = Table(
    "accounts",
    (
        Column("account_id", required=True),
        Column("holder_id", required=True),
        Column("holder_kind", required=True, enum=PARTY_KINDS),
        Column("product", required=True, enum=PRODUCTS),
        Column("opened_at", "date"),
        Column("balance", "float", min=-MAX_AMOUNT, max=MAX_AMOUNT),
        Column("currency"),
        Column("status", enum=ACCOUNT_STATUSES),
    ),
    key=("account_id",),
    foreign_keys=(ForeignKey("holder_id", _PARTY, "holder_kind"),),
)

DEVICE_LINKS = Table(
    "device_links",
    (
        Column("device_id", required=True),
        Column("customer_id", required=True),
        Column("device_kind", enum=DEVICE_KINDS),
        Column("first_seen", "timestamp"),
        Column("last_seen", "timestamp"),
        Column("logins", "int", min=0),
    ),
    key=("device_id", "customer_id"),
    foreign_keys=(ForeignKey("customer_id", {"": "customers"}),),
    required=False,
)

FAMILY = Table(
    "family",
    (
        Column("customer_id", required=True),
        Column("relative_id", required=True),
        Column("relation", required=True, enum=RELATIONS),
    ),
    key=("customer_id", "relative_id"),
    foreign_keys=(
        ForeignKey("customer_id", {"": "customers"}),
        ForeignKey("relative_id", {"": "customers"}),
    ),
    no_self_reference=("customer_id", "relative_id"),
    required=False,
)

SHAREHOLDINGS = Table(
    "shareholdings",
    (
        Column("holder_id", required=True),
        Column("enterprise_id", required=True),
        Column("holder_kind", required=True, enum=PARTY_KINDS),
        Column("share", "float", required=True, min=0, min_exclusive=True, max=1),
    ),
    key=("holder_id", "enterprise_id"),
    foreign_keys=(
        ForeignKey("holder_id", _PARTY, "holder_kind"),
        ForeignKey("enterprise_id", {"": "enterprises"}),
    ),
    no_self_reference=("holder_id", "enterprise_id"),
    required=False,
)

POSITIONS = Table(
    "positions",
    (
        Column("customer_id", required=True),
        Column("enterprise_id", required=True),
        Column("role", required=True, enum=ROLES),
    ),
    key=("customer_id", "enterprise_id"),
    foreign_keys=(
        ForeignKey("customer_id", {"": "customers"}),
        ForeignKey("enterprise_id", {"": "enterprises"}),
    ),
    required=False,
)

GUARANTEES = Table(
    "guarantees",
    (
        Column("guarantor_id", required=True),
        Column("borrower_id", required=True),
        Column("guarantor_kind", required=True, enum=PARTY_KINDS),
        Column("borrower_kind", required=True, enum=PARTY_KINDS),
        Column("amount", "float", required=True, min=0, min_exclusive=True, max=MAX_AMOUNT),
        Column("currency"),
        Column("guarantee_id"),  # the contract: a pair's second guarantee is no duplicate
    ),
    key=("guarantor_id", "borrower_id", "guarantee_id"),
    foreign_keys=(
        ForeignKey("guarantor_id", _PARTY, "guarantor_kind"),
        ForeignKey("borrower_id", _PARTY, "borrower_kind"),
    ),
    no_self_reference=("guarantor_id", "borrower_id"),
    required=False,
)

REFERRALS = Table(
    "referrals",
    (
        Column("referrer_id", required=True),
        Column("referred_id", required=True),
        Column("referred_at", "timestamp"),
        Column("product", enum=PRODUCTS),
    ),
    key=("referrer_id", "referred_id"),
    foreign_keys=(
        ForeignKey("referrer_id", {"": "customers"}),
        ForeignKey("referred_id", {"": "customers"}),
    ),
    no_self_reference=("referrer_id", "referred_id"),
    required=False,
)

TRANSFERS = Table(
    "transfers",
    (
        Column("tx_id", required=True),
        Column("from_account", required=True),
        Column("to_account", required=True),
        Column("amount", "float", required=True, min=0, min_exclusive=True, max=MAX_AMOUNT),
        Column("currency", required=True),
        Column("ts", "timestamp", required=True, not_after_load_date=True),
    ),
    key=("tx_id",),
    foreign_keys=(
        ForeignKey("from_account", {"": "accounts"}),
        ForeignKey("to_account", {"": "accounts"}),
    ),
    no_self_reference=("from_account", "to_account"),
)

CONTACTS = Table(
    "contacts",
    (
        Column("contact_id", required=True),
        Column("party_id", required=True),
        Column("party_kind", required=True, enum=PARTY_KINDS),
        Column("ts", "timestamp", required=True),
        Column("channel", enum=CONTACT_CHANNELS),
        Column("campaign_id"),
    ),
    key=("contact_id",),
    foreign_keys=(ForeignKey("party_id", _PARTY, "party_kind"),),
    required=False,
)
"""Marketing contacts made (optional): the contact-frequency guard of campaign audiences."""

INPUT_TABLES: Final[tuple[Table, ...]] = (
    CUSTOMERS,
    ENTERPRISES,
    ACCOUNTS,
    DEVICE_LINKS,
    FAMILY,
    SHAREHOLDINGS,
    POSITIONS,
    GUARANTEES,
    REFERRALS,
    TRANSFERS,
    CONTACTS,
)
"""In dependency order: a table's foreign keys point only to tables before it."""

TABLES: Final[dict[str, Table]] = {t.name: t for t in INPUT_TABLES}

# Columns that ingest adds to the canonical tables, beside the typed input columns.
CUSTOMER_DERIVED_COLUMNS: Final = (
    "person_id",  # identity resolution: the person this record belongs to
    "name_norm",
    "id_number_norm",
    "phone_norm",
    "email_norm",
    "address_norm",
    "match_score",  # identity resolution: the record's strongest match (null when alone)
    "match_evidence",  # the fields that agreed in that match
    "phone_ext",  # the phone's extension, split off phone_norm
    "quality_flags",  # data-quality findings that did not refuse the row (QUALITY_FLAGS)
)
ENTERPRISE_DERIVED_COLUMNS: Final = (
    "phone_norm", "address_norm", "credit_code_norm", "phone_ext", "quality_flags",
)  # fmt: skip

QUALITY_FLAG_SEPARATOR: Final = ";"
QUALITY_FLAGS: Final[dict[str, str]] = {
    "id_number_check": "an 18-character id number whose GB 11643 check character is wrong",
    "birth_date_mismatch": "the birth date differs from the one the id number encodes",
    "gender_mismatch": "the gender differs from the id number's sex digit",
    "credit_code_check": "a unified social credit code that is not 18 characters of the "
    "GB 32100-2015 set with the right check character",
}
"""Findings kept per record in ``quality_flags`` (joined by ``QUALITY_FLAG_SEPARATOR``) and
counted in the load report: worth an analyst's look, not a reason to refuse the row."""

DUPLICATE_BY_SCORE: Final = "score"
DUPLICATE_BY_SHARED_ID: Final = "shared_id_number"
"""``possible_duplicates.reason``: a score in the band, or one id number a record contradicts."""

POSSIBLE_DUPLICATES_TABLE: Final = "possible_duplicates"
"""Canonical table of record pairs in identity resolution's review band."""
POSSIBLE_DUPLICATE_COLUMNS: Final = (
    "customer_a",
    "customer_b",
    "score",
    "evidence",
    "reason",
    "duplicate_id",
)
"""``reason``: why the pair is offered (``DUPLICATE_BY_*``); ``duplicate_id``: the pair's
keyed id (``PersonIdKey.duplicate_id``), which reviewers' decisions name."""

PERSONS_TABLE: Final = "persons"
"""Canonical table of resolved persons: one row per person_id."""
PERSON_COLUMNS: Final = (
    "person_id",
    "name",
    "birth_date",
    "gender",
    "n_records",
    "segment",
    "risk_rating",
    "aum",
    "deposits",
    "loans",
    "card_spend_12m",
    "products",
    "consent_marketing",
)

# ---------------------------------------------------------------------------
# Graph model
# ---------------------------------------------------------------------------

NodeKind = Literal[
    "Person",
    "CustomerRecord",
    "Account",
    "Device",
    "Enterprise",
    "Phone",
    "Email",
    "Address",
    "IdDocument",
]
NODE_KINDS: Final[tuple[NodeKind, ...]] = (
    "Person",
    "CustomerRecord",
    "Account",
    "Device",
    "Enterprise",
    "Phone",
    "Email",
    "Address",
    "IdDocument",
)

RelType = Literal[
    "RECORD_OF",
    "HOLDS",
    "USES_DEVICE",
    "HAS_PHONE",
    "HAS_EMAIL",
    "LIVES_AT",
    "HAS_ID_DOCUMENT",
    "FAMILY",
    "SHAREHOLDER_OF",
    "POSITION_AT",
    "GUARANTEES",
    "REFERRED",
    "TRANSFER",
]
REL_TYPES: Final[tuple[RelType, ...]] = (
    "RECORD_OF",
    "HOLDS",
    "USES_DEVICE",
    "HAS_PHONE",
    "HAS_EMAIL",
    "LIVES_AT",
    "HAS_ID_DOCUMENT",
    "FAMILY",
    "SHAREHOLDER_OF",
    "POSITION_AT",
    "GUARANTEES",
    "REFERRED",
    "TRANSFER",
)


@dataclass(frozen=True)
class EdgeKind:
    """A relationship type between two node kinds, with its edge attributes."""

    source: NodeKind
    rel: RelType
    target: NodeKind
    attributes: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.source}-{self.rel}->{self.target}"


EDGE_KINDS: Final[tuple[EdgeKind, ...]] = (
    EdgeKind("CustomerRecord", "RECORD_OF", "Person"),
    EdgeKind("Person", "HOLDS", "Account"),
    EdgeKind("Enterprise", "HOLDS", "Account"),
    EdgeKind("Person", "USES_DEVICE", "Device", ("logins", "first_seen", "last_seen")),
    EdgeKind("Person", "HAS_PHONE", "Phone"),
    EdgeKind("Enterprise", "HAS_PHONE", "Phone"),
    EdgeKind("Person", "HAS_EMAIL", "Email"),
    EdgeKind("Person", "LIVES_AT", "Address"),
    EdgeKind("Enterprise", "LIVES_AT", "Address"),
    EdgeKind("Person", "HAS_ID_DOCUMENT", "IdDocument"),
    EdgeKind("Person", "FAMILY", "Person", ("relation",)),
    EdgeKind("Person", "SHAREHOLDER_OF", "Enterprise", ("share",)),
    EdgeKind("Enterprise", "SHAREHOLDER_OF", "Enterprise", ("share",)),
    EdgeKind("Person", "POSITION_AT", "Enterprise", ("role",)),
    EdgeKind("Person", "GUARANTEES", "Person", ("amount",)),
    EdgeKind("Person", "GUARANTEES", "Enterprise", ("amount",)),
    EdgeKind("Enterprise", "GUARANTEES", "Person", ("amount",)),
    EdgeKind("Enterprise", "GUARANTEES", "Enterprise", ("amount",)),
    EdgeKind("Person", "REFERRED", "Person", ("referred_at", "product")),
    EdgeKind("Account", "TRANSFER", "Account", ("tx_id", "amount", "currency", "ts")),
)
EDGE_KIND_BY_NAME: Final[dict[str, EdgeKind]] = {e.name: e for e in EDGE_KINDS}

# ---------------------------------------------------------------------------
# Neo4j store: every label and relationship type its Cypher may use
# ---------------------------------------------------------------------------

STORE_NODE_LABELS: Final[tuple[str, ...]] = (
    *NODE_KINDS,
    "Contact",
    "Household",
    "CorporateGroup",
    "Alert",
    "ResultChunk",
    "RelgraphState",
    "RelgraphLock",
)
"""Node labels in the Neo4j store: the graph model's kinds, contacts, analytics results
written back as nodes, and relgraph's own bookkeeping (state, result chunks, and the lock a
run writing results holds, never committed)."""

STORE_REL_TYPES: Final[tuple[str, ...]] = (
    *REL_TYPES,
    "POSSIBLE_DUPLICATE",
    "CONTACTED",
    "LINKED",
    "MEMBER_OF",
    "IN_GROUP",
    "INVOLVES",
)
"""Relationship types in the Neo4j store: the graph model's types, review-band duplicate
pairs, marketing contacts, and analytics results written back (hidden-network links,
household and group membership, the accounts an alert involves)."""

STORE_PROPERTY_KEYS: Final[tuple[str, ...]] = (
    # relgraph's bookkeeping: generation, row position, analytics run, state and result chunks
    "gen",
    "seq",
    "run",
    "id",
    "meta",
    "tables",
    "results",
    "pending",
    "graphPending",
    "table",
    "part",
    "parts",
    "data",
    # the value a shared identifier node (Phone, Email, Address, IdDocument) stands for
    "value",
    # analytics results written back onto the graph, and GDS's working properties
    "networkId",
    "householdId",
    "groupId",
    "controllerId",
    "controllerShare",
    "ultimateControllerId",
    "influenceRank",
    "directReferrals",
    "cascadeSize",
    "cascadeAum",
    "pagerank",
    "influenceRun",
    "valueSource",
    "riskScore",
    "riskReasons",
    "riskAlerts",
    "riskRun",
    "strength",
    "txId",
    "chainId",
    "networkComponent",
    "networkCommunity",
    "networkGroup",
    "referralPagerank",
)
"""Property keys the Neo4j store sets beside the canonical and result columns."""
