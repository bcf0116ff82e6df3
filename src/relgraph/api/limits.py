"""Limits against abuse: the cost of a query.

A query's cost is how many fields it resolves: each field counts once for every item of the
lists above it. Lists and connections are told apart by their schema types, so a new list
field is priced without anyone remembering to list it; fragments (named, nested, inline, on
interfaces) are expanded as if written inline, so they cost what the same query written out
costs. The per-request deadline is checked by the context each time a node is built
(:meth:`relgraph.api.context.Context.touch`), where a request's work grows.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension

from relgraph.api.errors import LimitError
from relgraph.api.key_caches import PerKey, key_of
from relgraph.api.pagination import DEFAULT_PAGE, MAX_PAGE

log = logging.getLogger("relgraph.api")

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 5_000
DEFAULT_LIST_COST = 3
"""A plain list field (no ``first``) counts as this many items. Plain lists are short by
design (reasons, hops, evidence, a household's members); what can grow long is a connection
with ``first``, priced at its page."""
VARIABLE_LIST_COST = MAX_PAGE
"""A ``first`` given as a variable with no value and no default counts as the largest page."""
ON_DEMAND: Mapping[str, frozenset[str]] = {
    "layeringCheck": frozenset({"windowHours", "maxHops", "minAmount"}),
}
"""Root fields that compute on demand when given any of these arguments, whatever they
select: a layeringCheck with its own settings walks the account's transfers again (~0.3 s of
CPU on a hub of a 20,000-customer bank; without them it reads the stored alerts in ~5 ms)."""
ON_DEMAND_COST = 1_000
"""What such a field adds: the heavy lane's threshold (``admission.HEAVY_COST``), so checks
take turns with the other heavy queries instead of running side by side, priced as a lookup."""

WORK_PER_COST = 4
"""Selections (fields, fragment spreads, inline fragments) the walk may visit per unit of its
cap. Only fields cost, so a tree of spreads whose leaves cost nothing (a spread of a fragment
the document does not define, refused only later by validation) grew the walk as 2^depth
at no cost: 780 characters held the event loop 0.9 s in the routing, and a few more levels
held it for good. A valid query visits about one spread per field."""

_Composite = GraphQLObjectType | GraphQLInterfaceType


class _OverLimitError(Exception):
    """Stops the walk as soon as the cost passes the cap (fragments can multiply work)."""


def is_connection(named: GraphQLNamedType | None) -> bool:
    """A cursor connection (``edges`` and ``pageInfo``): its size is its ``first``."""
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= set(named.fields)


def _unwrap_non_null(kind: GraphQLOutputType) -> GraphQLOutputType:
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


class _Estimator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        first_of: Mapping[str, int | None],
        cap: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.first_of = first_of
        self.cap = cap
        self.cost = 0
        self.work = 0

    def selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        expanding: frozenset[str],
    ) -> None:
        for selection in selection_set.selections:
            self.work += 1
            if self.work > WORK_PER_COST * self.cap:
                raise _OverLimitError
            if isinstance(selection, FieldNode):
                self.field(selection, parent, multiplier, expanding)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else parent
                self.selections(selection.selection_set, narrowed, multiplier, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                # A cycle is refused by validation (NoFragmentCyclesRule); here it just stops.
                if fragment is None or name in expanding:
                    continue
                narrowed = self.schema.get_type(fragment.type_condition.name.value)
                self.selections(fragment.selection_set, narrowed, multiplier, expanding | {name})

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        multiplier: int,
        expanding: frozenset[str],
    ) -> None:
        self.cost += multiplier
        if parent is self.schema.query_type and self.computes(node):
            self.cost += multiplier * ON_DEMAND_COST
        if self.cost > self.cap:
            raise _OverLimitError
        if node.selection_set is None:
            return
        definition = parent.fields.get(node.name.value) if isinstance(parent, _Composite) else None
        kind = None if definition is None else _unwrap_non_null(definition.type)
        named = None if kind is None else get_named_type(kind)
        inner = multiplier * self.items(node, parent, kind, named)
        self.selections(node.selection_set, named, inner, expanding)

    def items(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        kind: GraphQLOutputType | None,
        named: GraphQLNamedType | None,
    ) -> int:
        """How many times the field's selections resolve, per parent item."""
        first = self.first(node)
        if first is None:
            first = _default_first(parent, node)
        if isinstance(kind, GraphQLList):
            if node.name.value == "edges" and is_connection(parent):
                return 1  # the connection above already counted its page
            return first if first is not None else DEFAULT_LIST_COST
        if is_connection(named):
            return first if first is not None else DEFAULT_PAGE
        return first if first is not None else 1

    def computes(self, node: FieldNode) -> bool:
        """Whether a root field is given an argument that makes it compute (``ON_DEMAND``):
        a literal other than null, or a variable sent with a value (or not sent at all)."""
        names = ON_DEMAND.get(node.name.value)
        if not names:
            return False
        for argument in node.arguments or ():
            if argument.name.value not in names or isinstance(argument.value, NullValueNode):
                continue
            if not isinstance(argument.value, VariableNode):
                return True
            if self.first_of.get(argument.value.name.value, VARIABLE_LIST_COST) is not None:
                return True
        return False

    def first(self, node: FieldNode) -> int | None:
        argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
        if argument is None:
            return None
        value: int | None
        if isinstance(argument.value, IntValueNode):
            value = int(argument.value.value)
        elif isinstance(argument.value, VariableNode):
            value = self.first_of.get(argument.value.name.value, VARIABLE_LIST_COST)
        else:
            value = None  # null: the default page
        return None if value is None else max(value, 1)


