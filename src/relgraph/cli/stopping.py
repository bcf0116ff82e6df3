"""Stopping a long command (Ctrl-C, SIGTERM from a scheduler or ``kill``, SIGHUP from a
closed terminal or SSH session, unless started under ``nohup``): one line saying
what the store now holds, the exit status of the signal, and the command's own cleanup run.

Without this, SIGTERM killed a load outright, leaving its staging folder behind and saying
nothing, and Ctrl-C inside a DuckDB query surfaced as a ``RuntimeError: Query interrupted``
traceback (DuckDB turns the interrupt into its own error) or as a silent exit 130.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType

import typer
from rich.markup import escape

from relgraph.cli.common import err_console, stop_signals

_NAMES = {
    signal.SIGINT: "Ctrl-C (SIGINT)",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP (its terminal closed)",
}


@contextmanager
def stoppable(command: str, kept: Callable[[], str]) -> Iterator[None]:
    """Run the body so that SIGINT, SIGTERM or SIGHUP (unless ignored) stops it as an
    exception (the body's ``finally`` and ``except`` blocks run: a rollback, staged files
    removed), then say
    ``<command> stopped by <signal>: <kept()>`` and exit 128 + the signal's number.

    Any error the body raises after a signal arrived is the signal's doing (DuckDB turns
    the interrupt into "Query interrupted"), not a fault to show as a traceback. Further
    signals are ignored until the body has cleaned up.
    """
    received = stop_signals

    def stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) == 1:
            raise KeyboardInterrupt

    received.clear()
    # A command started under `nohup` (SIGHUP ignored) was asked to outlive its terminal:
    # only a signal that would have killed it becomes a clean stop.
    watched = [sig for sig in _NAMES if signal.getsignal(sig) != signal.SIG_IGN]
    previous = {sig: signal.signal(sig, stop) for sig in watched}
    try:
        yield
    except BaseException:
        if not received:
            raise
        signum = received[0]
    else:
        return  # finished: a signal that came as it ended stopped nothing
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        received.clear()
    said = f"{command} stopped by {_NAMES[signal.Signals(signum)]}: {kept()}"
    # The terminal that closed (SIGHUP) takes the line with it; the exit status stays.
    with suppress(OSError):
        err_console.print(f"[bold red]stopped:[/] {escape(said)}", soft_wrap=True)
    raise typer.Exit(128 + signum)
