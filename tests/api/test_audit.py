"""The audit trail against someone who can write the data directory but has no key.

Each tampering test plays that attacker: it knows the file formats (the code is public),
reads and rewrites the log and the anchor, seals what it writes with a key of its own,
and `verify` with the server's key must fail naming what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.api.audit import MAX_LINE_BYTES, AuditError, AuditLog, Verdict, ids_digest, verify
from relgraph.api.audit_anchor import Anchor, AnchorRead, write_anchor
from relgraph.api.audit_key import AuditKey
from relgraph.cli import app
from tests.api.audit_logs import KEY, _anchor

ATTACKER = AuditKey(b"an-attackers-own-key-0123456789abcdef", "attacker")


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines(keepends=True)


def _records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in _lines(log)]


def _sealed_by(key: AuditKey, record: dict[str, object]) -> str:
    """What the attacker writes: a line in relgraph's format, sealed with ``key``."""
    body = {k: v for k, v in record.items() if k != "mac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    mac = key.mac(b"relgraph-audit-line", canonical.encode())
    return json.dumps({**body, "mac": mac}, sort_keys=True, separators=(",", ":")) + "\n"


def _rechain(
    records: list[dict[str, object]], key: AuditKey, prev: object = "0" * 64, first: int = 1
) -> list[str]:
    """Renumber and relink ``records`` as the attacker would, sealing with ``key``."""
    out = []
    for seq, record in enumerate(records, start=first):
        line = _sealed_by(key, {**record, "seq": seq, "prev": prev})
        out.append(line)
        prev = json.loads(line)["mac"]
    return out


def _fails(verdict: Verdict, *words: str) -> None:
    assert not verdict.ok, verdict.message
    for word in words:
        assert word in verdict.message, verdict.message


def test_an_intact_log_verifies_and_a_restart_continues_it(log: Path) -> None:
    assert verify(log, KEY) == Verdict(True, 5, "5 lines, chain intact, matching the anchor")
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation="op5", ids=[], outcome="ok")
    assert verify(log, KEY).lines == 6
    assert [r["seq"] for r in _records(log)] == [1, 2, 3, 4, 5, 6]


def test_an_altered_line_is_named(log: Path) -> None:
    lines = _lines(log)
    lines[2] = lines[2].replace('"P2"', '"P9"')
    log.write_text("".join(lines))
    _fails(verify(log, KEY), "line 3 was altered or forged")
    assert verify(log, KEY).bad_line == 3


def test_a_forged_appended_line_fails(log: Path) -> None:
    last = _records(log)[-1]
    forged = {**last, "operation": "cover-up", "seq": 6, "prev": last["mac"]}
    with log.open("a") as handle:
        handle.write(_sealed_by(ATTACKER, forged))
    _fails(verify(log, KEY), "line 6 was appended after the anchored line 5", "forged")
    with pytest.raises(AuditError, match="line 6"):  # and no server starts on it
        AuditLog(log, KEY)


def test_a_forged_line_appended_under_a_running_server_stops_its_appends(log: Path) -> None:
    server = AuditLog(log, KEY)
    with log.open("a") as handle:
        handle.write(_sealed_by(ATTACKER, {**_records(log)[-1], "seq": 6}))
    with pytest.raises(AuditError, match="changed outside relgraph"):
        server.append(key_id="k_1", role="risk", operation="next", ids=["P1"], outcome="ok")


def test_an_older_anchor_put_back_under_a_running_server_stops_its_appends(log: Path) -> None:
    saved_log, saved_anchor = log.read_bytes(), _anchor(log).read_bytes()
    server = AuditLog(log, KEY)
    server.append(key_id="k_1", role="risk", operation="hidden", ids=["P7"], outcome="ok")
    log.write_bytes(saved_log)  # the attacker rolls both back to before that read
    _anchor(log).write_bytes(saved_anchor)
    with pytest.raises(AuditError, match="went back from 6 to 5 lines"):
        server.append(key_id="k_1", role="risk", operation="next", ids=["P1"], outcome="ok")


def test_a_deleted_then_rechained_tail_fails(log: Path) -> None:
    lines, records = _lines(log), _records(log)
    # The attacker hides the third read and relinks the lines after it to the second.
    tail = _rechain(records[3:], ATTACKER, prev=records[1]["mac"], first=3)
    log.write_text("".join(lines[:2] + tail))
    _fails(verify(log, KEY), "line 3 was altered or forged")
    assert verify(log, KEY).bad_line == 3


