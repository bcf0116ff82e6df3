"""The API's read model: the projection and the stored analytics results, indexed for
microsecond lookups.

Built once when the server starts (or reloads) from what ``relgraph analyze`` stored —
its result tables and the settings it ran with (``analysis_settings``) — and never from
a recomputation: households, networks and account risk are served exactly as stored,
and on-demand tools (layering checks, linked accounts) use the stored settings and the
stored household and network labels. Resolvers only index Python lists and dicts and
slice CSR arrays, so a request never touches pandas or the store.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relgraph.analytics.audience_source import AudienceSource, product_bits
from relgraph.analytics.layering import LayeringIndex
from relgraph.analytics.linked_accounts import build_party_graph
from relgraph.analytics.person_links import person_links
from relgraph.analytics.sets import run_starts
from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.analytics.settings import AnalysisSettings
from relgraph.analytics.value import TABLE as VALUES_TABLE
from relgraph.analytics.value import PartyValues, product_text
from relgraph.api.chain_reviews import ReviewView
from relgraph.api.cursor_keys import graph_cursor_key, graph_digest
from relgraph.api.ranked import Ranked
from relgraph.api.search_index import SearchIndex
from relgraph.api.slices import mapped
from relgraph.graph import Projection, build_projection, graph_stats
from relgraph.jobs.stored import Frames, stored_frames
from relgraph.jobs.values import source_precedence, values_of
from relgraph.store.base import Store


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    """A column as a plain list, missing values as None."""
    if name not in frame.columns:
        return [None] * len(frame)
    series = frame[name]
    values: list[Any] = series.astype(object).where(series.notna(), None).tolist()
    return values


def _index(ids: pd.Index) -> dict[str, int]:
    return {str(v): i for i, v in enumerate(ids.tolist())}


@dataclass
class Results:
    """Analytics result tables, when ``relgraph analyze`` has run."""

    network_of: dict[str, str] = field(default_factory=dict)
    network_size: dict[str, int] = field(default_factory=dict)
    network_members: dict[str, list[str]] = field(default_factory=dict)
    household_of: dict[str, str] = field(default_factory=dict)
    households: Ranked | None = None
    household_products: np.ndarray | None = None
    household_members: dict[str, list[str]] = field(default_factory=dict)
    group_of: dict[str, str] = field(default_factory=dict)
    groups: Ranked | None = None
    group_members: dict[str, list[str]] = field(default_factory=dict)
    integrated_owners: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    circles: dict[str, list[str]] = field(default_factory=dict)
    circle_of: dict[str, list[str]] = field(default_factory=dict)
    influence: pd.DataFrame | None = None
    influence_of: dict[str, int] = field(default_factory=dict)
    possible_duplicates: pd.DataFrame | None = None
    risk_chains: Ranked | None = None
    risk_chain_hops: pd.DataFrame | None = None
    """Sorted by chain_id, then hop."""
    account_risk: dict[str, tuple[float, str]] = field(default_factory=dict)
    """account_id → (score, reasons as JSON)."""
    network_links: pd.DataFrame | None = None
    """Links inside networks, sorted by network_id (searched with ``searchsorted``)."""
    network_evidence: pd.DataFrame | None = None
    """Evidence sorted by pair key ``person_a|person_b``."""
    suppressed: dict[tuple[str, str], int] = field(default_factory=dict)
    """(kind, identifier) → persons using it, for identifiers analyze suppressed as public."""
    settings: AnalysisSettings = field(default_factory=lambda: AnalysisSettings(stored=False))
    """The settings ``analyze`` ran with (defaults, ``stored=False``, before any run)."""


class ReadModel:
    """Everything resolvers read, keyed by id.

    Parameters
    ----------
    projection : Projection
    results : Results
    """

    def __init__(self, projection: Projection, results: Results) -> None:
        self.projection = projection
        self.results = results
        self.generation = secrets.token_hex(6)
        """The token in the cursors this graph issues: random unless :func:`build_read_model`
        was given the server's key, which makes it the same for every build of the same
        stored graph (see ``cursor_keys``); it tells nothing of the data either way."""
        self.cursor_secret = secrets.token_bytes(32)
        """What this graph's cursors are MAC'd with (per list, see ``ListCursors``)."""
        nodes = projection.nodes
        persons = nodes["Person"].attrs
        self.person_ids = nodes["Person"].ids.tolist()
        self.person_index = _index(nodes["Person"].ids)
        self.person = {name: _column(persons, name) for name in persons.columns}

        records = nodes["CustomerRecord"].attrs
        self.record_ids = nodes["CustomerRecord"].ids.tolist()
        self.record_index = _index(nodes["CustomerRecord"].ids)
        self.record = {name: _column(records, name) for name in records.columns}
        self.record_person = records["person"].to_numpy(np.int64)
        of_person = projection.edge("CustomerRecord", "RECORD_OF", "Person")
        self._records_ptr = of_person.in_indptr
        self._records_of = of_person.src[of_person.in_order]

        accounts = nodes["Account"].attrs
        self.account_ids = nodes["Account"].ids.tolist()
        self.account_index = _index(nodes["Account"].ids)
        self.account = {name: _column(accounts, name) for name in accounts.columns}
        self.account_person = accounts["person"].to_numpy(np.int64)
        self.account_enterprise = accounts["enterprise"].to_numpy(np.int64)

        enterprises = nodes["Enterprise"].attrs
        self.enterprise_ids = nodes["Enterprise"].ids.tolist()
        self.enterprise_index = _index(nodes["Enterprise"].ids)
        self.enterprise = {name: _column(enterprises, name) for name in enterprises.columns}

        self.device_ids = nodes["Device"].ids.tolist()
        self.device_kind = _column(nodes["Device"].attrs, "device_kind")
        self.holds = projection.edge("Person", "HOLDS", "Account")
        self.enterprise_holds = projection.edge("Enterprise", "HOLDS", "Account")
        self.uses = projection.edge("Person", "USES_DEVICE", "Device")
        self.family = projection.edge("Person", "FAMILY", "Person")
        self.family_relation = _column(self.family.attrs, "relation")
        self.positions = projection.edge("Person", "POSITION_AT", "Enterprise")
        self.position_role = _column(self.positions.attrs, "role")
        self.transfers = projection.edge("Account", "TRANSFER", "Account")
        transfer_attrs = self.transfers.attrs
        self.transfer_ts = transfer_attrs["ts"].to_numpy(np.int64)
        self.transfer_amount = transfer_attrs["amount"].to_numpy(np.float64)
        self.transfer_tx = transfer_attrs["tx_id"].to_numpy(object)
        self.stats = graph_stats(projection)
        self._key_columns: dict[tuple[int, str], np.ndarray] = {}
        self._columns: dict[int, dict[str, np.ndarray[Any, Any]]] = {}
        self.layering: Any = None
        """The on-demand layering index, built with the model."""
        self.linked: Any = None
        self.audience: Any = None
        self.search: Any = None
        self._review_view: Any = None
        """The search index (:class:`relgraph.api.search_index.SearchIndex`), built with the
        model."""
        """The campaign-audience source (:class:`relgraph.analytics.audience.AudienceSource`)."""
        self.value: dict[str, list[Any]] = {}
        """Per party index (persons, then enterprises): the value of
        :mod:`relgraph.analytics.value` (``aum``, ``deposits``, ``loans``, ``card_spend``,
        ``products``), set by :meth:`set_values`."""
        """The linked-accounts tie graph, built on first use (it costs a second or two)."""

    def set_values(self, values: PartyValues) -> None:
        """Serve ``values``, aligned to this model's persons then enterprises by id."""
        at = pd.Index(values.ids).get_indexer(pd.Index(self.person_ids + self.enterprise_ids))
        found = at >= 0
        at = np.where(found, at, 0)

        def aligned(column: np.ndarray) -> list[Any]:
            out = np.where(found, column[at] if len(column) else np.nan, np.nan)
            return [None if np.isnan(v) else float(v) for v in out.tolist()]

        self.value = {
            "aum": aligned(values.aum),
            "deposits": aligned(values.deposits),
            "loans": aligned(values.loans),
            "card_spend": aligned(values.card_spend),
            "products": np.where(found, product_text(values.held[at]), "").tolist()
            if len(values.ids)
            else [""] * len(at),
        }

    @property
    def alert_threshold(self) -> float:
        """The layering score threshold ``analyze`` ran with: the one threshold the API uses
        (risk flags, ``riskChains``' default, the audiences' default risk ceiling)."""
        threshold: float = self.results.settings.layering.score_threshold
        return threshold

    def transfers_of(
        self, account: int, *, incoming: bool, outgoing: bool, since: int | None, until: int | None
    ) -> np.ndarray:
        """Transfer edge indices of ``account`` (sent, received or both) with ``since`` ≤ ts
        ≤ ``until`` (epoch ms, either open), oldest first (ties by tx id)."""
        parts = []
        if outgoing:
            parts.append(self.transfers.out_edges(account))
        if incoming:
            parts.append(self.transfers.in_edges(account))
        edges = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        ts = self.transfer_ts[edges]
        keep = np.ones(len(edges), bool)
        if since is not None:
            keep &= ts >= since
        if until is not None:
            keep &= ts <= until
        edges, ts = edges[keep], ts[keep]
        order = np.lexsort((self.transfer_tx[edges].astype(str), ts))
        selected: np.ndarray = edges[order]
        return selected

    def records_of(self, person: int) -> list[int]:
        lo, hi = self._records_ptr[person], self._records_ptr[person + 1]
        return [int(r) for r in self._records_of[lo:hi]]

    def find_person(self, any_id: str) -> int | None:
        """A person by person id or by any of its customer ids."""
        found = self.person_index.get(any_id)
        if found is not None:
            return found
        record = self.record_index.get(any_id)
        return None if record is None else int(self.record_person[record])

    def linked_graph(self) -> Any:
        """The tie graph of linked-account searches (built on first use, then kept)."""
        if self.linked is None:
            params = self.results.settings.networks
            self.linked = build_party_graph(
                self.projection, person_links(self.projection, params), params
            )
        return self.linked

    def stored_label(self, person_to_group: dict[str, str]) -> np.ndarray | None:
        """Per projection person, an integer code of its stored group; None when nothing
        is stored. A person the results do not name gets a code of its own (alone)."""
        if not person_to_group:
            return None
        groups = pd.Series(self.person_ids, dtype=object).map(person_to_group)
        codes, _ = pd.factorize(groups)
        alone = np.flatnonzero(codes < 0)
        codes[alone] = codes.max(initial=-1) + 1 + np.arange(len(alone))
        return codes.astype(np.int64)

    def review_view(self, reviews: Sequence[Any]) -> Any:
        """Alert decisions laid over this model's chains
        (:class:`relgraph.api.chain_reviews.ReviewView`), rebuilt when decisions were added."""
        view = self._review_view
        if view is None or view.count != len(reviews):
            table = self.results.risk_chains
            ids = table.columns["chain_id"] if table is not None else np.zeros(0, object)
            view = ReviewView(reviews, ids, self.results.risk_chain_hops)
            self._review_view = view
        return view

    def search_index(self) -> Any:
        """The search index (built on first use, then kept; :func:`build_read_model` builds it
        so no request pays for it)."""
        if self.search is None:
            self.search = SearchIndex(self)
        return self.search

    def layering_index(self) -> Any:
        """The index of on-demand layering checks (built on first use, then kept), with the
        stored layering settings and the stored household and network labels."""
        if self.layering is None:
            self.layering = LayeringIndex.build(
                self.projection,
                self.results.settings.layering,
                households_label=self.stored_label(self.results.household_of),
                networks_label=self.stored_label(self.results.network_of),
            )
        return self.layering

    def _span(self, frame: pd.DataFrame, column: str, key: str) -> slice:
        """Where ``column`` (``frame`` is sorted by it) equals ``key``."""
        # The key column as an array once per frame, not per call: riskChains looks up
        # every chain of a page, and the conversion alone cost O(rows) each time.
        cache_key = (id(frame), column)
        values = self._key_columns.get(cache_key)
        if values is None:
            values = frame[column].to_numpy(dtype=object)
            self._key_columns[cache_key] = values
        lo = int(np.searchsorted(values, key, side="left"))
        return slice(lo, int(np.searchsorted(values, key, side="right")))

    def rows_between(self, frame: pd.DataFrame, column: str, key: str) -> pd.DataFrame:
        """The rows of ``frame`` (sorted by ``column``) whose ``column`` equals ``key``."""
        return frame.iloc[self._span(frame, column, key)]

    def columns_between(
        self, frame: pd.DataFrame, column: str, key: str
    ) -> dict[str, np.ndarray[Any, Any]]:
        """The columns of the rows of ``frame`` (sorted by ``column``) whose ``column`` equals
        ``key``, as array views: no DataFrame per call (a page of 100 risk chains built 200
        of them, a fifth of its time) and no row dicts (turning the 535,000 hops of a 100k
        bank into dicts took 3.5 s of whichever request came first)."""
        arrays = self._columns.get(id(frame))
        if arrays is None:
            arrays = {str(c): frame[c].to_numpy() for c in frame.columns}
            self._columns[id(frame)] = arrays
        span = self._span(frame, column, key)
        return {name: values[span] for name, values in arrays.items()}