def _default_first(parent: GraphQLNamedType | None, node: FieldNode) -> int | None:
    """The schema's default for a field's ``first`` argument (``RiskChain.hops(first = 50)``):
    what the field returns when the query does not say."""
    if not isinstance(parent, _Composite):
        return None
    definition = parent.fields.get(node.name.value)
    argument = None if definition is None else definition.args.get("first")
    default = None if argument is None else argument.default_value
    return default if isinstance(default, int) and not isinstance(default, bool) else None


def find_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    """The operation ``name`` names, or the only one when no name is given; else None."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _variable_firsts(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, int | None]:
    """Each variable's integer value: the one sent, else its default, else the largest page
    (None when it is null: what :meth:`_Estimator.computes` tells apart from a value)."""
    out: dict[str, int | None] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        sent = (variables or {}).get(name, ...)
        if sent is ... and isinstance(definition.default_value, IntValueNode):
            sent = int(definition.default_value.value)
        if sent is None:
            out[name] = None
        elif isinstance(sent, int) and not isinstance(sent, bool):
            out[name] = sent
        else:
            out[name] = VARIABLE_LIST_COST
    return out


COST_CACHE_SIZE = 1_000
"""Costs remembered per API key, most recently used first (as many as its parser cache holds)."""


class _Costs:
    """One key's remembered costs, keyed by the schema's and document's identity (the parser
    cache hands out one document per query text and key; hashing an AST walks it); each
    entry holds both, so neither id is reused by another object while the entry lives."""

    def __init__(self) -> None:
        self.known: OrderedDict[tuple[object, ...], tuple[GraphQLSchema, DocumentNode, int]] = (
            OrderedDict()
        )
        self.lock = threading.Lock()


_costs: PerKey[_Costs] = PerKey(_Costs)
"""Per key, as every cache a request's time depends on (:mod:`relgraph.api.key_caches`)."""


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    cap: int = MAX_COST,
    api_key: str = "",
) -> int:
    """The cost of the operation to run; ``cap + 1`` as soon as it is known to pass ``cap``.

    Remembered per API key (``api_key``, its id), schema, document, operation, cap and the
    integer each variable counts as (the only thing of the variables the cost reads): the
    same query with other ids costs the same, and a client's stream of lookups is priced once.
    """
    operation = find_operation(document, operation_name)
    if operation is None:
        return 1
    firsts = _variable_firsts(operation, variables)
    key = (id(schema), id(document), operation_name, cap, tuple(firsts.items()))
    costs = _costs.of(api_key)
    with costs.lock:
        known = costs.known.get(key)
        if known is not None and known[0] is schema and known[1] is document:
            costs.known.move_to_end(key)
            return known[2]
    cost = _estimate(schema, document, operation, firsts, cap)
    with costs.lock:
        costs.known[key] = (schema, document, cost)
        if len(costs.known) > COST_CACHE_SIZE:
            costs.known.popitem(last=False)
    return cost


def _estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    firsts: dict[str, int | None],
    cap: int,
) -> int:
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.operation.value]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    estimator = _Estimator(schema, fragments, firsts, cap)
    try:
        estimator.selections(operation.selection_set, root, 1, frozenset())
    except _OverLimitError:
        return cap + 1
    return max(estimator.cost, 1)


