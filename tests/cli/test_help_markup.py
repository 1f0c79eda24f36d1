"""Every ``[section]`` a command's help names is shown by ``--help`` (rich markup must not eat it).

typer renders help text with rich markup, where ``[kill]`` is a style tag: unescaped, it
vanished from ``livegate unlock --help`` ("the session lock an anomaly left (``
lock_on_anomaly``)") and ``livegate daily --help`` ("slippage <= slippage_bps"). Help text
writes a config section as ``\\[kill]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from livegate.cli.lazy import LazyCommand
from livegate.cli.main import app

_SECTION = re.compile(r"\\?\[([A-Za-z_][A-Za-z0-9_.]*)\]")


def _commands(group: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Yield every command under ``group`` (typer's vendored click types: duck-typed), lazy ones loaded."""
    ctx = typer.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, LazyCommand):
            command = command.real()
        yield (*path, name), command
        if hasattr(command, "list_commands"):
            yield from _commands(command, (*path, name))


def test_help_when_a_command_names_a_config_section_then_its_help_shows_it() -> None:
    checked = 0
    for path, command in _commands(typer.main.get_command(app), ()):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        sections = {m.group(1) for text in texts for m in _SECTION.finditer(text)}
        if not sections:
            continue
        result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        shown = set(re.findall(r"\[([A-Za-z_][A-Za-z0-9_.]*)\]", result.output))
        assert sections <= shown, f"livegate {' '.join(path)} --help lost {sorted(sections - shown)}"
        checked += 1
    assert checked >= 3  # unlock, daily, flatten at least