def _members(
    frame: pd.DataFrame, group: str, member: str, key: pd.Series | None = None
) -> dict[str, list[str]]:
    """Per ``group``, its members in the order of ``key`` (per member; the member itself
    when not given)."""
    by = frame[member] if key is None else frame[member].map(key)
    ordered = frame.assign(_key=by).sort_values([group, "_key"])
    return {k: v[0] for k, v in _runs(ordered[group], ordered[member]).items()}


def _runs(keys: pd.Series, *columns: pd.Series) -> dict[str, tuple[list[Any], ...]]:
    """Per key, in the order keys first appear, the values of ``columns`` in their rows, as
    lists; rows of one key must be together (sorted by it), rows without a key are left out.

    Slices of arrays converted once, not a pandas groupby loop: that loop made one small
    Arrow conversion per group (17,952 networks at 100,000 customers), 0.9 s against 0.02 s
    here, and between its calls the interpreter lock stayed with the build for up to 190 ms
    at a time, so a payment scored meanwhile waited that long (benchmarks/RESULTS.md)."""
    present = keys.notna().to_numpy(bool)
    key = keys.to_numpy(object)[present]
    values = [c.to_numpy(object)[present] for c in columns]
    if not len(key):
        return {}
    starts = run_starts(key)
    ends = np.r_[starts[1:], len(key)]
    return {
        str(key[a]): tuple(v[a:b].tolist() for v in values)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    }


