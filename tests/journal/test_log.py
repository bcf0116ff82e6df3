"""The journal keeps every acknowledged entry, in order, across writers, torn writes and kills."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from relgraph.journal import (
    CHAIN_REVIEW,
    META_DIGEST,
    META_SEQ,
    TRANSFER,
    Journal,
    JournalError,
    behind,
    behind_and_head,
    digest,
    head,
    log,
    read,
)
from relgraph.journal.log import journal_dir


def test_entries_come_back_in_order_with_who_and_what(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    first = j.append(
        CHAIN_REVIEW, [{"chain": "c1", "status": "ESCALATED", "note": "见附件"}], by="k1"
    )
    j.append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}], by="k2")
    assert [e.seq for e in first] == [1]
    entries = list(read(tmp_path))
    assert [(e.seq, e.kind, e.by) for e in entries] == [
        (1, CHAIN_REVIEW, "k1"),
        (2, TRANSFER, "k2"),
        (3, TRANSFER, "k2"),
    ]
    assert entries[0].data["note"] == "见附件"
    assert entries[0].at.endswith("+00:00")
    assert [e.data["tx_id"] for e in read(tmp_path, kinds=[TRANSFER])] == ["t1", "t2"]


def test_two_writers_on_one_directory_never_reuse_a_seq(tmp_path: Path) -> None:
    server, cli = Journal(tmp_path), Journal(tmp_path)
    for i in range(5):
        server.append(TRANSFER, [{"i": i}], by="server")
        cli.append(CHAIN_REVIEW, [{"i": i}], by="cli")
    assert [e.seq for e in read(tmp_path)] == list(range(1, 11))


def test_after_another_writer_an_append_reads_only_what_that_one_wrote(
    tmp_path: Path, lines_read: list[bytes]
) -> None:
    # The live index's writer beside a review's: re-reading its own 500 entries held the
    # journal's lock 1.8 s a batch at 100,000.
    server, reviews = Journal(tmp_path), Journal(tmp_path)
    server.append(TRANSFER, [{"tx_id": f"t{i}"} for i in range(500)], by="server")
    reviews.append(CHAIN_REVIEW, [{"chain": "c1"}, {"chain": "c2"}], by="risk")
    lines_read.clear()
    server.append(TRANSFER, [{"tx_id": "t500"}], by="server")
    assert len(lines_read) <= 3  # its own last line (still there?) and the two reviews
    assert [e.seq for e in read(tmp_path)] == list(range(1, 504))


def test_a_writer_whose_entries_were_replaced_reads_the_segment_again(tmp_path: Path) -> None:
    server, other = Journal(tmp_path), Journal(tmp_path)
    server.append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}, {"tx_id": "t3"}], by="server")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().split(b"\n")[0] + b"\n")  # an older copy
    other.append(CHAIN_REVIEW, [{"chain": "c1"}], by="risk")
    server.append(TRANSFER, [{"tx_id": "t4"}], by="server")
    assert [(e.seq, e.kind) for e in read(tmp_path)] == [
        (1, TRANSFER), (2, CHAIN_REVIEW), (3, TRANSFER)
    ]  # fmt: skip


def test_another_writers_torn_line_is_cut_after_what_this_one_wrote(tmp_path: Path) -> None:
    server = Journal(tmp_path)
    server.append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}], by="server")
    Journal(tmp_path).append(CHAIN_REVIEW, [{"chain": "c1"}], by="risk")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    whole = segment.stat().st_size
    with segment.open("ab") as handle:
        handle.write(b'{"at":"2026-12-06T10:00:00+00:00","by":"cli:x"')  # killed mid-write
    server.append(TRANSFER, [{"tx_id": "t3"}], by="server")
    assert [e.seq for e in read(tmp_path)] == [1, 2, 3, 4]
    assert [p.name for p in journal_dir(tmp_path).glob("*.cut-*")] == [f"000001.jsonl.cut-{whole}"]


def test_damage_in_another_writers_lines_is_named_by_its_line(tmp_path: Path) -> None:
    server = Journal(tmp_path)
    server.append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}], by="server")
    Journal(tmp_path).append(CHAIN_REVIEW, [{"chain": "c1"}, {"chain": "c2"}], by="risk")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b'"c1"', b'"cX"'))
    with pytest.raises(JournalError, match=r"000001\.jsonl: line 3 is damaged"):
        server.append(TRANSFER, [{"tx_id": "t3"}], by="server")


def test_append_is_fsynced_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t1"}], by="k")
    assert len(synced) >= 2  # the segment, then the directory that names the new segment


def test_a_torn_last_line_is_skipped_and_cut_by_the_next_writer(tmp_path: Path) -> None:
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t1"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b'{"seq":2,"kind":"transfer","at":"2026')  # killed mid-write
    assert [e.seq for e in read(tmp_path)] == [1]
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t2"}], by="k")
    assert [(e.seq, e.data["tx_id"]) for e in read(tmp_path)] == [(1, "t1"), (2, "t2")]


def test_a_damaged_line_before_the_end_is_an_error_naming_it(tmp_path: Path) -> None:
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b'"t1"', b'"tX"'))  # edited by hand
    with pytest.raises(JournalError, match=r"000001\.jsonl: line 1 is damaged"):
        list(read(tmp_path))


@pytest.mark.parametrize(
    ("written", "edited"),
    [(b'"by":"k"', b'"by":"x"'), (b'"seq":2', b'"seq":3'), (b'"kind":"transfer"', b'"kind":"chain"'),
     ("张三".encode(), "李四".encode()), (b'"at":"20', b'"at":"19')],
    ids=["by", "seq", "kind", "hanzi", "at"],
)  # fmt: skip
def test_an_edit_anywhere_in_a_line_is_damage(
    tmp_path: Path, written: bytes, edited: bytes
) -> None:
    # Lines are checked as written, without parsing and encoding them again: every member,
    # before the crc and after it, must still be covered.
    j = Journal(tmp_path)
    j.append(TRANSFER, [{"tx_id": "t1", "payee": "张三"}, {"tx_id": "t2"}], by="k")
    j.append(TRANSFER, [{"tx_id": "t3"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    lines = segment.read_bytes().split(b"\n")
    target = next(i for i, line in enumerate(lines) if written in line)
    lines[target] = lines[target].replace(written, edited, 1)
    segment.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match=rf"000001\.jsonl: line {target + 1} is damaged"):
        list(read(tmp_path))


def test_a_line_in_another_form_with_the_right_crc_is_read(tmp_path: Path) -> None:
    # Another writer's spacing and key order (the CRC is over the sorted, compact form):
    # the quick check as written fails, the full one reads it.
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t1", "payee": "张三"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    line = json.loads(segment.read_bytes())
    segment.write_bytes(json.dumps(dict(reversed(line.items())), indent=None).encode() + b"\n")
    assert [(e.seq, e.data["payee"]) for e in read(tmp_path)] == [(1, "张三")]


def test_lines_as_the_writer_wrote_them_are_not_encoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = Journal(tmp_path)
    j.append(TRANSFER, [{"tx_id": f"t{i}", "payee": "张三"} for i in range(50)], by="键-1")
    encoded: list[object] = []
    monkeypatch.setattr(log, "_crc", lambda body: encoded.append(body) or "")
    assert [e.data["tx_id"] for e in read(tmp_path)] == [f"t{i}" for i in range(50)]
    assert encoded == []  # half of a read's time, when it was done for every line


def test_a_read_of_some_kinds_parses_no_line_of_another_and_still_finds_damage_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A load reads the journal once per kind it merges, and most lines are transfers: the
    # accounts' and decisions' reads check them but need not parse them (most of a read).
    j = Journal(tmp_path)
    j.append(TRANSFER, [{"tx_id": f"t{i}", "payee": "张三"} for i in range(20)], by="k")
    j.append(CHAIN_REVIEW, [{"chain": "c1", "status": "ESCALATED"}], by="k")
    j.append(TRANSFER, [{"tx_id": "t20", "note": ',"kind":"chain_review","seq":21}'}], by="k")
    whole = list(read(tmp_path))
    parsed: list[bytes] = []
    checked = log._checked
    monkeypatch.setattr(log, "_checked", lambda line: parsed.append(line) or checked(line))
    assert list(read(tmp_path, [CHAIN_REVIEW])) == [e for e in whole if e.kind == CHAIN_REVIEW]
    assert len(parsed) == 1
    assert list(read(tmp_path, [TRANSFER])) == [e for e in whole if e.kind == TRANSFER]
    assert len(parsed) == 1 + 21
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    segment.write_bytes(segment.read_bytes().replace(b'"t3"', b'"tX"'))  # edited by hand
    with pytest.raises(JournalError, match=r"000001\.jsonl: line 4 is damaged"):
        list(read(tmp_path, [CHAIN_REVIEW]))


def _digest_as_defined(lines: list[dict[str, object]]) -> str:
    """The digest's definition (sha-256 over each entry's seq, kind and data, sorted and
    compact, one per line), written out here rather than taken from the module."""
    h = hashlib.sha256()
    for line in lines:
        body = {k: line[k] for k in ("seq", "kind", "data")}
        h.update(
            json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        )
        h.update(b"\n")
    return h.hexdigest()


def test_the_digest_is_its_definition_however_a_line_was_written(tmp_path: Path) -> None:
    # Lines as the writer wrote them are hashed from their bytes, others encoded again: both
    # must give what the digest has always been (stores record it; a change refuses them).
    j = Journal(tmp_path, segment_bytes=400)
    j.append(TRANSFER, [{"tx_id": "t1", "payee": "张三", "amount": 0.1 + 0.2}], by="键-1")
    j.append(CHAIN_REVIEW, [{"chain": "c1", "note": {"b": [1, "二"], "a": None}}], by="cli:x")
    for i in range(2, 9):  # a segment closes between appends
        j.append(TRANSFER, [{"tx_id": f"t{i}", "amount": 1e21 * i}], by="k")
    segments = sorted(journal_dir(tmp_path).glob("*.jsonl"))
    assert len(segments) > 1
    # One line in another writer's form, and one with a member the writer never writes.
    first = [json.loads(line) for line in segments[0].read_bytes().splitlines()]
    other = dict(reversed(first[0].items()))
    extra = {k: v for k, v in first[1].items() if k != "crc"} | {"note": "后来的"}
    extra["crc"] = f"{zlib.crc32(log._encode(extra)) & 0xFFFFFFFF:08x}"
    rewritten = [json.dumps(other).encode(), log._encode(extra)] + [
        log._encode(x) for x in first[2:]
    ]
    segments[0].write_bytes(b"\n".join(rewritten) + b"\n")
    lines = [json.loads(line) for s in segments for line in s.read_bytes().splitlines()]
    assert [e.seq for e in read(tmp_path)] == list(range(1, 10))
    assert digest(tmp_path) == _digest_as_defined(lines)
    assert digest(tmp_path, upto=4) == _digest_as_defined(lines[:4])


@pytest.mark.parametrize("merged", [None, 3, 5, 9])
def test_behind_and_head_in_one_read_answer_as_each_does(
    tmp_path: Path, merged: int | None
) -> None:
    j = Journal(tmp_path)
    for i in range(5):
        j.append(TRANSFER, [{"tx_id": f"t{i}"}], by="k")
    states = [{}] if merged is None else [
        {META_SEQ: str(merged), META_DIGEST: digest(tmp_path, merged)},  # the store's own
        {META_SEQ: str(merged), META_DIGEST: "0" * 64},  # other entries up to it
    ]  # fmt: skip
    for meta in states:
        both = behind_and_head(tmp_path, meta)
        assert both == (behind(tmp_path, meta), head(tmp_path))
    if merged is not None and merged <= 5:
        assert behind_and_head(tmp_path, states[0])[0] is None
        assert "holds other entries" in str(behind_and_head(tmp_path, states[1])[0])
    if merged == 9:  # restored from an older backup
        assert "holds entries up to seq 5 only" in str(behind_and_head(tmp_path, states[0])[0])


def test_segments_roll_over_and_seq_continues(tmp_path: Path) -> None:
    j = Journal(tmp_path, segment_bytes=300)
    for i in range(12):
        j.append(TRANSFER, [{"tx_id": f"t{i}"}], by="k")
    assert len(list(journal_dir(tmp_path).glob("*.jsonl"))) > 2
    assert [e.seq for e in read(tmp_path)] == list(range(1, 13))
    Journal(tmp_path, segment_bytes=300).append(TRANSFER, [{"tx_id": "last"}], by="k")
    assert [e.seq for e in read(tmp_path)][-1] == 13


def test_the_digest_changes_with_every_entry_and_ignores_an_empty_journal(tmp_path: Path) -> None:
    empty = digest(tmp_path)
    journal_dir(tmp_path).mkdir()
    assert digest(tmp_path) == empty
    Journal(tmp_path).append(CHAIN_REVIEW, [{"chain": "c1"}], by="k")
    one = digest(tmp_path)
    Journal(tmp_path).append(CHAIN_REVIEW, [{"chain": "c1"}], by="k")
    assert len({empty, one, digest(tmp_path)}) == 3


_WRITER = """
import sys
from pathlib import Path
from relgraph.journal import Journal
j = Journal(Path(sys.argv[1]))
i = 0
while True:
    j.append("transfer", [{"tx_id": f"t{i}-{k}", "pad": "x" * 200} for k in range(50)], by="k")
    print(i, flush=True)  # acknowledged: the batch is durable
    i += 1
