"""The GraphQL schema's root: one module per feature holds its types and resolvers
(lookups, households, groups, networks, risk, identity, audiences, operations); this one
merges their queries into ``Query`` and adds the extensions that guard every request."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from relgraph.api.audience import AudienceQueries
from relgraph.api.errors import MaskInternalErrors, clip, is_internal, request_id_of
from relgraph.api.groups import GroupQueries
from relgraph.api.households import HouseholdQueries
from relgraph.api.identity import DecisionMutations, DecisionQueries, IdentityQueries
from relgraph.api.ingestion import IngestKeysOnlySend, IngestMutation
from relgraph.api.key_caches import KeyParserCache, KeyValidationCache
from relgraph.api.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    CostLimiter,
    alias_rule,
    depth_rule,
)
from relgraph.api.lookups import LookupQueries
from relgraph.api.networks import NetworkQueries
from relgraph.api.operations import AdminMutations
from relgraph.api.parties import Enterprise, Person
from relgraph.api.risk import RiskQueries
from relgraph.api.risk_reviews import ReviewMutations
from relgraph.api.search import SearchQueries

log = logging.getLogger("relgraph.api")

Query = merge_types(
    "Query",
    (
        AudienceQueries,
        LookupQueries,
        HouseholdQueries,
        GroupQueries,
        NetworkQueries,
        RiskQueries,
        IdentityQueries,
        DecisionQueries,
        SearchQueries,
    ),
)
Mutation = merge_types(
    "Mutation", (AdminMutations, DecisionMutations, ReviewMutations, IngestMutation)
)

# One rule class each for every request: the validation cache is keyed by the rules, so
# per-request classes (what QueryDepthLimiter/MaxAliasesLimiter build) would never hit it.
DEPTH_RULE = depth_rule(MAX_DEPTH)  # not Strawberry's rules: see depth_rule and alias_rule
ALIAS_RULE = alias_rule(MAX_ALIASES)


class RelgraphSchema(strawberry.Schema):
    """Logs only errors nobody meant: client errors are the answer, not an incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Called before MaskInternalErrors replaces the message: the log keeps the
        # original and its traceback, under the request id the client is given.
        request_id = request_id_of(execution_context.context if execution_context else None)
        for error in errors:
            if is_internal(error):
                log.error(
                    "request %s: internal error: %s",
                    request_id,
                    clip(error.message),
                    exc_info=error.original_error,
                )


def build_schema(
    *, production: bool = False, extra: list[Callable[[], SchemaExtension]] | None = None
) -> strawberry.Schema:
    """The schema with its guards: depth, aliases, tokens, cost, deadline, masked errors,
    parser and validation caches (one per key); in production no introspection and no field suggestions."""
    # Factories, so every request gets fresh extension objects (they hold per-request state).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        KeyParserCache,  # per key: a text another key sent must not answer faster
        lambda: AddValidationRules([DEPTH_RULE, ALIAS_RULE]),
        KeyValidationCache,
        IngestKeysOnlySend,  # before the cost: an ingest key's other reads are refused
        CostLimiter,  # at execution: the cost depends on the variables sent
        lambda: MaskInternalErrors(production=production),
        *(extra or []),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return RelgraphSchema(
        query=Query,
        mutation=Mutation,
        types=[Person, Enterprise],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
    )
