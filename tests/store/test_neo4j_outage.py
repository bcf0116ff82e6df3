"""A Neo4j stopped and started again under a running ``relgraph serve`` (marker ``neo4j``): the
API answers from the graph it built throughout, a refresh during the outage keeps that graph and
says why, and is tried again until the server is back, without a restart or a second refresh.

The test stops and starts a server of its own (on one port, with one password), not the
session's, which every other neo4j-marked test uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from relgraph.api.server import RETRY_SECONDS
from relgraph.config import Neo4jSettings
from relgraph.store.neo4j import Neo4jStore
from tests import neo4j_server, served
from tests.api.browser import free_port
from tests.graph.conftest import BANK, canonical_tables
from tests.neo4j_server import Neo4jLogin

pytestmark = pytest.mark.neo4j

KEY = "admin-outage-test-key-0123456789abcdef"


def test_a_refresh_while_neo4j_is_down_is_tried_again_once_it_is_back(
    neo4j_login: Neo4jLogin, tmp_path: Path
) -> None:
    if (reason := neo4j_server.unavailable_reason()) is not None:
        pytest.skip(f"no Neo4j of its own to stop: {reason}")
    home = tmp_path / "neo4j"
    server = neo4j_server.start(home, gds=False)
    login = server.login
    settings = Neo4jSettings(uri=login.uri, username=login.username, password=login.password)
    with closing(Neo4jStore.connect(settings)) as store:
        store.replace_tables(canonical_tables(BANK), {})
    port, log = free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "RELGRAPH_STORE": "neo4j",
        "NEO4J_URI": login.uri,
        "NEO4J_USERNAME": login.username,
        "NEO4J_PASSWORD": login.password,
        "RELGRAPH_API_KEYS": f"admin:{KEY}",
        "RELGRAPH_DATA_DIR": str(tmp_path / "data"),
    }
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "relgraph.cli", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {KEY}"}

    def ready() -> dict[str, object]:
        return served.ready(base, log)

    def graph_stats() -> object:
        query = {"query": "{ graphStats { nodes { kind count } } }"}
        return httpx.post(f"{base}/graphql", json=query, headers=auth, timeout=10).json()

    try:
        nodes, stats = ready()["nodes"], graph_stats()
        stopping = time.monotonic()
        neo4j_server.stop(server)  # SIGTERM: a clean stop, as an operator's restart does
        # Was 11 s with `relgraph serve`'s connections open: the Bolt server's shutdown waited
        # 5 s for them and 5 s more for its event loops. The tests stop a server a dozen times.
        assert time.monotonic() - stopping < 5, time.monotonic() - stopping
        assert graph_stats() == stats  # answered from the graph the server built
        mutation = {"query": "mutation { refresh { started } }"}
        answer = httpx.post(f"{base}/graphql", json=mutation, headers=auth, timeout=10)
        assert answer.json() == {"data": {"refresh": {"started": True}}}
        deadline = time.monotonic() + 60
        while "refreshError" not in (during := ready()):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert during["nodes"] == nodes
        assert str(during["refreshError"]).startswith(f"cannot reach Neo4j at {login.uri}: ")
        assert str(during["refreshError"]).endswith(
            "; is it running, and is NEO4J_URI its Bolt address?"
        )
        assert "\n" not in str(during["refreshError"])
        server = neo4j_server.start(
            home, gds=False, port=int(login.uri.rsplit(":", 1)[1]), password=login.password
        )
        back = time.monotonic()
        # Was: the refreshError stayed (45 s and more, measured) and the refresh asked for
        # never happened, until someone refreshed again.
        while "refreshError" in ready():
            assert time.monotonic() - back < RETRY_SECONDS + 30, log.read_text()
            time.sleep(0.2)
        assert graph_stats() == stats
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        neo4j_server.stop(server)
    text = log.read_text()
    assert "refresh failed, still serving the graph built before it (/readyz says why): " in text
    assert "the store's server does not answer: trying the refresh again in 15 s" in text
