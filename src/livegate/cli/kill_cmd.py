"""``livegate kill | rearm | status | unlock``: the operator's hand on the latched kill switch.

Every command acts on the state dir (``LIVEGATE_STATE_DIR``, default ``~/.livegate``).
``kill`` and ``rearm`` may also record a ``trading_state_changed`` event in a run's
ledger (``--run-dir``); the state dir's ``trading_state.log.jsonl`` records them always.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import Annotated

import typer

from livegate.cli.status_cmd import alert_lines, alert_record
from livegate.config.paths import state_dir
from livegate.domain.clock import wall_time_ms
from livegate.domain.enums import TradingState
from livegate.domain.errors import LedgerError
from livegate.ledger import events as ev
from livegate.ledger.anchor import anchor_path
from livegate.ledger.store import Ledger
from livegate.risk.manual_state import RearmRefused, blocking_conditions, manual_kill, rearm
from livegate.risk.state_store import TradingStateRecord, TradingStateStore


def register(app: typer.Typer) -> None:
    """Add ``kill``, ``rearm``, ``status`` and ``unlock`` to ``app``."""
    app.command("kill")(kill_command)
    app.command("rearm")(rearm_command)
    app.command("status")(status_command)
    app.command("unlock")(unlock_command)


RunDirOption = Annotated[
    Path | None, typer.Option("--run-dir", help="Also record the change in this run's ledger.sqlite")
]


def kill_command(
    reason: Annotated[str, typer.Option(help="Why trading stops (recorded)")],
    reducing: Annotated[bool, typer.Option("--reducing", help="REDUCING (only reduce) instead of HALTED")] = False,
    run_dir: RunDirOption = None,
) -> None:
    """Latch the trading state to HALTED (or REDUCING); no restart clears it."""
    store = _store()
    state = TradingState.REDUCING if reducing else TradingState.HALTED
    previous = store.load().current.state
    try:
        record = manual_kill(store, state, reason, _actor())
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _record_in_ledger(run_dir, record, previous)
    typer.echo(f"trading state {record.state.value} (was {previous.value}): {record.reason}")


def rearm_command(
    reason: Annotated[str, typer.Option(help="Why trading may resume (recorded)")],
    run_dir: RunDirOption = None,
) -> None:
    """Return to ACTIVE; refused (exit 1) while a manual trigger or an automatic trigger's condition holds."""
    store = _store()
    previous = store.load().current.state
    try:
        record = rearm(store, reason, _actor(), os.environ)
    except RearmRefused as exc:
        typer.echo("rearm refused:", err=True)
        for blocker in exc.reasons:
            typer.echo(f"  - {blocker}", err=True)
        raise typer.Exit(1) from exc
    _record_in_ledger(run_dir, record, previous)
    typer.echo(f"trading state active (was {previous.value}): {record.reason}")


def status_command(
    run_dir: Annotated[
        Path | None, typer.Argument(help="A run directory: also show its alert delivery health (alerts_health.json)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Print the trading state, its reason, when and by whom or what, blockers and the session lock.

    With RUN_DIR, also the run's alert delivery: sent, failed, dropped, each destination, the last error.
    """
    store = _store()
    stored = store.load()
    current = stored.current
    blockers = blocking_conditions(store, os.environ, wall_time_ms())
    lock = store.read_lock()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **current.to_record(),
                    "state_dir": str(store.directory),
                    "rearm_blockers": blockers,
                    "session_lock": lock,
                    **({"alerts": _alert_record(run_dir)} if run_dir is not None else {}),
                },
                indent=2,
                sort_keys=True,
            )
        )
        return
    typer.echo(f"state:      {current.state.value.upper()}")
    typer.echo(f"reason:     {current.reason}")
    typer.echo(f"when:       {_when(current.ts_ms)}")
    typer.echo(f"by:         {current.source}" + (f" ({current.actor})" if current.actor else ""))
    if current.trigger_value is not None:
        typer.echo(f"trigger:    value {current.trigger_value} vs threshold {current.threshold}")
    typer.echo(f"state dir:  {store.directory}")
    for blocker in blockers:
        typer.echo(f"blocker:    {blocker}")
    if lock is not None:
        typer.echo(f"LOCKED:     {lock.get('kind', '?')}: {lock.get('reason', '')} (livegate unlock --reason TEXT)")
    for line in alert_lines(run_dir) if run_dir is not None else []:
        typer.echo(line)


def _alert_record(run_dir: Path) -> dict[str, object] | None:
    try:
        return alert_record(run_dir)
    except ValueError as exc:
        return {"error": str(exc)}


def unlock_command(reason: Annotated[str, typer.Option(help="Why the next session may start (recorded)")]) -> None:
    r"""Remove the session lock an anomaly left (``\[kill] lock_on_anomaly``)."""
    if not reason.strip():
        typer.echo("error: a reason is required", err=True)
        raise typer.Exit(2)
    store = _store()
    removed = store.remove_lock({"reason": reason, "actor": _actor(), "ts_ms": wall_time_ms()})
    typer.echo("session lock removed" if removed else "no session lock")


def _store() -> TradingStateStore:
    return TradingStateStore(state_dir(os.environ))


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _when(ts_ms: int) -> str:
    if ts_ms <= 0:
        return "-"
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz=dt.UTC).isoformat(timespec="seconds")


def _record_in_ledger(run_dir: Path | None, record: TradingStateRecord, previous: TradingState) -> None:
    if run_dir is None:
        return
    path = run_dir / "ledger.sqlite" if run_dir.is_dir() else run_dir
    payload = {
        "state": record.state.value,
        "previous": previous.value,
        "reason": record.reason,
        "source": f"{record.source}:{record.actor}",
        "trigger_value": None,
        "threshold": None,
    }
    try:
        anchor = anchor_path(state_dir(os.environ), path.parent)
        with Ledger.open(path, anchor=anchor) as ledger:
            ledger.append(ev.TRADING_STATE_CHANGED, record.ts_ms, payload)
    except (LedgerError, OSError) as exc:
        typer.echo(f"warning: state changed, but the ledger at {path} was not written: {exc}", err=True)
        raise typer.Exit(1) from exc
