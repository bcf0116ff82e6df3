"""The lists an operation answered below its root: the audit line's nested ``calls``.

A person's ``accounts`` and an account's ``transfers`` are connections too, and
``transfers(since:, until:) { totalCount }`` under aliases counts an account's payments window
by window without building one transfer: the line named the account and nothing of what was
counted. So every connection answered below the root is kept as a call, as the root's are
(:mod:`relgraph.api.audit_calls`), with its path of aliases (``acct.transfers``), its type and
field (``Account.transfers``), its arguments, and per parent answered, in the answer's order,
what it counted: ``total``, ``rows`` and ``more`` are lists here, one entry per parent. One
call per path and arguments, so a page of fifty persons' accounts is one call of fifty counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionNode,
    get_named_type,
)
from strawberry.types import ExecutionContext

from relgraph.api.audit_calls import CONNECTION, DIGIT_RUN, MAX_ALIAS, root_type, sent_args
from relgraph.api.operation import operation_of

_COUNTS = (("totalCount", "total", int), ("edges", "rows", list))
"""What a connection's answer counted, as the line keeps it (``more`` is ``hasNextPage``)."""


def nested_calls(ec: ExecutionContext, mac: Callable[[str], str] | None) -> list[dict[str, Any]]:
    """Per connection answered below the root, per path and arguments: what it was asked and
    what it counted for each parent (see the module)."""
    root = root_type(ec)
    operation = operation_of(ec.graphql_document, ec.operation_name)
    data = ec.result.data if ec.result is not None else None
    if root is None or operation is None or ec.graphql_document is None or data is None:
        return []
    fragments = {
        d.name.value: d
        for d in ec.graphql_document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    calls: dict[str, dict[str, Any]] = {}

    def walk(
        selections: tuple[SelectionNode, ...],
        parent: GraphQLNamedType,
        value: Any,
        path: str,
        spread: frozenset[str],
    ) -> None:
        if isinstance(value, list):
            for item in value:
                walk(selections, parent, item, path, spread)
            return
        if not isinstance(value, dict):
            return
        for selection in selections:
            if isinstance(selection, FieldNode):
                field(selection, parent, value, path, spread)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = ec.schema._schema.get_type(condition.name.value) if condition else parent
                if kind is not None:
                    walk(tuple(selection.selection_set.selections), kind, value, path, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in spread:  # a cycle is invalid: never walked
                    continue
                kind = ec.schema._schema.get_type(fragment.type_condition.name.value)
                if kind is not None:
                    selected = tuple(fragment.selection_set.selections)
                    walk(selected, kind, value, path, spread | {name})

    def field(
        node: FieldNode, parent: GraphQLNamedType, value: dict[str, Any], path: str, spread: Any
    ) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(node.name.value)
        key = node.alias.value if node.alias else node.name.value
        if definition is None or key not in value or value[key] is None:
            return
        here = f"{path}.{DIGIT_RUN.sub('#', key)[:MAX_ALIAS]}"  # a root field's path is ""
        named = get_named_type(definition.type)
        answer = value[key]
        if path and named.name.endswith(CONNECTION) and isinstance(answer, dict):
            args = sent_args(node, definition, ec.variables, mac)
            name = f"{parent.name}.{node.name.value}"
            call = calls.setdefault(
                f"{here}\0{name}\0{args!r}", {"as": here[1:], "field": name, "args": args}
            )
            for sub, kept, kind in _COUNTS:
                if isinstance(answer.get(sub), kind):
                    counted = answer[sub]
                    call.setdefault(kept, []).append(len(counted) if kind is list else counted)
            page = answer.get("pageInfo")
            if isinstance(page, dict) and isinstance(page.get("hasNextPage"), bool):
                call.setdefault("more", []).append(page["hasNextPage"])
        if node.selection_set is not None and reaches(node, named, spread):
            walk(tuple(node.selection_set.selections), named, answer, here, spread)

    reached: dict[int, bool] = {}

    def reaches(node: FieldNode, kind: GraphQLNamedType, spread: frozenset[str]) -> bool:
        """Whether a connection is selected anywhere below ``node``: the answer under it
        is walked only then (a page of 100 households and their members cost 2 ms to walk
        for nothing). Read from the document, once per field node."""
        known = reached.get(id(node))
        if known is None:
            known = reached[id(node)] = any(
                _selects_connection(s, kind, fragments, spread, ec)
                for s in (node.selection_set.selections if node.selection_set else ())
            )
        return known

    walk(tuple(operation.selection_set.selections), root, data, "", frozenset())
    return list(calls.values())


def _selects_connection(
    selection: SelectionNode,
    parent: GraphQLNamedType,
    fragments: dict[str, FragmentDefinitionNode],
    spread: frozenset[str],
    ec: ExecutionContext,
) -> bool:
    if isinstance(selection, FieldNode):
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return False
        definition = parent.fields.get(selection.name.value)
        if definition is None:
            return False
        named = get_named_type(definition.type)
        return named.name.endswith(CONNECTION) or any(
            _selects_connection(s, named, fragments, spread, ec)
            for s in (selection.selection_set.selections if selection.selection_set else ())
        )
    if isinstance(selection, InlineFragmentNode):
        condition = selection.type_condition
        kind = ec.schema._schema.get_type(condition.name.value) if condition else parent
        return kind is not None and any(
            _selects_connection(s, kind, fragments, spread, ec)
            for s in selection.selection_set.selections
        )
    if isinstance(selection, FragmentSpreadNode):
        name = selection.name.value
        fragment = fragments.get(name)
        if fragment is None or name in spread:
            return False
        kind = ec.schema._schema.get_type(fragment.type_condition.name.value)
        return kind is not None and any(
            _selects_connection(s, kind, fragments, spread | {name}, ec)
            for s in fragment.selection_set.selections
        )
    return False
