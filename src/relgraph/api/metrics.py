"""Prometheus metrics in the app's own registry: GraphQL requests, latency and errors by
root field; the ingestion endpoints' answers (``/v1/transfers`` with its verdicts), their
records by fate, and the alerts real-time scoring raises, by typology.

Labels take only values from fixed sets: the schema's root field names (plus ``other``),
``ok``/``error``, the error codes, the ingestion endpoints, HTTP status codes, record
statuses and typologies. Nothing a client sends becomes a label, so no request can grow
the metrics (an operation name of 2 MB used to become a 2 MB label).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final

from graphql import DocumentNode, FieldNode, OperationDefinitionNode
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from relgraph.api.errors import ErrorCode
from relgraph.model import TYPOLOGIES

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# fmt: off
INGEST_BUCKETS: Final = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25,
                          0.5, 1.0, 2.5, 10.0)
"""The real-time budget's marks (5 and 20 ms) are bounds: the share of verdicts within each
is read off the histogram, not estimated between buckets."""
# fmt: on
ENDPOINTS: Final = ("transfers", "accounts")
STATUSES: Final = ("accepted", "duplicate", "rejected")
CODES: Final = ("200", "400", "401", "403", "413", "503")
OTHER = "other"
"""The label of a request whose root field is not one of the schema's, or is not one field."""
OUTCOMES = ("ok", "error")
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Counters and a latency histogram, labelled by root field, in a registry of their own.

    One registry per app (not prometheus_client's global one), so two apps in one process,
    as in the tests, count apart.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "relgraph_requests",
            "GraphQL requests by root field and outcome.",
            ["root_field", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "relgraph_errors",
            "GraphQL errors returned, by code.",
            ["code"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "relgraph_request_seconds",
            "GraphQL request latency by root field.",
            ["root_field"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.ingest_seconds = Histogram(
            "relgraph_ingest_seconds",
            "Ingestion answers by endpoint and HTTP status, from the request to the answer "
            "(/v1/transfers: validated, journalled durably and scored).",
            ["endpoint", "code"],
            buckets=INGEST_BUCKETS,
            registry=self.registry,
        )
        self.ingest_records = Counter(
            "relgraph_ingest_records",
            "Records sent to the ingestion endpoints, by endpoint and status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.realtime_alerts = Counter(
            "relgraph_realtime_alerts",
            "New alerts at or above the threshold found by real-time scoring, by typology.",
            ["typology"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        """Each (root field, outcome)'s counter and histogram: ``labels()`` checks and locks
        on every call, and this runs on every request. Bounded: both come from fixed sets."""

    def observe(
        self, field: str, seconds: float, outcome: str, codes: Iterable[ErrorCode] = ()
    ) -> None:
        """Count one request; ``field`` comes from :func:`root_field`, so it is bounded."""
        outcome = outcome if outcome in OUTCOMES else "error"
        children = self._children.get((field, outcome))
        if children is None:
            children = (self.requests.labels(field, outcome), self.seconds.labels(field))
            self._children[(field, outcome)] = children
        children[0].inc()
        children[1].observe(seconds)
        for code in codes:
            self.errors.labels(ErrorCode(code).value).inc()

    def observe_ingest(self, endpoint: str, seconds: float, code: int) -> None:
        """One answer of an ingestion endpoint (``endpoint`` from :data:`ENDPOINTS`)."""
        self.ingest_seconds.labels(
            _bounded(endpoint, ENDPOINTS), _bounded(str(code), CODES)
        ).observe(seconds)

    def count_records(self, endpoint: str, counts: Mapping[str, int]) -> None:
        """A batch's records by status (``accepted``, ``duplicate``, ``rejected``)."""
        for status, count in counts.items():
            if count:
                self.ingest_records.labels(
                    _bounded(endpoint, ENDPOINTS), _bounded(status, STATUSES)
                ).inc(count)

    def realtime_alert(self, typology: str) -> None:
        """A new alert at or above the threshold, found as a transfer arrived."""
        self.realtime_alerts.labels(_bounded(typology, TYPOLOGIES)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def root_field(
    document: DocumentNode | None, operation_name: str | None, known: Collection[str]
) -> str:
    """The one root field the request's operation selects, if it is ``known``, or ``other``.

    A field the schema lacks, several root fields, a fragment at the root, an unknown operation or an unparsed
    document all count as ``other``: the label must stay one of a fixed set.
    """
    if document is None:
        return OTHER
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return OTHER
    selections = operations[0].selection_set.selections
    names = {s.name.value for s in selections if isinstance(s, FieldNode)}
    if len(names) != 1 or len(selections) != sum(isinstance(s, FieldNode) for s in selections):
        return OTHER
    name = names.pop()
    return name if name in known else OTHER


def _bounded(value: str, allowed: Collection[str]) -> str:
    return value if value in allowed else OTHER
