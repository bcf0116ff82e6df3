"""A small analysed bank and the API over it, with one key per role."""

from __future__ import annotations

import asyncio
import functools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry

from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.auth import KeyRing, Role
from relgraph.api.context import Context
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.api.schema import build_schema
from relgraph.store.embedded import EmbeddedStore
from tests.api.audit_logs import log  # noqa: F401 - the audit tests' fixture, shared here
from tests.api.browser_pages import chromium, page  # noqa: F401 - the explorer tests' fixtures
from tests.banks import analysed_synthetic

KEYS = {role: f"{role.value}-test-key-0123456789" for role in Role}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Loaded and analysed once for the run; each xdist worker gets a copy of its own, bank
    # and all, to write to (audit logs, the serve lock).
    root = tmp_path_factory.mktemp("api")
    built = analysed_synthetic(tmp_path_factory, 1_500, 21)[0].parent
    shutil.copytree(built, root, ignore=shutil.ignore_patterns(".done"), dirs_exist_ok=True)
    return root / "data"


@pytest.fixture(scope="session")
def model(data_dir: Path) -> ReadModel:
    with EmbeddedStore(data_dir, read_only=True) as store:
        return build_read_model(store)


@pytest.fixture
def state(data_dir: Path, model: ReadModel, tmp_path: Path) -> ServiceState:
    service = default_state(tmp_path, KeyRing({key: role for role, key in KEYS.items()}))
    service.model = model
    return service


@pytest.fixture
def app(state: ServiceState) -> Any:
    return create_app(state)


def run(query: str, model: ReadModel, role: Role = Role.ANALYST, **variables: Any) -> Any:
    """Execute in-process, as ``role``; returns the ExecutionResult."""
    from relgraph.api.auth import Principal

    context = Context(
        principal=Principal(role, "k_test"), model=model, request_id="r-test", deadline=float("inf")
    )
    return asyncio.run(
        _schema().execute(query, context_value=context, variable_values=variables or None)
    )


@functools.cache
def _schema() -> strawberry.Schema:
    # One schema for every in-process query, as a server has: building one per query cost
    # about 20 ms each and emptied its parser and validation caches.
    return build_schema()


@pytest.fixture
def person_with_records(model: ReadModel) -> Iterator[str]:
    """A person with 2+ records, an account and a household of 2+."""
    results = model.results
    for index, pid in enumerate(model.person_ids):
        household = results.household_of.get(pid)
        if (
            len(model.records_of(index)) >= 2
            and len(model.holds.neighbors(index))
            and household
            and len(results.household_members[household]) >= 2
        ):
            yield pid
            return
    raise AssertionError("the test bank has no such person")
