"""The anchor's two slots: moved in place, a torn move recovered, damage by hand named.

The anchor file holds two sealed slots written alternately in place; these tests play the
stop that tears a move, the attacker who damages a slot to roll the anchor back, and the
anchor written by a release from before the slots.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from relgraph.api.audit import AuditError, AuditLog, Verdict, verify
from relgraph.api.audit_anchor import FILE_BYTES, SLOT_BYTES, read_anchor_file
from tests.api.audit_logs import KEY, _anchor


def _slots(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    return [raw[:SLOT_BYTES], raw[SLOT_BYTES:]]


def _gen(slot: bytes) -> int:
    return int(json.loads(slot.partition(b"\n")[0])["gen"])


def _append(log: Path, operation: str) -> None:
    AuditLog(log, KEY).append(key_id="k_1", role="risk", operation=operation, ids=["P9"])


def _tear_last_move(log: Path, keep: int = 90) -> None:
    """Make the anchor what a stop in the middle of its last move leaves: the slot being
    written holds the start of the new anchor and the rest of the one it replaced."""
    before = _slots(_anchor(log))
    _append(log, "torn")
    after = _slots(_anchor(log))
    index = 0 if _gen(after[0]) > _gen(after[1]) else 1
    after[index] = after[index][:keep] + before[index][keep:]
    _anchor(log).write_bytes(b"".join(after))


def test_the_anchor_moves_in_place_between_two_slots(log: Path) -> None:
    anchor = _anchor(log)
    inode = anchor.stat().st_ino
    gens = sorted(_gen(slot) for slot in _slots(anchor))
    _append(log, "next")
    assert anchor.stat().st_ino == inode  # no temporary file renamed over it
    assert anchor.stat().st_size == FILE_BYTES
    assert sorted(_gen(slot) for slot in _slots(anchor)) == [gens[1], gens[1] + 1]
    assert read_anchor_file(anchor, KEY).anchor.lines == 6
    assert [p.name for p in log.parent.iterdir() if p.name.startswith(".")] == []


def test_a_move_torn_by_a_stop_is_recovered_at_the_next_start(log: Path) -> None:
    _tear_last_move(log)
    found = read_anchor_file(_anchor(log), KEY)
    assert found.anchor.lines == 5  # the other slot: the anchor before the torn move
    assert found.damaged is not None
    assert "is unusable" in found.damaged
    verdict = verify(log, KEY)
    assert verdict.ok, verdict.message
    assert verdict.lines == 6
    assert "after the anchor's 5" in verdict.message
    assert "torn by the stop" in verdict.message
    _append(log, "after")  # opening anchors the sealed line over the torn slot
    assert read_anchor_file(_anchor(log), KEY).damaged is None
    assert verify(log, KEY) == Verdict(True, 7, "7 lines, chain intact, matching the anchor")


def test_a_damaged_slot_with_the_lines_it_named_cut_off_fails(log: Path) -> None:
    """The attacker cuts the last line and damages the slot that named it, so the other
    slot matches the shorter log: a torn move cannot leave that (its lines come first)."""
    size = log.stat().st_size
    _tear_last_move(log)
    with log.open("r+b") as handle:
        handle.truncate(size)  # the line the torn move was naming, cut off
    verdict = verify(log, KEY)
    assert not verdict.ok
    assert str(_anchor(log)) in verdict.message
    assert "slot" in verdict.message
    assert "damaged by hand" in verdict.message
    with pytest.raises(AuditError, match="damaged by hand") as refused:
        AuditLog(log, KEY)
    assert str(_anchor(log)) in str(refused.value)
    assert "move both aside" in str(refused.value)


@pytest.mark.parametrize("damage", ["zeros", "torn_both"])
def test_both_slots_damaged_is_a_clear_error(log: Path, damage: str) -> None:
    anchor = _anchor(log)
    if damage == "zeros":
        anchor.write_bytes(b"\0" * FILE_BYTES)
    else:
        slots = _slots(anchor)
        anchor.write_bytes(b"".join(slot[:60] + b"\0" * (SLOT_BYTES - 60) for slot in slots))
    with pytest.raises(AuditError) as refused:
        AuditLog(log, KEY)
    message = str(refused.value)
    assert str(anchor) in message
    assert "both slots" in message
    assert "run `relgraph audit verify`" in message
    assert "keep the log and anchor as evidence" in message
    verdict = verify(log, KEY)
    assert not verdict.ok
    assert "not a relgraph audit anchor" in verdict.message
    assert str(anchor) in verdict.message


def test_one_slot_forged_and_the_other_torn_names_both(log: Path) -> None:
    anchor = _anchor(log)
    slots = _slots(anchor)
    record = json.loads(slots[0].partition(b"\n")[0])
    record["lines"] += 100  # a claim the seal does not cover
    forged = (json.dumps(record, separators=(",", ":")) + "\n").encode().ljust(SLOT_BYTES, b"\0")
    anchor.write_bytes(forged + slots[1][:40] + b"\0" * (SLOT_BYTES - 40))
    with pytest.raises(AuditError, match="neither slot") as refused:
        AuditLog(log, KEY)
    assert "slot 1 was forged or altered" in str(refused.value)
    assert "slot 2 is not a sealed anchor" in str(refused.value)


def test_an_anchor_from_before_the_slots_is_read_and_rewritten(tmp_path: Path) -> None:
    """What the release before wrote: one sealed object, replaced by rename on each move."""
    audit = AuditLog(tmp_path / "audit.log", KEY)
    for i in range(3):
        audit.append(key_id="k_1", role="risk", operation=f"op{i}", ids=[f"P{i}"], outcome="ok")
    current = read_anchor_file(audit.anchor_path, KEY).anchor
    fields = {
        "v": 1,
        "key_id": KEY.key_id,
        "lines": current.lines,
        "head": current.head,
        "size": current.size,
        "last_offset": current.last_offset,
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    sealed = {**fields, "mac": KEY.mac(b"relgraph-audit-anchor", body)}
    audit.anchor_path.write_text(json.dumps(sealed, sort_keys=True) + "\n")

    found = read_anchor_file(audit.anchor_path, KEY)
    assert found.legacy
    assert found.anchor.lines == 3
    assert verify(audit.path, KEY) == Verdict(True, 3, "3 lines, chain intact, matching the anchor")
    AuditLog(audit.path, KEY).append(key_id="k_1", role="risk", operation="op3", ids=["P3"])
    assert audit.anchor_path.stat().st_size == FILE_BYTES
    assert not read_anchor_file(audit.anchor_path, KEY).legacy
    assert verify(audit.path, KEY) == Verdict(True, 4, "4 lines, chain intact, matching the anchor")


def test_a_forged_legacy_anchor_still_fails(log: Path) -> None:
    fields = {"v": 1, "key_id": KEY.key_id, "lines": 2, "head": "0" * 64, "size": 1,
              "last_offset": 0}  # fmt: skip
    _anchor(log).write_text(json.dumps({**fields, "mac": "f" * 64}) + "\n")
    with pytest.raises(AuditError, match="forged or altered"):
        AuditLog(log, KEY)


def test_two_writers_moving_the_anchor_within_one_clock_tick_keep_one_chain(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-place moves can leave the anchor's times unchanged (file times tick every few
    milliseconds on kernels without fine-grained times), so each writer sees the other's
    lines by the log's size, not by the anchor's times."""
    import relgraph.api.audit as audit_module

    def coarse(st: os.stat_result) -> tuple[int, int, int, int, int]:
        return (st.st_dev, st.st_ino, st.st_size, 0, 0)  # every move in the same tick

    monkeypatch.setattr(audit_module, "_file_id", coarse)
    server, other = AuditLog(log, KEY), AuditLog(log, KEY)
    for i in range(20):
        server.append(key_id="k_1", role="risk", operation=f"s{i}", ids=["P1"], outcome="ok")
        other.append(key_id="cli", role="operator", operation=f"o{i}", ids=[])
    verdict = verify(log, KEY)
    assert verdict == Verdict(True, 45, "45 lines, chain intact, matching the anchor")
    seqs = [json.loads(line)["seq"] for line in log.read_text().splitlines()]
    assert seqs == list(range(1, 46))


