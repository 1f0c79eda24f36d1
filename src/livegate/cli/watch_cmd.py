"""``livegate watch [RUN_DIR | --url URL]``: a terminal dashboard of a running session, refreshed every second.

It reads the status snapshot the session writes to ``RUN_DIR/status.json`` every second
(no HTTP needed), or ``GET URL/status`` of the session's API. A REDUCING or HALTED state
fills the top line in amber or red with its reason; a snapshot older than three seconds
while the session says it runs is shown as STALE (the session may be stuck or gone).
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from livegate.api.views import STATUS_FILE
from livegate.domain.clock import wall_time_ms

#: A running session's snapshot older than this is shown as STALE (ms).
STALE_AFTER_MS = 3000
_STATE_STYLES = {
    "active": "bold white on green4",
    "reducing": "bold black on dark_orange",
    "halted": "bold white on red3",
}
_ROWS = 8


def register(app: typer.Typer) -> None:
    """Add ``watch`` to ``app``."""
    app.command("watch")(watch_command)


class StatusUnavailable(Exception):
    """The snapshot could not be read (no file yet, the API unreachable); the message says why."""


def read_status(run_dir: Path | None, url: str | None) -> dict[str, Any]:
    """Return the snapshot from ``RUN_DIR/status.json`` or ``URL/status``.

    Raises
    ------
    StatusUnavailable
        If the file is missing or unreadable, or the API does not answer with JSON.
    """
    if url is not None:
        target = url.rstrip("/") + "/status"
        if not target.startswith(("http://", "https://")):
            raise StatusUnavailable(f"--url must start with http:// or https://, got {url!r}")
        try:
            with urllib.request.urlopen(target, timeout=2) as answer:  # noqa: S310 (scheme checked above)
                data: dict[str, Any] = json.loads(answer.read().decode("utf-8"))
                return data
        except (OSError, ValueError) as exc:
            raise StatusUnavailable(f"cannot read {target}: {exc}") from exc
    assert run_dir is not None
    path = run_dir / STATUS_FILE
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StatusUnavailable(f"no {path} yet (is a session running with --out {run_dir}?)") from None
    except (OSError, ValueError) as exc:
        raise StatusUnavailable(f"cannot read {path}: {exc}") from exc
    return loaded


def _table(title: str, headers: list[str], rows: list[list[Any]], empty: str) -> RenderableType:
    if not rows:
        return Text(f"{title}: {empty}", style="dim")
    table = Table(title=title, title_justify="left", expand=True, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    return table


def _banner(status: dict[str, Any], now_ms: int) -> RenderableType:
    trading = status["trading_state"]
    state = str(trading["state"])
    line = Text(f" {state.upper()} ", style=_STATE_STYLES.get(state, "bold"))
    line.append(f"  {trading['reason'] or 'trading normally'}")
    if trading.get("source"):
        line.append(f"  (by {trading['source']})", style="dim")
    session = status["session"]
    facts = Text(
        f"session {session['session_id']} · mode {session['mode']} · {', '.join(session['symbols'])} · "
        f"{'running' if status['running'] else 'not running'}"
    )
    age = now_ms - int(status.get("written_wall_ms", now_ms))
    if status["running"] and age > STALE_AFTER_MS:
        facts.append(f"  STALE: snapshot {age / 1000:.1f} s old", style="bold white on red3")
    return Group(line, facts)


def render(status: dict[str, Any], now_ms: int) -> RenderableType:
    """Return the dashboard of one snapshot (:func:`livegate.api.snapshot.build_status`)."""
    pnl = status["pnl"]
    pnl_line = Text(
        f"PnL USD total {pnl['total_usd']} · realized {pnl['realized_usd']} · unrealized {pnl['unrealized_usd']} · "
        f"fees {pnl['fees_usd']} · drawdown {pnl['drawdown_usd']} · daily {pnl['daily_usd']}"
    )
    positions = _table(
        "Positions",
        ["symbol", "quantity", "avg price", "mark", "notional USD", "unrealized USD"],
        [
            [
                p["symbol"],
                p["quantity"],
                p["average_price"],
                p["mark_price"],
                p["notional_usd"],
                p["unrealized_pnl_usd"],
            ]
            for p in status["positions"]
        ],
        "none",
    )
    orders = _table(
        f"Open orders ({status['open_orders_count']})",
        ["client order id", "symbol", "side", "qty", "price", "status"],
        [
            [o["client_order_id"], o["symbol"], o["side"], o["quantity"], o["price"], o["status"]]
            for o in status["open_orders"][:_ROWS]
        ],
        "none",
    )
    caps = _table(
        "Caps",
        ["cap", "used", "limit", "%"],
        [
            [c["name"], c["used"], "off" if c["limit"] is None else c["limit"],
             None if c["used_pct"] is None else f"{c['used_pct']:.0f}"]
            for c in status["caps"]
        ],
        "none",
    )  # fmt: skip
    venues = Text(
        "venues: "
        + ", ".join(f"{v['venue']} {v['health'].upper()}" + (f" ({v['reason']})" if v["reason"] else "")
                    for v in status["venues"])
        + " · quotes: "
        + ", ".join(f"{q['symbol']} {q['bid']}/{q['ask']} age {q['age_ms']} ms" for q in status["quotes"])
    )  # fmt: skip
    checks = Text()
    for reason in status["ready"]["reasons"]:
        checks.append(f"not ready: {reason}\n", style="yellow")
    for reason in status["health"]["reasons"]:
        checks.append(f"unhealthy: {reason}\n", style="bold red")
    anomalies = _table(
        "Last anomalies", ["kind", "detail"], [[a["kind"], a["detail"]] for a in status["anomalies"][-_ROWS:]], "none"
    )
    alerts = status.get("alerts")
    alert_line = Text(
        "alerts: none configured"
        if alerts is None
        else f"alerts: sent {alerts['sent_total']}, failed {alerts['failed_total']}, dropped {alerts['dropped_total']}"
        + (f", last error {alerts['last_error']}" if alerts.get("last_error") else ""),
        style="bold red" if alerts is not None and alerts.get("failing") else "",
    )
    body = Group(_banner(status, now_ms), pnl_line, venues, checks, positions, orders, caps, anomalies, alert_line)
    return Panel(body, title="livegate watch", subtitle="Ctrl-C to quit")


def _frame(run_dir: Path | None, url: str | None) -> RenderableType:
    try:
        return render(read_status(run_dir, url), wall_time_ms())
    except StatusUnavailable as exc:
        return Panel(Text(str(exc), style="yellow"), title="livegate watch")


def watch_command(
    run_dir: Annotated[Path | None, typer.Argument(help="Run directory of the session (reads its status.json)")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Base URL of the session's HTTP API, e.g. http://127.0.0.1:9898")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Print one frame and exit (1 when unavailable)")] = False,
    interval_secs: Annotated[float, typer.Option("--interval-secs", min=0.2, help="Seconds between refreshes")] = 1.0,
) -> None:
    """Show a running session's state, positions, orders, PnL, caps and venues, refreshed every second."""
    if (run_dir is None) == (url is None):
        typer.echo("error: give either RUN_DIR or --url URL", err=True)
        raise typer.Exit(2)
    console = Console()
    if once:
        try:
            status = read_status(run_dir, url)
        except StatusUnavailable as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        console.print(render(status, wall_time_ms()))
        return
    try:
        with Live(_frame(run_dir, url), console=console, auto_refresh=False, screen=False) as live:
            while True:
                time.sleep(interval_secs)
                live.update(_frame(run_dir, url), refresh=True)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
