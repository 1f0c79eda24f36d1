"""The status page (``GET /``): the status snapshot as one self-contained HTML page.

No script, font or stylesheet from elsewhere (no CDN): inline CSS, and the page reloads
itself every second (``<meta http-equiv="refresh">``). A REDUCING or HALTED state fills
the top of the page in amber or red with its reason; every text is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

__all__ = ["REFRESH_SECS", "render_status_page"]

#: Seconds between two automatic reloads of the page.
REFRESH_SECS = 1

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{padding:18px 24px;color:#fff}
header h1{margin:0;font-size:34px;letter-spacing:1px}
header p{margin:6px 0 0;font-size:18px}
.active{background:#1e7d3c}.reducing{background:#b86e00}.halted{background:#b3141b}
main{padding:12px 24px;display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:14px}
section{background:#fff;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px #0002}
h2{font-size:16px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%;font-size:14px}
td,th{padding:3px 6px;text-align:left;border-bottom:1px solid #e3e5ea}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b3141b;font-weight:600}.ok{color:#1e7d3c;font-weight:600}
.bar{background:#e3e5ea;height:8px;border-radius:4px;min-width:80px}
.bar span{display:block;height:8px;border-radius:4px;background:#2d6cdf}
.bar span.hot{background:#b3141b}
footer{padding:6px 24px;color:#667;font-size:12px}
"""


def _cell(value: Any, numeric: bool = False) -> str:
    text = "-" if value is None else str(value)
    return f'<td class="n">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    if not body:
        return f"<p>{escape(empty)}</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(title: str, content: str, ident: str) -> str:
    return f'<section id="{ident}"><h2>{escape(title)}</h2>{content}</section>'


def _reasons(reasons: list[str], good: str) -> str:
    if not reasons:
        return f'<p class="ok">{escape(good)}</p>'
    return "<ul>" + "".join(f'<li class="bad">{escape(r)}</li>' for r in reasons) + "</ul>"


def _cap_row(cap: dict[str, Any]) -> list[str]:
    pct = cap.get("used_pct")
    if pct is None:
        bar = "<td></td>"
    else:
        width = max(0.0, min(100.0, float(pct)))
        hot = " hot" if width >= 80 else ""
        bar = f'<td><div class="bar"><span class="{hot.strip()}" style="width:{width:.0f}%"></span></div></td>'
    limit = "off" if cap.get("limit") is None else cap["limit"]
    return [_cell(cap["name"]), _cell(cap.get("used"), True), _cell(limit, True), _cell(cap["unit"]), bar]


def render_status_page(status: dict[str, Any]) -> str:
    """Return the HTML page of a status snapshot (:func:`livegate.api.snapshot.build_status`)."""
    trading = status["trading_state"]
    state = str(trading["state"])
    session = status["session"]
    pnl = status["pnl"]
    banner = (
        f'<header class="{escape(state)}" id="trading-state"><h1>{escape(state.upper())}</h1>'
        f"<p>{escape(trading['reason'] or 'trading normally')}"
        + (f" &middot; by {escape(trading['source'])}" if trading["source"] else "")
        + "</p></header>"
    )
    positions = _table(
        ["symbol", "quantity", "avg price", "mark", "notional USD", "unrealized USD", "realized USD"],
        (
            [
                _cell(p["symbol"]),
                _cell(p["quantity"], True),
                _cell(p["average_price"], True),
                _cell(p["mark_price"], True),
                _cell(p["notional_usd"], True),
                _cell(p["unrealized_pnl_usd"], True),
                _cell(p["realized_pnl_usd"], True),
            ]
            for p in status["positions"]
        ),
        "no position",
    )
    orders = _table(
        ["client order id", "symbol", "side", "type", "qty", "filled", "price", "status"],
        (
            [
                _cell(o["client_order_id"]),
                _cell(o["symbol"]),
                _cell(o["side"]),
                _cell(o["type"]),
                _cell(o["quantity"], True),
                _cell(o["filled_quantity"], True),
                _cell(o["price"], True),
                _cell(o["status"]),
            ]
            for o in status["open_orders"]
        ),
        "no open order",
    )
    pnl_rows = [[_cell(k.removesuffix("_usd").replace("_", " ")), _cell(v, True)] for k, v in pnl.items()]
    venues = _table(
        ["venue", "health", "reason"],
        ([_cell(v["venue"]), _cell(v["health"].upper()), _cell(v["reason"])] for v in status["venues"]),
        "no venue",
    )
    quotes = _table(
        ["symbol", "bid", "ask", "age ms"],
        ([_cell(q["symbol"]), _cell(q["bid"], True), _cell(q["ask"], True), _cell(q["age_ms"], True)]
         for q in status["quotes"]),
        "no symbol",
    )  # fmt: skip
    anomalies = _table(
        ["kind", "detail"], ([_cell(a["kind"]), _cell(a["detail"])] for a in reversed(status["anomalies"])), "none"
    )
    alerts = status.get("alerts")
    alert_text = "no alert dispatcher in this session" if alerts is None else (
        f"sent {alerts['sent_total']}, failed {alerts['failed_total']}, dropped {alerts['dropped_total']}"
        + (f"; last error: {alerts['last_error']}" if alerts.get("last_error") else "")
    )  # fmt: skip
    counts = status["counts"]
    body = "".join(
        [
            _section("Positions", positions, "positions"),
            _section(f"Open orders ({status['open_orders_count']})", orders, "open-orders"),
            _section("PnL (USD)", _table(["", ""], pnl_rows, ""), "pnl"),
            _section("Caps", _table(["cap", "used", "limit", "unit", ""], map(_cap_row, status["caps"]), ""), "caps"),
            _section("Ready", _reasons(status["ready"]["reasons"], "ready: fresh quotes, venues healthy"), "ready"),
            _section("Health", _reasons(status["health"]["reasons"], "healthy: the session loop ticks"), "health"),
            _section("Venues", venues, "venues"),
            _section("Quotes", quotes, "quotes"),
            _section("Last anomalies", anomalies, "anomalies"),
            _section("Alerts", f"<p>{escape(alert_text)}</p>", "alerts"),
            _section(
                "Activity",
                _table(["", ""], ([_cell(k), _cell(v, True)] for k, v in counts.items()), ""),
                "activity",
            ),
        ]
    )
    footer = (
        f"<footer>session {escape(session['session_id'])} &middot; mode {escape(session['mode'])} &middot; "
        f"run dir {escape(session['run_dir'])} &middot; "
        f"{'running' if status['running'] else 'not running'} &middot; refreshes every {REFRESH_SECS} s</footer>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECS}">'
        f"<title>livegate {escape(state.upper())}</title><style>{_CSS}</style></head>"
        f"<body>{banner}<main>{body}</main>{footer}</body></html>"
    )
