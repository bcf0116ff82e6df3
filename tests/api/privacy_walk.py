"""Walk the schema with one key: every field the key may read, on every root call given.

The walker builds each root call's selection from the schema itself (every field without
required arguments, interfaces through inline fragments on each implementation), so a
field or type added later is walked without touching the privacy tests. Fields the key is
refused are dropped one by one (from the error's coordinate) until the call answers with
no permission error: what is left is everything that key can read there.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context
from relgraph.api.parties import Enterprise, Person
from relgraph.api.readmodel import ReadModel
from relgraph.api.schema import Mutation, Query

MAX_NESTING = 6
"""Object levels below a root field; cycles are cut by never re-entering a type."""
_DENIED = re.compile(r"^Permission denied: role '\w+' may not read (\S+)\.$")


@dataclass
class Walk:
    """What one key got back from a set of root calls."""

    text: list[str] = field(default_factory=list)
    """Each call's JSON data and error messages."""
    refused: set[str] = field(default_factory=set)
    """Coordinates (``Person.birthDate``, ``hiddenNetwork``) the key was refused."""
    types: set[str] = field(default_factory=set)
    """Object types the answers selected fields of."""

    def compact(self) -> str:
        """All answers in one string, NFKC, upper-case, without separators people type
        inside phone and id numbers, so a value shows up however it was formatted."""
        joined = unicodedata.normalize("NFKC", "\n".join(self.text)).upper()
        return re.sub(r"[\s\-()+]", "", joined)


def _schema() -> Any:
    # No limit extensions: the walk tests what resolvers hand out, not the cost guards.
    return strawberry.Schema(query=Query, mutation=Mutation, types=[Person, Enterprise])


SCHEMA = _schema()


def _select(
    named: GraphQLNamedType, denied: set[str], path: tuple[str, ...], types: set[str]
) -> str:
    if isinstance(named, GraphQLInterfaceType):
        parts = [_fields(named, denied, path, types)]
        for impl in SCHEMA._schema.get_possible_types(named):
            if impl.name not in path:
                parts.append(f"... on {impl.name} {{ {_fields(impl, denied, path, types)} }}")
        return " ".join(p for p in parts if p)
    assert isinstance(named, GraphQLObjectType)
    return _fields(named, denied, path, types)


def _fields(
    owner: GraphQLObjectType | GraphQLInterfaceType,
    denied: set[str],
    path: tuple[str, ...],
    types: set[str],
) -> str:
    out = ["__typename"]
    if isinstance(owner, GraphQLObjectType):
        types.add(owner.name)
    for name, definition in owner.fields.items():
        if f"{owner.name}.{name}" in denied:
            continue
        if any(is_required_argument(a) for a in definition.args.values()):
            continue
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            out.append(name)
        elif len(path) < MAX_NESTING and target.name not in path:
            inner = _select(target, denied, (*path, target.name), types)
            out.append(f"{name} {{ {inner} }}")
    return " ".join(out)


def walk(model: ReadModel, role: Role, calls: list[tuple[str, str]]) -> Walk:
    """Run each ``(root field, arguments)`` call as ``role``, dropping refused fields."""
    result = Walk()
    for root, arguments in calls:
        denied: set[str] = set()
        target = get_named_type(SCHEMA._schema.query_type.fields[root].type)
        query = ""
        while True:
            types: set[str] = set()
            inner = _select(target, denied, (target.name,), types)
            if f"{{ answer: {root}{arguments} {{ {inner} }} }}" == query:
                break  # what is still refused is the call itself or one of its arguments
            query = f"{{ answer: {root}{arguments} {{ {inner} }} }}"
            answer = _execute(model, role, query)
            for error in answer.errors or []:
                found = _DENIED.match(error.message)
                if found:
                    denied.add(found.group(1))
        result.refused |= denied
        if answer.data and answer.data.get("answer") is not None:
            result.types |= types
        result.text.append(json.dumps(answer.data, ensure_ascii=False, default=str))
        result.text.extend(e.message for e in answer.errors or [])
    return result


def _execute(model: ReadModel, role: Role, query: str) -> Any:
    context = Context(
        principal=Principal(role, "k_walk"), model=model, request_id="r-walk", deadline=float("inf")
    )
    return asyncio.run(SCHEMA.execute(query, context_value=context))
