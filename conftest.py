"""Docstring examples in ``src/relgraph`` run as doctests (``make test``) on the hand-made
bank of :mod:`tests.docbank`; this puts it and small lookups in their namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def _doc_bank(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests import docbank

    from relgraph.graph import build_projection
    from relgraph.ingest import load_directory
    from relgraph.jobs.analyze import analyze
    from relgraph.jobs.stored import stored_frames
    from relgraph.store.embedded import EmbeddedStore

    root = tmp_path_factory.mktemp("docbank")
    source = docbank.write(root / "bank")
    data_dir = root / "data"
    with EmbeddedStore(data_dir) as store:
        load_directory(source, store, data_dir)
        projection = build_projection(store)
        analyze(store, projection)
        frames = stored_frames(store)
    records = projection.nodes["CustomerRecord"]
    person_of = records.attrs["person"].to_numpy()

    def person(customer_id: str) -> int:
        """The projection index of the person a customer record belongs to."""
        return int(person_of[records.index(customer_id)])

    def account(account_id: str) -> int:
        return projection.nodes["Account"].index(account_id)

    def new_data_dir() -> Path:
        """An empty data folder, for examples that load."""
        return Path(tmp_path_factory.mktemp("doc-data"))

    return {
        "projection": projection, "person": person, "account": account, "frames": frames,
        "source": source, "data_dir": data_dir, "new_data_dir": new_data_dir, "Path": Path,
    }  # fmt: skip


@pytest.fixture(autouse=True)
def _doctest_namespace(request: pytest.FixtureRequest) -> None:
    if isinstance(request.node, pytest.DoctestItem):
        namespace = request.getfixturevalue("doctest_namespace")
        namespace.update(request.getfixturevalue("_doc_bank"))
