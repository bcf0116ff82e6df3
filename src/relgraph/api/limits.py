"""Limits against abuse: cost of list sizes × depth.

The per-request deadline is checked by the context each time a node is built
(:meth:`relgraph.api.context.Context.touch`), where a request's work grows.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    IntValueNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_COST = 5_000
DEFAULT_LIST_COST = 20
"""A list field without a literal ``first`` counts as this many items (the default page)."""
VARIABLE_LIST_COST = 100
"""A ``first`` given as a variable counts as the largest page."""


def cost_rule(max_cost: int = MAX_COST) -> type[ValidationRule]:
    """A validation rule: every field costs the product of the ``first`` of the lists above it."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.multipliers = [1]
            self.cost = 0
            self.reported = False

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            multiplier = self.multipliers[-1]
            self.cost += multiplier
            first = next((a for a in node.arguments or () if a.name.value == "first"), None)
            if first is not None:
                if isinstance(first.value, IntValueNode):
                    multiplier *= max(int(first.value.value), 1)
                elif isinstance(first.value, VariableNode):
                    multiplier *= VARIABLE_LIST_COST
            elif node.selection_set is not None and node.name.value in _LIST_FIELDS:
                multiplier *= DEFAULT_LIST_COST
            self.multipliers.append(multiplier)
            if self.cost > max_cost and not self.reported:
                self.reported = True
                self.report_error(
                    GraphQLError(
                        f"Query cost {self.cost} exceeds the limit of {max_cost}: "
                        "ask for smaller pages or fewer nested lists.",
                        node,
                    )
                )

        def leave_field(self, *_: Any) -> None:
            self.multipliers.pop()

    return CostLimit


_LIST_FIELDS = frozenset(
    {"accounts", "devices", "family", "roles", "households", "corporateGroups", "influencers",
     "possibleDuplicates", "linkedAccounts", "members"}
)  # fmt: skip
