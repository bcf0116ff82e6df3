"""Caches kept per API key: a text another key sent answers no faster.

Strawberry's ``ParserCache`` and ``ValidationCache`` keep one LRU per process, shared by every
key, and so did the inline router's parse and the cost limiter's prices. A request whose text
another key sent a moment ago was then answered from those caches: on an 800-customer bank a
campaign key's ``search`` answered in a median 1.1 ms when an analyst had just sent the same
text and 4.3 ms when nobody had, and one request told the two apart 999 times in 1,000;
over HTTP 2.9–4.5 against 6.0–8.8 ms, told apart 94–99 times in 100 (benchmarks/RESULTS.md). A query text can carry a phone or an id number inline, so that timing
said what another role had searched. Here each key has caches of its own: nothing another key
sends changes what this key's requests cost, neither by a hit nor by an eviction.

The keys are the configured ones (a handful), so the caches are bounded by keys × entries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Generic, TypeVar

from graphql import parse
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.extensions.base_extension import SchemaExtension

T = TypeVar("T")

ENTRIES = 1_000
"""Texts (and their validations) remembered per key: a tool sends a few templates."""


class PerKey(Generic[T]):
    """One ``T`` per key id, made by ``make`` on the key's first use.

    >>> counts = PerKey(dict)
    >>> counts.of("k_a")["texts"] = 1
    >>> counts.of("k_b")
    {}
    >>> counts.of("k_a")
    {'texts': 1}
    """

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._of: dict[str, T] = {}
        self._lock = threading.Lock()

    def of(self, key: str) -> T:
        found = self._of.get(key)
        if found is None:
            with self._lock:  # two first requests of one key get one cache
                found = self._of.get(key)
                if found is None:
                    found = self._of[key] = self._make()
        return found


def key_of(context: object) -> str:
    """The key id a request runs under ("" in process, with no principal)."""
    principal = getattr(context, "principal", None)
    return str(getattr(principal, "key_id", ""))


def _validator() -> Callable[..., Any]:
    # Imported late, as Strawberry's own ValidationCache does (a cycle with its schema).
    from strawberry.schema.schema import validate_document

    return lru_cache(maxsize=ENTRIES)(validate_document)


_parses: PerKey[Callable[..., Any]] = PerKey(lambda: lru_cache(maxsize=ENTRIES)(parse))
_validations: PerKey[Callable[..., Any]] = PerKey(_validator)


class KeyParserCache(ParserCache):
    """Strawberry's ``ParserCache``, with an LRU per key."""

    def __init__(self) -> None:
        SchemaExtension.__init__(self)  # not ParserCache's: it would take the shared LRU

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        parse_of = _parses.of(key_of(ec.context))
        ec.graphql_document = parse_of(ec.query, **ec.parse_options)
        yield


class KeyValidationCache(ValidationCache):
    """Strawberry's ``ValidationCache``, with an LRU per key (graphql-core's documents hash
    by content, so a per-key parse alone would still hit another key's validation)."""

    def __init__(self) -> None:
        SchemaExtension.__init__(self)

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        validate = _validations.of(key_of(ec.context))
        ec.pre_execution_errors = validate(
            ec.schema._schema, ec.graphql_document, ec.validation_rules
        )
        yield
