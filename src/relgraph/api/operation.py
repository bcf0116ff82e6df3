"""The operation a GraphQL request runs, and the fields it selects at its root.

Several parts judge a request by its root fields before (or after) it runs: the audit line
names them, ingestion caps ``recordTransfers`` at one per request. Fragments are followed
(inline and spread, each named fragment once), so aliases and fragments cannot hide one.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
)


def operation_of(
    document: DocumentNode | None, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation named ``operation_name`` (the first one when None), or None."""
    if document is None:
        return None
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode) and (
            operation_name is None or (d.name is not None and d.name.value == operation_name)
        ):
            return d
    return None


def root_fields(document: DocumentNode | None, operation_name: str | None) -> list[FieldNode]:
    """Every field the operation selects at its root, aliases included, in document order."""
    operation = operation_of(document, operation_name)
    if operation is None or document is None:
        return []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: list[FieldNode] = []
    seen: set[str] = set()

    def collect(selections: tuple[SelectionNode, ...]) -> None:
        for selection in selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                collect(tuple(selection.selection_set.selections))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    collect(tuple(fragments[name].selection_set.selections))

    collect(tuple(operation.selection_set.selections))
    return found
