"""``livegate report`` over several runs: one page with the rollup, its charts and links to each run's report.

Self-contained like the run report (:mod:`livegate.ops.report`): inline CSS and SVG, no
script, no network; links to run reports are relative to the page.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from livegate.domain.errors import ConfigError
from livegate.ops.report import banner_html, page, table_html, write_run_report
from livegate.ops.report_svg import PALETTE, Bars, bar_chart
from livegate.ops.rollup import ROLLUP_COLUMNS
from livegate.ops.rollup_output import ROLLUP_SCHEMA, Rollup, build_rollup, find_runs
from livegate.ops.rollup_read import LEDGER_FILE

__all__ = ["ROLLUP_CHART_NAMES", "render_rollup_report", "resolve_report_inputs", "write_rollup_report"]

ROLLUP_CHART_NAMES = ("pnl", "slippage", "fills", "denials")


def resolve_report_inputs(inputs: list[Path]) -> list[Path]:
    """Return the run directories named by ``inputs``: run directories, directories of runs, rollup JSON files.

    Raises
    ------
    ConfigError
        If an input is none of these, or a rollup file cannot be read.
    """
    runs: list[Path] = []
    for item in inputs:
        if item.is_dir() and (item / LEDGER_FILE).is_file():
            runs.append(item)
        elif item.is_dir():
            runs.extend(find_runs(item))
        elif item.is_file() and item.suffix.lower() == ".json":
            try:
                document = json.loads(item.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"{item}: not a readable rollup JSON file: {exc}") from exc
            if not isinstance(document, dict) or document.get("schema") != ROLLUP_SCHEMA:
                raise ConfigError(f"{item}: not a livegate rollup (schema {ROLLUP_SCHEMA!r} expected)")
            runs.extend(item.parent / str(run) for run in document.get("runs", []))
        else:
            raise ConfigError(f"{item}: expected a run directory, a directory of runs or a rollup .json file")
    return runs


def _label(row: dict[str, object]) -> str:
    return f"{row['day']} {row['mode']} {row['symbol']}"


def _number(value: object) -> float:
    try:
        return float(str(value)) if value not in (None, "") else 0.0
    except ValueError:
        return 0.0


def render_rollup_report(rollup: Rollup, out_dir: Path) -> str:
    """Return the HTML page of ``rollup``; run report links are relative to ``out_dir``."""
    rows = rollup.rows
    labels = [_label(r) for r in rows]
    banners = [banner_html(f) for f in rollup.runs if f.ended_unhealthy]
    summary = (
        f"<div class='banner bad' data-banner='bad'>{len(banners)} of {len(rollup.runs)} runs ended "
        "REDUCING/HALTED or with anomalies</div>"
        if banners
        else f"<div class='banner ok' data-banner='ok'>all {len(rollup.runs)} runs ended ACTIVE, no anomalies</div>"
    )
    charts = [
        bar_chart(
            "pnl",
            "Total PnL per day and symbol (USD)",
            Bars(labels, [_number(r["total_pnl_usd"]) for r in rows]),
            y_label="USD",
        ),
        bar_chart(
            "slippage",
            "Slippage p95 per day and symbol (bps, positive = cost)",
            Bars(labels, [_number(r["slippage_p95_bps"]) for r in rows], PALETTE[1]),
            y_label="bps",
        ),
        bar_chart(
            "fills",
            "Fills per day and symbol",
            Bars(labels, [_number(r["fills"]) for r in rows], PALETTE[2]),
            y_label="fills",
        ),
        bar_chart(
            "denials",
            "Denials per day and symbol",
            Bars(labels, [_number(r["denials"]) for r in rows], PALETTE[3]),
            y_label="denials",
        ),
    ]
    links = []
    for facts in rollup.runs:
        target = os.path.relpath((facts.run_dir / "report.html").resolve(), out_dir.resolve())
        state = facts.trading_state.upper()
        links.append(
            {
                "run": f"<a href='{html.escape(target)}'>{html.escape(facts.name)}</a>",
                "mode": facts.mode,
                "state": state,
                "anomalies": len(facts.anomalies),
            }
        )
    link_rows = "".join(
        f"<tr><td class='t'>{r['run']}</td><td class='t'>{html.escape(str(r['mode']))}</td>"
        f"<td class='t'>{r['state']}</td><td>{r['anomalies']}</td></tr>"
        for r in links
    )
    skipped = "".join(f"<li>{html.escape(p.name)}: {html.escape(e)}</li>" for p, e in rollup.skipped)
    body = "".join(
        [
            summary,
            *banners,
            "<h2>Rollup by day, mode, venue and symbol</h2>",
            "<p class='note'>Money in USD; slippage and markouts in bps (positive slippage = cost); "
            "latency in ms; docs/daily.md lists every column.</p>",
            table_html(ROLLUP_COLUMNS, rows, text=["day", "mode", "venue", "symbol", "denials_by_code"]),
            "<h2>Charts</h2><div class='charts'>",
            *charts,
            "</div><h2>Runs</h2>",
            "<table><thead><tr><th class='t'>run</th><th class='t'>mode</th><th class='t'>state</th>"
            f"<th>anomalies</th></tr></thead><tbody>{link_rows}</tbody></table>",
            f"<h2>Skipped</h2><ul>{skipped}</ul>" if skipped else "",
        ]
    )
    return page("livegate rollup report", body)


def write_rollup_report(run_dirs: list[Path], out: Path) -> Rollup:
    """Write the rollup page to ``out``, (re)writing any missing run report; return the rollup.

    Raises
    ------
    ConfigError
        If no run can be read.
    OSError
        If a file cannot be written.
    """
    rollup = build_rollup(run_dirs)
    if not rollup.runs:
        detail = rollup.skipped[0][1] if rollup.skipped else "no run directories"
        raise ConfigError(f"nothing to report: {detail}")
    for facts in rollup.runs:
        if not (facts.run_dir / "report.html").is_file():
            try:
                summary = json.loads((facts.run_dir / "summary.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                summary = {}
            write_run_report(facts.run_dir, summary if isinstance(summary, dict) else {})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_rollup_report(rollup, out.parent), encoding="utf-8")
    return rollup
