"""kill -9 of a server mid-stream: no acknowledged transfer is lost, and the client's resend
of everything is deduplicated (each transfer journalled once)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel
from relgraph.journal import TRANSFER, read

from .conftest import KEYS
from .test_serve import _free_port

BATCH = 20


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "RELGRAPH_API_KEYS": f"ingest:{KEYS[Role.INGEST]}",
        "RELGRAPH_DATA_DIR": str(data_dir),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError("server never became ready")


def _send(port: int, batch: list[dict[str, Any]]) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/v1/transfers",
        json=batch,
        headers={"Authorization": f"Bearer {KEYS[Role.INGEST]}"},
        timeout=30,
    )
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def test_no_acknowledged_transfer_is_lost_across_kill_9(
    data_dir: Path, model: ReadModel, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(data_dir, data, ignore=shutil.ignore_patterns("journal", "*.lock"))
    ts = model.projection.edge("Account", "TRANSFER", "Account").attrs["ts"]
    t0 = int(ts.max()) + 3_600_000
    ids = model.account_ids
    transfers = [
        {"tx_id": f"CRASH-{i:05d}", "from_account": ids[(7 * i) % len(ids)],
         "to_account": ids[(7 * i + 3) % len(ids)], "amount": 100.0 + i, "currency": "CNY",
         "ts": t0 + 1_000 * i}
        for i in range(1_000)
    ]  # fmt: skip
    batches = [transfers[lo : lo + BATCH] for lo in range(0, len(transfers), BATCH)]
    acknowledged: list[str] = []
    port = _free_port()
    server = _start(data, port)
    stop = threading.Event()

    def client() -> None:
        for batch in batches:
            if stop.is_set():
                return
            try:
                answer = _send(port, batch)
            except httpx.HTTPError:
                return  # the server died: this batch was not acknowledged
            acknowledged.extend(r["tx_id"] for r in answer["results"] if r["status"] == "accepted")

    sender = threading.Thread(target=client)
    sender.start()
    while len(acknowledged) < 10 * BATCH and sender.is_alive():
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)  # mid-stream, with requests in flight
    server.wait(timeout=30)
    stop.set()
    sender.join(timeout=60)
    assert 0 < len(acknowledged) < len(transfers)

    server = _start(data, port)  # replays the journal into the live index
    try:
        answers = [_send(port, batch) for batch in batches]  # the client resends everything
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    status = {r["tx_id"]: r["status"] for a in answers for r in a["results"]}
    assert all(status[t] == "duplicate" for t in acknowledged)
    assert set(status.values()) <= {"accepted", "duplicate"}
    journalled = [str(e.data["tx_id"]) for e in read(data, [TRANSFER])]
    assert sorted(journalled) == sorted(t["tx_id"] for t in transfers)  # each once, none lost
