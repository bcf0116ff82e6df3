"""A command whose reader went away: ``relgraph audit tried … | head`` is not a fault.

When the program reading relgraph's output exits early (``head``, ``less`` quit, a closed
SSH pipe), the next write raises :class:`BrokenPipeError`. That is the user's choice, so the
command stops quietly with the shell's status for it, 141 (128 + SIGPIPE), as ``git`` and
coreutils do. It is neither 1 (a finding, which a script reads as "the log changed") nor 70
(a fault in relgraph with a traceback).

A broken pipe on a socket (a Neo4j server or relgraph server that closed the connection) is
a different thing: the check below asks whether stdout or stderr itself has no reader, and
only then is the error the reader's doing.

rich, which writes every line, handles the error itself: it points stdout at ``/dev/null``
and raises ``SystemExit(1)``. relgraph's consoles (:class:`ReaderConsole`) raise the error
instead, so it comes here; typer's help console is rich's own, so its exit is recognised by
stdout having become ``/dev/null`` while the command ran.
"""

from __future__ import annotations

import errno
import os
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import typer
from rich.console import Console

READER_GONE = 141
"""Exit status when stdout or stderr lost its reader: 128 + SIGPIPE, the shell's own."""


def _fd(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # an in-memory stream (tests' CliRunner): it has no reader to lose


def _has_no_reader(fd: int) -> bool:
    # poll() reports POLLERR on a pipe's write end once its read end is closed, without
    # writing anything; a file or a terminal never reports it.
    poller = select.poll()
    poller.register(fd, 0)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def lost_reader() -> list[TextIO]:
    """The standard output streams whose pipe has no reader any more."""
    lost = []
    for stream in (sys.stdout, sys.stderr):
        fd = _fd(stream)
        if fd is not None and _has_no_reader(fd):
            lost.append(stream)
    return lost


class ReaderConsole(Console):
    """A rich console that leaves a lost reader to :func:`reader_may_leave` (rich's own would
    exit 1, relgraph's status for a finding)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to write, whatever cleanup still says
        raise BrokenPipeError(errno.EPIPE, "the reader of relgraph's output has gone")


def _is_devnull(fd: int) -> bool:
    try:
        here, null = os.fstat(fd), os.stat(os.devnull)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (null.st_dev, null.st_ino)


@contextmanager
def reader_may_leave() -> Iterator[None]:
    """Run a command; if it fails because its output's reader left, exit 141 quietly.

    The lost streams are pointed at ``/dev/null`` first, so the interpreter's flush at exit
    does not raise the same error again (Python's documented recipe for SIGPIPE)."""
    out = _fd(sys.stdout)
    was_devnull = out is not None and _is_devnull(out)
    try:
        yield
    except SystemExit as exc:
        if exc.code == 1 and out is not None and not was_devnull and _is_devnull(out):
            raise typer.Exit(READER_GONE) from None  # rich's console lost its reader
        raise
    except BrokenPipeError:
        lost = lost_reader()
        if not lost:
            raise  # a socket's, not the reader's: the caller reports it as what it is
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in lost:
            fd = _fd(stream)
            if fd is not None:
                os.dup2(devnull, fd)
        os.close(devnull)
        raise typer.Exit(READER_GONE) from None
