"""Finishing a load that was killed between its store commit and its report.

A load commits the store in one transaction, then swaps its staged quarantine folder in,
publishes the person id map and writes ``load-report.json``. Killed in between, the store
holds the new load while the report and quarantine still describe the last one (and the
staged folder is left behind). So before the commit a load writes a *pending* record,
``.load-pending-<pid>.json``, naming the fingerprint and everything staged; the next load
finds records whose process is gone and, when the store's fingerprint says the commit
happened, finishes the steps (roll forward), else discards what was staged (the store
still holds the last good load). Staging folders of dead loads without a record are removed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from relgraph.ingest import person_ids, quarantine
from relgraph.ingest.durable import write_text_durably
from relgraph.ingest.refusal import clear_rejected
from relgraph.ingest.report import LoadReport

PENDING_PREFIX: Final = ".load-pending-"


class UnfinishedLoadError(RuntimeError):
    """The store committed a load, but the steps after it (quarantine, id map, report)
    could not be written; the pending record stays for the next load to finish them."""


@dataclass(frozen=True)
class Pending:
    """What a load staged, written before its store commit."""

    report: LoadReport
    staging: Path
    staged_map: Path | None
    map_stamp: str
    process: str | None = None
    """The writing process as :func:`_process` names it (None: written before 2026-12-05)."""

    @staticmethod
    def path(data_dir: Path) -> Path:
        """Where this process's record goes."""
        return data_dir / f"{PENDING_PREFIX}{os.getpid()}.json"

    def write(self, data_dir: Path) -> Path:
        """Write the record durably (temp file, fsync, rename); return its path."""
        path = self.path(data_dir)
        body: dict[str, Any] = {
            "report": self.report.to_dict(),
            "staging": self.staging.name,
            "staged_map": None if self.staged_map is None else self.staged_map.name,
            "map_stamp": self.map_stamp,
            "process": _process(os.getpid()),
        }
        # A full disk fails the write: the load stops before its commit, no temp file left.
        write_text_durably(path, json.dumps(body, ensure_ascii=False), path.with_suffix(".tmp"))
        return path

    def finish(self, data_dir: Path, *, resumed: bool = False) -> LoadReport:
        """The steps after the commit; the report as saved.

        ``resumed``: a dead load's, whose staged folder, when gone, was already swapped in.

        Raises :class:`UnfinishedLoadError` when a write fails (a full disk): the record
        stays, so the next load finishes these steps.
        """
        try:
            if not resumed or self.staging.exists():
                quarantine.swap_in(self.staging, data_dir)
            id_map = None
            if self.staged_map is not None and self.staged_map.exists():
                id_map = person_ids.publish_id_map(self.staged_map, self.map_stamp)
            report = self.report
            if id_map is not None:
                changed = sum(1 for _ in id_map.open(encoding="utf-8")) - 1  # less the header
                report = LoadReport.from_dict(
                    {**report.to_dict(), "person_id_map": str(id_map),
                     "person_ids_changed": changed}
                )  # fmt: skip
            report.save(data_dir)
        except OSError as exc:
            raise UnfinishedLoadError(
                f"the store holds the load of {self.report.source}, but its quarantine and "
                f"report could not be written in {data_dir}: {exc.strerror or exc}; free disk "
                "space there and run `relgraph load` again to finish them (nothing is loaded "
                "twice)"
            ) from exc
        clear_rejected(data_dir)
        return report


def _read(path: Path) -> Pending | None:
    try:
        body = json.loads(path.read_text("utf-8"))
        staged_map = body["staged_map"]
        return Pending(
            report=LoadReport.from_dict(body["report"]),
            staging=path.parent / body["staging"],
            staged_map=None if staged_map is None else path.parent / staged_map,
            map_stamp=str(body["map_stamp"]),
            process=body.get("process"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # torn before its rename: the commit never followed


def _pid_of(name: str, prefix: str) -> int | None:
    digits = name[len(prefix) :].split(".", 1)[0]
    return int(digits) if digits.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _process(pid: int) -> str | None:
    """The boot and start time of process ``pid``: a pid alone names another process after a
    reboot or in a restored disk snapshot. None where ``/proc`` does not say (not Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
        return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, starttime
    except (OSError, IndexError):
        return None


def _writer_alive(pid: int, pending: Pending | None) -> bool:
    """Whether the load that wrote ``pending`` still runs (not merely a process with its pid)."""
    if not _alive(pid):
        return False
    recorded, now = None if pending is None else pending.process, _process(pid)
    return recorded is None or now is None or recorded == now  # unreadable: assume it runs


def finish_interrupted(data_dir: Path, store_fingerprint: str | None) -> list[str]:
    """Finish or discard the loads in ``data_dir`` whose process died; what was done.

    Each returned line says which: ``finished`` (the store had committed: quarantine, id
    map and report now match it) or ``discarded`` (it had not: the last good state stands).
    """
    done: list[str] = []
    if not data_dir.is_dir():
        return done
    for path in sorted(data_dir.glob(f"{PENDING_PREFIX}*.json")):
        pid = _pid_of(path.name, PENDING_PREFIX)
        pending = _read(path)
        if pid is None or _writer_alive(pid, pending):
            continue
        if pending is not None and pending.report.fingerprint == store_fingerprint:
            pending.finish(data_dir, resumed=True)
            done.append(f"finished the load of {pending.report.source} stopped after its commit")
        elif pending is not None:
            shutil.rmtree(pending.staging, ignore_errors=True)
            if pending.staged_map is not None:
                pending.staged_map.unlink(missing_ok=True)
            done.append(f"discarded the load of {pending.report.source} stopped before its commit")
        path.unlink(missing_ok=True)
    # Staging left by loads that died before writing a record (or by a swap cut short).
    folder = quarantine.QUARANTINE_DIR
    for prefix in (f".{folder}-old-", f".{folder}-"):
        for stale in data_dir.glob(f"{prefix}*"):
            pid = _pid_of(stale.name, prefix)
            if pid is not None and not _alive(pid) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
    for tmp in data_dir.glob(f"{PENDING_PREFIX}*.tmp"):
        pid = _pid_of(tmp.name, PENDING_PREFIX)
        if pid is not None and not _alive(pid):
            tmp.unlink(missing_ok=True)
    return done