def test_the_anchor_file_is_not_left_readable_by_others(log: Path) -> None:
    assert os.stat(_anchor(log)).st_mode & 0o077 == 0


def test_a_slot_damaged_under_a_running_server_stops_its_appends(log: Path) -> None:
    """Damaging the newer slot rolls the anchor back to the older one: the server that
    wrote the newer one refuses to go on from it."""
    server = AuditLog(log, KEY)
    server.append(key_id="k_1", role="risk", operation="read", ids=["P7"], outcome="ok")
    anchor = _anchor(log)
    slots = _slots(anchor)
    index = 0 if _gen(slots[0]) > _gen(slots[1]) else 1
    slots[index] = b"\0" * SLOT_BYTES
    with anchor.open("r+b") as handle:  # in place, as a move would be
        handle.write(b"".join(slots))
    with pytest.raises(AuditError, match="went back from 6 to 5 lines"):
        server.append(key_id="k_1", role="risk", operation="next", ids=["P1"], outcome="ok")


def test_a_move_lost_with_the_machine_is_re_anchored_at_the_next_start(
    log: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer leaves once its line is flushed and the slot written; the slot's own
    flush follows. A machine that dies in between loses the slot's write: the slot holds
    what it held before, the other slot names the lines before the new one."""
    before = _slots(_anchor(log))
    _append(log, "answered")
    with _anchor(log).open("r+b") as handle:  # the write never reached the device
        handle.write(b"".join(before))
    assert read_anchor_file(_anchor(log), KEY).anchor.lines == 5
    with caplog.at_level("WARNING", logger="relgraph.api"):
        _append(log, "after")
    assert "anchored 1 line(s) written just before a stop" in caplog.text
    assert verify(log, KEY) == Verdict(True, 7, "7 lines, chain intact, matching the anchor")


class _HeldFlush:
    """Holds the anchor's flush (a slow device) until ``release``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import relgraph.api.audit as audit_module
        import relgraph.api.audit_anchor as audit_anchor

        self.reached = threading.Event()
        self.gate = threading.Event()
        real = audit_anchor.sync_anchor

        def held(path: Path) -> None:
            self.reached.set()
            self.gate.wait(10)
            real(path)

        monkeypatch.setattr(audit_module, "sync_anchor", held)


def test_a_line_is_answered_before_the_anchor_is_flushed_and_the_next_waits(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldFlush(monkeypatch)
    server = AuditLog(log, KEY)
    server.submit(key_id="k_1", role="risk", operation="first", ids=["P1"]).wait()
    assert held.reached.wait(5)  # the writer flushes the slot after waking the waiter
    assert read_anchor_file(_anchor(log), KEY).anchor.lines == 6  # every reader sees it
    second = server.submit(key_id="k_1", role="risk", operation="second", ids=["P2"])
    time.sleep(0.2)
    assert not second.done
    assert len(log.read_bytes().splitlines()) == 6  # not written before the flush ends
    held.gate.set()
    second.wait()
    server.flush()
    assert verify(log, KEY) == Verdict(True, 7, "7 lines, chain intact, matching the anchor")


def test_an_anchor_that_cannot_be_flushed_fails_the_next_line(
    log: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import relgraph.api.audit as audit_module

    def failing(path: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(audit_module, "sync_anchor", failing)
    server = AuditLog(log, KEY)
    with caplog.at_level("ERROR", logger="relgraph.api"):
        server.submit(key_id="k_1", role="risk", operation="first", ids=["P1"]).wait()
        with pytest.raises(AuditError, match=r"cannot flush the audit anchor .*Input/output"):
            server.submit(key_id="k_1", role="risk", operation="second", ids=["P2"]).wait()
    assert "settling the batch failed" in caplog.text
    assert len(log.read_bytes().splitlines()) == 6  # the second line was never written
    monkeypatch.undo()
    server.append(key_id="k_1", role="risk", operation="third", ids=["P3"])
    assert verify(log, KEY) == Verdict(True, 7, "7 lines, chain intact, matching the anchor")


def test_an_anchor_setting_naming_a_folder_is_named_as_the_anchor(log: Path) -> None:
    # RELGRAPH_AUDIT_ANCHOR=/srv/anchors (the folder, not the file): verify died in a
    # traceback (IsADirectoryError), and serve blamed "the audit log d1/audit.log".
    folder = log.parent / "anchors"
    folder.mkdir()
    verdict = verify(log, KEY, folder)
    assert not verdict.ok
    assert verdict.message.endswith(
        f"the audit anchor {folder} is a folder: give RELGRAPH_AUDIT_ANCHOR (or --anchor) the "
        "anchor file's path"
    )
    with pytest.raises(AuditError) as refused:
        AuditLog(log, KEY, folder)
    assert str(refused.value).startswith(
        f"the audit anchor {folder} is a folder: give RELGRAPH_AUDIT_ANCHOR (or --anchor) "
    )


def test_an_anchor_under_a_missing_mount_is_named_as_the_anchor(log: Path) -> None:
    anchor = log.parent / "a-file" / "audit.anchor"
    (log.parent / "a-file").write_text("not a folder")
    with pytest.raises(AuditError) as refused:
        AuditLog(log, KEY, anchor)
    assert str(refused.value).startswith(
        f"cannot open the audit anchor {anchor} (RELGRAPH_AUDIT_ANCHOR): "
    )
