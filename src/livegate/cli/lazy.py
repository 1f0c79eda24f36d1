"""Commands imported only when they run, so ``livegate --help`` starts in a fraction of a second.

Each command module (``run_cmd``, ``ledger_cmd``...) imports what its command needs: the
session runtime, the venue SDKs, pydantic models. ``livegate --help`` and ``livegate
--version`` need none of it. The root group lists every command from a table of names and
one-line helps (:class:`CommandRef`); a command's module is imported when the command is
parsed or run, or its own ``--help`` is asked for. A test compares each table line with
the loaded command's own help, so the table cannot drift from the modules.

The ``livegate`` process starts with the cyclic garbage collector off
(:func:`livegate.cli.main.main`): importing a command's modules allocates a few hundred
thousand long-lived objects (classes, functions, pydantic schemas) and almost no garbage,
and CPython's thresholds would walk them in ~140 collections, one of them full. Once
the command's arguments are parsed, :meth:`LazyCommand.make_context` freezes what
start-up built out of every later collection (:func:`gc.freeze`) and turns the collector
on before the command runs. An in-process caller (tests' ``CliRunner``) keeps its
collector as it was: only a collector found off is turned on.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click as click  # typer 0.29 vendors click; its groups and commands are these classes
from typer.core import TyperCommand, TyperGroup

__all__ = ["CommandRef", "LazyCommand", "first_line", "lazy_group", "load_command", "loaded_helps"]


@dataclass(frozen=True, slots=True)
class CommandRef:
    """Where a top-level command lives.

    Attributes
    ----------
    module:
        Dotted module path. The module either exposes ``app`` (a :class:`typer.Typer`
        command group, e.g. ``livegate ledger``) or ``register(app)``, which adds its
        commands to a Typer app.
    help:
        The one-line help shown by ``livegate --help`` (the command's own first line).
    """

    module: str
    help: str


def load_command(name: str, ref: CommandRef) -> click.Command:
    """Import ``ref.module`` and return its click command ``name``.

    Raises
    ------
    LookupError
        If the module does not define a command called ``name``.
    """
    module = importlib.import_module(ref.module)
    sub_app = getattr(module, "app", None)
    if isinstance(sub_app, typer.Typer):
        group = typer.main.get_group(sub_app)
        group.name = name
        return group
    holder = typer.Typer()
    module.register(holder)
    found = typer.main.get_group(holder).commands.get(name)
    if found is None:
        raise LookupError(f"{ref.module} registers no command {name!r}")
    return found


class LazyCommand(TyperCommand):
    """Stands for a command in the root's listing; becomes the real one when it is used."""

    def __init__(self, name: str, ref: CommandRef) -> None:
        super().__init__(name, help=ref.help, short_help=ref.help, add_help_option=False)
        self._ref = ref
        self._real: click.Command | None = None

    def real(self) -> click.Command:
        """Return the command from its module (imported on first use)."""
        if self._real is None:
            self._real = load_command(str(self.name), self._ref)
        return self._real

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """Parse ``args`` with the real command (its context then runs the real command).

        Then, if start-up ran with the collector off, freeze what it built and turn the collector on.
        """
        context = self.real().make_context(info_name, args, parent=parent, **extra)
        if not gc.isenabled():
            gc.freeze()
            gc.enable()
        return context

    def invoke(self, ctx: click.Context) -> Any:
        """Run the real command."""
        return self.real().invoke(ctx)


def lazy_group(commands: Mapping[str, CommandRef]) -> type[TyperGroup]:
    """Return a Typer group class whose listed commands are ``commands``, each loaded on use."""
    table = dict(commands)

    class LazyGroup(TyperGroup):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return [*super().list_commands(ctx), *(n for n in table if n not in self.commands)]

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            found = super().get_command(ctx, cmd_name)
            if found is None and cmd_name in table:
                found = LazyCommand(cmd_name, table[cmd_name])
                self.commands[cmd_name] = found
            return found

    return LazyGroup


def first_line(text: str | None) -> str:
    """Return the first line of a help text (as ``livegate --help`` lists it)."""
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def loaded_helps(commands: Mapping[str, CommandRef]) -> Sequence[tuple[str, str, str]]:
    """Return (name, table help, the loaded command's first help line) for every command (imports them all)."""
    rows = []
    for name, ref in commands.items():
        command = load_command(name, ref)
        rows.append((name, ref.help, first_line(command.short_help or command.help)))
    return rows