def test_a_removed_line_without_rechaining_is_named(log: Path) -> None:
    lines = _lines(log)
    del lines[1]
    log.write_text("".join(lines))
    _fails(verify(log, KEY), "line 2 is record 3: 1 line(s) before it were removed")


def test_a_full_rewrite_with_a_new_anchor_fails(log: Path) -> None:
    records = [{**r, "ids": []} for r in _records(log)]  # every read erased
    lines = _rechain(records, ATTACKER)
    log.write_text("".join(lines))
    size = sum(len(line.encode()) for line in lines)
    head = json.loads(lines[-1])["mac"]
    claimed = Anchor(KEY.key_id, 5, head, size, size - len(lines[-1].encode()))
    write_anchor(_anchor(log), ATTACKER, claimed)
    _fails(verify(log, KEY), "the log and its anchor were rewritten without the key")


def test_lines_cut_off_the_end_fail(log: Path) -> None:
    log.write_text("".join(_lines(log)[:3]))
    _fails(verify(log, KEY), "the log ends at line 3 but the anchor records 5 lines: 2 line(s)")
    with pytest.raises(AuditError, match="lines were cut off"):
        AuditLog(log, KEY)


def test_an_emptied_log_fails(log: Path) -> None:
    log.write_text("")
    _fails(verify(log, KEY), "the log is empty but the anchor records 5 lines")


def test_a_missing_anchor_fails(log: Path) -> None:
    _anchor(log).unlink()
    _fails(verify(log, KEY), "anchor", "is missing")
    with pytest.raises(AuditError, match=r"anchor .* is missing"):
        AuditLog(log, KEY)


def test_a_forged_anchor_fails(log: Path) -> None:
    lines = _lines(log)[:3]  # cut two lines, then anchor the shorter log
    log.write_text("".join(lines))
    size = sum(len(line.encode()) for line in lines)
    head = json.loads(lines[-1])["mac"]
    write_anchor(
        _anchor(log), ATTACKER, Anchor(KEY.key_id, 3, head, size, size - len(lines[-1].encode()))
    )
    _fails(verify(log, KEY), "was forged or altered: its seal does not match the key")
    with pytest.raises(AuditError, match="forged"):
        AuditLog(log, KEY)


def test_the_wrong_key_fails(log: Path) -> None:
    _fails(verify(log, ATTACKER), "wrong key", KEY.key_id, ATTACKER.key_id)


def test_a_restart_after_a_line_over_64_kib_of_ids_verifies(tmp_path: Path) -> None:
    ids = [f"P{i:032x}" for i in range(5_000)]  # ~180 KB as a list
    audit = AuditLog(tmp_path / "audit.log", KEY)
    audit.append(key_id="k_1", role="risk", operation="Big", ids=ids, outcome="ok")
    AuditLog(audit.path, KEY).append(key_id="k_1", role="risk", operation="Next", ids=["P1"])
    assert verify(audit.path, KEY).ok
    big, *parts, small = _lines(audit.path)
    assert all(len(line.encode()) <= MAX_LINE_BYTES for line in [big, *parts])
    record = json.loads(big)
    assert record["ids_count"] == 5_000
    expected = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    assert record["ids_sha256"] == expected == ids_digest(reversed(ids))
    assert record["ids_parts"] == len(parts)
    assert json.loads(small)["ids"] == ["P1"]


def test_every_field_is_bounded(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.log", KEY)
    huge = "x" * 2_000_000
    audit.append(
        key_id="k_1",
        role="risk",
        operation=huge,
        fields=[huge] * 1000,
        denied=[huge] * 1000,
        not_found=[huge] * 1000,
        criteria={"lacksProducts": [huge]},
        ids=[huge] * 3,
    )
    line, part = _lines(audit.path)
    assert len(line.encode()) <= MAX_LINE_BYTES
    assert json.loads(line)["ids_count"] == 1
    # No id the bank holds is that long: the continuation line keeps its digest.
    assert json.loads(part)["ids"] == ["sha256:" + hashlib.sha256(huge.encode()).hexdigest()]
    assert len(part.encode()) <= MAX_LINE_BYTES
    assert verify(audit.path, KEY).ok


def test_a_stop_between_the_line_and_the_anchor_is_recovered(log: Path) -> None:
    before = _anchor(log).read_bytes()
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation="op5", ids=[], outcome="ok")
    _anchor(log).write_bytes(before)  # the rename never happened
    verdict = verify(log, KEY)
    assert verdict.ok
    assert verdict.lines == 6
    assert "after the anchor's 5" in verdict.message
    AuditLog(log, KEY)  # a restart anchors the sealed line
    assert verify(log, KEY) == Verdict(True, 6, "6 lines, chain intact, matching the anchor")


