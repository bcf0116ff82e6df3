"""The deployment files: compose wiring, and the container's entrypoint run for real."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.neo4j_server import pom_version

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_runs_neo4j_lts_with_gds_before_the_api() -> None:
    services = _compose()["services"]
    neo4j, api = services["neo4j"], services["relgraph"]
    # The exact versions the neo4j-marked tests ran (the test server's pom.xml).
    neo4j_version, gds_version = pom_version("neo4j.version"), pom_version("gds.version")
    assert neo4j_version.startswith("5.26.")  # the 5.x LTS line
    assert neo4j["image"] == f"neo4j:{neo4j_version}-community"
    # The image's plugin list fetches GDS (Maven Central has no plugin jar: README "Neo4j and
    # Graph Data Science" says why the Maven-built one is not mounted).
    assert neo4j["environment"]["NEO4J_PLUGINS"] == '["graph-data-science"]'
    # NEO4J_PLUGINS cannot name a GDS version: the health check refuses any but the tested one.
    assert f"RETURN gds.version() = '{gds_version}'" in " ".join(neo4j["healthcheck"]["test"])
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    env = api["environment"]
    assert env["RELGRAPH_STORE"] == "neo4j"
    assert env["NEO4J_URI"] == "neo4j://neo4j:7687"
    assert "neo4j-data:/data" in neo4j["volumes"]


def test_compose_holds_no_secret_and_publishes_only_on_loopback() -> None:
    services = _compose()["services"]
    assert (
        services["neo4j"]["environment"]["NEO4J_AUTH"]
        == "neo4j/${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    )
    assert services["relgraph"]["environment"]["NEO4J_PASSWORD"] == "${NEO4J_PASSWORD}"
    for service in services.values():
        assert all(str(p).startswith("127.0.0.1:") for p in service.get("ports", []))


def test_the_image_runs_the_entrypoint_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "USER relgraph" in dockerfile
    assert os.access(ROOT / "docker" / "entrypoint.sh", os.X_OK)


def test_the_image_build_copies_the_cypher_statements_it_packages() -> None:
    """The wheel built in the image takes relgraph.cypher from the top-level cypher/ folder."""
    copied = {
        part.rstrip("/")
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
        for part in line.split()[1:-1]
    }
    assert {"pyproject.toml", "setup.py", "src", "cypher"} <= copied
    assert '"relgraph.cypher" = "cypher"' in (ROOT / "pyproject.toml").read_text()


def test_the_entrypoint_synthesises_loads_analyses_and_serves(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    key = "k" * 40
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "RELGRAPH_DATA_DIR": str(tmp_path / "data"),
        "RELGRAPH_INPUT": str(tmp_path / "no-input"),
        "RELGRAPH_SYNTH_CUSTOMERS": "300",
        "RELGRAPH_API_KEYS": f"analyst:{key}",
        "RELGRAPH_HOST": "127.0.0.1",
        "RELGRAPH_PORT": str(port),
    }
    server = subprocess.Popen(
        ["sh", str(ROOT / "docker" / "entrypoint.sh")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the entrypoint never served a ready API")
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        assert ready["store"] == "embedded"
        stats = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ graphStats { nodes { kind count } } }"},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert {n["kind"]: n["count"] for n in stats["data"]["graphStats"]["nodes"]}[
            "CustomerRecord"
        ] > 0
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert (tmp_path / "data" / "synthetic-bank").is_dir(), output
    assert key not in output
