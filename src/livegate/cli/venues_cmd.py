"""``livegate venues``: list the venue adapters, their venues and what each can do.

SDK-backed adapters are imported lazily, so the command works without the
``livegate[ccxt|alpaca|ibkr]`` extras; a missing extra is shown, not an error.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from livegate.domain.clock import ReplayClock
from livegate.domain.errors import ConfigError
from livegate.venues.base import VenueCapabilities
from livegate.venues.fake import FakeVenue, fake_instruments, sample_events
from livegate.venues.paper import PaperParams, PaperVenue
from livegate.venues.shadow import ShadowVenue

_COLUMNS = (
    ("sandbox", "sandbox"),
    ("native_cancel_all", "cancel-all"),
    ("positions", "positions"),
    ("fetch_by_client_order_id", "by-client-id"),
    ("order_stream", "order-stream"),
    ("market_data_stream", "md-stream"),
)

#: alpaca and ibkr capabilities are fixed by their adapters (venues/alpaca, venues/ibkr);
#: listing them must not need their SDKs or credentials.
_STATIC: dict[str, tuple[str, VenueCapabilities, str]] = {
    "alpaca": (
        "alpaca:paper | alpaca:live (US equities, XNYS; paper = testnet)",
        VenueCapabilities(
            sandbox=True,
            native_cancel_all=True,
            positions=True,
            fetch_by_client_order_id=True,
            order_stream=True,
            market_data_stream=True,
            server_time=True,
        ),
        "alpaca",
    ),
    "ibkr": (
        "ibkr:paper|ibkr:live (TWS/Gateway; ports 7497 paper = testnet, 7496 live)",
        VenueCapabilities(
            sandbox=True,
            native_cancel_all=True,
            positions=True,
            fetch_by_client_order_id=True,
            order_stream=True,
            market_data_stream=True,
            server_time=True,
        ),
        "ib_async",
    ),
}


def register(app: typer.Typer) -> None:
    """Add ``venues`` to ``app``."""
    app.command("venues")(venues_command)


def venues_command(
    exchange: Annotated[
        list[str] | None, typer.Option("--exchange", help="ccxt exchange id to describe (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows instead of a table")] = False,
) -> None:
    """List adapters, their venues and capabilities (sandbox, cancel-all, positions, lookup, streams)."""
    rows = _rows(exchange or [])
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    header = ["adapter", "venue", *(title for _, title in _COLUMNS), "note"]
    table = [header] + [
        [r["adapter"], r["venue"], *("yes" if r["capabilities"].get(k) else "-" for k, _ in _COLUMNS), r["note"]]
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        typer.echo("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _row(adapter: str, venue: str, caps: VenueCapabilities | None, note: str = "") -> dict[str, Any]:
    return {"adapter": adapter, "venue": venue, "capabilities": asdict(caps) if caps else {}, "note": note}


def _rows(exchanges: list[str]) -> list[dict[str, Any]]:
    clock = ReplayClock()
    rows = [
        _row(
            "paper",
            "paper",
            PaperVenue({}, PaperParams(), clock).capabilities,
            "simulated fills (docs/architecture.md §5)",
        ),
        _row("shadow", "shadow", ShadowVenue({}, clock).capabilities, "records intents, never sends"),
        _row(
            "fake",
            "fake:<name>",
            FakeVenue("fake:demo", fake_instruments("fake:demo"), sample_events(1), clock).capabilities,
            "test venue",
        ),
    ]
    rows.extend(_ccxt_rows(exchanges))
    for adapter, (venue, caps, module) in _STATIC.items():
        installed = importlib.util.find_spec(module) is not None
        rows.append(_row(adapter, venue, caps, "" if installed else f"extra not installed: livegate[{adapter}]"))
    return rows


def _ccxt_rows(exchanges: list[str]) -> list[dict[str, Any]]:
    if importlib.util.find_spec("ccxt") is None:
        return [_row("ccxt", "ccxt:<exchange id>", None, "extra not installed: livegate[ccxt]")]
    from livegate.venues.ccxt.factory import (  # lazy: ccxt is an optional extra
        CONTRACT_TESTED,
        TESTED_EXCHANGES,
        exchange_capabilities,
    )

    rows = []
    for exchange_id in exchanges or TESTED_EXCHANGES:
        try:
            caps = exchange_capabilities(exchange_id)
        except ConfigError as exc:
            rows.append(_row("ccxt", f"ccxt:{exchange_id}", None, str(exc)))
            continue
        tested = CONTRACT_TESTED.get(exchange_id)
        note = f"contract-tested offline: {', '.join(tested)}" if tested else "not contract-tested"
        rows.append(_row("ccxt", f"ccxt:{exchange_id}", caps, note))
    return rows
