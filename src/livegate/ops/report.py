"""``report.html`` of one run: banner, key figures, inline SVG charts, orders and fills (issue 13 item 3).

The page is self-contained: inline CSS and SVG, no script, no network, no CDN, and only
relative paths (files of the run directory by name). It is written at the end of every
session (:func:`write_run_report`) and can be rebuilt from a run directory at any time
(``livegate report RUN_DIR``), since everything comes from the run's ledger
(:func:`livegate.ops.rollup_read.read_run`).
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from livegate.domain.errors import DataError, LedgerError
from livegate.ops.report_charts import run_charts
from livegate.ops.rollup import rollup_rows
from livegate.ops.rollup_read import REPORT_TABLE_ROWS, RunReader, read_run, read_run_from
from livegate.ops.run_facts import RunFacts

__all__ = ["CSS", "banner_html", "page", "render_run_report", "table_html", "write_run_report"]

#: Rows shown per table (the ledger export has them all: ``livegate ledger export``).
TABLE_LIMIT: Final = REPORT_TABLE_ROWS

CSS: Final = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;font-size:12px;margin:.5em 0}"
    "th,td{border:1px solid #ddd;padding:2px 6px;text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f4f4f4}td.t,th.t{text-align:left}"
    ".banner{padding:.8em 1em;margin:1em 0;border-radius:4px;font-weight:bold}"
    ".banner.bad{background:#fde2e1;border:2px solid #c0392b;color:#7b1e14}"
    ".banner.ok{background:#e3f6e8;border:1px solid #2e8b57;color:#1d5c38}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}svg.chart{border:1px solid #eee;background:#fff}"
    ".note{color:#666;font-size:12px}"
)


def page(title: str, body: str) -> str:
    """Return a complete self-contained HTML page."""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def table_html(columns: Sequence[str], rows: Sequence[Mapping[str, object]], *, text: Sequence[str] = ()) -> str:
    """Return an HTML table of ``rows`` (``None`` as empty); ``text`` columns are left-aligned."""
    head = "".join(f"<th class='{'t' if c in text else ''}'>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            shown = "" if value is None else str(value)
            cells.append(f"<td class='{'t' if column in text else ''}'>{html.escape(shown)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def banner_html(facts: RunFacts) -> str:
    """Return the banner: red when the run ended REDUCING/HALTED or recorded anomalies, green otherwise."""
    problems = []
    if facts.trading_state != "active":
        problems.append(f"ended {facts.trading_state.upper()}: {facts.trading_reason}")
    if facts.anomalies:
        kinds = sorted({kind for _, kind, _ in facts.anomalies})
        problems.append(f"{len(facts.anomalies)} anomalies ({', '.join(kinds)})")
    if facts.drift:
        problems.append(f"{len(facts.drift)} reconcile drift records")
    if problems:
        text = html.escape("; ".join(problems))
        return f"<div class='banner bad' data-banner='bad'>{html.escape(facts.name)}: {text}</div>"
    return f"<div class='banner ok' data-banner='ok'>{html.escape(facts.name)}: ended ACTIVE, no anomalies</div>"


_ROLLUP_SHOWN: Final = (
    "day",
    "venue",
    "symbol",
    "intents",
    "approvals",
    "denials",
    "denials_by_code",
    "orders",
    "fills",
    "fill_rate",
    "maker_share",
    "turnover_usd",
    "fees_usd",
    "realized_pnl_usd",
    "total_pnl_usd",
    "max_drawdown_usd",
    "slippage_median_bps",
    "slippage_p95_bps",
    "markout_1s_bps",
    "markout_5s_bps",
    "markout_60s_bps",
    "ack_latency_p50_ms",
    "ack_latency_p95_ms",
)
_ORDER_SHOWN: Final = (
    "ts_ms",
    "client_order_id",
    "symbol",
    "side",
    "order_type",
    "quantity",
    "price",
    "decision",
    "denial_code",
    "status",
    "filled_quantity",
    "average_fill_price",
    "fees",
)
_FILL_SHOWN: Final = ("ts_ms", "client_order_id", "symbol", "side", "price", "quantity", "fee", "liquidity")


def render_run_report(facts: RunFacts, summary: Mapping[str, Any] | None = None) -> str:
    """Return the HTML report of one run.

    Parameters
    ----------
    facts:
        The run's facts (:func:`livegate.ops.rollup_read.read_run`).
    summary:
        ``summary.json`` when known (ledger hash, strategy, inputs shown by file name only).
    """
    summary = summary or {}
    inputs = [Path(str(i)).name for i in summary.get("inputs", []) or []]
    header = {
        "mode": facts.mode,
        "session id": facts.session_id,
        "trading state": f"{facts.trading_state} ({facts.trading_reason})" if facts.trading_reason else "active",
        "end reason": facts.end_reason,
        "strategy": summary.get("strategy"),
        "inputs": ", ".join(inputs),
        "anomalies": len(facts.anomalies),
        "kills": len(facts.kills),
        "drift records": len(facts.drift),
        "ledger hash": summary.get("ledger_hash"),
    }
    parts = [
        banner_html(facts),
        table_html(["item", "value"], [{"item": k, "value": v} for k, v in header.items()], text=["item", "value"]),
        "<p class='note'>Files: <a href='summary.json'>summary.json</a>, ledger.sqlite "
        "(<code>livegate ledger export . --kind fills</code>), telemetry.jsonl. Money in USD, "
        "slippage and markouts in bps (positive slippage = cost; positive markout = the market moved the "
        "fill's way), latency in ms.</p>",
        "<h2>Execution quality by day and symbol</h2>",
        table_html(_ROLLUP_SHOWN, rollup_rows([facts]), text=["day", "venue", "symbol", "denials_by_code"]),
        "<h2>Charts</h2><div class='charts'>",
        *run_charts(facts),
        "</div>",
    ]
    if facts.anomalies or facts.kills:
        events = [{"ts_ms": ts, "what": f"anomaly {kind}", "detail": d} for ts, kind, d in facts.anomalies]
        events += [{"ts_ms": ts, "what": f"kill -> {state}", "detail": r} for ts, state, r in facts.kills]
        events.sort(key=lambda e: int(str(e["ts_ms"])))
        shown = table_html(["ts_ms", "what", "detail"], events, text=["what", "detail"])
        parts += ["<h2>Anomalies and kills</h2>", shown]
    parts += _limited(
        "Orders", _ORDER_SHOWN, facts.orders_table, facts.orders_count, ["client_order_id", "symbol", "side", "status"]
    )
    parts += _limited(
        "Fills", _FILL_SHOWN, facts.fills_table, facts.fills_count, ["client_order_id", "symbol", "side", "liquidity"]
    )
    return page(f"livegate run report: {facts.name}", "".join(parts))


def _limited(
    title: str, columns: Sequence[str], rows: Sequence[Mapping[str, object]], total: int, text: list[str]
) -> list[str]:
    note = "" if total <= TABLE_LIMIT else f" (first {TABLE_LIMIT} of {total})"
    return [f"<h2>{html.escape(title)}{note}</h2>", table_html(columns, rows[:TABLE_LIMIT], text=text)]


def write_run_report(run_dir: Path, summary: Mapping[str, Any], reader: RunReader | None = None) -> Path:
    """Write ``run_dir/report.html`` from the run's ledger; return its path.

    ``reader`` is the session's ledger reader (:func:`livegate.ops.rollup_read.read_run_from`:
    only the events after those it read are read; the page is the same).

    When the ledger cannot be read (a storage failure deleted it, the session reader cannot
    read a finished order back: ``LedgerError``) or the page cannot be built, the page says
    so in a red banner and shows the summary's figures instead, so a session always leaves
    a report and its end (``summary.json``, exit code) never depends on it.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    path = run_dir / "report.html"
    try:
        if reader is None:
            facts = read_run(run_dir, table_rows=TABLE_LIMIT)
        else:
            facts = read_run_from(reader, table_rows=TABLE_LIMIT)
        text = render_run_report(facts, summary)
    except (DataError, LedgerError, OSError, sqlite3.Error, ArithmeticError, TypeError, ValueError) as exc:
        problem = str(exc).replace(str(run_dir.resolve()), run_dir.name).replace(str(run_dir), run_dir.name)
        rows = [{"item": k, "value": v} for k, v in summary.items() if not isinstance(v, dict | list)]
        body = (
            f"<div class='banner bad' data-banner='bad'>the ledger could not be read: {html.escape(problem)}</div>"
            + table_html(["item", "value"], rows, text=["item", "value"])
        )
        text = page(f"livegate run report: {run_dir.name}", body)
    for absolute in {str(run_dir.resolve()), str(run_dir.absolute())}:
        text = text.replace(absolute, run_dir.name)  # an anomaly detail naming a file: relative paths only
    path.write_text(text, encoding="utf-8")
    return path