"""


def test_kill_9_mid_stream_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 30
    while acknowledged < 20 and time.monotonic() < deadline:
        acknowledged = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    entries = list(read(tmp_path))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert {f"t{acknowledged}-49"} <= {e.data["tx_id"] for e in entries}
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "after"}], by="k")  # and it writes on
    assert list(read(tmp_path))[-1].seq == len(entries) + 1


_LIMITED = """
import resource, sys
from pathlib import Path
from relgraph.journal import Journal, JournalError
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # a disk that fills up
j = Journal(Path(sys.argv[1]))
for i in range(40):
    try:
        j.append("transfer", [{"tx_id": f"t{i}-{k}", "pad": "x" * 100} for k in range(10)], by="k")
        print("ok", i, flush=True)
    except JournalError:
        print("refused", i, flush=True)
"""


def test_a_full_disk_refuses_the_batch_and_keeps_nothing_of_it(tmp_path: Path) -> None:
    # os.write wrote what fit and said so; the rest was dropped, the batch acknowledged,
    # and the next writer cut the torn line: 140 of 150 acknowledged transfers were lost.
    out = subprocess.run([sys.executable, "-c", _LIMITED, str(tmp_path), "20000"],
                         capture_output=True, text=True, check=True).stdout.split("\n")  # fmt: skip
    acknowledged = {int(line.split()[1]) for line in out if line.startswith("ok")}
    refused = {int(line.split()[1]) for line in out if line.startswith("refused")}
    assert acknowledged
    assert refused
    journalled = [e.data["tx_id"] for e in read(tmp_path)]
    # Every acknowledged batch whole, nothing of a refused one.
    assert journalled == [f"t{i}-{k}" for i in sorted(acknowledged) for k in range(10)]
    assert [e.seq for e in read(tmp_path)] == list(range(1, len(journalled) + 1))
    assert not list(journal_dir(tmp_path).glob("*.cut-*"))  # no torn tail was left to cut


def test_a_damaged_last_line_is_cut_but_kept_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t1"}, {"tx_id": "t2"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    lines = segment.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"t2"', b'"t3"')  # one changed character: the crc fails
    segment.write_bytes(b"\n".join(lines))
    assert [e.data["tx_id"] for e in read(tmp_path)] == ["t1"]
    Journal(tmp_path).append(TRANSFER, [{"tx_id": "t4"}], by="k")
    assert [e.data["tx_id"] for e in read(tmp_path)] == ["t1", "t4"]
    (kept,) = journal_dir(tmp_path).glob("*.cut-*")
    assert b'"t3"' in kept.read_bytes()
    assert any(str(kept) in r.getMessage() and "restore" in r.getMessage() for r in caplog.records)


def test_a_new_writer_reads_the_segment_from_its_end(
    tmp_path: Path, lines_read: list[bytes]
) -> None:
    # A refresh's new live index (a new writer) read the whole segment before its first
    # batch: 1.8 s with the journal locked at 100,000 entries.
    Journal(tmp_path).append(TRANSFER, [{"tx_id": f"t{i}"} for i in range(500)], by="server")
    lines_read.clear()
    (entry,) = Journal(tmp_path).append(TRANSFER, [{"tx_id": "t500"}], by="server")
    assert (entry.seq, len(lines_read)) == (501, 1)


def _lines(tmp_path: Path) -> tuple[Path, list[bytes]]:
    Journal(tmp_path).append(TRANSFER, [{"tx_id": f"t{i}"} for i in range(1, 5)], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    return segment, segment.read_bytes().split(b"\n")  # four lines and b""


@pytest.mark.parametrize(
    ("damage", "named"),
    [({2: b"x", 3: b"x"}, 3), ({3: b"x", 4: b'{"at":"20'}, 4)],
    ids=["the two newest lines", "the newest whole line, then a torn one"],
)
def test_a_new_writer_refuses_damage_before_the_newest_line(
    tmp_path: Path, damage: dict[int, bytes], named: int
) -> None:
    segment, lines = _lines(tmp_path)
    for at, text in damage.items():
        lines[at] = text
    segment.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match=rf"000001\.jsonl: line {named} is damaged"):
        Journal(tmp_path).append(TRANSFER, [{"tx_id": "t5"}], by="k")


def test_a_new_writer_goes_on_from_the_segment_before_an_empty_newest(tmp_path: Path) -> None:
    _lines(tmp_path)
    (journal_dir(tmp_path) / "000002.jsonl").touch()  # made, then its first write refused
    (entry,) = Journal(tmp_path).append(TRANSFER, [{"tx_id": "t5"}], by="k")
    assert entry.seq == 5
    assert [e.seq for e in read(tmp_path)] == [1, 2, 3, 4, 5]


def test_a_torn_segment_before_the_newest_is_refused(tmp_path: Path) -> None:
    segment, lines = _lines(tmp_path)
    segment.write_bytes(b"\n".join(lines) + b'{"at":"20')
    (journal_dir(tmp_path) / "000002.jsonl").touch()
    with pytest.raises(JournalError, match="ends in a torn line but is not the newest"):
        Journal(tmp_path).append(TRANSFER, [{"tx_id": "t5"}], by="k")