def _first_records(frames: Frames) -> pd.Series:
    """Per person id, its first customer id: an order of persons that is the bank's own
    (person ids follow each store's id secret, so their order is each store's)."""
    customers = frames.get("customers")
    if customers is None or "person_id" not in customers.columns:
        return pd.Series(dtype=object)
    return customers.groupby("person_id")["customer_id"].min().astype(object)


def _ordered_by_first_record(links: pd.DataFrame, first: pd.Series) -> pd.DataFrame:
    """Person pairs with the person whose first record sorts first as ``person_a``."""
    a = mapped(links["person_a"], first).fillna(links["person_a"])
    b = mapped(links["person_b"], first).fillna(links["person_b"])
    swap = (a > b).to_numpy(bool)
    out = links.copy()
    out.loc[swap, "person_a"] = links.loc[swap, "person_b"]
    out.loc[swap, "person_b"] = links.loc[swap, "person_a"]
    return out.assign(_key_a=a.where(~swap, b), _key_b=b.where(~swap, a))


def load_results(frames: Frames) -> Results:
    """What analytics wrote (as :func:`~relgraph.jobs.stored.stored_frames` read it); missing
    tables leave their part empty."""
    results = Results()
    # Ties in every order below go to the bank's keys, never to secret-keyed ids.
    first = _first_records(frames)
    results.settings = AnalysisSettings.from_frame(frames.get(SETTINGS_TABLE))
    suppressed = frames.get("suppressed_identifiers")
    if suppressed is not None:
        results.suppressed = {
            (str(kind), str(ident)): int(persons)
            for kind, ident, persons in zip(
                suppressed["kind"], suppressed["id"], suppressed["persons"], strict=True
            )
        }
    networks = frames.get("person_networks")
    if networks is not None:
        results.network_of = dict(zip(networks["person_id"], networks["network_id"], strict=True))
        sizes = networks["network_id"].value_counts()
        results.network_size = {str(k): int(v) for k, v in sizes.items()}
        multi = networks[networks["network_id"].map(sizes) > 1]
        results.network_members = _members(multi, "network_id", "person_id", first)
    households = frames.get("person_households")
    if households is not None:
        results.household_of = dict(
            zip(households["person_id"], households["household_id"], strict=True)
        )
        results.household_members = _members(households, "household_id", "person_id", first)
    households_frame = frames.get("households")
    if households_frame is not None:
        if households is not None and len(first):
            keys = households.assign(_key=households["person_id"].map(first))
            households_frame = households_frame.assign(
                first_customer=households_frame["household_id"].map(
                    keys.groupby("household_id")["_key"].min()
                )
            )
        else:
            households_frame = households_frame.assign(first_customer=households_frame["head_id"])
        results.households = Ranked(
            households_frame,
            {
                "total_aum_desc": (["total_aum", "first_customer"], [False, True]),
                "size_desc": (["size", "first_customer"], [False, True]),
                "id": (["household_id"], [True]),
            },
        )
        results.household_products = product_bits(households_frame["products"])
    control = frames.get("enterprise_control")
    if control is not None:
        grouped = control[control["group_id"].notna()]
        results.group_of = dict(zip(grouped["enterprise_id"], grouped["group_id"], strict=True))
        results.group_members = _members(grouped, "group_id", "enterprise_id")
    groups_frame = frames.get("corporate_groups")
    if groups_frame is not None:
        if control is not None:
            first_member = grouped.groupby("group_id")["enterprise_id"].min()
            groups_frame = groups_frame.assign(
                first_enterprise=groups_frame["group_id"].map(first_member)
            )
        else:
            groups_frame = groups_frame.assign(first_enterprise=groups_frame["group_id"])
        results.groups = Ranked(
            groups_frame,
            {
                "exposure_desc": (["exposure", "first_enterprise"], [False, True]),
                "members_desc": (["members", "first_enterprise"], [False, True]),
                "id": (["group_id"], [True]),
            },
        )
    owners = frames.get("integrated_ownership")
    if owners is not None:
        # Equal shares (to 12 places, as analytics' control rule ranks them: one share reached
        # by two routes differs in its last bits) go to persons by first customer id, then
        # enterprises by id: the holder ids are keyed, so their order follows the id secret.
        owners = owners.assign(
            _share=owners["share"].round(12),
            _enterprise=~owners["holder_id"].isin(first.index),
            _key=owners["holder_id"].map(first).fillna(owners["holder_id"]),
        ).sort_values(
            ["enterprise_id", "_share", "_enterprise", "_key"],
            ascending=[True, False, True, True],
            kind="stable",
        )
        results.integrated_owners = {
            e: list(zip(holders, shares, strict=True))
            for e, (holders, shares) in _runs(
                owners["enterprise_id"], owners["holder_id"], owners["share"]
            ).items()
        }
    circles = frames.get("guarantee_circles")
    if circles is not None:
        results.circles = _members(circles, "circle_id", "member_id")
        results.circle_of = _members(circles, "member_id", "circle_id")
    results.influence = frames.get("influence")
    if results.influence is not None:
        results.influence_of = {
            str(p): i for i, p in enumerate(results.influence["person_id"].tolist())
        }
    chains = frames.get("risk_chains")
    if chains is not None:
        results.risk_chains = Ranked(
            chains,
            {
                "score_desc": (["score", "chain_id"], [False, True]),
                "first_ts_desc": (["first_ts", "chain_id"], [False, True]),
                "id": (["chain_id"], [True]),
            },
        )
    chain_hops = frames.get("risk_chain_hops")
    if chain_hops is not None:
        results.risk_chain_hops = chain_hops.sort_values(["chain_id", "hop"]).reset_index(drop=True)
    account_risk = frames.get("account_risk")
    if account_risk is not None:
        results.account_risk = {
            str(a): (float(sc), str(r))
            for a, sc, r in zip(
                account_risk["account_id"],
                account_risk["score"],
                account_risk["reasons"],
                strict=True,
            )
        }
    links = frames.get("network_links")
    if links is not None:
        inside = _ordered_by_first_record(links[links["network_id"].notna()], first)
        inside = inside.sort_values(["network_id", "_key_a", "_key_b"])
        results.network_links = inside.drop(columns=["_key_a", "_key_b"]).reset_index(drop=True)
    evidence = frames.get("network_evidence")
    if evidence is not None:
        evidence = _ordered_by_first_record(evidence, first)
        evidence["pair"] = evidence["person_a"] + "|" + evidence["person_b"]
        results.network_evidence = evidence.sort_values(["pair", "kind", "ref"]).reset_index(
            drop=True
        )
    results.possible_duplicates = frames.get("possible_duplicates")
    return results


def build_read_model(store: Store, cursor_key: bytes | None = None) -> ReadModel:
    """Projection + results from ``store``, indexed for serving; with ``cursor_key`` (the
    server's), its cursors are those of every build of the same stored graph under that key.

    The linked-accounts tie graph is built here too, so no request pays for it.
    """

    frames = stored_frames(store)
    model = ReadModel(build_projection(store), load_results(frames))
    if cursor_key is not None:
        results = {name: frames.get(name) for name in store.result_names()}
        digest = graph_digest(model.projection.meta, results)
        model.cursor_secret, model.generation = graph_cursor_key(cursor_key, digest)
    stored = frames.get(VALUES_TABLE)
    precedence = source_precedence(store)
    # Before the first analyze, the value is computed here by the same definition.
    model.set_values(
        PartyValues.from_frame(stored)
        if stored is not None
        else values_of(model.projection, frames.get("possible_duplicates"), precedence)
    )
    model.audience = AudienceSource.from_frames(frames, precedence)
    model.linked_graph()
    model.layering_index()
    model.search_index()
    return model