class CostLimiter(SchemaExtension):
    """Refuses an operation whose cost passes ``max_cost``, before any resolver runs.

    It runs at execution, not validation: only then are the variables known, and a
    ``first: $n`` is priced at the ``n`` sent. The cost is left on the context
    (``context.cost``) for the admission of concurrent heavy queries.
    """

    def __init__(self, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        document = ec.graphql_document
        if document is None:
            yield
            return
        cost = estimate_cost(
            ec.schema._schema,
            document,
            ec.operation_name,
            ec.variables,
            self.max_cost,
            key_of(ec.context),
        )
        context = ec.context
        if cost > self.max_cost:
            ec.result = _refused(
                f"Query cost exceeds the limit of {self.max_cost}: "
                "ask for smaller pages or fewer nested lists."
            )
            yield
            return
        admit = getattr(context, "admit", None)
        if admit is None:
            yield
            return
        with admit(cost) as refusal:
            if refusal is not None:
                ec.result = _refused(refusal)
            yield


def _refused(message: str) -> ExecutionResult:
    return ExecutionResult(
        data=None, errors=[GraphQLError(message, original_error=LimitError(message))]
    )


class _OncePerFragment:
    """A measure of selection sets (depth, aliases) in which each named fragment is measured
    once, however often it is spread: Strawberry's rules walk a fragment again at each
    spread, 2^depth steps for a tree of fragments each spreading the next twice. Unknown
    fragments and cycles measure 0 (their own rules report them)."""

    def __init__(
        self,
        document: DocumentNode,
        field: Callable[[FieldNode, _OncePerFragment], int],
        combine: Callable[[list[int]], int],
    ) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.field, self.combine = field, combine
        self._known: dict[str, int] = {}
        self._walking: set[str] = set()

    def __call__(self, selection_set: SelectionSetNode | None) -> int:
        parts: list[int] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                parts.append(self.field(selection, self))
            elif isinstance(selection, InlineFragmentNode):
                parts.append(self(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                parts.append(self._spread(selection.name.value))
        return self.combine(parts)

    def _spread(self, name: str) -> int:
        if name not in self._known:
            fragment = self.fragments.get(name)
            if fragment is None or name in self._walking:
                return 0
            self._walking.add(name)
            self._known[name] = self(fragment.selection_set)
            self._walking.discard(name)
        return self._known[name]


def _deepest(parts: list[int]) -> int:
    return max(parts, default=0)


def _field_depth(node: FieldNode, depth: _OncePerFragment) -> int:
    """Strawberry's count: a field with selections is a level, introspection fields none."""
    if node.selection_set and not node.name.value.startswith("__"):
        return 1 + depth(node.selection_set)
    return 0


def _field_aliases(node: FieldNode, aliases: _OncePerFragment) -> int:
    return (node.alias is not None) + aliases(node.selection_set)


def depth_rule(max_depth: int) -> type[ValidationRule]:
    """A validation rule refusing operations nested deeper than ``max_depth`` fields, with
    Strawberry's message (``'Name' exceeds maximum operation depth of 10``) and its count
    (fields that have selections, introspection fields not counted).

    Strawberry's own rule walks every fragment again at each spread: a tree of fragments each
    spreading the next twice took 2^depth steps (812 bytes: 3.2 s of a worker and the
    interpreter lock; a kilobyte: minutes), and a spread of an undefined fragment raised
    KeyError — an internal error with a traceback, where validation names the fragment. Here
    each fragment's depth is found once (:class:`_OncePerFragment`).
    """

    class DepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depth = _OncePerFragment(context.document, _field_depth, _deepest)
            for definition in context.document.definitions:
                if (
                    isinstance(definition, OperationDefinitionNode)
                    and depth(definition.selection_set) > max_depth
                ):
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}",
                            [definition],
                        )
                    )

    return DepthRule


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing documents with more than ``max_aliases`` aliases, counted as
    Strawberry counts them (each spread of a fragment counts its aliases again) and with its
    message (``16 aliases found. Allowed: 15``), but each fragment walked once: Strawberry's
    rule walked it again at each spread, 2^depth steps for a tree of spreads (19 levels:
    1 s of a worker)."""

    class AliasRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            aliases = _OncePerFragment(context.document, _field_aliases, sum)
            total = sum(
                aliases(d.selection_set)
                for d in context.document.definitions
                if isinstance(d, OperationDefinitionNode)
            )
            if total > max_aliases:
                context.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return AliasRule
