"""The Neo4j store on a server whose disk filled during ``analyze``'s results write (a
recording runner raising what the driver runner makes of the errors a real 5.26 server gave:
benchmarks/RESULTS.md, "Neo4j on a full disk during analyze")."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from relgraph.store.base import StoreError
from relgraph.store.neo4j import Neo4jStore
from relgraph.store.runner import ServerStorageError
from tests.graph.conftest import BANK, canonical_tables
from tests.store.recording import RecordingRunner


def _tables() -> dict[str, pa.Table]:
    return canonical_tables(BANK)


def _fails_with(error: Exception) -> Any:
    def raise_it(_: dict[str, Any]) -> pd.DataFrame:
        raise error

    return raise_it


def test_a_full_disk_in_the_write_back_says_the_results_are_saved_and_to_restart(
    store: Neo4jStore, runner: RecordingRunner
) -> None:
    # What a real 5.26 server answered when its disk filled after the switch (RESULTS.md).
    store.replace_tables(_tables(), {})
    full = ServerStorageError(
        "write back households: statement 'writeback_households' failed on bolt://db: "
        "Neo.DatabaseError.Statement.ExecutionFailed: java.io.IOException: Exception in the "
        "page eviction thread"
    )
    runner.overrides["writeback_households"] = _fails_with(full)
    households = pa.table({"household_id": ["H1"], "size": [2]})
    with pytest.raises(StoreError) as caught:
        store.replace_results({"households": households})
    message = str(caught.value)
    assert message.startswith("results saved (stats, validate and serve read them")
    assert "page eviction thread. The Neo4j server could not write its database" in message
    assert message.endswith(
        "Give it room, restart it, and run `relgraph analyze` again to complete the graph "
        "properties"
    )
    assert "last good state" not in message  # which results would that be?
    assert store.read_results("households").equals(households)
