"""What ``relgraph COMMAND --help`` shows: every option's whole help text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from relgraph.cli import app

runner = CliRunner()


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    # Typer carries its own copy of click: a group is what has subcommands.
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


def _flat(text: str) -> str:
    """Text with rich's panel borders and line wrapping undone."""
    return " ".join(text.replace("│", " ").split())


COMMANDS = sorted(_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_shows_every_option_help_whole(path: tuple[str, ...]) -> None:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.output)
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            # A bracketed part ("[env RELGRAPH_DATA_DIR; default …]") was read as rich
            # markup and vanished, leaving "live ." where the default should be.
            assert _flat(text) in shown, f"{param.name}: {text!r} not in --help"


def test_data_dir_help_names_its_variable_and_default() -> None:
    result = runner.invoke(app, ["stats", "--help"], env={"COLUMNS": "200"})
    assert "(env RELGRAPH_DATA_DIR; default ./relgraph-data)" in _flat(result.output)


README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_the_readme_command_table_names_every_option(path: tuple[str, ...]) -> None:
    # The table is where an operator looks a flag up: demo's --data-dir and --port,
    # load's --retrain-linkage and audience's --force were missing from it.
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    prefix = "`relgraph " + " ".join(path)
    rows = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| " + prefix + " ") or line.startswith("| " + prefix + "`")
    ]
    assert rows, f"no row for {prefix}` in the README's command table"
    flags = {
        flag
        for param in command.params
        for flag in getattr(param, "opts", [])
        if flag.startswith("--") and flag != "--help"
    }
    missing = sorted(flag for flag in flags if not any(flag in row for row in rows))
    assert not missing, f"{prefix}`: {missing} not in the README's command table"


@pytest.mark.parametrize(
    "path", [(), ("audit",), *COMMANDS], ids=lambda p: " ".join(p) or "relgraph"
)
def test_help_shows_no_docstring_markup(path: tuple[str, ...]) -> None:
    # ``decidedBy`` and ``role:key`` (reST literals from the docstrings) were shown with
    # their doubled backquotes in `relgraph audit --help`, `audit key-id --help` and `tried`.
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "``" not in result.output, result.output
