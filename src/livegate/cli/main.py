"""The ``livegate`` command: one typer app; each command lives in its own module, imported when used."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from livegate.cli.lazy import CommandRef, lazy_group
from livegate.telemetry.logging_setup import LogFormat, configure_logging

#: Every top-level command: its module (imported only when the command is used) and the
#: one-line help ``livegate --help`` lists (tests/cli/test_lazy_commands.py checks each
#: line against the command's own help).
COMMANDS: dict[str, CommandRef] = {
    "run": CommandRef(
        "livegate.cli.run_cmd", "Run a strategy on recorded data or a venue stream through the gated order path."
    ),
    "kill": CommandRef(
        "livegate.cli.kill_cmd", "Latch the trading state to HALTED (or REDUCING); no restart clears it."
    ),
    "rearm": CommandRef(
        "livegate.cli.kill_cmd",
        "Return to ACTIVE; refused (exit 1) while a manual trigger or an automatic trigger's condition holds.",
    ),
    "status": CommandRef(
        "livegate.cli.kill_cmd",
        "Print the trading state, its reason, when and by whom or what, blockers and the session lock.",
    ),
    "unlock": CommandRef(
        "livegate.cli.kill_cmd", r"Remove the session lock an anomaly left (``\[kill] lock_on_anomaly``)."
    ),
    "check-telemetry": CommandRef(
        "livegate.cli.telemetry_cmd",
        "Validate a telemetry file against the shipped JSON Schema: exit 0 valid, 1 violation, 2 missing.",
    ),
    "preflight": CommandRef(
        "livegate.cli.preflight_cmd",
        "Check this machine, config and venue before a session; exit 0 when nothing failed, 2 otherwise.",
    ),
    "reconcile": CommandRef(
        "livegate.cli.reconcile_cmd",
        "Compare open orders, positions, balances and fills with the venue; exit 0 clean, 3 with differences.",
    ),
    "flatten": CommandRef(
        "livegate.cli.flatten_cmd",
        "Cancel working orders, then close each position with reduce-only market IOC orders (docs/recovery.md).",
    ),
    "cancel-all": CommandRef(
        "livegate.cli.cancel_all_cmd",
        "Cancel livegate's open orders (RUN_DIR) or every order at a venue (--venue); wait until none remain.",
    ),
    "venues": CommandRef(
        "livegate.cli.venues_cmd",
        "List adapters, their venues and capabilities (sandbox, cancel-all, positions, lookup, streams).",
    ),
    "ledger": CommandRef("livegate.cli.ledger_cmd", "Verify or export a run's write-ahead ledger."),
    "arm": CommandRef("livegate.cli.arm_cmd", "Live arming: the confirm token of docs/architecture.md §3.3."),
    "http": CommandRef("livegate.cli.http_cmd", "The operator HTTP API of a running session (docs/operations.md)."),
    "alerts": CommandRef(
        "livegate.cli.alerts_cmd", "Alert destinations (the profile's alerts section or LIVEGATE_ALERTS__*)."
    ),
    "rollup": CommandRef(
        "livegate.cli.rollup_cmd", "Roll runs up per trading day, mode, venue and symbol, read from their ledgers."
    ),
    "report": CommandRef(
        "livegate.cli.report_cmd", "Write a self-contained HTML report (no network; inline SVG charts; relative links)."
    ),
    "daily": CommandRef(
        "livegate.cli.daily_cmd",
        "Preflight, paper session, canary shadow on real quotes, rollup, validation, housekeeping, summary alert.",
    ),
    "compare": CommandRef(
        "livegate.cli.compare_cmd",
        "Compare two runs intent by intent: decisions, fill rate, fill prices, slippage, PnL.",
    ),
    "watch": CommandRef(
        "livegate.cli.watch_cmd",
        "Show a running session's state, positions, orders, PnL, caps and venues, refreshed every second.",
    ),
}

app = typer.Typer(
    name="livegate",
    help="Safety-first runtime between a trading strategy and the venues.",
    cls=lazy_group(COMMANDS),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from livegate.runtime.artifacts import build_identity

        typer.echo(build_identity().describe())
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and the git commit it was built from, then exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            envvar="LIVEGATE_LOG_FORMAT",
            help="Log lines on stderr: console (message, level, ISO-8601 UTC time) or json (one object per line).",
        ),
    ] = LogFormat.CONSOLE,
) -> None:
    """Safety-first runtime between a trading strategy and the venues."""
    configure_logging(log_format)


def main() -> None:
    """Run the ``livegate`` command (the console script and ``python -m livegate``).

    The cyclic garbage collector is off until the command's arguments are parsed
    (:mod:`livegate.cli.lazy` turns it on, start-up objects frozen): start-up builds
    long-lived objects, not garbage, and a full collection among them alone cost ~20 ms.
    """
    gc.disable()
    app()