def test_an_old_unkeyed_log_is_not_adopted(tmp_path: Path) -> None:
    old = tmp_path / "audit.log"
    old.write_text('{"hash":"ab","prev":"00","ids":["P1"]}\n')
    with pytest.raises(AuditError, match="move the log aside"):
        AuditLog(old, KEY)


def test_appends_from_two_processes_keep_one_chain(log: Path) -> None:
    server = AuditLog(log, KEY)
    server.append(key_id="k_1", role="risk", operation="a", ids=["P1"], outcome="ok")
    other = (  # another process (a CLI export) appends meanwhile
        "import sys; from pathlib import Path; from relgraph.api.audit import AuditLog; "
        "from relgraph.api.audit_key import AuditKey; "
        "AuditLog(Path(sys.argv[1]), AuditKey(sys.argv[2].encode(), 'cli'))"
        ".append(key_id='cli', role='operator', operation='export', ids=[])"
    )
    subprocess.run(
        [sys.executable, "-c", other, str(log), KEY.secret.decode()],
        check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    server.append(key_id="k_1", role="risk", operation="b", ids=["P2"], outcome="ok")
    assert verify(log, KEY).ok
    assert [r["operation"] for r in _records(log)][-3:] == ["a", "export", "b"]


def test_the_anchor_is_read_back_only_when_another_writer_moved_it(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import relgraph.api.audit as audit_module

    reads: list[Path] = []
    real = audit_module.read_anchor_file

    def counted(path: Path, key: AuditKey) -> AnchorRead:
        reads.append(path)
        return real(path, key)

    monkeypatch.setattr(audit_module, "read_anchor_file", counted)
    server = AuditLog(log, KEY)
    server.append(key_id="k_1", role="risk", operation="first", ids=["P1"], outcome="ok")
    reads.clear()
    for i in range(5):
        server.append(key_id="k_1", role="risk", operation=f"op{i}", ids=["P1"], outcome="ok")
    assert reads == []  # its own anchor, as it left it: nothing to read back
    AuditLog(log, KEY).append(key_id="cli", role="operator", operation="export", ids=[])
    reads.clear()
    server.append(key_id="k_1", role="risk", operation="after", ids=["P2"], outcome="ok")
    assert reads == [_anchor(log)]  # moved by the other writer: read and checked
    assert verify(log, KEY).ok
    assert [r["operation"] for r in _records(log)][-2:] == ["export", "after"]


def test_cli_verify_exit_codes(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELGRAPH_AUDIT_KEY", KEY.secret.decode())
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", str(log)])
    assert ok.exit_code == 0, ok.output
    assert "5 lines, chain intact" in " ".join(ok.output.split())
    log.write_text("".join(_lines(log)[:4]))
    bad = runner.invoke(app, ["audit", "verify", str(log)])
    assert bad.exit_code == 1
    assert "1 line(s) were cut off the end" in " ".join(bad.output.split())
    monkeypatch.setenv("RELGRAPH_AUDIT_KEY", ATTACKER.secret.decode())
    wrong = runner.invoke(app, ["audit", "verify", str(log)])
    assert wrong.exit_code == 1
    assert "wrong key" in " ".join(wrong.output.split())
    assert ATTACKER.secret.decode() not in wrong.output


def test_cli_verify_takes_the_anchor_from_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anchor = tmp_path / "elsewhere" / "relgraph.anchor"
    audit = AuditLog(tmp_path / "data" / "audit.log", KEY, anchor)
    audit.append(key_id="k_1", role="risk", operation="a", ids=["P1"], outcome="ok")
    assert anchor.exists()
    assert not (tmp_path / "data" / "audit.anchor").exists()
    monkeypatch.setenv("RELGRAPH_AUDIT_KEY", KEY.secret.decode())
    runner = CliRunner()
    result = runner.invoke(app, ["audit", "verify", str(audit.path), "--anchor", str(anchor)])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("RELGRAPH_AUDIT_ANCHOR", str(anchor))
    assert runner.invoke(app, ["audit", "verify", str(audit.path)]).exit_code == 0


def test_concurrent_appends_commit_together_and_every_line_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    audit = AuditLog(tmp_path / "audit.log", KEY)
    fsyncs = 0
    real_fsync, real_fdatasync = os.fsync, os.fdatasync

    def counting(real: Callable[[int], None]) -> Callable[[int], None]:
        def counted(fd: int) -> None:
            nonlocal fsyncs
            fsyncs += 1
            real(fd)

        return counted

    monkeypatch.setattr(os, "fsync", counting(real_fsync))
    monkeypatch.setattr(os, "fdatasync", counting(real_fdatasync))
    barrier = threading.Barrier(32)

    def worker(i: int) -> None:
        barrier.wait()
        for j in range(10):
            audit.append(key_id=f"k_{i}", role="risk", operation="op", ids=[f"P{j}"],
                         outcome="ok")  # fmt: skip

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.undo()
    verdict = verify(tmp_path / "audit.log", KEY)
    assert verdict.ok, verdict.message
    assert verdict.lines == 320
    seqs = [json.loads(line)["seq"] for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert seqs == list(range(1, 321))
    # Each commit syncs the log and the anchor; batching needs fewer than one pair a line.
    assert 0 < fsyncs < 2 * 320


def test_a_full_disk_mid_line_leaves_the_log_where_its_anchor_says(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Half a line written, then the disk refused: the torn half stayed, the anchor did not
    # move, and every later commit (and a restart) refused the log as "changed outside".
    import relgraph.api.audit as audit_module

    real = os.write
    calls = {"n": 0}

    def full_disk(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    writer = AuditLog(log, KEY)
    monkeypatch.setattr(audit_module.os, "write", full_disk)
    with pytest.raises(AuditError, match="No space left on device"):
        writer.append(key_id="k_1", role="risk", operation="refused", ids=[], outcome="ok")
    monkeypatch.setattr(audit_module.os, "write", real)
    assert verify(log, KEY) == Verdict(True, 5, "5 lines, chain intact, matching the anchor")
    writer.append(key_id="k_1", role="risk", operation="after", ids=[], outcome="ok")
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation="restart", ids=[], outcome="ok")
    assert verify(log, KEY).lines == 7
    assert [r["operation"] for r in _records(log)][-2:] == ["after", "restart"]


def test_a_first_start_on_a_nearly_full_disk_never_puts_a_torn_anchor_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk took half of the new anchor's bytes; the short count went unchecked, the torn
    # file was renamed into place, and every later start refused the log as "forged or
    # damaged". A start stopped there also left an empty log without an anchor, which every
    # later start refused as "the anchor is missing".
    import relgraph.api.audit_anchor as anchor_module

    real = os.write

    def nearly_full(fd: int, data: bytes) -> int:
        if len(data) > 1:
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(anchor_module.os, "write", nearly_full)
    log = tmp_path / "audit.log"
    with pytest.raises(AuditError) as refused:
        AuditLog(log, KEY)
    monkeypatch.undo()
    assert str(refused.value) == (
        f"cannot open the audit log {log}: [Errno 28] No space left on device; free disk "
        f"space in {tmp_path}, then start again"
    )
    assert sorted(p.name for p in tmp_path.iterdir() if "anchor" in p.name) == []
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation="a", ids=[], outcome="ok")
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation="b", ids=[], outcome="ok")
    assert verify(log, KEY) == Verdict(True, 2, "2 lines, chain intact, matching the anchor")


def test_a_line_with_a_field_written_twice_is_named(log: Path) -> None:
    # JSON keeps the last of two same-named fields, so a line given a first "ids" of the
    # attacker's choosing parses to the sealed record, while a reader who greps the log for
    # P9 finds a read of P9 that never happened.
    lines = _lines(log)
    line = lines[2]
    assert '"ids":' in line
    lines[2] = '{"ids":["P9"],' + line[1:]
    log.write_text("".join(lines))
    _fails(verify(log, KEY), "line 3 is not as relgraph wrote it")
    assert verify(log, KEY).bad_line == 3
